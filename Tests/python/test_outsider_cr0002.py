"""CR-0002 0.2 vectors recomputed by the outsider implementation (catroom_outsider.py).

alice runs X3DH with bob, carol and dave, seals one room message to them, makes
the two malicious entries of Appendix A from her session with carol as it was
before the room message, and bob answers privately. Every value, every
rejection (with its §5.5 error, and no state change), and every draw of the
random script is checked.
"""

from __future__ import annotations

import copy
from types import SimpleNamespace

import pytest

import catroom_outsider as co
from outsider_vectors import check, load, party, scripted

V = load("CR-0002-vectors.json")
ROOM = V["room"]


@pytest.fixture(scope="module")
def world():
    rng = scripted(V)
    w = SimpleNamespace(rng=rng, sessions={})
    w.alice = co.Member("alice", rng["alice"])
    w.members = {"alice": w.alice}
    for name in ("bob", "carol", "dave"):                 # each generated, then alice's X3DH with it
        member = co.Member(name, rng[name])
        w.members[name] = member
        setattr(w, name, member)
        w.alice.initiate(member.id, member.bundle())
        w.sessions[name] = dict(w.alice.x3dh_trace, peer=name)
    w.fresh = {name: copy.deepcopy(m) for name, m in w.members.items()}
    carol_session_before = copy.deepcopy(w.alice.sessions[w.carol.id][0])

    w.room = co.seal(w.alice, co.KIND_ROOM, ROOM, [w.bob.id, w.carol.id, w.dave.id],
                     bytes.fromhex(V["roomMessage"]["plaintext"]))
    t = w.room.trace
    for entry in t["keyEntries"]:
        entry["recipient"] = next(n for n, m in w.members.items() if m.id == entry["recipient"])

    # The malicious entries: from alice's session with carol as before the room message.
    k_prime = w.alice.rng.draw(32)
    w.commitment_entry = copy.deepcopy(carol_session_before).encrypt(k_prime, w.alice.rng, t["entryDigest"])
    flipped = t["payload"][:-1] + bytes([t["payload"][-1] ^ 1])
    w.flipped_payload = flipped
    w.unopenable_entry = copy.deepcopy(carol_session_before).encrypt(
        t["payloadKey"], w.alice.rng, co.entry_digest(t["contextDigest"], flipped))
    w.k_prime = k_prime

    # Rejections are tried on each recipient's state before it opens the genuine message.
    w.rejections = {}
    for rej in V["roomMessage"]["rejections"]:
        w.rejections[rej["name"]] = copy.deepcopy(w.members[rej["recipient"]])

    w.opened = {}
    for name in ("carol", "bob", "dave"):
        w.opened[name] = co.open_sealed(w.members[name], w.room)

    # recipientForgery: bob, holding K, seals his own plaintext under the same D0.
    forged = bytes.fromhex(next(r for r in V["roomMessage"]["rejections"]
                                if r["name"] == "recipientForgery")["presented"]["forgedPlaintext"])
    key, nonce, _ = co.payload_keys(w.opened["bob"].payload_key)      # the K bob's entry gave him
    w.forged_payload = co.aead_seal(key, nonce, t["contextDigest"], forged)

    # bob's private reply, over the session the room message created.
    w.alice_before_reply = copy.deepcopy(w.alice)
    w.reply = co.seal(w.bob, co.KIND_PRIVATE, ROOM, [w.alice.id], bytes.fromhex(V["privateReply"]["plaintext"]))
    w.reply.trace["keyEntries"][0]["recipient"] = "alice"
    w.opened["alice"] = co.open_sealed(w.alice, w.reply)
    return w


def test_every_random_input_is_drawn_in_order(world):
    for name, source in world.rng.items():
        assert source.exhausted, f"{name} drew {source.used} of {len(source.values)} inputs"


@pytest.mark.parametrize("name", ["alice", "bob", "carol", "dave"])
def test_parties(world, name):
    check(f"parties.{name}", party(V, name), world.fresh[name].party_fields())


@pytest.mark.parametrize("index", range(3))
def test_sessions(world, index):
    expected = V["sessions"][index]
    check(f"sessions[{index}]", expected, world.sessions[expected["peer"]])


def test_room_message(world):
    expected = V["roomMessage"]
    t = world.room.trace
    check("roomMessage", expected, t, skip={"keyEntries", "opened", "rejections"})
    assert len(expected["keyEntries"]) == len(t["keyEntries"])
    for index, (want, got) in enumerate(zip(expected["keyEntries"], t["keyEntries"])):
        check(f"roomMessage.keyEntries[{index}]", want, got)
        assert got["messageAD"].endswith(t["entryDigest"])
        assert got["headerBytes"][1] == co.TYPE_INITIAL


def test_room_message_opened(world):
    for opened in V["roomMessage"]["opened"]:
        got = world.opened[opened["recipient"]]
        assert got.plaintext.hex() == opened["plaintext"]
        assert got.entry_digest.hex() == V["roomMessage"]["entryDigest"]


