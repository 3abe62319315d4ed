import Foundation

/// A key (or a paste) read from the terminal.
enum TerminalKey: Equatable, Sendable {
    /// Printable characters typed (several when they arrive together).
    case text(String)
    /// A bracketed paste, as pasted.
    case paste(String)
    case enter, tab, backTab, backspace, delete, escape
    /// Alt-Enter (Escape and CR): a newline in the message.
    case altEnter
    case left, right, up, down, home, end, pageUp, pageDown
    case wordLeft, wordRight
    /// Alt with ← or →: the previous or next buffer.
    case altLeft, altRight
    /// Alt with Home or End: the top or the bottom of the scrollback.
    case altHome, altEnd
    /// Ctrl and a letter, as the lowercase letter.
    case control(Character)
    /// Alt (or Escape) and a character.
    case alt(Character)
    case altBackspace
    case unknown
}

/// Bytes from a terminal in raw mode to keys: UTF-8, the C0 control keys, CSI and SS3
/// sequences (xterm, VT220 and rxvt forms), Alt as an Escape prefix, and bracketed paste.
/// Sequences split across reads are kept until the rest arrives; `flush()` settles a
/// lone Escape after a pause.
struct TerminalKeyDecoder {
    private var pending: [UInt8] = []
    private var pasting = false
    private var pasted: [UInt8] = []
    private static let pasteEnd: [UInt8] = Array("\u{1B}[201~".utf8)

    /// True when an incomplete sequence waits: the reader should flush it after a pause.
    var isWaiting: Bool { !pasting && !pending.isEmpty }

    mutating func feed(_ bytes: some Sequence<UInt8>) -> [TerminalKey] {
        pending.append(contentsOf: bytes)
        var keys: [TerminalKey] = []
        var index = 0
        while index < pending.count {
            if pasting {
                index = consumePaste(from: index, into: &keys)
                if pasting { break }
                continue
            }
            guard let (key, length) = decode(at: index) else { break }
            if let key { append(key, to: &keys) }
            index += length
        }
        pending.removeFirst(index)
        return keys
    }

    /// After a pause: a lone Escape is the Escape key; other fragments are dropped.
    mutating func flush() -> [TerminalKey] {
        defer { pending = [] }
        return pending.first == 0x1B ? [pending.count == 1 ? .escape : .unknown] : []
    }

    private mutating func append(_ key: TerminalKey, to keys: inout [TerminalKey]) {
        if case .text(let more) = key, case .text(let text)? = keys.last {
            keys[keys.count - 1] = .text(text + more)
        } else {
            keys.append(key)
        }
    }

    /// Collects pasted bytes up to the end marker; returns where decoding resumes.
    private mutating func consumePaste(from start: Int, into keys: inout [TerminalKey]) -> Int {
        let rest = pending[start...]
        if let end = rest.firstRange(of: Self.pasteEnd) {
            pasted.append(contentsOf: pending[start..<end.lowerBound])
            keys.append(.paste(String(decoding: pasted, as: UTF8.self)))
            pasted = []
            pasting = false
            return end.upperBound
        }
        // Keep a tail that could be the start of the end marker.
        var keep = min(Self.pasteEnd.count - 1, rest.count)
        while keep > 0, !Self.pasteEnd.starts(with: rest.suffix(keep)) { keep -= 1 }
        pasted.append(contentsOf: rest.dropLast(keep))
        return pending.count - keep
    }

    /// The key at `index` and the bytes it took (a nil key: bytes to skip), or nil when
    /// the bytes there are incomplete.
    private mutating func decode(at index: Int) -> (TerminalKey?, Int)? {
        let byte = pending[index]
        switch byte {
        case 0x1B: return decodeEscape(at: index)
        case 0x0D:
            // A CR LF pair (a paste without bracketing) is one Enter.
            return (.enter, index + 1 < pending.count && pending[index + 1] == 0x0A ? 2 : 1)
        case 0x0A: return (.enter, 1)
        case 0x09: return (.tab, 1)
        case 0x7F, 0x08: return (.backspace, 1)
        case 0x01...0x1A: return (.control(Character(Unicode.Scalar(byte + 0x60))), 1)
        case 0x00, 0x1C...0x1F: return (nil, 1)
        case 0x20...0x7E: return (.text(String(Unicode.Scalar(byte))), 1)
        default: return decodeUTF8(at: index)
        }
    }

