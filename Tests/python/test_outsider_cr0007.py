"""CR-0007 room safety code: every vector of CR-0007-vectors.json, from the outsider's
own encoding (catroom_outsider.safety_roster, safety_code)."""

from __future__ import annotations

import itertools

import pytest

import catroom_outsider as co
from outsider_vectors import load, party, scripted

V = load("CR-0007-vectors.json")


def members(case):
    return [(m["id"], bytes.fromhex(m["identityPublic"])) for m in case["members"]]


def test_label():
    assert V["label"].encode() == co.LABEL_SAFETY and len(co.LABEL_SAFETY) == 17


@pytest.mark.parametrize("name", ["alice", "bob", "carol", "mallory"])
def test_parties(name):
    rng = scripted(V)[name]
    key = co.IdentityKey.from_seed(rng.draw(32))
    assert rng.exhausted
    fields = party(V, name)
    assert key.seed.hex() == fields["identitySeed"]
    assert key.public.hex() == fields["identityPublic"]
    assert co.account_id(key.public) == fields["accountID"]


@pytest.mark.parametrize("case", V["cases"], ids=lambda c: c["name"])
def test_case(case):
    encoded = co.safety_roster(case["room"], members(case))
    assert encoded.hex() == case["encoded"]
    digest = co.sha256(encoded)
    assert digest.hex() == case["digest"]
    code = co.safety_code(case["room"], members(case))
    assert code == case["code"]
    assert len(code) == 47 and all(len(g) == 5 and g.isdigit() for g in code.split(" "))
    assert sorted(m["id"].encode() for m in case["members"]) == [i.encode() for i in case["sortedIds"]]
    # Decoding the vector's encoding gives back its ids in sortedIds order.
    room_len = int.from_bytes(encoded[17:19], "big")
    pos, ids = 19 + room_len + 2, []
    while pos < len(encoded):
        n = encoded[pos]
        ids.append(encoded[pos + 1:pos + 1 + n].decode())
        pos += 1 + n + 32
    assert ids == case["sortedIds"]


@pytest.mark.parametrize("case", V["cases"], ids=lambda c: c["name"])
def test_code_does_not_depend_on_order(case):
    for order in itertools.islice(itertools.permutations(members(case)), 6):
        assert co.safety_code(case["room"], order) == case["code"]


def test_expected_relations():
    codes = {c["name"]: c["code"] for c in V["cases"]}
    assert codes["threeMembers"] == codes["threeMembersOtherOrder"]
    others = [code for name, code in codes.items() if name != "threeMembersOtherOrder"]
    assert len(set(others)) == len(others)


@pytest.mark.parametrize("case", V["invalidRosters"], ids=lambda c: c["name"])
def test_invalid_roster(case):
    assert case["error"] == "roster-invalid"
    with pytest.raises(co.RosterInvalid) as caught:
        co.safety_code(case["room"], members(case))
    assert caught.value.name == case["error"]


def test_invalid_roster_sizes_are_what_they_say():
    by_name = {c["name"]: c for c in V["invalidRosters"]}
    assert len(by_name["idTooLong"]["members"][0]["id"].encode()) == 256
    assert len(by_name["roomTooLong"]["room"].encode()) == 1024


def test_boundaries_are_accepted():
    key = bytes.fromhex(V["cases"][0]["members"][0]["identityPublic"])
    assert co.safety_code("r" * 1023, [("x" * 255, key)])
    assert co.safety_code("r", [("x", key)])


def test_short_form():
    code = V["cases"][0]["code"]
    assert co.safety_short_form(code) == " ".join(code.split()[:2]) + "…"
