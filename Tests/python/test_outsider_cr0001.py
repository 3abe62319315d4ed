"""CR-0001 vectors recomputed by the outsider implementation (catroom_outsider.py).

Every section of CR-0001-vectors.json is recomputed from the random inputs and
the fixed script of Appendix A: parties, X3DH, the conversation, the run
without a one-time prekey, the inputs a receiver must reject, `lowOrderBaseKey`
and `maxSkip` (sent, received, forged), with the same error names and the same
accept/reject decisions.
"""

from __future__ import annotations

import copy
from types import SimpleNamespace

import pytest

import catroom_outsider as co
from outsider_vectors import check, hexify, load, party, scripted

V = load("CR-0001-vectors.json")
KNOWN_SECTIONS = {"description", "document", "randomInputsInOrder", "parties", "x3dh", "conversation",
                  "withoutOneTimePreKey", "invalidInputs", "lowOrderBaseKey", "maxSkip"}


def test_every_section_is_known_to_this_suite():
    assert set(V) == KNOWN_SECTIONS
    assert set(V["maxSkip"]) == {"limit", "sent", "received", "forged"}


@pytest.fixture(scope="module")
def world():
    rng = scripted(V)
    w = SimpleNamespace(rng=rng, sent={}, received={})
    w.alice = co.Member("alice", rng["alice"])
    w.bob = co.Member("bob", rng["bob"])
    w.bob0 = copy.deepcopy(w.bob)          # bob before he has received anything
    w.alice.initiate(w.bob.id, w.bob.bundle())
    w.x3dh = dict(w.alice.x3dh_trace)
    members = {"alice": w.alice, "bob": w.bob}
    peer = {"alice": w.bob, "bob": w.alice}
    for step in V["conversation"]:
        me = members[step["actor"]]
        if step["action"] == "send":
            encoded = me.encrypt(peer[step["actor"]].id, bytes.fromhex(step["plaintext"]))
            w.sent[step["message"]] = dict(me.sessions[peer[step["actor"]].id][0].trace)
            assert hexify(encoded) == hexify(w.sent[step["message"]]["encoded"])
        else:
            opened = me.open(peer[step["actor"]].id, w.sent[step["message"]]["encoded"])
            opened.commit()
            w.received[step["message"]] = dict(opened.session.trace, plaintext=opened.plaintext,
                                               skippedKeysInSession=me.skipped_key_count(peer[step["actor"]].id))
    w.alice14, w.bob14 = copy.deepcopy(w.alice), copy.deepcopy(w.bob)
    # The second X3DH run (bob's one-time prekey 1 was used by the first), on copies.
    w.alice_second = copy.deepcopy(w.alice14)
    w.alice_second.rng = rng["alice"]      # alice's own source draws inputs 12 and 13
    bundle = w.bob14.bundle()
    assert bundle.opk is None, "bob's only one-time prekey should be gone after the first run"
    w.alice_second.initiate(w.bob.id, bundle)
    first = w.alice_second.encrypt(w.bob.id, bytes.fromhex(V["withoutOneTimePreKey"]["plaintext"]))
    w.without = dict(w.alice_second.x3dh_trace, **w.alice_second.sessions[w.bob.id][0].trace)
    assert w.without["encoded"] == first
    # The receiver of the DH cases draws one key.
    w.receiver_private = rng["receiver"].draw(32)
    return w


def test_every_random_input_is_drawn_in_order(world):
    for name, source in world.rng.items():
        assert source.exhausted, f"{name} drew {source.used} of {len(source.values)} inputs"


@pytest.mark.parametrize("name", ["alice", "bob"])
def test_parties(world, name):
    check(f"parties.{name}", party(V, name), getattr(world, name + "0" if name == "bob" else name).party_fields())


def test_x3dh_initiator(world):
    check("x3dh", V["x3dh"], world.x3dh)


@pytest.mark.parametrize("index", range(len(V["conversation"])))
def test_conversation_step(world, index):
    step = V["conversation"][index]
    skip = {"actor", "action", "message"}
    got = world.sent[step["message"]] if step["action"] == "send" else world.received[step["message"]]
    check(f"conversation[{index}]", step, got, skip)
    if step["action"] == "receive" and "dhStep" not in step:
        assert "dhStep" not in got, "the outsider performed a DH step the vector does not show"