    private func decodeUTF8(at index: Int) -> (TerminalKey?, Int)? {
        let lead = pending[index]
        let length = switch lead {
        case 0xC2...0xDF: 2
        case 0xE0...0xEF: 3
        case 0xF0...0xF4: 4
        default: 0
        }
        guard length > 0 else { return (nil, 1) }
        guard index + length <= pending.count else { return nil }
        let bytes = pending[index..<index + length]
        guard bytes.dropFirst().allSatisfy({ $0 & 0xC0 == 0x80 }) else { return (nil, 1) }
        var decoded = String.UnicodeScalarView()
        var decoder = UTF8()
        var iterator = bytes.makeIterator()
        guard case .scalarValue(let scalar) = decoder.decode(&iterator) else { return (nil, length) }
        // C1 controls are never text.
        if (0x80...0x9F).contains(scalar.value) { return (nil, length) }
        decoded.append(scalar)
        return (.text(String(decoded)), length)
    }

    private mutating func decodeEscape(at index: Int) -> (TerminalKey?, Int)? {
        guard index + 1 < pending.count else { return nil }
        let next = pending[index + 1]
        switch next {
        case UInt8(ascii: "["):
            // CSI: parameters 0x30-0x3F, intermediates 0x20-0x2F, a final byte 0x40-0x7E.
            var end = index + 2
            while end < pending.count, !(0x40...0x7E).contains(pending[end]) {
                guard (0x20...0x3F).contains(pending[end]), end - index < 32 else { return (.unknown, end - index) }
                end += 1
            }
            guard end < pending.count else { return nil }
            let parameters = String(decoding: pending[(index + 2)..<end], as: UTF8.self)
            return (csi(parameters: parameters, final: pending[end]), end - index + 1)
        case UInt8(ascii: "O"):
            guard index + 2 < pending.count else { return nil }
            let key: TerminalKey = switch pending[index + 2] {
            case UInt8(ascii: "A"): .up
            case UInt8(ascii: "B"): .down
            case UInt8(ascii: "C"): .right
            case UInt8(ascii: "D"): .left
            case UInt8(ascii: "H"): .home
            case UInt8(ascii: "F"): .end
            case UInt8(ascii: "M"): .enter
            default: .unknown
            }
            return (key, 3)
        case 0x7F, 0x08: return (.altBackspace, 2)
        case 0x0D, 0x0A: return (.altEnter, 2)
        case 0x20...0x7E: return (.alt(Character(Unicode.Scalar(next))), 2)
        default: return (.escape, 1)
        }
    }

    private mutating func csi(parameters: String, final: UInt8) -> TerminalKey {
        let fields = parameters.split(separator: ";", omittingEmptySubsequences: false)
        let first = fields.first.flatMap { Int($0) } ?? 1
        // xterm modifiers: 1 + (shift 1, alt 2, ctrl 4).
        let modifiers = fields.count > 1 ? (Int(fields[1]) ?? 1) : 1
        let modified = modifiers > 1
        switch final {
        case UInt8(ascii: "A"): return .up
        case UInt8(ascii: "B"): return .down
        case UInt8(ascii: "C"): return modifiers == 3 ? .altRight : modified ? .wordRight : .right
        case UInt8(ascii: "D"): return modifiers == 3 ? .altLeft : modified ? .wordLeft : .left
        case UInt8(ascii: "H"): return modifiers == 3 ? .altHome : .home
        case UInt8(ascii: "F"): return modifiers == 3 ? .altEnd : .end
        case UInt8(ascii: "Z"): return .backTab
        case UInt8(ascii: "~"):
            switch first {
            case 1, 7: return .home
            case 4, 8: return .end
            case 3: return .delete
            case 5: return .pageUp
            case 6: return .pageDown
            case 200:
                pasting = true
                return .unknown
            default: return .unknown
            }
        default: return .unknown
        }
    }
}

/// Reads the terminal on a thread of its own (reads block) and hands keys over.
enum TerminalInputReader {
    /// Starts the reader; `closed` is called once when input ends (the terminal went away).
    static func start(
        descriptor: Int32, keys: @escaping @Sendable ([TerminalKey]) -> Void, closed: @escaping @Sendable () -> Void
    ) {
        let thread = Thread {
            var decoder = TerminalKeyDecoder()
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                if decoder.isWaiting {
                    // Escape alone, or the start of a sequence? Wait briefly for the rest.
                    var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                    if poll(&poller, 1, 40) == 0 {
                        let flushed = decoder.flush()
                        if !flushed.isEmpty { keys(flushed) }
                        continue
                    }
                }
                let count = read(descriptor, &buffer, buffer.count)
                if count > 0 {
                    let decoded = decoder.feed(buffer[0..<count])
                    if !decoded.isEmpty { keys(decoded) }
                } else if count < 0, errno == EINTR || errno == EAGAIN {
                    continue
                } else {
                    closed()
                    return
                }
            }
        }
        thread.name = "catroom.terminal-input"
        thread.start()
    }
}
