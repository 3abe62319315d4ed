"""Recompute CR-0007-vectors.json from CR-0007 alone.

Only the identity seeds, the rooms and the rosters as presented are taken from the
file; the keys (PyNaCl, RFC 8032), account ids (CR-0001 §5.1), sorted ids, encoded
rosters, digests and codes are recomputed here and compared, and every roster the
file calls invalid must be refused.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from pathlib import Path

import nacl.bindings as sodium
import pytest

VECTORS = json.loads((Path(__file__).resolve().parents[2] / "xep" / "CR-0007-vectors.json").read_text())
LABEL = b"catroom-safety-v1"


class RosterInvalid(Exception):
    pass


def account_id(public: bytes) -> str:
    return base64.b32encode(hashlib.sha256(b"catroom-id-v1" + public).digest()[:20]).decode().lower().rstrip("=")


def encode(room: str, members: list[tuple[str, bytes]]) -> bytes:
    """§5.2, after the rules of §5.1."""
    room_bytes = room.encode()
    roster = [(member_id.encode(), key) for member_id, key in members]
    ids, keys = [i for i, _ in roster], [k for _, k in roster]
    if not 1 <= len(room_bytes) <= 1023 or not 1 <= len(roster) <= 65535:
        raise RosterInvalid("room or count")
    if any(not 1 <= len(i) <= 255 for i in ids) or len(set(ids)) != len(ids) or len(set(keys)) != len(keys):
        raise RosterInvalid("id, or a duplicate")
    encoded = LABEL + struct.pack(">H", len(room_bytes)) + room_bytes + struct.pack(">H", len(roster))
    # Python compares bytes as §5.2 asks: the first differing byte, else the shorter first.
    for member_id, key in sorted(roster):
        encoded += bytes([len(member_id)]) + member_id + key
    return encoded


def code(digest: bytes) -> str:
    """§5.3."""
    return " ".join(f"{int.from_bytes(digest[4 * i:4 * i + 4], 'big') % 100000:05d}" for i in range(8))


def presented(case: dict) -> list[tuple[str, bytes]]:
    return [(member["id"], bytes.fromhex(member["identityPublic"])) for member in case["members"]]


def test_label():
    assert VECTORS["label"].encode() == LABEL and len(LABEL) == 17


@pytest.mark.parametrize("name", sorted({key.split(".")[0] for key in VECTORS["parties"]}))
def test_party(name):
    parties = VECTORS["parties"]
    public, _ = sodium.crypto_sign_seed_keypair(bytes.fromhex(parties[f"{name}.identitySeed"]))
    assert public.hex() == parties[f"{name}.identityPublic"]
    assert account_id(public) == parties[f"{name}.accountID"]


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda case: case["name"])
def test_case(case):
    encoded = encode(case["room"], presented(case))
    assert encoded.hex() == case["encoded"]
    digest = hashlib.sha256(encoded).digest()
    assert digest.hex() == case["digest"]
    assert code(digest) == case["code"]
    assert [i.decode() for i in sorted(i.encode() for i, _ in presented(case))] == case["sortedIds"]


def test_relations_the_document_states():
    codes = {case["name"]: case["code"] for case in VECTORS["cases"]}
    assert codes.pop("threeMembersOtherOrder") == codes["threeMembers"]
    assert len(set(codes.values())) == len(codes)


@pytest.mark.parametrize("case", VECTORS["invalidRosters"], ids=lambda case: case["name"])
def test_invalid_roster(case):
    assert case["error"] == "roster-invalid"
    with pytest.raises(RosterInvalid):
        encode(case["room"], presented(case))
