"""CR-0008 invite secrets: every vector of CR-0008-vectors.json (positive and
negative), from the outsider's own encoding (catroom_outsider.invite_*), and
the §5.4 checks of a hello's `invite` value."""

from __future__ import annotations

import base64

import pytest

import catroom_outsider as co
from outsider_vectors import load

V = load("CR-0008-vectors.json")
SECRET = bytes.fromhex(V["secret"])
KEYS = {name: bytes.fromhex(V["parties"][f"{name}.identityKey"]) for name in ("alice", "bob", "mallory")}


@pytest.mark.parametrize("name", ["alice", "bob", "mallory"])
def test_parties(name):
    key = co.IdentityKey.from_seed(bytes.fromhex(V["parties"][f"{name}.identitySeed"]))
    assert key.public == KEYS[name]


def test_secret_text():
    assert co.invite_secret_text(SECRET) == V["secretText"]
    assert len(V["secretText"]) == 52
    assert co.parse_invite_secret(V["secretText"]) == SECRET
    assert co.parse_invite_secret(V["secretText"].upper()) == SECRET          # case-insensitive on input
    for bad in (V["secretText"][:-1], V["secretText"] + "a", V["secretText"][:-1] + "1",
                V["secretText"][:-1] + "r"):                                     # 'r' sets trailing bits
        with pytest.raises(co.InviteError):
            co.parse_invite_secret(bad)


def test_invite_key():
    assert co.invite_key_info(V["room"]).hex() == V["inviteKeyInfo"]
    assert co.invite_key(SECRET, V["room"]).hex() == V["inviteKey"]


@pytest.mark.parametrize("index", range(len(V["proofs"])))
def test_proof(index):
    case = V["proofs"][index]
    s, r = KEYS[case["sender"]], KEYS[case["recipient"]]
    assert co.invite_proof_message(V["room"], s, r).hex() == case["message"]
    # 23 + 2 + len(room) + 32 + 32 (§5.3)
    assert len(bytes.fromhex(case["message"])) == 89 + len(V["room"])
    proof = co.invite_proof(SECRET, V["room"], s, r)
    assert proof.hex() == case["proof"]
    # The recipient, holding the secret, accepts it in a hello (§5.4).
    hello = co.decode_payload(co.encode_payload(co.hello_payload(case["sender"], 0, proof)))
    assert len(hello["invite"]) == 44
    assert co.check_hello_invite(hello, SECRET, V["room"], s, r)


def test_the_two_directions_differ():
    assert V["proofs"][0]["proof"] != V["proofs"][1]["proof"]


@pytest.mark.parametrize("case", V["rejections"], ids=lambda c: c["name"])
def test_rejection(case):
    secret, room = bytes.fromhex(case["secret"]), case["room"]
    sender, recipient = bytes.fromhex(case["sender"]), bytes.fromhex(case["recipient"])
    expected = co.invite_proof(secret, room, sender, recipient)
    assert expected.hex() == case["expected"]
    assert case["presented"] != case["expected"] and case["outcome"] == "not-invited"
    hello = {"v": 1, "type": "hello", "nick": "x", "ts": 0,
             "invite": base64.b64encode(bytes.fromhex(case["presented"])).decode()}
    assert not co.check_hello_invite(hello, secret, room, sender, recipient)
    # What the case presents is alice's genuine proof to bob.
    assert case["presented"] == V["proofs"][0]["proof"]


def good_hello(value):
    return {"v": 1, "type": "hello", "nick": "alice", "ts": 0, "invite": value}


def test_hello_checks_beyond_the_vectors():
    proof = bytes.fromhex(V["proofs"][0]["proof"])
    text = base64.b64encode(proof).decode()
    args = (SECRET, V["room"], KEYS["alice"], KEYS["bob"])
    assert co.check_hello_invite(good_hello(text), *args)
    bad = {
        "absent": {"v": 1, "type": "hello", "nick": "alice", "ts": 0},
        "no padding": good_hello(text.rstrip("=")),
        "url-safe alphabet": good_hello(text.replace("/", "_").replace("+", "-")),
        "whitespace": good_hello(text[:20] + "\n" + text[20:]),
        "31 bytes": good_hello(base64.b64encode(proof[:31]).decode()),
        "33 bytes": good_hello(base64.b64encode(proof + b"\x00").decode()),
        "three '='": good_hello(base64.b64encode(proof[:30]).decode()[:-1] + "=="),
    }
    for label, hello in bad.items():
        assert not co.check_hello_invite(hello, *args), label


def test_set_unused_bits_make_the_proof_text_invalid():
    """§5.4 step 2 (0.2): strict base64 includes zero unused bits (RFC 4648 §3.5), so a
    44-character text whose last character before '=' sets one is refused, though it
    would decode to the same 32 bytes."""
    proof = bytes.fromhex(V["proofs"][0]["proof"])
    text = base64.b64encode(proof).decode()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    noncanonical = text[:42] + alphabet[alphabet.index(text[42]) | 1] + "="
    assert noncanonical != text and base64.b64decode(noncanonical) == proof
    assert not co.check_hello_invite(good_hello(noncanonical), SECRET, V["room"], KEYS["alice"], KEYS["bob"])
    assert co.check_hello_invite(good_hello(text), SECRET, V["room"], KEYS["alice"], KEYS["bob"])


def test_a_non_string_invite_makes_the_payload_unreadable():
    with pytest.raises(co.Unreadable):
        co.decode_payload(co.encode_payload(good_hello(12)))


def test_room_length_bounds():
    co.invite_key(SECRET, "r" * 1023)
    for room in ("", "r" * 1024):
        with pytest.raises(co.InviteError):
            co.invite_key(SECRET, room)
