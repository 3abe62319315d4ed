import Foundation

/// A profile's own choices, sealed in the `settings` row (docs/profile-format.md §3.4).
public struct ProfileSettings: Sendable, Equatable {
    /// Whether `catroom join` records the rooms' and private messages it shows. Off by default.
    public var history = false
    /// How long history is kept, in whole seconds; nil: until deleted.
    public var keepSeconds: Int64?

    public init(history: Bool = false, keepSeconds: Int64? = nil) {
        self.history = history
        self.keepSeconds = keepSeconds
    }

    /// `u8 version (1) || u8 history (0 or 1) || i64 keep seconds (0: forever)`.
    func encode() -> [UInt8] {
        [1, history ? 1 : 0] + SealedRow.bigEndian(UInt64(bitPattern: keepSeconds ?? 0))
    }

    /// Nil unless `bytes` is exactly what `encode` makes.
    static func decode(_ bytes: [UInt8]) -> ProfileSettings? {
        guard bytes.count == 10, bytes[0] == 1, bytes[1] <= 1 else { return nil }
        let keep = Int64(bitPattern: bytes[2...].reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        guard keep >= 0 else { return nil }
        return ProfileSettings(history: bytes[1] == 1, keepSeconds: keep == 0 ? nil : keep)
    }
}
