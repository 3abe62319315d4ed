import CatroomCrypto

/// `catroom bench crypto`: each catroom operation beside the libsodium calls it cannot avoid.
public struct CryptoBenchmark {
    /// One line of the report.
    public struct Row: Sendable, Codable {
        public let operation: String
        /// Median per operation, microseconds.
        public let catroomMicroseconds: Double
        public let floorMicroseconds: Double
        /// What the floor consists of.
        public let floor: String
        /// catroom / floor; stored rather than computed so the JSON carries it.
        public let ratio: Double
        /// The target this row is held to, if any, and whether it was met.
        public let target: String?
        public let met: Bool?

        init(operation: String, catroomMicroseconds: Double, floorMicroseconds: Double, floor: String, target: String?, met: Bool?) {
            self.operation = operation
            self.catroomMicroseconds = catroomMicroseconds
            self.floorMicroseconds = floorMicroseconds
            self.floor = floor
            ratio = catroomMicroseconds / floorMicroseconds
            self.target = target
            self.met = met
        }
    }

    /// Samples per measurement; `quick` divides them by ten for a smoke run.
    let scale: Int
    static let ratchetPlaintext = 64
    static let payload = 256
    static let fanoutSizes = [10, 50, 200]

    public init(quick: Bool = false) { scale = quick ? 10 : 1 }

    func count(_ full: Int) -> Int { max(full / scale, 10) }

    public func run() throws -> [Row] {
        var rows: [Row] = []
        rows += try ratchet()
        rows += try x3dh()
        for size in Self.fanoutSizes { rows += try fanout(recipients: size) }
        for size in Self.entryDigestPayloads { rows += try entryDigest(payload: size) }
        return rows
    }

    // MARK: - Double Ratchet

    private func ratchet() throws -> [Row] {
        var (alice, bob) = try Self.pair()
        let plaintext = [UInt8](repeating: 0x61, count: Self.ratchetPlaintext)
        let n = count(4000)
        var floor = PrimitiveFloor()
        // AD = AD_x3dh (64) || header (42).
        let ad = 64 + 42

        // Bob decrypts exactly what the encryption run produced, in order.
        var inbox: ArraySlice<SessionMessage> = []
        let encrypt = try Measurement.run(count: n) { inbox.append(try alice.encrypt(plaintext, to: bob.accountID)) }
        let encryptFloor = Measurement.run(count: n) {
            Self.messageKeyFloor(&floor)
            floor.seal(plaintext: Self.ratchetPlaintext, associatedData: ad)
        }

        let decrypt = try Measurement.run(count: n, prepare: { inbox.popFirst() }) { message in
            guard let message else { return }
            _ = try bob.decrypt(message, from: alice.accountID)
        }
        let decryptFloor = Measurement.run(count: n) {
            Self.messageKeyFloor(&floor)
            floor.open(plaintext: Self.ratchetPlaintext, associatedData: ad)
        }

        // With a DH step: the sender has just received a new ratchet key from its peer.
        let m = count(1000)
        // A full round trip before each timed send, so that bob's reply carries a new ratchet key.
        var sent: SessionMessage?
        let encryptDH = try Measurement.run(count: m, prepare: {
            if let sent { _ = try bob.decrypt(sent, from: alice.accountID) }
            _ = try alice.decrypt(try bob.encrypt(plaintext, to: alice.accountID), from: bob.accountID)
        }) { _ in sent = try alice.encrypt(plaintext, to: bob.accountID) }
        let encryptDHFloor = Measurement.run(count: m) {
            floor.keygen()
            floor.dh()
            Self.rootKeyFloor(&floor)
            Self.messageKeyFloor(&floor)
            floor.seal(plaintext: Self.ratchetPlaintext, associatedData: ad)
        }
        let decryptDH = try Measurement.run(count: m, prepare: { () throws -> SessionMessage in
            _ = try alice.decrypt(try bob.encrypt(plaintext, to: alice.accountID), from: bob.accountID)
            return try alice.encrypt(plaintext, to: bob.accountID)
        }) { message in _ = try bob.decrypt(message, from: alice.accountID) }
        let decryptDHFloor = Measurement.run(count: m) {
            floor.dh()
            Self.rootKeyFloor(&floor)
            Self.messageKeyFloor(&floor)
            floor.open(plaintext: Self.ratchetPlaintext, associatedData: ad)
        }
        let message = "KDF_CK (2 HMAC) + message keys (HKDF: 3 HMAC) + AEAD"
        let step = "X25519 keygen + DH + KDF_RK (HKDF: 3 HMAC) + "
        return [
            Self.row("ratchet encrypt", encrypt, encryptFloor, floor: message, ratioTarget: 1.5),
            Self.row("ratchet decrypt", decrypt, decryptFloor, floor: message, ratioTarget: 1.5),
            Self.row("ratchet encrypt + DH step", encryptDH, encryptDHFloor, floor: step + message, ratioTarget: 1.5),
            Self.row("ratchet decrypt + DH step", decryptDH, decryptDHFloor,
                     floor: "X25519 DH + KDF_RK (HKDF: 3 HMAC) + " + message, ratioTarget: 1.5),
        ]
    }

