import ArgumentParser
import CatroomClient
import CatroomCrypto
import CatroomProfile
import CatroomProtocol
import Foundation

extension Catroom {
    /// `catroom join`: an end-to-end encrypted room, from the terminal.
    struct Join: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Join an end-to-end encrypted room.",
            discussion: """
                Registers a throwaway identity (kept for the life of the process, across reconnections \
                and /join), or the one of --profile, joins <room>@rooms.<server> (and each further room, over \
                the same connection) and runs a key exchange with every member; display names travel only inside it. Without --profile nothing is written to disk except \
                the server's certificate fingerprint (trust on first use, like SSH's known_hosts). \
                Type /help in the room for the commands.
                """)

        @Argument(help: "The room's name: 1 to 64 of a-z 0-9 - _ . (uppercase is folded), starting with a letter or digit.")
        var room: String

        @Argument(help: "More rooms to join as well (the password and invite secret are the first room's).")
        var moreRooms: [String] = []

        @Option(help: "Your display name (others see it; the server never does). Default: your login name.")
        var nick: String?

        @Option(help: "The server to connect to: host, host:port or [IPv6]:port.")
        var server = "localhost"

        @Option(help: "The server's port (STARTTLS; default 5222).")
        var port: Int?

        @Option(help: "The XMPP domain, if it differs from --server.")
        var domain: String?

        @Option(help: "Trust only this certificate SHA-256 fingerprint (as `catroom serve` prints it).")
        var pin: String?

        @Option(help: "Where first-use pins are kept (default: $XDG_CONFIG_HOME/catroom/known_hosts).")
        var knownHosts: String?

        @Option(help: "The room's password, if it has one (the first to join sets it).")
        var password: String?

        @Option(help: "The room's invite secret (from `catroom invite`): members that do not prove it are sent nothing.")
        var invite: String?

        @Option(help: "Keep your identity key, contacts and (if it is on) history in this profile (`catroom profile create`; default: $CATROOM_PROFILE, else none).")
        var profile: String?

        @Flag(help: "One JSON object per line on stdout; commands as lines on stdin (docs/json-mode.md).")
        var json = false

        @Flag(help: "No bell and no terminal title on a mention or a private message.")
        var noAlerts = false

        @Flag(help: "Skip the certificate check. Loopback servers only; for tests.")
        var insecure = false

        @Flag(help: "Connect without TLS. Loopback servers only; for tests.")
        var plaintext = false

        @Flag(help: "Do not reconnect when the connection to the server is lost.")
        var noReconnect = false

        @Option(help: .hidden)
        var sourceAddress: String?

        /// Test timing (seconds): phase deadline, keepalive idle and timeout, backoff base and cap, and attempts.
        @Option(help: .hidden)
        var phaseTimeout: Double?
        @Option(help: .hidden)
        var keepaliveIdle: Double?
        @Option(help: .hidden)
        var keepaliveTimeout: Double?
        @Option(help: .hidden)
        var reconnectBase: Double?
        @Option(help: .hidden)
        var reconnectCap: Double?
        @Option(help: .hidden)
        var reconnectAttempts: Int?

        func validate() throws {
            let address = try ServerAddress(parsing: server)
            _ = try address.port(option: port)
            if insecure || plaintext, !isLoopbackHost(address.host) {
                throw ValidationError("--insecure and --plaintext are for loopback servers only")
            }
            try PinRecord.validate(pin)
            if pin != nil, insecure { throw ValidationError("--pin and --insecure contradict each other") }
            for (name, value) in [
                ("phase-timeout", phaseTimeout), ("keepalive-idle", keepaliveIdle), ("keepalive-timeout", keepaliveTimeout),
                ("reconnect-base", reconnectBase), ("reconnect-cap", reconnectCap),
            ] {
                if let value, !(value > 0 && value <= 86_400) { throw ValidationError("--\(name) must be between 0 and 86400 seconds") }
            }
            if let name = profileName { try ProfileCommand.validate(name) }
            if let reconnectAttempts, reconnectAttempts < 1 { throw ValidationError("--reconnect-attempts must be at least 1") }
            let nick = try self.nick ?? Self.loginName()
            if let invite, (try? InviteSecret(encoded: invite)) == nil {
                throw ValidationError("--invite is not an invite secret (52 base32 characters, as `catroom invite` prints)")
            }
            let configuration = ClientConfiguration(host: address.host, domain: domain, room: room, nick: nick, trust: .insecure)
            do {
                _ = try configuration.checkedNick()
            } catch {
                throw ValidationError("cannot join with that name: \(error) (CR-0006 §5.4)")
            }
            // CR-0005 §3.1: refused before connecting; `Lobby` is folded to `lobby` later, and said so.
            do {
                for name in [room] + moreRooms { _ = try configuration.roomJID(name) }
            } catch {
                let hint = domain == nil && error.description.hasSuffix("not a valid XMPP domain") ? ": give the server's XMPP name with --domain" : ""
                throw ValidationError("cannot join: \(error)\(hint)")
            }
        }

        /// `--profile`, else `CATROOM_PROFILE`.
        var profileName: String? {
            profile ?? ProcessInfo.processInfo.environment["CATROOM_PROFILE"].flatMap { $0.isEmpty ? nil : $0 }
        }

        func run() async throws {
            let persona = try profileName.map { name in
                try ProfileCommand.guarded {
                    try ProfileCommand.requireExisting(name)
                    let passphrase = try Passphrase.request(prompt: "passphrase for profile \(name): ")
                    return Persona(profile: try Profile.open(name, in: .standard(), passphrase: passphrase, now: HistoryClock.now()))
                }
            } ?? Persona()
            do {
                try await chat(persona)
            } catch {
                await persona.finish()
                throw error
            }
            await persona.finish()
        }

        private func chat(_ persona: Persona) async throws {
            let address = try ServerAddress(parsing: server)
            let pin = pin.flatMap(CertificatePin.normalized)
            let knownHosts = knownHosts ?? Self.defaultKnownHosts
            let trust: ClientConfiguration.Trust = insecure ? .insecure : pin.map { .pinned($0) } ?? .firstUse(knownHosts: knownHosts)
            var configuration = ClientConfiguration(host: address.host, domain: domain, room: room, nick: try nick ?? Self.loginName(), trust: trust)
            configuration.port = try address.port(option: port)
            configuration.plaintext = plaintext
            configuration.roomPassword = password
            configuration.moreRooms = moreRooms
            configuration.invite = try invite.map { try InviteSecret(encoded: $0) }
            configuration.sourceAddress = sourceAddress
            configuration.reconnect.enabled = !noReconnect
            if let phaseTimeout { configuration.phaseTimeoutSeconds = phaseTimeout }
            if let keepaliveIdle { configuration.keepaliveIdleSeconds = keepaliveIdle }
            if let keepaliveTimeout { configuration.keepaliveTimeoutSeconds = keepaliveTimeout }
            if let reconnectBase { configuration.reconnect.baseSeconds = reconnectBase }
            if let reconnectCap { configuration.reconnect.capSeconds = reconnectCap }
            if let reconnectAttempts { configuration.reconnect.maxAttempts = reconnectAttempts }
            let interactive = isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1
            if let pin {
                configuration.recordPinIn = PinRecord.confirm(pin, host: configuration.host, port: configuration.port, knownHosts: knownHosts, interactive: interactive)
            }
            if !json, interactive {
                try await TerminalChat(configuration: configuration, alerts: !noAlerts, persona: persona).run()
                return
            }
            let output: ChatOutput = json ? JSONOutput() : LineOutput()
            (output as? JSONOutput)?.hello()
            switch await ChatSession(configuration: configuration, output: output, persona: persona).runOnStandardInput() {
            case nil: return
            case .failed(let failure):
                (output as? JSONOutput)?.show(.failed(failure))
                throw ExitStatus.fail(failure)
            case .lost: throw ExitStatus.lost
            }
        }

        /// The login name, for a missing `--nick`: from the environment, else the user
        /// database; kept to the characters login names use, as display names allow.
        static func loginName() throws -> String {
            let environment = ProcessInfo.processInfo.environment
            let candidates = [environment["USER"], environment["LOGNAME"], getpwuid(getuid()).flatMap { $0.pointee.pw_name.map { String(cString: $0) } }]
            for case let name? in candidates {
                let kept = String(name.filter { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }.prefix(32))
                if !kept.isEmpty { return kept }
            }
            throw ValidationError("cannot tell your login name: give your display name with --nick <name>")
        }

        static var defaultKnownHosts: String {
            let environment = ProcessInfo.processInfo.environment
            let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? ((environment["HOME"] ?? ".") + "/.config")
            return base + "/catroom/known_hosts"
        }
    }
}
