#!/usr/bin/env python3
"""Writes xep/CR-0006-vectors.json: payload bytes (§5.3), decoding outcomes (§5.3),
acknowledgement entries (§5.8), one transcript trace (§5.8), and the hello's
`invite` texts (CR-0008 §5.4 steps 1 and 2), and topics as shown and chosen (§5.11).

The outcomes below are the protocol's decisions, written down by hand; this script
only assembles them and pads the payloads. Both catroom (Tests/CatroomClientTests/
ClientVectorTests.swift) and the outsider implementation (Tests/python/
test_outsider_client_vectors.py) check every entry.
"""

import base64
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
CR0002 = json.loads((HERE.parent / "CR-0002-vectors.json").read_text())
ROOM = CR0002["roomMessage"]
ALICE, BOB, CAROL, DAVE = (CR0002["parties"][f"{name}.accountID"] for name in ("alice", "bob", "carol", "dave"))
TS = 1795330800000
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def sender_form(obj):
    """§5.3's byte form: sorted keys, no insignificant whitespace, UTF-8, '/' unescaped."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def pad(raw: bytes, filler=b" ") -> bytes:
    return raw + filler * (-len(raw) % 64)


def ack(sender, message_id, digest):
    return {"digest": digest, "id": message_id, "sender": sender}


def hexid(n):
    return f"{n:032x}"


def hexdigest(n):
    return f"{n:064x}"


# --- §5.3: what a sender writes -------------------------------------------------
bob_ack = ack(ALICE, ROOM["messageID"], ROOM["entryDigest"])
encodings = [
    ("hello, the example of §5.3", {"v": 1, "type": "hello", "nick": "alice", "ts": TS}),
    ("text with a non-ASCII body, a slash, a quote and a newline",
     {"v": 1, "type": "text", "body": "café / \"naïve\"\nline two", "ts": TS}),
    ("bob's ack-only message for CR-0002 Appendix A's room message",
     {"v": 1, "type": "ack", "acks": [bob_ack], "ts": TS}),
    ("a text exactly 64 bytes long: no padding", {"v": 1, "type": "text", "body": "x" * 14, "ts": TS}),
    ("a topic set (§5.11)", {"v": 1, "type": "topic", "body": "release on friday", "ts": TS}),
    ("bob's hello reporting alice's topic (§5.11)",
     {"v": 1, "type": "hello", "nick": "bob", "topic": "release on friday", "topicBy": ALICE, "topicTs": TS - 60000, "ts": TS}),
]
payloads = []
for name, obj in encodings:
    raw = sender_form(obj)
    payloads.append({"name": name, "object": obj, "bytes": pad(raw).hex(), "jsonLength": len(raw), "length": len(pad(raw))})
assert payloads[3]["jsonLength"] == 64, payloads[3]["jsonLength"]

# --- §5.3: what a receiver makes of bytes -----------------------------------------
def case(name, text, outcome, filler=b" ", raw=None, **expect):
    data = raw if raw is not None else pad(text.encode(), filler)
    entry = {"name": name, "bytes": data.hex(), "outcome": outcome}
    entry.update(expect)
    return entry

good = '{"body":"hi","ts":1,"type":"text","v":1}'
decoding = [
    case("a text", good, "readable", type="text", body="hi", ts=1),
    case("unknown keys are absent", '{"body":"hi","colour":"red","ts":1,"type":"text","v":1}', "readable", type="text", body="hi"),
    case("keys in any order, spaces between tokens", '{ "v" : 1, "type" : "text", "ts" : 1, "body" : "hi" }', "readable", type="text"),
    case("padding with other JSON whitespace", good, "readable", filler=b"\n", type="text"),
    case("v written as 1.0", '{"body":"hi","ts":1,"type":"text","v":1.0}', "readable", type="text"),
    case("ts written as 1e3", '{"body":"hi","ts":1e3,"type":"text","v":1}', "readable", ts=1000),
    # Judged from the digits, not through a 64-bit float (the payload fuzz target).
    case("ts written as 179533080e4", '{"body":"hi","ts":179533080e4,"type":"text","v":1}', "readable", ts=1795330800000),
    case("ts the largest integer, written with .0", '{"body":"hi","ts":9223372036854775807.0,"type":"text","v":1}', "readable",
         ts=9223372036854775807),
    case("ts the smallest integer", '{"body":"hi","ts":-9223372036854775808,"type":"text","v":1}', "readable", ts=-9223372036854775808),
    case("ts one past the largest integer", '{"body":"hi","ts":9223372036854775808,"type":"text","v":1}', "unreadable"),
    case("ts not whole, beyond a float's precision", '{"body":"hi","ts":92233720368547758.7,"type":"text","v":1}', "unreadable"),
    case("ts not whole, with a tiny exponent", '{"body":"hi","ts":1e-400,"type":"text","v":1}', "unreadable"),
    case("negative ts", '{"body":"hi","ts":-5,"type":"text","v":1}', "readable", ts=-5),
    case("an optional key set to null is absent", '{"acks":null,"body":"hi","invite":null,"ts":1,"type":"text","v":1}', "readable", type="text"),
    case("an unknown type", '{"ts":1,"type":"poll","v":1}', "readable", type="poll"),
    case("a topic", '{"body":"plans","ts":1,"type":"topic","v":1}', "readable", type="topic", body="plans"),
    case("a hello with a topic", '{"nick":"a","topic":"plans","topicBy":"x","topicTs":5,"ts":1,"type":"hello","v":1}', "readable", type="hello"),
    case("a known type without its key (shown as nothing)", '{"ts":1,"type":"text","v":1}', "readable", type="text"),
    case("a surrogate pair escape", '{"body":"\\ud83d\\ude00","ts":1,"type":"text","v":1}', "readable", body="\U0001F600"),
    case("65 acknowledgements (only the first 64 count)",
         json.dumps({"acks": [ack(ALICE, hexid(n), hexdigest(n)) for n in range(65)], "ts": 1, "type": "ack", "v": 1},
                    separators=(",", ":"), sort_keys=True), "readable", type="ack"),
    case("acknowledgement entries of the wrong forms (ignored, not unreadable)",
         json.dumps({"acks": [ack("alice", hexid(1).upper(), "00")], "ts": 1, "type": "ack", "v": 1},
                    separators=(",", ":"), sort_keys=True), "readable", type="ack"),
    case("empty", "", "unreadable", raw=b""),
    case("not padded", good, "unreadable", raw=good.encode()),
    case("padded with NUL bytes", good, "unreadable", filler=b"\x00"),
    case("not JSON", "hello", "unreadable"),
    case("not UTF-8", "", "unreadable", raw=pad(b'{"body":"\xff","ts":1,"type":"text","v":1}')),
    case("a JSON array", '["text"]', "unreadable"),
    case("v is 2", '{"body":"hi","ts":1,"type":"text","v":2}', "unreadable"),
    case("v missing", '{"body":"hi","ts":1,"type":"text"}', "unreadable"),
    case("v is true", '{"body":"hi","ts":1,"type":"text","v":true}', "unreadable"),
    case("v is a string", '{"body":"hi","ts":1,"type":"text","v":"1"}', "unreadable"),
    case("ts missing", '{"body":"hi","type":"text","v":1}', "unreadable"),
    case("ts not an integer", '{"body":"hi","ts":1.5,"type":"text","v":1}', "unreadable"),
    case("ts beyond 64 bits", '{"body":"hi","ts":9223372036854775808,"type":"text","v":1}', "unreadable"),
    case("type missing", '{"body":"hi","ts":1,"v":1}', "unreadable"),
    case("type not a string", '{"body":"hi","ts":1,"type":7,"v":1}', "unreadable"),
    case("nick not a string", '{"nick":7,"ts":1,"type":"hello","v":1}', "unreadable"),
    case("body not a string", '{"body":["hi"],"ts":1,"type":"text","v":1}', "unreadable"),
    case("invite not a string", '{"invite":true,"nick":"a","ts":1,"type":"hello","v":1}', "unreadable"),
    case("topic not a string", '{"nick":"a","topic":7,"topicBy":"x","topicTs":5,"ts":1,"type":"hello","v":1}', "unreadable"),
    case("topicBy not a string", '{"nick":"a","topic":"t","topicBy":["x"],"topicTs":5,"ts":1,"type":"hello","v":1}', "unreadable"),
    case("topicTs not an integer", '{"nick":"a","topic":"t","topicBy":"x","topicTs":5.5,"ts":1,"type":"hello","v":1}', "unreadable"),
    case("acks not an array", '{"acks":{},"ts":1,"type":"ack","v":1}', "unreadable"),
    case("an acknowledgement that is not an object", '{"acks":["x"],"ts":1,"type":"ack","v":1}', "unreadable"),
    case("an acknowledgement without digest", '{"acks":[{"id":"%s","sender":"%s"}],"ts":1,"type":"ack","v":1}' % (hexid(1), ALICE), "unreadable"),
    case("an acknowledgement whose sender is a number", '{"acks":[{"digest":"%s","id":"%s","sender":1}],"ts":1,"type":"ack","v":1}' % (hexdigest(1), hexid(1)), "unreadable"),
    case("a repeated name", '{"body":"hi","body":"bye","ts":1,"type":"text","v":1}', "unreadable"),
    case("a repeated name spelt with an escape", '{"body":"hi","ts":1,"type":"text","v":1,"\\u0076":1}', "unreadable"),
    case("a repeated name inside an acknowledgement",
         '{"acks":[{"digest":"%s","id":"%s","id":"%s","sender":"%s"}],"ts":1,"type":"ack","v":1}' % (hexdigest(1), hexid(1), hexid(2), ALICE), "unreadable"),
    case("an unpaired surrogate escape", '{"body":"\\ud800","ts":1,"type":"text","v":1}', "unreadable"),
    # 0.5: the whole text is checked, members the reader ignores included.
    case("an unpaired surrogate in an ignored member", '{"ts":1,"type":"text","v":1,"x":"\\ude00"}', "unreadable"),
    case("an invalid escape in an ignored member", '{"ts":1,"type":"text","v":1,"x":"\\q"}', "unreadable"),
    case("a control character in an ignored member", '{"ts":1,"type":"text","v":1,"x":"\t"}', "unreadable"),
    case("a leading zero in an ignored member", '{"ts":1,"type":"text","v":1,"x":01}', "unreadable"),
    case("a number without digits after its point in an ignored member", '{"ts":1,"type":"text","v":1,"x":1.}', "unreadable"),
    case("a trailing comma in an ignored array", '{"ts":1,"type":"text","v":1,"x":[1,]}', "unreadable"),
    case("a trailing comma in an ignored object", '{"ts":1,"type":"text","v":1,"x":{"a":1,}}', "unreadable"),
    case("objects and arrays nested 32 levels deep", '{"ts":1,"type":"text","v":1,"x":%s%s}' % ("[" * 31, "]" * 31), "readable", type="text"),
    case("nested 33 levels deep", '{"ts":1,"type":"text","v":1,"x":%s%s}' % ("[" * 32, "]" * 32), "unreadable"),
    case("names equal only after Unicode normalisation are two names",
         '{"ts":1,"type":"text","v":1,"\u00e9":1,"e\u0301":2}', "readable", type="text"),
]

# --- §5.8: acknowledgement entries ---------------------------------------------------
entries = [
    ("well formed", ack(ALICE, hexid(1), hexdigest(1)), True),
    ("an extra key is ignored", dict(ack(ALICE, hexid(1), hexdigest(1)), extra="x"), True),
    ("uppercase hex id", ack(ALICE, hexid(0xab).upper(), hexdigest(1)), False),
    ("id of 31 digits", ack(ALICE, hexid(1)[1:], hexdigest(1)), False),
    ("digest of 63 digits", ack(ALICE, hexid(1), hexdigest(1)[1:]), False),
    ("sender not an account id", ack("alice", hexid(1), hexdigest(1)), False),
    ("sender with a character outside base32", ack("1" + ALICE[1:], hexid(1), hexdigest(1)), False),
    ("sender in uppercase", ack(ALICE.upper(), hexid(1), hexdigest(1)), False),
]
ack_entries = [{"name": n, "entry": e, "wellFormed": w} for n, e, w in entries]

# --- §5.8: a transcript trace, from carol's side ---------------------------------------
m = {n: hexid(0xabcdef00 + n) for n in range(1, 7)}
d = {n: hexdigest(0xd000 + n) for n in range(1, 7)}
dx = {n: hexdigest(0xe000 + n) for n in range(1, 7)}
EVE = "e" * 32
steps = [
    ("alice's text is accepted", {"op": "accept", "sender": ALICE, "id": m[1], "digest": d[1], "type": "text"}, []),
    ("bob acknowledges the same D", {"op": "acks", "witness": BOB, "acks": [ack(ALICE, m[1], d[1])]}, []),
    ("dave acknowledges another D: split view", {"op": "acks", "witness": DAVE, "acks": [ack(ALICE, m[1], dx[1])]},
     [{"splitView": {"sender": ALICE, "id": m[1], "witness": DAVE}}]),
    ("bob claims a message carol has not seen", {"op": "acks", "witness": BOB, "acks": [ack(ALICE, m[2], d[2])]}, []),
    ("bob's second claim for it is ignored: the first stands", {"op": "acks", "witness": BOB, "acks": [ack(ALICE, m[2], dx[2])]}, []),
    ("dave claims it with another D", {"op": "acks", "witness": DAVE, "acks": [ack(ALICE, m[2], dx[2])]}, []),
    ("it arrives: dave's claim differs, bob's first one does not", {"op": "accept", "sender": ALICE, "id": m[2], "digest": d[2], "type": "text"},
     [{"splitView": {"sender": ALICE, "id": m[2], "witness": DAVE}}]),
    ("an ack-only message is accepted and not acknowledged", {"op": "accept", "sender": ALICE, "id": m[4], "digest": d[4], "type": "ack"}, []),
    ("a message accepted again is not acknowledged twice", {"op": "accept", "sender": ALICE, "id": m[2], "digest": d[2], "type": "text"}, []),
    ("carol's next room message carries what she owes, in order", {"op": "send", "id": m[3], "digest": d[3], "recipients": [ALICE, BOB, DAVE]},
     [{"carries": [ack(ALICE, m[1], d[1]), ack(ALICE, m[2], d[2])]}]),
    ("bob acknowledges carol's message", {"op": "acks", "witness": BOB, "acks": [ack(CAROL, m[3], d[3])]},
     [{"delivery": {"id": m[3], "acknowledged": [BOB], "recipients": sorted([ALICE, BOB, DAVE])}}]),
    ("bob again: already counted", {"op": "acks", "witness": BOB, "acks": [ack(CAROL, m[3], d[3])]}, []),
    ("eve, not a recipient, acknowledges it: not counted", {"op": "acks", "witness": EVE, "acks": [ack(CAROL, m[3], d[3])]}, []),
    ("dave names another D for carol's own message: split view", {"op": "acks", "witness": DAVE, "acks": [ack(CAROL, m[3], dx[3])]},
     [{"splitView": {"sender": CAROL, "id": m[3], "witness": DAVE}}]),
    ("alice acknowledging her own message is ignored", {"op": "acks", "witness": ALICE, "acks": [ack(ALICE, m[1], dx[1])]}, []),
    ("malformed entries are ignored", {"op": "acks", "witness": BOB, "acks": [ack(ALICE, m[1].upper(), dx[1]), ack("alice", m[1], dx[1])]}, []),
    ("a claim about carol's own message she does not remember is ignored", {"op": "acks", "witness": BOB, "acks": [ack(CAROL, m[5], d[5])]}, []),
    ("only the first 64 entries count", {"op": "acks", "witness": BOB,
     "acks": [ack(DAVE, hexid(0x2000 + n), hexdigest(n)) for n in range(64)] + [ack(ALICE, m[1], dx[1])]}, []),
    ("with nothing owed, the next message carries nothing", {"op": "send", "id": m[6], "digest": d[6], "recipients": [ALICE, BOB, DAVE]},
     [{"carries": []}]),
]
# --- CR-0008 §5.4 steps 1 and 2: the hello's `invite` text --------------------------
CR0008 = json.loads((HERE.parent / "CR-0008-vectors.json").read_text())
PROOF = bytes.fromhex(CR0008["proofs"][0]["proof"])        # alice -> bob
canonical = base64.b64encode(PROOF).decode()
assert canonical.endswith("=") and len(canonical) == 44
last = canonical[-2]
set_bit = canonical[:-2] + B64[B64.index(last) | 1] + "="
assert set_bit != canonical
invite_texts = [
    {"name": "alice's proof to bob", "text": canonical, "outcome": "compared", "bytes": PROOF.hex()},
    {"name": "absent", "text": None, "outcome": "not-invited"},
    {"name": "without padding", "text": canonical[:-1], "outcome": "not-invited"},
    {"name": "an unused bit set", "text": set_bit, "outcome": "not-invited"},
    {"name": "URL-safe alphabet", "text": canonical.replace("+", "-").replace("/", "_"), "outcome": "not-invited"},
    {"name": "a space inside", "text": canonical[:20] + " " + canonical[20:-1], "outcome": "not-invited"},
    {"name": "31 bytes", "text": base64.b64encode(PROOF[:31]).decode(), "outcome": "not-invited"},
    {"name": "33 bytes", "text": base64.b64encode(PROOF + b"\0").decode(), "outcome": "not-invited"},
    {"name": "empty", "text": "", "outcome": "not-invited"},
]
assert "+" in canonical or "/" in canonical

# --- §5.11: a topic as shown, and the one a joiner shows among hellos' reports ---------
topic_texts = [
    {"name": "unchanged", "raw": "release on friday", "shown": "release on friday"},
    {"name": "line feeds and tabs become spaces", "raw": "a\nb\tc", "shown": "a b c"},
    {"name": "an escape and a bidi override are neutralised", "raw": "\u001b[31mred\u202e", "shown": "\ufffd[31mred\ufffd"},
    {"name": "a carriage return is neutralised, not a space", "raw": "a\rb", "shown": "a\ufffdb"},
    {"name": "cut to 256 scalars (a combining mark counts as one)", "raw": "e\u0301" * 200, "shown": ("e\u0301" * 128)},
    {"name": "an emoji sequence kept whole under the limit", "raw": "\U0001F469\u200D\U0001F4BB", "shown": "\U0001F469\u200D\U0001F4BB"},
]


def claim(text, by, ts):
    return {"topic": text, "topicBy": by, "topicTs": ts}


topic_claims = [
    {"name": "the later topicTs wins", "claims": [claim("old", ALICE, TS), claim("new", BOB, TS + 1)], "shown": claim("new", BOB, TS + 1)},
    {"name": "order of arrival does not matter", "claims": [claim("new", BOB, TS + 1), claim("old", ALICE, TS)], "shown": claim("new", BOB, TS + 1)},
    {"name": "equal topicTs: the smaller topicBy", "claims": [claim("b", max(ALICE, BOB), TS), claim("a", min(ALICE, BOB), TS)],
     "shown": claim("a", min(ALICE, BOB), TS)},
    {"name": "equal topicTs and topicBy: the smaller topic by scalar values",
     "claims": [claim("\u00e9t\u00e9", ALICE, TS), claim("zoo", ALICE, TS)], "shown": claim("zoo", ALICE, TS)},
    {"name": "a cleared topic reported later wins", "claims": [claim("plans", ALICE, TS), claim("", BOB, TS + 5)], "shown": claim("", BOB, TS + 5)},
    {"name": "a report without topicTs is no report", "claims": [{"topic": "x", "topicBy": ALICE}], "shown": None},
]

trace = {"me": CAROL, "steps": [dict(step, name=name, expect=expect) for name, step, expect in steps]}

document = {
    "document": "CR-0006",
    "description": "Payload bytes and decoding (§5.3), acknowledgement entries and a transcript trace (§5.8). "
                   "Account ids are CR-0002 Appendix A's parties; eve is a made-up id.",
    "parties": {"alice": ALICE, "bob": BOB, "carol": CAROL, "dave": DAVE, "eve": EVE},
    "payloads": payloads,
    "decoding": decoding,
    "ackEntries": ack_entries,
    "inviteTexts": invite_texts,
    "topicTexts": topic_texts,
    "topicClaims": topic_claims,
    "trace": trace,
}
(HERE.parent / "CR-0006-vectors.json").write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