def test_without_one_time_prekey(world):
    expected = V["withoutOneTimePreKey"]
    check("withoutOneTimePreKey", expected, world.without)
    assert len(bytes.fromhex(expected["headerBytes"])) == 111
    assert "dh4" not in world.without


def test_without_one_time_prekey_opens_at_bob(world):
    bob = copy.deepcopy(world.bob14)
    plaintext = bob.receive(world.alice.id, bytes.fromhex(V["withoutOneTimePreKey"]["encoded"]))
    assert plaintext == bytes.fromhex(V["withoutOneTimePreKey"]["plaintext"])
    sessions = bob.sessions[world.alice.id]
    assert len(sessions) == 2 and sessions[0].base_key == bytes.fromhex(V["withoutOneTimePreKey"]["aliceEphemeralPublic"])
    # A replay of it is a duplicate of the session it created.
    with pytest.raises(co.ProtocolError) as caught:
        bob.receive(world.alice.id, bytes.fromhex(V["withoutOneTimePreKey"]["encoded"]))
    assert caught.value.name == co.DUPLICATE


# -- inputs a receiver must reject ---------------------------------------------------

OUTCOME_ERROR = {"invalid key encoding": co.INVALID_KEY, "DH fails": co.INVALID_KEY,
                 "invalid identity key": co.INVALID_KEY, "invalid signature": co.INVALID_SIGNATURE}


@pytest.mark.parametrize("index", range(len(V["invalidInputs"])))
def test_invalid_input(world, index):
    case = V["invalidInputs"][index]
    value = bytes.fromhex(case["value"])
    if case["type"] == "x25519PublicKey":
        if case["outcome"] == "invalid key encoding":
            assert not co.x25519_key_is_valid(value)
        else:
            assert case["outcome"] == "DH fails"
            assert co.x25519_key_is_valid(value), "§4.3 lets low-order points through"
            with pytest.raises(co.ProtocolError) as caught:
                co.dh(world.receiver_private, value)
            assert caught.value.name == co.INVALID_KEY
    elif case["type"] == "ed25519PublicKey":
        assert case["outcome"] == "invalid identity key"
        assert not co.identity_key_is_valid(value)
    else:
        assert case["type"] == "signedPreKeySignature" and case["outcome"] == "invalid signature"
        ik, spk = bytes.fromhex(case["identityPublic"]), bytes.fromhex(case["signedPreKeyPublic"])
        assert not co.ed25519_verify(ik, co.LABEL_SPK + spk, value)
        s = int.from_bytes(value[32:], "little")
        assert s >= co.L and co.ed25519_verify(ik, co.LABEL_SPK + spk, value[:32] + (s - co.L).to_bytes(32, "little"))


@pytest.mark.parametrize("index", range(len(V["invalidInputs"])))
def test_invalid_input_inside_the_protocol(world, index):
    """Each value where the protocol meets it: in bob's bundle (alice initiating), or
    as IK_A / EK_A of an initial message (bob responding). Nothing changes."""
    case = V["invalidInputs"][index]
    value = bytes.fromhex(case["value"])
    alice = copy.deepcopy(world.alice14)
    alice.rng = co.ScriptedRandom("alice", [bytes(range(32))])      # one EK_A, if it gets that far
    good = world.bob0.bundle()
    error = OUTCOME_ERROR[case["outcome"]]
    if case["type"] == "x25519PublicKey":
        bundle = co.Bundle(good.identity, good.spk_id, value, good.signature, good.opk_id, good.opk)
    elif case["type"] == "ed25519PublicKey":
        bundle = co.Bundle(value, good.spk_id, good.spk, good.signature, good.opk_id, good.opk)
    else:
        bundle = co.Bundle(good.identity, good.spk_id, good.spk, value, good.opk_id, good.opk)
    before = alice.state()
    with pytest.raises(co.ProtocolError) as caught:
        alice.initiate(world.bob.id, bundle)
    # A changed SPK also breaks the signature; the key check (§5.2 initiator step 1) comes first,
    # and a low-order SPK passes §4.3, so its bundle fails at the signature (step 2), before any DH.
    expected = co.INVALID_SIGNATURE if case["outcome"] == "DH fails" else error
    assert caught.value.name == expected
    assert alice.rng.used == 0, "EK_A drawn although the bundle was rejected before step 3"
    assert alice.state() == before