def presented(values: dict) -> dict:
    out = {}
    for key, value in values.items():
        if key == "payload":
            out["payload"] = bytes.fromhex(value)
        elif key == "keyEntry":
            out["entry"] = bytes.fromhex(value)
        elif key == "sortedRecipients":
            out["recipients"] = value
        elif key == "room":
            out["room"] = value
        elif key == "kind":
            out["kind"] = int(value)
    return out


@pytest.mark.parametrize("index", range(len(V["roomMessage"]["rejections"])))
def test_room_message_rejection(world, index):
    rej = V["roomMessage"]["rejections"][index]
    me = copy.deepcopy(world.rejections[rej["name"]])
    before = me.state()
    values = presented(rej["presented"])
    # The outsider's own malicious values must be those the vector presents.
    if rej["name"] == "commitmentMismatch":
        assert rej["presented"]["entryPayloadKey"] == world.k_prime.hex()
        assert values["entry"] == world.commitment_entry
    if rej["name"] == "payloadUnopenable":
        assert values["entry"] == world.unopenable_entry and values["payload"] == world.flipped_payload
    if rej["name"] == "recipientForgery":
        assert values["payload"] == world.forged_payload
    if rej["name"] == "payloadTampered":
        assert values["payload"] == world.flipped_payload
    if rej["name"] == "entryOfAnotherRecipient":
        assert values["entry"] == world.room.entries[world.bob.id]
    with pytest.raises(co.FanoutError) as caught:
        co.open_sealed(me, world.room, **values)
    assert caught.value.name == rej["error"]
    assert me.state() == before, "a rejected message changed the recipient's state"
    # The genuine message still opens afterwards.
    assert co.open_sealed(me, world.room).plaintext.hex() == V["roomMessage"]["plaintext"]


def test_private_reply(world):
    expected = V["privateReply"]
    t = world.reply.trace
    check("privateReply", expected, t, skip={"keyEntry", "opened", "rejections"})
    check("privateReply.keyEntry", expected["keyEntry"], t["keyEntries"][0])
    assert t["keyEntries"][0]["headerBytes"][1] == co.TYPE_RATCHET
    assert world.opened["alice"].plaintext.hex() == expected["opened"]["plaintext"]
    assert expected["opened"]["recipient"] == "alice"


@pytest.mark.parametrize("index", range(len(V["privateReply"]["rejections"])))
def test_private_reply_rejection(world, index):
    rej = V["privateReply"]["rejections"][index]
    me = copy.deepcopy(world.alice_before_reply)
    before = me.state()
    with pytest.raises(co.FanoutError) as caught:
        co.open_sealed(me, world.reply, **presented(rej["presented"]))
    assert caught.value.name == rej["error"]
    assert me.state() == before


# -- §5.1 rules and §5.4 order, beyond the vectors ---------------------------------------------

def test_recipient_list_order_as_presented_does_not_matter(world):
    carol = copy.deepcopy(world.fresh["carol"])
    shuffled = list(reversed(world.room.recipients))
    assert co.open_sealed(carol, world.room, recipients=shuffled).plaintext.hex() == V["roomMessage"]["plaintext"]


def test_bytewise_sort():
    assert co.sort_ids(["b", "abc", "ab", "Zed"]) == [b"Zed", b"ab", b"abc", b"b"]


@pytest.mark.parametrize("change, error", [
    (dict(recipients=[]), "context-invalid"),
    (dict(room=""), "context-invalid"),
    (dict(room="r" * 1024), "context-invalid"),
    (dict(kind=co.KIND_PRIVATE), "context-invalid"),                 # three recipients presented as private
    (dict(sender="l3enkfsl5zxhai65fu5uxhsepwiaeilt"), "context-invalid"),   # sender among the recipients
    (dict(message_id=bytes(15)), "context-invalid"),
])
def test_context_rules(world, change, error):
    carol = copy.deepcopy(world.fresh["carol"])
    with pytest.raises(co.FanoutError) as caught:
        co.open_sealed(carol, world.room, **change)
    assert caught.value.name == error


def test_not_a_recipient_and_no_session(world):
    bob = copy.deepcopy(world.fresh["bob"])
    with pytest.raises(co.FanoutError) as caught:
        co.open_sealed(bob, world.room, recipients=[world.carol.id, world.dave.id])
    assert caught.value.name == "not-a-recipient"
    # A ratchet-message entry with no session: no-session.
    alice = copy.deepcopy(world.fresh["alice"])
    alice.sessions.clear()
    with pytest.raises(co.FanoutError) as caught:
        co.open_sealed(alice, world.reply)
    assert caught.value.name == "no-session"


def test_replay_is_duplicate(world):
    carol = copy.deepcopy(world.fresh["carol"])
    co.open_sealed(carol, world.room)
    before = carol.state()
    with pytest.raises(co.FanoutError) as caught:
        co.open_sealed(carol, world.room)
    assert caught.value.name == "duplicate" and carol.state() == before