    // MARK: - X3DH

    private func x3dh() throws -> [Row] {
        let alice = IdentityKeyPair.generate()
        let bobIdentity = IdentityKeyPair.generate()
        let signedPreKey = X25519.KeyPair.generate(), oneTime = X25519.KeyPair.generate()
        let bundle = PreKeyBundle(
            identityKey: bobIdentity.publicKey,
            signedPreKey: SignedPreKey(
                id: 1, publicKey: signedPreKey.publicKey,
                signature: bobIdentity.signature(context: Label.signedPreKey, message: signedPreKey.publicKey.bytes)),
            oneTimePreKey: OneTimePreKey(id: 1, publicKey: oneTime.publicKey))
        let n = count(1000)
        var floor = PrimitiveFloor()
        var baseKey = X25519.KeyPair.generate().publicKey

        let initiate = try Measurement.run(count: n) {
            let ephemeral = X25519.KeyPair.generate()
            _ = try X3DH.initiate(identity: alice, ephemeral: ephemeral, bundle: bundle)
            baseKey = ephemeral.publicKey
        }
        let initiateFloor = Measurement.run(count: n) {
            floor.verify()
            floor.random(32)
            floor.keygen()
            floor.convertKeys()
            for _ in 0..<4 { floor.dh() }
            floor.hmac(length: 32 + 4 * 32)
            floor.hmac(length: 16)
        }
        let respond = try Measurement.run(count: n) {
            _ = try X3DH.respond(
                identity: bobIdentity, signedPreKey: signedPreKey.privateKey, oneTimePreKey: oneTime.privateKey,
                initiatorIdentity: alice.publicKey, baseKey: baseKey)
        }
        let respondFloor = Measurement.run(count: n) {
            floor.convertKeys()
            for _ in 0..<4 { floor.dh() }
            floor.hmac(length: 32 + 4 * 32)
            floor.hmac(length: 16)
        }
        return [
            Self.row("x3dh initiate (with OPK)", initiate, initiateFloor,
                     floor: "Ed25519 verify + keygen + 2 key conversions + 4 DH + HKDF (2 HMAC)", ratioTarget: nil),
            Self.row("x3dh respond (with OPK)", respond, respondFloor,
                     floor: "2 key conversions + 4 DH + HKDF (2 HMAC)", ratioTarget: nil),
        ]
    }

    // MARK: - Fan-out