def test_low_order_spk_with_a_valid_signature_fails_at_dh1(world):
    """A bundle whose signed prekey is low order and correctly signed (a malicious
    peer) passes §4.3 and the signature, and fails at DH1 as invalid key."""
    mallory = co.Member("mallory", co.ScriptedRandom("m", [bytes([7]) * 32, bytes([8]) * 32, bytes([9]) * 32]))
    low = bytes.fromhex(V["invalidInputs"][5]["value"])
    bundle = co.Bundle(mallory.identity.public, 1, low, mallory.identity.sign(co.LABEL_SPK + low))
    alice = copy.deepcopy(world.alice14)
    alice.rng = co.ScriptedRandom("alice", [bytes(range(32))])
    with pytest.raises(co.ProtocolError) as caught:
        alice.initiate(mallory.id, bundle)
    assert caught.value.name == co.INVALID_KEY


# -- lowOrderBaseKey -------------------------------------------------------------------

@pytest.mark.parametrize("index", range(len(V["lowOrderBaseKey"])))
def test_low_order_base_key(world, index):
    case = V["lowOrderBaseKey"][index]
    a1 = bytes.fromhex(world.sent["A1"]["encoded"].hex())
    base = bytes.fromhex(case["baseKey"])
    # The vector's message is A1 with bytes 34 to 65 (EK_A) replaced.
    assert a1[34:66] == bytes.fromhex(V["x3dh"]["aliceEphemeralPublic"])
    assert a1[:34] + base + a1[66:] == bytes.fromhex(case["encoded"])
    assert co.x25519_key_is_valid(base), "a low-order base key passes §4.3"
    bob = copy.deepcopy(world.bob0)
    before = bob.state()
    with pytest.raises(co.ProtocolError) as caught:
        bob.receive(world.alice.id, bytes.fromhex(case["encoded"]))
    assert caught.value.name == case["outcome"] == co.INVALID_KEY
    assert bob.state() == before
    assert bob.sessions == {} and 1 in bob.opks and base not in bob.base_keys


@pytest.mark.parametrize("index", range(len(V["lowOrderBaseKey"])))
def test_low_order_base_key_naming_an_unknown_prekey(world, index):
    """§5.2 responder: steps 1 to 3 come first, so an unknown prekey is reported as such."""
    encoded = bytearray.fromhex(V["lowOrderBaseKey"][index]["encoded"])
    encoded[66:70] = (2).to_bytes(4, "big")           # spk_id 2: bob has only 1
    bob = copy.deepcopy(world.bob0)
    with pytest.raises(co.ProtocolError) as caught:
        bob.receive(world.alice.id, bytes(encoded))
    assert caught.value.name == co.UNKNOWN_PREKEY


# -- maxSkip ----------------------------------------------------------------------------

def test_max_skip_limit():
    assert V["maxSkip"]["limit"] == co.MAX_SKIP == 1000


@pytest.fixture(scope="module")
def max_skip_sent(world):
    bob = copy.deepcopy(world.bob14)
    before_draws = bob.rng.used
    traces = {}
    for n in range(1, 1003):
        bob.encrypt(world.alice.id, f"message {n} of bob's B3 chain".encode())
        trace = bob.sessions[world.alice.id][0].trace
        assert trace["messageNumber"] == n and "dhStep" not in trace
        if n >= 1001:
            traces[n] = dict(trace)
    assert bob.rng.used == before_draws, "the maxSkip messages need no new random input"
    return traces


@pytest.mark.parametrize("index", range(len(V["maxSkip"]["sent"])))
def test_max_skip_sent(max_skip_sent, index):
    expected = V["maxSkip"]["sent"][index]
    check(f"maxSkip.sent[{index}]", expected, max_skip_sent[expected["messageNumber"]])


