"""Helpers for the test_outsider_* suites: load xep/ vectors, compare values."""

from __future__ import annotations

import json
from pathlib import Path

from catroom_outsider import ScriptedRandom

XEP = Path(__file__).resolve().parents[2] / "xep"


def load(name: str) -> dict:
    return json.loads((XEP / name).read_text())


def hexify(value):
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if isinstance(value, dict):
        return {k: hexify(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [hexify(v) for v in value]
    return value


def check(where: str, expected: dict, got: dict, skip=()) -> None:
    """Every field of `expected` (a vector object) must be in `got` with the same value."""
    for key, want in expected.items():
        if key in skip:
            continue
        assert key in got, f"{where}: the outsider has no value for {key!r}"
        if isinstance(want, dict):
            check(f"{where}.{key}", want, got[key], skip)
        else:
            assert hexify(got[key]) == want, f"{where}.{key}: {hexify(got[key])!r} != {want!r}"


def scripted(vectors: dict) -> dict[str, ScriptedRandom]:
    """One source per party, holding its draws of `randomInputsInOrder` in order."""
    by_party: dict[str, list[bytes]] = {}
    for entry in vectors["randomInputsInOrder"]:
        by_party.setdefault(entry["party"], []).append(bytes.fromhex(entry["value"]))
    return {party: ScriptedRandom(party, values) for party, values in by_party.items()}


def party(vectors: dict, name: str) -> dict:
    prefix = name + "."
    return {k[len(prefix):]: v for k, v in vectors["parties"].items() if k.startswith(prefix)}
