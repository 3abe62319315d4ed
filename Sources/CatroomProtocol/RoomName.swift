/// A room's name and bare address in their one canonical form (CR-0005 §3.1).
///
/// The canonical address `name@rooms.<domain>` is the only spelling of a room: what
/// clients write in `to`, what the server writes in `from` and compares, and the
/// bytes both sides put in the fan-out context (CR-0002 §5.1).
public enum RoomName {
    /// CR-0005 §3.1: a name has 1 to 64 characters.
    public static let maximumLength = 64

    /// What a room name may be, for error messages.
    public static let rule = "room names are 1 to \(maximumLength) characters: lowercase letters a-z, digits 0-9, '-', '_' and '.', starting with a letter or digit"

    /// Why a name has no canonical form; its description says what is allowed.
    public enum Invalid: Error, Hashable, Sendable, CustomStringConvertible {
        case empty
        /// A character outside `a-z A-Z 0-9 - _ .` (the first one).
        case disallowed(Unicode.Scalar)
        /// `-`, `_` or `.` first.
        case startsWith(Unicode.Scalar)
        /// The name's length in characters.
        case tooLong(Int)

        public var description: String {
            let problem = switch self {
            case .empty: "a room name cannot be empty"
            case .disallowed(let scalar): "a room name cannot contain \(Self.show(scalar))"
            case .startsWith(let scalar): "a room name cannot start with \(Self.show(scalar))"
            case .tooLong(let count): "a room name cannot have \(count) characters"
            }
            return "\(problem); \(RoomName.rule)"
        }

        /// Printable ASCII as itself; anything else by code point, so nothing can drive a terminal.
        private static func show(_ scalar: Unicode.Scalar) -> String {
            if scalar == " " { return "a space" }
            if scalar.value > 0x20, scalar.value < 0x7F { return "'\(scalar)'" }
            let hex = String(scalar.value, radix: 16, uppercase: true)
            return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        }
    }

    /// The canonical form of a room name (CR-0005 §3.1): ASCII letters folded to lowercase;
    /// a name with anything outside the rule has none. Checks in the document's order.
    public static func canonical(_ name: String) throws(Invalid) -> String {
        guard !name.isEmpty else { throw .empty }
        var bytes: [UInt8] = []
        for scalar in name.unicodeScalars {
            guard scalar.isASCII, let byte = folded(UInt8(scalar.value)) else { throw .disallowed(scalar) }
            bytes.append(byte)
        }
        guard isLetterOrDigit(bytes[0]) else { throw .startsWith(Unicode.Scalar(bytes[0])) }
        guard bytes.count <= maximumLength else { throw .tooLong(bytes.count) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The canonical bare address of the room `name` on the rooms service `service`
    /// (a domain-only JID, whose domain is lowercase by construction).
    public static func address(_ name: String, service: JID) throws(Invalid) -> JID {
        JID(trusted: try canonical(name), service.domain, nil)
    }

    /// `byte` lowercased if it is an allowed character, else nil.
    private static func folded(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte | 0x20
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): byte
        case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."): byte
        default: nil
        }
    }

    private static func isLetterOrDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
