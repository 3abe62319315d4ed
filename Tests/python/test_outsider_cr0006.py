"""CR-0006 §5.3 payloads and §5.8 acknowledgements, transcript consistency and gaps,
from the outsider implementation (catroom_outsider.Transcript, GapTracker,
RoomClient over its own CR-0002).

CR-0006 gives one example (a hello payload before padding) and no vector for the
acknowledgement encoding or behaviour; the tests below check the example, then
the wire format and the rules as the text states them (where the text leaves a choice, the choice
made is named in the test). What a vector would need to pin down is listed in
the outsider's report.
"""

from __future__ import annotations

import json
import os

import pytest

import catroom_outsider as co
from outsider_vectors import load

ROOM = "lobby@rooms.example.org"


class Clock:
    def __init__(self):
        self.now = 1_795_330_800.0

    def __call__(self) -> float:
        return self.now


class Rng:
    """os.urandom, except for values queued with `force`."""

    def __init__(self):
        self.forced: list[bytes] = []

    def force(self, *values: bytes) -> None:
        self.forced.extend(values)

    def draw(self, n: int = 32) -> bytes:
        if self.forced:
            value = self.forced.pop(0)
            assert len(value) == n
            return value
        return os.urandom(n)


class Room:
    """alice, bob and carol join in that order; joiners start sessions and send hellos."""

    def __init__(self, names=("alice", "bob", "carol")):
        self.clock = Clock()
        self.rngs = {n: Rng() for n in names}
        self.clients: dict[str, co.RoomClient] = {}
        for name in names:
            joiner = co.RoomClient(name, self.rngs[name], ROOM, self.clock)
            for earlier in self.clients.values():
                hello = joiner.start_with(earlier)
                earlier.receive(hello)
                answer = earlier.answer_hello(joiner.id)
                joiner.receive(answer)
            self.clients[name] = joiner
        for c in self.clients.values():
            assert len(c.ready) == len(names) - 1

    def __getitem__(self, name) -> co.RoomClient:
        return self.clients[name]

    def deliver(self, sealed: co.Sealed, to=None, **presented) -> None:
        """The relay: each recipient gets the message with its own entry."""
        for name, c in self.clients.items():
            if c.id in sealed.entries and (to is None or name in to):
                c.receive(sealed, **presented)

    def tick(self, seconds: float) -> None:
        self.clock.now += seconds


# -- §5.3 payloads -------------------------------------------------------------------------

def test_the_example_payload():
    """§5.3: `{"nick":"alice","ts":1795330800000,"type":"hello","v":1}` before padding."""
    example = b'{"nick":"alice","ts":1795330800000,"type":"hello","v":1}'
    encoded = co.encode_payload(co.hello_payload("alice", 1795330800000))
    assert encoded == example + b" " * (64 - len(example))
    assert co.decode_payload(encoded) == json.loads(example)


@pytest.mark.parametrize("data", [b"", b'{"v":1,"type":"text","body":"x","ts":0}',
                                  co.encode_payload({"v": 2, "type": "text"}),
                                  co.encode_payload({"v": True, "type": "text"}),
                                  b"[1]" + b" " * 61, b"\xff" * 64])
def test_unreadable_payloads(data):
    with pytest.raises(co.Unreadable):
        co.decode_payload(data)


def test_padding_of_an_aligned_payload_adds_nothing():
    obj = {"v": 1, "type": "text", "ts": 0, "body": "x" * 20}
    text = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    obj["body"] += "y" * (-len(text) % 64)
    assert len(co.encode_payload(obj)) % 64 == 0
    assert co.encode_payload(obj) == json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


# -- the ack wire format --------------------------------------------------------------------