def test_max_skip_received_in_order(world, max_skip_sent):
    alice = copy.deepcopy(world.alice14)
    bob_id = world.bob.id
    assert alice.skipped_key_count(bob_id) == 0 and alice.sessions[bob_id][0].nr == 1
    for index, case in enumerate(V["maxSkip"]["received"]):
        encoded = max_skip_sent[case["messageNumber"]]["encoded"]
        before = alice.state()
        try:
            opened = alice.open(bob_id, encoded)
        except co.ProtocolError as error:
            outcome, needed = error.name, error.skipped
            assert alice.state() == before
        else:
            opened.commit()
            outcome, needed = "accepted", opened.session.trace.get("skipped")
            assert opened.plaintext.hex() == case["plaintext"]
        assert (outcome, needed) == (case["outcome"], case["skippedKeysNeeded"]), f"received[{index}]"
        assert alice.skipped_key_count(bob_id) == case["skippedKeysInSession"], f"received[{index}]"


@pytest.mark.parametrize("index", range(len(V["maxSkip"]["forged"])))
def test_max_skip_forged(world, index):
    case = V["maxSkip"]["forged"][index]
    bob = copy.deepcopy(world.bob14)
    session = bob.sessions[world.alice.id][0]
    # The state the vectors describe: DHr is A3's key, Nr = 2, A1's key the one earlier key, DHs B3's.
    assert session.dhr == bytes.fromhex(world.sent["A3"]["dhStep"]["ratchetPublic"].hex()) and session.nr == 2
    assert session.earlier_dhr == [world.sent["A1"]["dhStep"]["ratchetPublic"]]
    assert session.dhs.public == world.sent["B3"]["dhStep"]["ratchetPublic"]
    encoded = bytes.fromhex(case["encoded"])
    assert encoded[42:] == bytes(16), "a ciphertext of 16 zero bytes"
    before = bob.state()
    with pytest.raises(co.ProtocolError) as caught:
        bob.receive(world.alice.id, encoded)
    assert caught.value.name == case["outcome"]
    assert caught.value.skipped == case.get("skippedKeysNeeded")
    assert bob.state() == before


# -- the rules the vectors illustrate, beyond them ----------------------------------------

def test_low_order_ratchet_key_in_a_ratchet_message_is_reported_as_decryption_failed(world):
    """CR-0001 §5.4 step 2.4 rejects it in the session as *invalid key*; §5.6 reports a
    ratchet message no session decrypts as duplicate, too far, else *decryption failed*."""
    case = next(c for c in V["maxSkip"]["forged"] if c["case"].startswith("a low-order") and c["outcome"] == "decryption failed")
    bob = copy.deepcopy(world.bob14)
    with pytest.raises(co.ProtocolError) as caught:
        bob.receive(world.alice.id, bytes.fromhex(case["encoded"]))
    assert caught.value.name == co.DECRYPTION_FAILED
    assert [e.name for e in caught.value.session_errors] == [co.INVALID_KEY]


def test_low_order_ratchet_key_in_an_initial_message_is_invalid_key(world):
    """§5.6: an initial message is tried on one session and its error reported as that
    session gives it: a fresh session's DH step on a low-order ratchet key is *invalid key*."""
    a1 = bytearray(world.sent["A1"]["encoded"])
    low = bytes.fromhex(V["lowOrderBaseKey"][2]["baseKey"])
    a1[75:107] = low                                   # header.dh of an initial message with an OPK
    bob = copy.deepcopy(world.bob0)
    before = bob.state()
    with pytest.raises(co.ProtocolError) as caught:
        bob.receive(world.alice.id, bytes(a1))
    assert caught.value.name == co.INVALID_KEY
    assert bob.state() == before


def test_replays_are_duplicates_and_change_nothing(world):
    bob = copy.deepcopy(world.bob14)
    before = bob.state()
    for name in ("A1", "A2", "A3", "A4"):
        with pytest.raises(co.ProtocolError) as caught:
            bob.receive(world.alice.id, world.sent[name]["encoded"])
        assert caught.value.name == co.DUPLICATE, name
    assert bob.state() == before
    # An initial message replayed after its session is gone: recognised by its base key.
    bob.sessions.clear()
    with pytest.raises(co.ProtocolError) as caught:
        bob.receive(world.alice.id, world.sent["A1"]["encoded"])
    assert caught.value.name == co.DUPLICATE and bob.sessions == {}


