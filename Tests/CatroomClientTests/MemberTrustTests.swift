@_spi(Testing) import CatroomClient
import CatroomCrypto
import CatroomProtocol
@_spi(Testing) import CatroomServer
import CatroomTesting
import CatroomXML
import NIOConcurrencyHelpers
import Testing

/// Trust follows keys, not names (CR-0006 §5.4, §5.10; SECURITY-CASES RM-05, RM-06, UI-01),
/// between real clients on a real server on loopback.
@Suite struct MemberTrustTests {
    func id(of participant: Participant) async throws -> String {
        try await participant.waitFor("its own id") { if case .connected(_, _, let me) = $0 { me.id } else { nil } }
    }

    /// The member with this id as `participant` shows it, once its key exchange is done.
    func waitForReady(_ id: String, of participant: Participant) async throws -> MemberInfo {
        for _ in 0..<2000 {
            if let member = await participant.client.members().first(where: { $0.id == id && $0.ready }) { return member }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw Participant.WaitTimeout(what: "\(id.prefix(8)) ready", events: participant.events)
    }

    /// RM-05: when a second member takes the name "bob", the newcomer gets the fingerprint
    /// suffix and the incumbent keeps the plain name, whichever hello reaches alice first.
    /// "bob" alone is then ambiguous; "bob#" and four fingerprint digits picks one.
    @Test(arguments: [false, true])
    func theNewcomerToANameGetsTheSuffix(helloOfTheFirstBobArrivesLast: Bool) async throws {
        // Holds the first private message to alice (the first bob's hello) until another
        // member's private message to her (the second bob's hello) has gone through.
        let aliceJID = NIOLockedValueBox<JID?>(nil)
        let held = NIOLockedValueBox<(sender: String?, element: XML.Element?)>((nil, nil))
        let server = try await TestServer.start { configuration in
            guard helloOfTheFirstBobArrivesLast else { return }
            configuration.tamper = { element, recipient in
                guard recipient == aliceJID.withLockedValue({ $0 }), element.name == "message", element.attribute("type") == "chat",
                      let sender = element.attribute("from").flatMap({ try? JID($0) })?.resource
                else { return [element] }
                return held.withLockedValue { held in
                    if held.sender == nil {
                        held = (sender, element)
                        return []
                    }
                    guard sender != held.sender, let first = held.element else { return [element] }
                    held.element = nil
                    return [element, first]
                }
            }
        }
        let alice = Participant(server: server, nick: "alice")
        try await alice.waitUntilReady()
        let aliceID = try await id(of: alice)
        aliceJID.withLockedValue { $0 = server.boundJID(of: aliceID) }

        let firstBob = Participant(server: server, nick: "bob")
        let firstID = try await id(of: firstBob)
        try await alice.waitFor("the first bob in the room") { if case .memberPending(firstID, 0) = $0 { true } else { nil } }
        let secondBob = Participant(server: server, nick: "bob")
        let secondID = try await id(of: secondBob)
        let first = try await waitForReady(firstID, of: alice)
        let second = try await waitForReady(secondID, of: alice)
        #expect(first.nick == "bob")
        #expect(second.nick == "bob#" + second.shortFingerprint)
        if helloOfTheFirstBobArrivesLast {
            // The second bob was shown plainly until the first one's hello came: that change is reported.
            try await alice.waitFor("the second bob renamed") { event in
                if case .nickChanged("bob", let member) = event, member.id == secondID, member.nick == second.nick { true } else { nil }
            }
        }

        let firstName = "bob#" + first.shortFingerprint, secondName = "bob#" + second.shortFingerprint
        #expect(await alice.client.perform(.message(to: "bob", text: "which one?"))
            == .error("ambiguous: \([firstName, secondName].sorted().joined(separator: " or "))"))
        #expect(await alice.client.perform(.message(to: "bob#" + second.fingerprint.prefix(4), text: "to the second bob")) == .none)
        _ = try await secondBob.waitForMessage("to the second bob")
        #expect(await alice.client.perform(.message(to: firstName, text: "to the first bob")) == .none)
        _ = try await firstBob.waitForMessage("to the first bob")
        #expect(!firstBob.messages().contains { $0.text == "to the second bob" })
        for participant in [alice, firstBob, secondBob] { await participant.stop() }
        await server.shutdown()
    }

    /// RM-07 and RM-06: a `/query` is bound to the member's key. When bob leaves and a
    /// newcomer takes the name, nothing meant for bob reaches it, alice is told why, and the
    /// newcomer is flagged as a known name with a new key.
    @Test func aQueryFollowsTheKeyNotTheName() async throws {
        let server = try await TestServer.start()
        let alice = Participant(server: server, nick: "alice")
        try await alice.waitUntilReady()
        let bob = Participant(server: server, nick: "bob")
        try await bob.waitUntilReady()
        let target = try #require(try await alice.client.member(named: "bob"))
        #expect(await alice.client.perform(.say("just us"), queryTarget: target) == .none)
        _ = try await bob.waitForMessage("just us")

        await bob.stop()
        try await alice.waitFor("bob left") { if case .memberLeft(let m) = $0, m.id == target.id { true } else { nil } }
        let newcomer = Participant(server: server, nick: "bob")
        try await newcomer.waitUntilReady()
        let newID = try await id(of: newcomer)
        let shownNewcomer = try await waitForReady(newID, of: alice)
        #expect(shownNewcomer.nick == "bob#" + shownNewcomer.shortFingerprint)
        let warning = try await alice.waitFor("name reused") { event in
            if case .nameReused("bob", let previous, let member) = event { (previous, member) } else { nil }
        }
        #expect(warning.0 == target.fingerprint && warning.1.fingerprint == shownNewcomer.fingerprint)

        let reply = await alice.client.perform(.say("still just us?"), queryTarget: target)
        guard case .error(let text) = reply else { Issue.record("sent to a newcomer: \(reply)"); return }
        #expect(text.hasPrefix("bob left the room: nothing was sent"))
        try await Task.sleep(for: .milliseconds(300))
        #expect(!newcomer.messages().contains { $0.text == "still just us?" })
        for participant in [alice, newcomer] { await participant.stop() }
        await server.shutdown()
    }