def test_ack_of_the_cr0002_room_message():
    """The acknowledgement bob would send for CR-0002's vector room message: the triple
    (sender, message id, D) of CR-0002 Appendix A, in the §5.3 format."""
    v = load("CR-0002-vectors.json")["roomMessage"]
    ack = co.Ack(v["sender"], bytes.fromhex(v["messageID"]), bytes.fromhex(v["entryDigest"]))
    payload = co.encode_payload({"v": 1, "type": "ack", "ts": 1795330800000, "acks": [ack.to_json()]})
    expected = ('{"acks":[{"digest":"' + v["entryDigest"] + '","id":"' + v["messageID"] + '","sender":"'
                + v["sender"] + '"}],"ts":1795330800000,"type":"ack","v":1}')
    assert payload.rstrip(b" ") == expected.encode()
    assert len(expected) == 210 and len(payload) == 256            # padded to the next multiple of 64
    decoded = co.decode_payload(payload)
    assert [co.parse_ack(a) for a in decoded["acks"]] == [ack]


@pytest.mark.parametrize("entry", [
    "not an object",
    {"sender": "ofis7ywedwdebwm4u6ce2y4cirv3ebac", "id": "F0CCD4D7A1590BE7158D6DA1F709A616", "digest": "00" * 32},
    {"sender": "ofis7ywedwdebwm4u6ce2y4cirv3ebac", "id": "f0cc", "digest": "00" * 32},
    {"sender": "ofis7ywedwdebwm4u6ce2y4cirv3ebac", "id": "00" * 16, "digest": "00" * 31},
    {"sender": "ofis7ywedwdebwm4u6ce2y4cirv3ebac", "id": "00" * 16},
    {"sender": "OFIS7YWEDWDEBWM4U6CE2Y4CIRV3EBAC", "id": "00" * 16, "digest": "00" * 32},
    {"sender": 5, "id": "00" * 16, "digest": "00" * 32},
])
def test_malformed_ack_entries(entry):
    assert co.parse_ack(entry) is None


def test_acks_that_is_not_an_array_makes_the_payload_unreadable():
    with pytest.raises(co.Unreadable):
        co.decode_payload(co.encode_payload({"v": 1, "type": "ack", "ts": 0, "acks": {"sender": "x"}}))


# -- acknowledging --------------------------------------------------------------------------

def test_acknowledged_delivery_and_no_echo():
    room = Room()
    alice, bob, carol = room["alice"], room["bob"], room["carol"]
    m = alice.send_room("text", "hi all")
    room.deliver(m)
    d = m.trace["entryDigest"]
    assert bob.transcript.to_ack == [co.Ack(alice.id, m.message_id, d)]
    assert alice.transcript.delivery(m.message_id) == "✓ 0/2"

    reply = bob.send_room("text", "hi alice")                       # carries bob's ack
    assert reply.trace["payloadObject"]["acks"] == [{"sender": alice.id, "id": m.message_id.hex(), "digest": d.hex()}]
    assert bob.transcript.to_ack == []
    room.deliver(reply)
    assert alice.transcript.delivery(m.message_id) == "✓ 1/2"
    assert alice.transcript.acknowledged_by(m.message_id) == {bob.id}

    # carol has sent nothing: after 1 s she sends an `ack` message with both messages.
    assert carol.flush_acks() == []
    room.tick(0.999)
    assert carol.flush_acks() == []
    room.tick(0.001)
    [ack_only] = carol.flush_acks()
    assert ack_only.trace["payloadObject"]["type"] == "ack" and "body" not in ack_only.trace["payloadObject"]
    assert [a["id"] for a in ack_only.trace["payloadObject"]["acks"]] == [m.message_id.hex(), reply.message_id.hex()]
    assert sorted(ack_only.recipients) == sorted([alice.id.encode(), bob.id.encode()])
    room.deliver(ack_only)
    assert alice.transcript.delivery(m.message_id) == "✓ 2/2"
    assert bob.transcript.delivery(reply.message_id) == "✓ 1/2"          # alice has not acknowledged yet

    # `ack` messages are never acknowledged: alice's list holds bob's text only.
    assert [a.message_id for a in alice.transcript.to_ack] == [reply.message_id]
    room.tick(1)
    for sealed in alice.flush_acks():
        room.deliver(sealed)
    assert bob.transcript.delivery(reply.message_id) == "✓ 2/2"
    room.tick(5)
    assert all(c.flush_acks() == [] for c in room.clients.values()), "acknowledgements echo"
    assert all(not c.transcript.split_views for c in room.clients.values())


