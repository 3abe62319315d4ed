import ArgumentParser

/// `--server` as typed: `host`, `host:port`, an IPv6 address, or `[IPv6]:port`.
struct ServerAddress: Equatable {
    let host: String
    let port: Int?

    init(host: String, port: Int?) {
        self.host = host
        self.port = port
    }

    init(parsing text: String) throws(ValidationError) {
        let form = "--server takes host, host:port, an IPv6 address, or [IPv6]:port; got \(text.debugDescription)"
        var host = Substring(text)
        var port: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw ValidationError(form) }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw ValidationError(form) }
                port = rest.dropFirst()
            }
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, !host.contains(where: { $0.isWhitespace || $0 == "[" || $0 == "]" || $0 == "/" }) else { throw ValidationError(form) }
        self.host = String(host)
        if let port {
            guard let number = Int(port), (1...65535).contains(number) else {
                throw ValidationError("--server \(text): the port must be a number from 1 to 65535")
            }
            self.port = number
        } else {
            self.port = nil
        }
    }

    /// The port from `--server` or `--port` (5222 when neither says); they must agree.
    func port(option: Int?) throws(ValidationError) -> Int {
        if let port, let option, port != option {
            throw ValidationError("--server says port \(port) and --port says \(option): give the port once")
        }
        let chosen = port ?? option ?? 5222
        guard (1...65535).contains(chosen) else { throw ValidationError("--port must be a number from 1 to 65535") }
        return chosen
    }
}