    /// UI-01, RM-06: a member that leaves and comes back with the same key is recognised
    /// and stays verified; members present at joining are listed as present.
    @Test func aReturningKeyIsRecognisedAndStaysVerified() async throws {
        let server = try await TestServer.start()
        let alice = Participant(server: server, nick: "alice")
        try await alice.waitUntilReady()
        let key = IdentityKeyPair.generate()
        let bob = Participant(server: server, nick: "bob", identity: key)
        try await bob.waitUntilReady()
        // To bob, alice was there first: present, not joining.
        try await bob.waitFor("alice present") { if case .memberPresent(let m) = $0, m.nick == "alice" { true } else { nil } }
        #expect(!bob.events.contains { if case .memberJoined = $0 { true } else { false } })
        let joined = try await alice.waitFor("bob joined") { if case .memberJoined(let m) = $0, m.nick == "bob" { m } else { nil } }
        #expect(await alice.client.perform(.verify("bob")) == .notice("bob is now marked verified (\(joined.shortFingerprint))"))
        try await bob.client.say("verified words")
        #expect(try await alice.waitForMessage("verified words").from.verified)

        await bob.stop()
        try await alice.waitFor("bob left") { if case .memberLeft(let m) = $0, m.nick == "bob" { true } else { nil } }
        let again = Participant(server: server, nick: "bob", identity: key)
        try await again.waitUntilReady()
        let back = try await alice.waitFor("bob reconnected") { if case .memberReconnected(let m) = $0 { m } else { nil } }
        #expect(back.id == joined.id && back.nick == "bob" && back.verified)
        #expect(!alice.events.contains { if case .nameReused = $0 { true } else { false } })
        try await again.client.say("back again")
        #expect(try await alice.waitForMessage("back again").from.verified)
        for participant in [alice, again] { await participant.stop() }
        await server.shutdown()
    }

    /// RM-05, UI-02: lookalike names never pass as another member. A Cyrillic "frank" is a
    /// newcomer to frank's name; `frank#…`, bidi controls and invisible characters are
    /// refused, in a hello (shown as `unnamed#…`) as in a rename (the old name stays).
    @Test func lookalikeNamesNeverPassAsAnotherMember() async throws {
        let server = try await TestServer.start()
        let frank = Participant(server: server, nick: "frank")
        try await frank.waitUntilReady()
        let alice = Participant(server: server, nick: "alice")
        try await alice.waitUntilReady()
        let frankInfo = try await alice.waitForMember("frank")

        let cyrillic = Participant(server: server, nick: "fr\u{0430}nk")
        try await cyrillic.waitUntilReady()
        let lookalike = try await waitForReady(try await id(of: cyrillic), of: alice)
        #expect(lookalike.nick == "fr\u{0430}nk#" + lookalike.shortFingerprint)

        let mallory = Participant(server: server, nick: "mallory")
        try await mallory.waitUntilReady()
        let malloryID = try await id(of: mallory)
        _ = try await waitForReady(malloryID, of: alice)
        for (name, reason) in [("frank#" + frankInfo.shortFingerprint, "#"), ("\u{202E}knarf", "bidirectional control (U+202E)"),
                               ("fr\u{200B}ank", "invisible character (U+200B)")] {
            try await mallory.client.changeNickUnchecked(name)
            let refused = try await alice.waitFor("refusal of \(reason)") { event in
                if case .nameRefused(let member, let text) = event, member.id == malloryID, text.contains(reason) { member } else { nil }
            }
            #expect(refused.nick == "mallory")
        }
        // "frank" could be either; four digits of a fingerprint tell them apart.
        await #expect(throws: (any Error).self) { try await alice.client.member(named: "frank") }
        #expect(try await alice.client.member(named: "frank#" + frankInfo.fingerprint.prefix(4))?.id == frankInfo.id)

        // In a hello: the name is replaced by a fallback no one can choose.
        let ghost = Participant(server: server, nick: "ghost", room: "other")
        try await ghost.waitUntilReady()
        try await ghost.client.changeNickUnchecked("frank\u{2066}")
        let observer = Participant(server: server, nick: "observer", room: "other")
        try await observer.waitUntilReady()
        let unnamed = try await observer.waitFor("the refused hello") { event in
            if case .nameRefused(let member, let reason) = event, reason.contains("U+2066") { member } else { nil }
        }
        #expect(unnamed.nick == "unnamed#" + unnamed.shortFingerprint)
        try await observer.waitFor("ghost present") { if case .memberPresent(let m) = $0, m.nick == unnamed.nick { true } else { nil } }

        // This member's own name is checked too: at /nick, and before connecting.
        #expect(await alice.client.perform(.nick("al\u{202E}ice"))
            == .error("that name cannot be used: it contains a bidirectional control (U+202E) (CR-0006 §5.4)"))
        let badStart = Participant(server: server, nick: "bo\u{200D}b")
        let error = try await badStart.waitFor("the refusal") { if case .error(let text) = $0 { text } else { nil } }
        #expect(error == "cannot join with that name: it contains an invisible character (U+200D) (CR-0006 §5.4)")
        for participant in [frank, alice, cyrillic, mallory, ghost, observer, badStart] { await participant.stop() }
        await server.shutdown()
    }
}
