/// The versioned local encoding of a session record (CR-0001 Appendix B). It holds
/// secrets, so it is produced as `SecretBytes`; storing it encrypted is the caller's job.
extension SessionRecord {
    public static let serializationVersion: UInt8 = 1

    private enum Flag {
        static let sendingRatchetKey: UInt8 = 1 << 0
        static let receivingRatchetKey: UInt8 = 1 << 1
        static let sendingChain: UInt8 = 1 << 2
        static let receivingChain: UInt8 = 1 << 3
        static let pendingPreKey: UInt8 = 1 << 4
        static let all: UInt8 = 0x1f
    }

    public var serialized: SecretBytes {
        let states = [current] + previous
        // Reserve the exact upper bound once so the buffer never moves and leaves copies behind.
        let capacity = 2 + states.reduce(0) { $0 + 400 + 32 * $1.previousReceivingKeys.count + 68 * $1.skipped.count }
        var writer = ByteWriter(capacity: capacity)
        writer.append(Self.serializationVersion)
        writer.append(UInt8(states.count))
        for state in states { Self.write(state, to: &writer) }
        // Wiped in the writer itself: a copy of its array would be a second buffer.
        defer { writer.wipe() }
        return SecretBytes(copying: writer.bytes)
    }

    private static func write(_ state: SessionState, to writer: inout ByteWriter) {
        writer.append(state.associatedData)
        writer.append(state.remoteIdentity.bytes)
        writer.append(state.baseKey.bytes)
        writer.append(state.rootKey.secret)
        var flags: UInt8 = 0
        if state.sendingRatchetKey != nil { flags |= Flag.sendingRatchetKey }
        if state.receivingRatchetKey != nil { flags |= Flag.receivingRatchetKey }
        if state.sendingChain != nil { flags |= Flag.sendingChain }
        if state.receivingChain != nil { flags |= Flag.receivingChain }
        if state.pendingPreKey != nil { flags |= Flag.pendingPreKey }
        writer.append(flags)
        if let pair = state.sendingRatchetKey { writer.append(pair.privateKey.secret) }
        if let key = state.receivingRatchetKey { writer.append(key.bytes) }
        if let chain = state.sendingChain { writer.append(chain.secret) }
        if let chain = state.receivingChain { writer.append(chain.secret) }
        writer.append(state.sendCount)
        writer.append(state.receiveCount)
        writer.append(state.previousSendCount)
        // The X3DH fields as they appear in an initial message (CR-0001 §5.5).
        state.pendingPreKey?.write(to: &writer)
        writer.append(UInt8(state.previousReceivingKeys.count))
        for key in state.previousReceivingKeys { writer.append(key.bytes) }
        let skipped = state.skipped.entries
        writer.append(UInt16(skipped.count))
        for (index, key) in skipped {
            writer.append(index.ratchetKey.bytes)
            writer.append(index.messageNumber)
            writer.append(key.secret)
        }
    }

    /// Restores a record, checking every field as strictly as the wire formats.
    public init(serialized bytes: some RawBytes) throws {
        self = try bytes.withUnsafeBytes { buffer in
            var reader = ByteReader(buffer)
            let version = try reader.readByte()
            guard version == Self.serializationVersion else { throw CryptoError.unsupportedVersion(version) }
            let count = Int(try reader.readByte())
            guard (1...(1 + Limits.maxPreviousSessions)).contains(count) else { throw CryptoError.malformed }
            var states: [SessionState] = []
            for _ in 0..<count { states.append(try Self.readState(&reader)) }
            try reader.expectEnd()
            guard states.allSatisfy({ $0.remoteIdentity == states[0].remoteIdentity }) else { throw CryptoError.malformed }
            return SessionRecord(current: states[0], previous: Array(states.dropFirst()))
        }
    }

    private static func readState(_ reader: inout ByteReader) throws -> SessionState {
        let associatedData = try reader.read(count: 64)
        let remoteIdentity = try IdentityKey(bytes: reader.read(count: 32))
        guard associatedData[0..<32].elementsEqual(remoteIdentity.bytes) || associatedData[32..<64].elementsEqual(remoteIdentity.bytes)
        else { throw CryptoError.malformed }
        let baseKey = try X25519.PublicKey(bytes: reader.read(count: 32))
        var state = SessionState(
            associatedData: associatedData, remoteIdentity: remoteIdentity, baseKey: baseKey,
            rootKey: RootKey(secret: try reader.readSecret(count: 32)))
        let flags = try reader.readByte()
        guard flags & ~Flag.all == 0 else { throw CryptoError.malformed }
        if flags & Flag.sendingRatchetKey != 0 {
            state.sendingRatchetKey = X25519.KeyPair(privateKey: try X25519.PrivateKey(secret: reader.readSecret(count: 32)))
        }
        if flags & Flag.receivingRatchetKey != 0 {
            state.receivingRatchetKey = try X25519.PublicKey(bytes: reader.read(count: 32))
        }
        if flags & Flag.sendingChain != 0 { state.sendingChain = ChainKey(secret: try reader.readSecret(count: 32)) }
        if flags & Flag.receivingChain != 0 { state.receivingChain = ChainKey(secret: try reader.readSecret(count: 32)) }
        state.sendCount = try reader.readUInt32()
        state.receiveCount = try reader.readUInt32()
        state.previousSendCount = try reader.readUInt32()
        if flags & Flag.pendingPreKey != 0 {
            let preKey = try PreKeyInfo(reading: &reader)
            guard preKey.baseKey == baseKey else { throw CryptoError.malformed }
            state.pendingPreKey = preKey
        }
        let previousCount = Int(try reader.readByte())
        guard previousCount <= Limits.maxPreviousReceivingKeys else { throw CryptoError.malformed }
        for _ in 0..<previousCount {
            state.previousReceivingKeys.append(try X25519.PublicKey(bytes: reader.read(count: 32)))
        }
        let skippedCount = Int(try reader.readUInt16())
        guard skippedCount <= Limits.maxSkippedKeys else { throw CryptoError.malformed }
        for _ in 0..<skippedCount {
            let index = SkippedMessageKeys.Index(ratchetKey: try X25519.PublicKey(bytes: reader.read(count: 32)), messageNumber: try reader.readUInt32())
            // One key per index, as MKSKIPPED holds them (Double Ratchet §3.2).
            guard state.skipped.key(for: index) == nil else { throw CryptoError.malformed }
            state.skipped.insert(MessageKey(secret: try reader.readSecret(count: 32)), for: index)
        }
        return state
    }
}