def test_tampering_changes_nothing(world):
    for position in (2, 40, 60, 115, -1):
        bob = copy.deepcopy(world.bob0)
        a1 = bytearray(world.sent["A1"]["encoded"])
        a1[position] ^= 0x01
        before = bob.state()
        with pytest.raises(co.ProtocolError):
            bob.receive(world.alice.id, bytes(a1))
        assert bob.state() == before
    bob = copy.deepcopy(world.bob0)
    with pytest.raises(co.ProtocolError) as caught:
        bob.receive(world.alice.id, world.sent["A1"]["encoded"], context=b"\x00" * 32)
    assert caught.value.name == co.DECRYPTION_FAILED and bob.sessions == {}


def test_wire_format_rejections_before_cryptography(world):
    a1 = world.sent["A1"]["encoded"]
    bad_opk = bytearray(a1)
    bad_opk[70] = 2
    cases = [(co.UNSUPPORTED_VERSION, b"\x02" + a1[1:]),
             (co.MALFORMED, a1[:1] + b"\x03" + a1[2:]),          # unknown type
             (co.MALFORMED, bytes(bad_opk)),                        # has_opk = 2
             (co.MALFORMED, a1[:115 + 15])]                         # ciphertext of 15 bytes
    for error, data in cases:
        bob = copy.deepcopy(world.bob0)
        with pytest.raises(co.ProtocolError) as caught:
            bob.receive(world.alice.id, data)
        assert caught.value.name == error
        assert bob.state() == world.bob0.state()
    with pytest.raises(co.ProtocolError) as caught:
        copy.deepcopy(world.bob0).receive(world.bob.id, a1)      # IK_A does not derive the claimed sender
    assert caught.value.name == co.IDENTITY_MISMATCH


def test_simultaneous_initiation_converges():
    """§5.6: both initiate; each message creates a session that becomes current, and
    after the next exchange both send and receive on one session."""
    rng = co.SystemRandom()
    alice, bob = co.Member("alice", rng), co.Member("bob", rng)
    alice.initiate(bob.id, bob.bundle())
    bob.initiate(alice.id, alice.bundle())
    a1 = alice.encrypt(bob.id, b"from alice")
    b1 = bob.encrypt(alice.id, b"from bob")
    assert bob.receive(alice.id, a1) == b"from alice"
    assert alice.receive(bob.id, b1) == b"from bob"
    for _ in range(3):
        assert bob.receive(alice.id, alice.encrypt(bob.id, b"ping")) == b"ping"
        assert alice.receive(bob.id, bob.encrypt(alice.id, b"pong")) == b"pong"
    assert alice.sessions[bob.id][0].ad == bob.sessions[alice.id][0].ad
    assert alice.sessions[bob.id][0].base_key == bob.sessions[alice.id][0].base_key


def test_parsing_stops_at_the_first_bad_field():
    """CR-0001 §5.5 (0.2): fields in the order they appear, on conversation message A1."""
    a1 = bytearray.fromhex(V["conversation"][0]["encoded"])
    assert a1[1] == 0x02 and a1[70] == 1
    identity, flag, ratchet_key_end, ciphertext = range(2, 34), 70, 106, 115

    def error(data):
        with pytest.raises(co.ProtocolError) as caught:
            co.parse_message(bytes(data))
        return caught.value.name

    bad = bytearray(a1)
    bad[0], bad[ratchet_key_end] = 7, bad[ratchet_key_end] | 0x80
    assert error(bad) == co.UNSUPPORTED_VERSION
    bad = bytearray(a1)
    bad[identity.start:identity.stop] = b"\xff" * 31 + b"\x7f"
    bad[flag] = 2
    assert error(bad) == co.INVALID_KEY
    bad = bytearray(a1)
    bad[flag], bad[ratchet_key_end] = 2, bad[ratchet_key_end] | 0x80
    assert error(bad) == co.MALFORMED
    bad = bytearray(a1[:ciphertext + 15])
    bad[ratchet_key_end] |= 0x80
    assert error(bad) == co.INVALID_KEY
    assert error(a1[:ciphertext + 15]) == co.MALFORMED
