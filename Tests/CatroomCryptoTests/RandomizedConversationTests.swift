import CatroomCrypto
import Testing

/// A seeded random two-party conversation (after libsignal's test_longer_sessions):
/// send, deliver, drop, reorder and duplicate at random; every delivered message
/// decrypts exactly once to the right text and both parties stay in agreement.
@Suite struct RandomizedConversationTests {
    struct Party {
        var member: Member
        /// Messages in flight towards this party: (sequence number, message).
        var inbox: [(Int, SessionMessage)] = []
        var delivered = Set<Int>()
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func randomScheduleDeliversEveryMessageExactlyOnce(seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        var parties = [Party(member: Member()), Party(member: Member())]
        try parties[0].member.store.initiateSession(with: parties[1].member.bundle(), peer: parties[1].member.id)
        var sequence = 0
        var texts: [Int: String] = [:]
        var duplicatesRejected = 0
        var dropped = 0

        func deliver(to receiver: Int, at position: Int, keep: Bool) throws {
            let sender = 1 - receiver
            let (number, message) = keep ? parties[receiver].inbox[position] : parties[receiver].inbox.remove(at: position)
            let senderID = parties[sender].member.id
            if parties[receiver].delivered.contains(number) {
                #expect(throws: CryptoError.duplicateMessage) { try parties[receiver].member.store.decrypt(message, from: senderID) }
                duplicatesRejected += 1
            } else {
                let plaintext = try parties[receiver].member.store.decrypt(message, from: senderID)
                #expect(plaintext.string == texts[number])
                parties[receiver].delivered.insert(number)
            }
        }

        for step in 0..<3000 {
            let actor = Int.random(in: 0...1, using: &random)
            // Bob can only send once he has heard from Alice.
            let canSend = actor == 0 || parties[1].member.store.session(with: parties[0].member.id) != nil
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<40 where canSend:
                let receiver = 1 - actor
                let text = "step \(step) from \(actor)"
                let message = try parties[actor].member.store.encrypt(Array(text.utf8), to: parties[receiver].member.id)
                texts[sequence] = text
                parties[receiver].inbox.append((sequence, message))
                sequence += 1
            case 0..<75 where !parties[actor].inbox.isEmpty:
                // Deliver the oldest, or one at random (reordering), limited to MAX_SKIP's reach.
                let reach = min(parties[actor].inbox.count, 50)
                let position = Bool.random(using: &random) ? 0 : Int.random(in: 0..<reach, using: &random)
                try deliver(to: actor, at: position, keep: Int.random(in: 0..<10, using: &random) == 0)
            case 75..<80 where !parties[actor].inbox.isEmpty:
                let (number, _) = parties[actor].inbox.remove(at: Int.random(in: 0..<parties[actor].inbox.count, using: &random))
                if !parties[actor].delivered.contains(number) { dropped += 1 }
            case 80..<85 where !parties[actor].inbox.isEmpty:
                // Redeliver something already delivered, if there is one in flight again.
                let position = Int.random(in: 0..<parties[actor].inbox.count, using: &random)
                try deliver(to: actor, at: position, keep: true)
            default:
                break
            }
        }
        // Drain everything still in flight, in random order.
        for receiver in 0...1 {
            while !parties[receiver].inbox.isEmpty {
                try deliver(to: receiver, at: Int.random(in: 0..<parties[receiver].inbox.count, using: &random), keep: false)
            }
        }
        let deliveredCount = parties[0].delivered.count + parties[1].delivered.count
        #expect(deliveredCount + dropped == sequence)
        #expect(duplicatesRejected > 0 && dropped > 0 && sequence > 800)
        // Both still agree: a final exchange in each direction works.
        for actor in 0...1 {
            let receiver = 1 - actor
            let message = try parties[actor].member.store.encrypt(Array("final".utf8), to: parties[receiver].member.id)
            #expect(try parties[receiver].member.store.decrypt(message, from: parties[actor].member.id).string == "final")
        }
    }
}
