"""xep/CR-0006-vectors.json against the outsider implementation (catroom_outsider):
payload bytes and decoding (§5.3), acknowledgement entries and a transcript trace (§5.8).

The vectors write down decisions CR-0006 0.3 made where 0.2 was silent (the
outsider's findings); the outsider module follows them.
"""

import json
import pathlib

import pytest

import catroom_outsider as outsider

VECTORS = json.loads((pathlib.Path(__file__).resolve().parents[2] / "xep" / "CR-0006-vectors.json").read_text())


@pytest.mark.parametrize("vector", VECTORS["payloads"], ids=lambda v: v["name"])
def test_payload_bytes(vector):
    assert outsider.encode_payload(vector["object"]) == bytes.fromhex(vector["bytes"])


@pytest.mark.parametrize("vector", VECTORS["decoding"], ids=lambda v: v["name"])
def test_decoding(vector):
    try:
        obj = outsider.decode_payload(bytes.fromhex(vector["bytes"]))
    except outsider.Unreadable:
        assert vector["outcome"] == "unreadable"
        return
    assert vector["outcome"] == "readable"
    for key in ("type", "body", "ts"):
        if key in vector:
            assert obj.get(key) == vector[key]


@pytest.mark.parametrize("vector", VECTORS["ackEntries"], ids=lambda v: v["name"])
def test_acknowledgement_entries(vector):
    assert (outsider.parse_ack(vector["entry"]) is not None) == vector["wellFormed"]


def test_transcript_trace():
    trace = VECTORS["trace"]
    me = trace["me"]
    transcript = outsider.Transcript(me, clock=lambda: 0.0)
    for step in trace["steps"]:
        views_before = len(transcript.split_views)
        acked_before = {key: set(entry.acked_by) for key, entry in transcript.remembered.items() if key[0] == me}
        found = []
        if step["op"] == "accept":
            transcript.accepted(step["sender"], bytes.fromhex(step["id"]), bytes.fromhex(step["digest"]), {"type": step["type"]}, None)
        elif step["op"] == "acks":
            transcript.compare(step["witness"], step["acks"])
        elif step["op"] == "send":
            found.append({"carries": [ack.to_json() for ack in transcript.acks_for_next_room_message()]})
            transcript.sent(bytes.fromhex(step["id"]), bytes.fromhex(step["digest"]), step["recipients"], None)
        for view in transcript.split_views[views_before:]:
            found.append({"splitView": {"sender": view.sender, "id": view.message_id.hex(), "witness": view.witness}})
        for key, before in acked_before.items():
            entry = transcript.remembered.get(key)
            if entry is not None and entry.acked_by != before:
                found.append({"delivery": {"id": key[1].hex(), "acknowledged": sorted(entry.acked_by),
                                           "recipients": sorted(entry.recipients)}})
        assert found == step["expect"], step["name"]


@pytest.mark.parametrize("vector", VECTORS["inviteTexts"], ids=lambda v: v["name"])
def test_invite_texts(vector):
    """CR-0008 §5.4 steps 1 and 2 on the hello's `invite` text."""
    raw = outsider.decode_strict_base64(vector["text"]) if vector["text"] is not None else None
    proof = raw if raw is not None and len(raw) == 32 else None
    assert ("not-invited" if proof is None else "compared") == vector["outcome"]
    if "bytes" in vector:
        assert proof == bytes.fromhex(vector["bytes"])


@pytest.mark.parametrize("vector", VECTORS["topicTexts"], ids=lambda v: v["name"])
def test_topic_as_shown(vector):
    assert outsider.topic_as_shown(vector["raw"]) == vector["shown"]


@pytest.mark.parametrize("vector", VECTORS["topicClaims"], ids=lambda v: v["name"])
def test_topic_a_joiner_shows(vector):
    assert outsider.topic_reported(vector["claims"]) == vector["shown"]