def test_a_withheld_copy_shows_as_a_missing_acknowledgement_and_a_gap():
    room = Room()
    alice, bob, carol = room["alice"], room["bob"], room["carol"]
    withheld = alice.send_room("text", "one")
    room.deliver(withheld, to={"carol"})
    room.tick(1)
    for sealed in carol.flush_acks():
        room.deliver(sealed)
    assert alice.transcript.delivery(withheld.message_id) == "✓ 1/2"
    assert alice.transcript.acknowledged_by(withheld.message_id) == {carol.id}
    nxt = alice.send_room("text", "two")
    room.deliver(nxt)
    room.tick(4.9)
    assert bob.gap_reports() == []
    room.tick(0.1)
    assert bob.gap_reports() == ["1 messages from alice did not reach you"]
    assert bob.gap_reports() == [], "a gap is reported once"
    room.deliver(withheld, to={"bob"})
    assert bob.shown[-1] == (alice.id, "text", "one", "late")


def test_reordering_within_the_wait_is_no_gap_and_no_warning():
    room = Room()
    alice, bob = room["alice"], room["bob"]
    first, second = alice.send_room("text", "1"), alice.send_room("text", "2")
    room.deliver(second)
    room.tick(2)
    room.deliver(first)
    room.tick(10)
    assert bob.gap_reports() == []
    assert [s[2] for s in bob.shown] == ["2", "1"] and all(s[3] is None for s in bob.shown)
    for c in room.clients.values():
        for sealed in c.flush_acks():
            room.deliver(sealed)
    assert all(not c.transcript.split_views for c in room.clients.values())


def test_at_most_64_acknowledgements_per_payload():
    room = Room()
    alice, bob, carol = room["alice"], room["bob"], room["carol"]
    sent = [alice.send_room("text", str(i)) for i in range(70)]
    for sealed in sent:
        room.deliver(sealed, to={"carol"})
    m = carol.send_room("text", "ok")
    assert [a["id"] for a in m.trace["payloadObject"]["acks"]] == [s.message_id.hex() for s in sent[:64]]
    assert [a.message_id for a in carol.transcript.to_ack] == [s.message_id for s in sent[64:]]
    room.tick(1)
    [rest] = carol.flush_acks()
    assert [a["id"] for a in rest.trace["payloadObject"]["acks"]] == [s.message_id.hex() for s in sent[64:]]


def test_a_receiver_reads_only_the_first_64_and_ignores_malformed_or_self_naming_entries():
    clock = Clock()
    me = "a" * 32
    t = co.Transcript(me, clock)
    t.sent(b"\x01" * 16, b"\x11" * 32, ["w" * 32, "b" * 32], "mine")
    good = co.Ack(me, b"\x01" * 16, b"\x11" * 32).to_json()
    wrong = co.Ack(me, b"\x01" * 16, b"\x22" * 32).to_json()
    witness = "w" * 32
    acks = [{"sender": me, "id": "01" * 16}] * 63 + [good] + [wrong]          # the 65th would be a split
    t.compare(witness, acks)
    assert t.split_views == [] and t.delivery(b"\x01" * 16) == "✓ 1/2"
    # An entry naming the witness itself as sender is ignored, whatever it says.
    t.compare(witness, [co.Ack(witness, b"\x05" * 16, b"\x00" * 32).to_json()])
    assert not t.claims
    # The same acknowledgement from a member that was not a recipient does not count.
    t.compare("c" * 32, [good])
    assert t.delivery(b"\x01" * 16) == "✓ 1/2"


# -- comparing: split views and claims --------------------------------------------------------

def two_versions(room: Room, bob_text="pay bob", carol_text="pay carol"):
    """alice (a malicious sender) seals two versions under one message id; bob gets one,
    carol the other. Each version goes to both, so each client also skips one key."""
    alice, bob, carol = room["alice"], room["bob"], room["carol"]
    mid = os.urandom(16)
    room.rngs["alice"].force(os.urandom(32), mid)
    v1 = alice.send_room("text", bob_text)
    room.rngs["alice"].force(os.urandom(32), mid)
    v2 = alice.send_room("text", carol_text)
    assert v1.message_id == v2.message_id and v1.trace["entryDigest"] != v2.trace["entryDigest"]
    return v1, v2


