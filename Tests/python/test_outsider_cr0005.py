"""CR-0005 §3.1 room names: every vector of CR-0005-vectors.json, from the outsider's
own canonicalisation (catroom_outsider.room_address), and the Appendix A table."""

from __future__ import annotations

import json

import pytest

import catroom_outsider as co
from outsider_vectors import XEP, load

V = load("CR-0005-vectors.json")


@pytest.mark.parametrize("case", V["rooms"], ids=lambda c: json.dumps(c["name"]) + "@" + c["domain"])
def test_room_name_vector(case):
    if "address" in case:
        address = co.room_address(case["name"], case["domain"])
        assert address == case["address"]
        # A canonical address canonicalises to itself (§3.1, last paragraph).
        name, service = address.split("@")
        assert co.canonical_room_name(name) == name and service == "rooms." + co.canonical_domain(case["domain"])
        assert address.isascii() and len(name) <= 64
    else:
        with pytest.raises(co.RoomNameError) as caught:
            co.room_address(case["name"], case["domain"])
        assert caught.value.name == case["error"]
        assert caught.value.character == case.get("character")


def test_every_case_has_one_outcome():
    for case in V["rooms"]:
        assert ("address" in case) != ("error" in case), case


def test_appendix_table_matches_the_json():
    text = (XEP / "CR-0005-rooms.md").read_text()
    table = text.split("<!-- vectors:begin -->")[1].split("<!-- vectors:end -->")[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert len(rows) == len(V["rooms"])
    for row, case in zip(rows, V["rooms"]):
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert json.loads(cells[0].strip("`")) == case["name"]
        assert cells[1].strip("`") == case["domain"]
        outcome = case["address"] if "address" in case else " ".join(filter(None, [case["error"], case.get("character")]))
        assert cells[2].strip("`") == outcome


@pytest.mark.parametrize("typed", ["LOBBY", "Team-7", "a.b_c-d"])
def test_canonicalising_is_idempotent(typed):
    once = co.canonical_room_name(typed)
    assert co.canonical_room_name(once) == once


def test_rule_order():
    # §3.1: the first rule broken wins, in the order empty, character, first character, length.
    with pytest.raises(co.RoomNameError) as caught:
        co.canonical_room_name("-" + "x" * 70 + " ")
    assert (caught.value.name, caught.value.character) == ("disallowed-character", "U+0020")
    with pytest.raises(co.RoomNameError) as caught:
        co.canonical_room_name("-" + "x" * 70)
    assert caught.value.name == "bad-first-character"