    private func fanout(recipients size: Int) throws -> [Row] {
        var sender = Self.store()
        var members = (0..<size).map { _ in Self.store() }
        for i in members.indices { try Self.establish(&sender, &members[i]) }
        let ids = members.map(\.accountID)
        let payload = [UInt8](repeating: 0x62, count: Self.payload)
        let room = "bench@rooms.localhost"
        let n = count(size >= 200 ? 300 : 1000)
        var floor = PrimitiveFloor()
        let contextBytes = 64 + room.utf8.count + size * 33
        // The entry digest D (CR-0002 §5.1) hashes the payload, then label || D0 || that hash.
        let entryDigestBytes = Label.fanoutEntry.count + 64
        // Each entry's AD: AD_x3dh (64) || header (42) || digest (32).
        let entryAD = 64 + 42 + 32

        // Opening first: member 0 reads every message sealed so far, so no skip grows past MAX_SKIP.
        let open = try Measurement.run(count: count(size >= 200 ? 300 : 600), prepare: {
            try Fanout.seal(payload, kind: .room, room: room, recipients: ids, store: &sender)
        }) { message in
            _ = try Fanout.open(message.payload, context: message.context, key: try message.entry(for: ids[0]), store: &members[0])
        }
        let seal = try Measurement.run(count: n) {
            _ = try Fanout.seal(payload, kind: .room, room: room, recipients: ids, store: &sender)
        }
        let sealFloor = Measurement.run(count: n) {
            floor.random(48)
            Self.payloadKeyFloor(&floor)
            floor.sha256(length: contextBytes)
            floor.seal(plaintext: Self.payload, associatedData: 32)
            floor.sha256(length: Self.payload)
            floor.sha256(length: entryDigestBytes)
            for _ in 0..<size {
                Self.messageKeyFloor(&floor)
                floor.seal(plaintext: 32, associatedData: entryAD)
            }
        }
        let openFloor = Measurement.run(count: n) {
            floor.sha256(length: contextBytes)
            floor.sha256(length: Self.payload)
            floor.sha256(length: entryDigestBytes)
            Self.messageKeyFloor(&floor)
            floor.open(plaintext: 32, associatedData: entryAD)
            Self.payloadKeyFloor(&floor)
            floor.open(plaintext: Self.payload, associatedData: 32)
        }
        return [
            Self.row("fan-out seal, \(size) recipients", seal, sealFloor,
                     floor: "random + HKDF (4 HMAC) + 3 SHA-256 + AEAD + \(size) x (5 HMAC + AEAD)",
                     ratioTarget: nil, maximumMicroseconds: size == 200 ? 2000 : nil),
            Self.row("fan-out open, 1 of \(size)", open, openFloor,
                     floor: "3 SHA-256 + 5 HMAC + AEAD + HKDF (4 HMAC) + AEAD", ratioTarget: nil),
        ]
    }

    // MARK: - Floors shared by several operations

    /// KDF_CK (2 HMAC) and the message-key HKDF (extract + 2 expand blocks).
    static func messageKeyFloor(_ floor: inout PrimitiveFloor) {
        floor.hmac(length: 1)
        floor.hmac(length: 1)
        floor.hmac(length: 32)
        floor.hmac(length: 19)
        floor.hmac(length: 51)
    }

    /// KDF_RK: HKDF extract + 2 expand blocks.
    static func rootKeyFloor(_ floor: inout PrimitiveFloor) {
        floor.hmac(length: 32)
        floor.hmac(length: 19)
        floor.hmac(length: 51)
    }

    /// The fan-out payload-key HKDF: extract + 3 expand blocks.
    static func payloadKeyFloor(_ floor: inout PrimitiveFloor) {
        floor.hmac(length: 32)
        for _ in 0..<3 { floor.hmac(length: 50) }
    }

    // MARK: - Set-up and rows

    static func store() -> SessionStore {
        var preKeys = PreKeyStore(identity: .generate())
        _ = preKeys.generateOneTimePreKeys(count: 1)
        return SessionStore(preKeys: preKeys)
    }

    /// A session from `a` to `b` in which both have sent and received.
    static func establish(_ a: inout SessionStore, _ b: inout SessionStore) throws {
        try a.initiateSession(with: b.preKeys.bundle(oneTimePreKeyID: 1), peer: b.accountID)
        _ = try b.decrypt(try a.encrypt([0], to: b.accountID), from: a.accountID)
        _ = try a.decrypt(try b.encrypt([0], to: a.accountID), from: b.accountID)
    }

    static func pair() throws -> (SessionStore, SessionStore) {
        var (a, b) = (store(), store())
        try establish(&a, &b)
        // One more message each way so neither side has a DH step pending.
        _ = try b.decrypt(try a.encrypt([0], to: b.accountID), from: a.accountID)
        return (a, b)
    }

    static func row(
        _ operation: String, _ measured: Measurement, _ floor: Measurement, floor description: String,
        ratioTarget: Double?, maximumMicroseconds: Double? = nil
    ) -> Row {
        let value = measured.median / 1000, base = floor.median / 1000
        var target: String?
        var met: Bool?
        if let ratioTarget {
            target = "≤ \(ratioTarget)x floor"
            met = value / base <= ratioTarget
        } else if let maximumMicroseconds {
            target = "< \(Int(maximumMicroseconds)) µs"
            met = value < maximumMicroseconds
        }
        return Row(operation: operation, catroomMicroseconds: value, floorMicroseconds: base, floor: description, target: target, met: met)
    }
}