def test_split_view_is_named_by_both_witnesses():
    room = Room()
    alice, bob, carol = room["alice"], room["bob"], room["carol"]
    v1, v2 = two_versions(room)
    room.deliver(v1, to={"bob"})
    room.deliver(v2, to={"carol"})
    room.tick(1)
    for name in ("bob", "carol"):
        for sealed in room[name].flush_acks():
            room.deliver(sealed)
    [seen_by_carol] = carol.transcript.split_views
    assert (seen_by_carol.sender, seen_by_carol.witness, seen_by_carol.text) == (alice.id, bob.id, "pay carol")
    names = {alice.id: "alice", bob.id: "bob", carol.id: "carol"}
    assert seen_by_carol.warning(names.get) == 'split view: bob received alice\'s "pay carol" in another version than you did'
    [seen_by_bob] = bob.transcript.split_views
    assert (seen_by_bob.sender, seen_by_bob.witness, seen_by_bob.text) == (alice.id, carol.id, "pay bob")
    # alice sees no acknowledgement matching what she remembers last (v2's D): only carol's.
    assert alice.transcript.acknowledged_by(v2.message_id) == {carol.id}
    assert [sv.witness for sv in alice.transcript.split_views] == [bob.id], \
        "bob's acknowledgement of alice's own id with another D than she remembers"


def test_a_claim_waits_for_its_message():
    room = Room()
    alice, bob, carol = room["alice"], room["bob"], room["carol"]
    m = alice.send_room("text", "late for carol")
    room.deliver(m, to={"bob"})
    ack = bob.send_room("text", "got it")
    room.deliver(ack, to={"carol"})
    assert (bob.id, alice.id, m.message_id) in carol.transcript.claims and not carol.transcript.split_views
    room.deliver(m, to={"carol"})
    assert not carol.transcript.claims and not carol.transcript.split_views

    v1, v2 = two_versions(room, "x", "y")
    room.deliver(v1, to={"bob"})
    room.deliver(bob.send_room("text", "ack v1"), to={"carol"})
    assert not carol.transcript.split_views
    room.deliver(v2, to={"carol"})
    [split] = carol.transcript.split_views
    assert (split.sender, split.witness, split.text) == (alice.id, bob.id, "y")


def test_memory_limits():
    clock = Clock()
    t = co.Transcript("a" * 32, clock)
    for i in range(co.REMEMBERED_MESSAGES + 1):
        t.accepted("b" * 32, i.to_bytes(16, "big"), b"\x00" * 32, {"type": "ack"}, None)
    assert len(t.remembered) == 4096 and ("b" * 32, (0).to_bytes(16, "big")) not in t.remembered
    for start in range(0, 4160, 64):                                    # 65 messages, 4160 claims
        t.compare("w" * 32, [co.Ack("c" * 32, i.to_bytes(16, "big"), b"\x00" * 32).to_json()
                             for i in range(start, start + 64)])
    assert len(t.claims) == co.REMEMBERED_CLAIMS == 4096
    assert list(t.claims)[0] == ("w" * 32, "c" * 32, (4160 - 4096).to_bytes(16, "big"))   # the oldest evicted


def test_hello_as_a_room_message_is_rejected_yet_acknowledged():
    """CR-0006 0.3 §5.8: every readable room payload but `ack` is acknowledged."""
    room = Room()
    alice, bob = room["alice"], room["bob"]
    m = alice.send_room(payload=alice._payload("hello", nick="mallory"))
    room.deliver(m, to={"bob"})
    assert bob.errors[-1] == (alice.id, "hello as a room message")
    assert bob.ready[alice.id] == "alice"
    assert [a.message_id for a in bob.transcript.to_ack] == [m.message_id]


def test_an_unknown_type_is_still_acknowledged():
    room = Room()
    alice, bob = room["alice"], room["bob"]
    m = alice.send_room(payload=alice._payload("poll", body="?"))
    room.deliver(m, to={"bob"})
    assert [a.message_id for a in bob.transcript.to_ack] == [m.message_id]
