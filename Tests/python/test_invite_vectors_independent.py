"""Recompute CR-0008-vectors.json from CR-0008 alone (hashlib, hmac, PyNaCl).

Inputs taken from the file: the room, the secret, the identity seeds, and each
rejection's verifier inputs. Everything else is recomputed and compared.
"""

import base64
import hashlib
import hmac
import json
from pathlib import Path

from nacl.signing import SigningKey

VECTORS = json.loads((Path(__file__).resolve().parents[2] / "xep" / "CR-0008-vectors.json").read_text())
h = bytes.fromhex


def hkdf(ikm: bytes, info: bytes, length: int = 32) -> bytes:
    prk = hmac.new(bytes(32), ikm, hashlib.sha256).digest()
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def framed(room: str) -> bytes:
    encoded = room.encode()
    return len(encoded).to_bytes(2, "big") + encoded


def invite_key(secret: bytes, room: str) -> bytes:
    return hkdf(secret, b"catroom-invite-key-v1" + framed(room))


def proof_message(room: str, sender: bytes, recipient: bytes) -> bytes:
    return b"catroom-invite-proof-v1" + framed(room) + sender + recipient


def proof(secret: bytes, room: str, sender: bytes, recipient: bytes) -> bytes:
    return hmac.new(invite_key(secret, room), proof_message(room, sender, recipient), hashlib.sha256).digest()


def identity(name: str) -> bytes:
    return bytes(SigningKey(h(VECTORS["parties"][f"{name}.identitySeed"])).verify_key)


def test_secret_text_is_unpadded_lowercase_base32():
    assert VECTORS["secretText"] == base64.b32encode(h(VECTORS["secret"])).decode().rstrip("=").lower()


def test_identity_keys_come_from_the_seeds():
    for name in ("alice", "bob", "mallory"):
        assert VECTORS["parties"][f"{name}.identityKey"] == identity(name).hex()


def test_invite_key():
    room, secret = VECTORS["room"], h(VECTORS["secret"])
    assert VECTORS["inviteKeyInfo"] == (b"catroom-invite-key-v1" + framed(room)).hex()
    assert VECTORS["inviteKey"] == invite_key(secret, room).hex()


def test_directional_proofs():
    room, secret = VECTORS["room"], h(VECTORS["secret"])
    for record in VECTORS["proofs"]:
        sender, recipient = identity(record["sender"]), identity(record["recipient"])
        assert record["message"] == proof_message(room, sender, recipient).hex()
        assert record["proof"] == proof(secret, room, sender, recipient).hex()
    assert VECTORS["proofs"][0]["proof"] != VECTORS["proofs"][1]["proof"]


def test_rejections_compute_another_proof():
    presented = VECTORS["proofs"][0]["proof"]
    names = set()
    for case in VECTORS["rejections"]:
        names.add(case["name"])
        expected = proof(h(case["secret"]), case["room"], h(case["sender"]), h(case["recipient"]))
        assert case["expected"] == expected.hex()
        assert case["presented"] == presented
        assert not hmac.compare_digest(expected, h(presented))
        assert case["outcome"] == "not-invited"
    assert names == {"wrong-room", "swapped-direction", "wrong-secret", "substituted-key"}
