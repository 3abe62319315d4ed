#!/usr/bin/env python3
"""Renders CR-000N-vectors.json into Appendix A of CR-000N-*.md, between the
vectors:begin/end markers, so the document and the JSON file never disagree.

    python3 xep/tools/render_vectors.py
"""
import json
import pathlib
import re

XEP = pathlib.Path(__file__).resolve().parent.parent
SEND_FIELDS = ["plaintext", "chainKey", "messageKey", "nextChainKey", "aeadKey", "aeadNonce", "headerBytes", "messageAD", "encoded"]


def block(rows):
    width = max(len(name) for name, _ in rows)
    lines = []
    for name, value in rows:
        value = str(value)
        # Hex is wrapped at 64 characters so the document stays readable.
        chunks = [value[i:i + 64] for i in range(0, len(value), 64)] or [""]
        lines.append(f"{name.ljust(width)}  {chunks[0]}")
        lines += [" " * (width + 2) + chunk for chunk in chunks[1:]]
    return "```\n" + "\n".join(lines) + "\n```\n"


def text(hexstring):
    return bytes.fromhex(hexstring).decode()


def random_inputs(data):
    rows = [(f"{i + 1}. {entry['party']}: {entry['use']}", entry["value"]) for i, entry in enumerate(data["randomInputsInOrder"])]
    return ["### Random inputs, in the order they are drawn\n", block(rows)]


def parties(data):
    out = ["### Parties\n"]
    for name in sorted({key.split(".")[0] for key in data["parties"]}):
        rows = [(key.split(".", 1)[1], value) for key, value in sorted(data["parties"].items()) if key.startswith(name + ".")]
        out.append(f"**{name}**\n\n" + block(rows))
    return out


def send_rows(record):
    rows = [("dhStep." + key, value) for key, value in sorted(record.get("dhStep", {}).items())]
    return rows + [(key, record[key]) for key in SEND_FIELDS if key in record]


def session_doc(data):
    out = random_inputs(data) + parties(data)
    out.append("### X3DH: alice with bob's signed prekey 1 and one-time prekey 1\n")
    out.append(block(sorted(data["x3dh"].items())))
    out.append("### Conversation\n")
    for number, step in enumerate(data["conversation"], 1):
        title = f"{number}. {step['actor']} {step['action']}s {step['message']}"
        if step["action"] == "send":
            rows = send_rows(step)
        else:
            rows = [("dhStep." + key, value) for key, value in sorted(step.get("dhStep", {}).items())]
            rows += [("plaintext", step["plaintext"]), ("skippedKeysInSession", step["skippedKeysInSession"])]
        out.append(f"**{title}** (plaintext as text: `{text(step['plaintext'])}`)\n\n" + block(rows))
    other = data["withoutOneTimePreKey"]
    out.append("### X3DH without a one-time prekey, and the first message\n")
    out.append(f"Alice starts a new session with bob, whose bundle has no one-time prekey (`has_opk = 0x00`, 111-byte `headerBytes`). Plaintext as text: `{text(other['plaintext'])}`.\n")
    x3dh_keys = ["aliceEphemeralPrivate", "aliceEphemeralPublic", "dh1", "dh2", "dh3", "kdfInputKeyMaterial", "sharedSecret"]
    out.append(block([(key, other[key]) for key in x3dh_keys] + send_rows(other)))
    out.append("### Inputs a receiver must reject\n")
    rows = []
    for case in data["invalidInputs"]:
        rows.append((f"{case['type']}: {case['case']} -> {case['outcome']}", case["value"]))
        for extra in ("identityPublic", "signedPreKeyPublic"):
            if extra in case:
                rows.append((f"  with {extra}", case[extra]))
    out.append(block(rows))
    out.append("### A low-order base key in an initial message\n")
    out.append("A1 with `EK_A` replaced, presented to bob before he has received anything (§5.2 responder step 4).\n")
    rows = []
    for case in data["lowOrderBaseKey"]:
        rows += [(f"{case['case']} -> {case['outcome']}", case["baseKey"]), ("  encoded", case["encoded"])]
    out.append(block(rows))
    limits = data["maxSkip"]
    out.append(f"### MAX_SKIP ({limits['limit']}) at its boundary, and the order of the checks\n")
    out.append("Bob's messages far along the chain B3 began (no new random input):\n")
    for sent in limits["sent"]:
        out.append(f"**bob sends message {sent['messageNumber']}** (plaintext as text: `{text(sent['plaintext'])}`)\n\n" + block(send_rows(sent)))
    out.append("Alice, as after conversation step 14, receives them:\n")
    for received in limits["received"]:
        rows = [(key, received[key]) for key in ("messageNumber", "skippedKeysNeeded", "outcome", "skippedKeysInSession", "plaintext") if key in received]
        out.append(block(rows))
    out.append("Forged ratchet messages presented to bob as after conversation step 14, each changing nothing:\n")
    rows = []
    for case in limits["forged"]:
        rows.append((f"{case['case']} -> {case['outcome']}", case["encoded"]))
        if "skippedKeysNeeded" in case:
            rows.append(("  skippedKeysNeeded", case["skippedKeysNeeded"]))
    out.append(block(rows))
    return out


def sealed_rows(message):
    return [
        ("sender", message["sender"]), ("kind", message["kind"]), ("plaintext", message["plaintext"]),
        ("payloadKey", message["payloadKey"]), ("messageID", message["messageID"]),
        ("aeadKey", message["aeadKey"]), ("aeadNonce", message["aeadNonce"]), ("commitment", message["commitment"]),
        ("sortedRecipients", ", ".join(message["sortedRecipients"])),
        ("context", message["context"]), ("contextDigest", message["contextDigest"]), ("payload", message["payload"]),
        ("payloadDigest", message["payloadDigest"]), ("entryDigest", message["entryDigest"]),
    ]


def rejections(cases):
    out = []
    for case in cases:
        rows = [("presented " + key, ", ".join(value) if isinstance(value, list) else value) for key, value in sorted(case["presented"].items())]
        out.append(f"**{case['name']}** ({case['description']}), opened by {case['recipient']}: `{case['error']}`\n\n" + block(rows))
    return out


def fanout_doc(data):
    out = random_inputs(data) + parties(data)
    out.append("### Sessions: alice's X3DH with each recipient (one-time prekey 1)\n")
    for session in data["sessions"]:
        out.append(block([("peer", session["peer"]), ("aliceEphemeralPrivate", session["aliceEphemeralPrivate"]), ("sharedSecret", session["sharedSecret"])]))
    room = data["roomMessage"]
    out.append(f"### Room message from alice in `{data['room']}`\n")
    out.append(f"Plaintext as text: `{text(room['plaintext'])}`.\n")
    out.append(block(sealed_rows(room)))
    out.append("Key entries, in sorted recipient order (CR-0001 initial messages; `messageAD` = AD_x3dh || headerBytes || entryDigest):\n")
    for entry in room["keyEntries"]:
        out.append(block([("recipient", entry["recipient"])] + send_rows(entry)))
    out.append(block([(f"opened by {entry['recipient']}", entry["plaintext"]) for entry in room["opened"]]))
    out.append("#### Inputs a recipient must reject (§5.4), each before opening the message above and changing nothing\n")
    out.append("Each case presents the room message with the fields listed changed; every other field is as above.\n")
    out += rejections(room["rejections"])
    reply = data["privateReply"]
    out.append("### Private reply from bob to alice (kind 0x02)\n")
    out.append(f"Bob opened the room message above (creating his session with alice), then answers. His entry is a ratchet message (type 0x01) with a DH step. Plaintext as text: `{text(reply['plaintext'])}`.\n")
    out.append(block(sealed_rows(reply)))
    out.append(block([("recipient", reply["keyEntry"]["recipient"])] + send_rows(reply["keyEntry"])))
    out.append(block([("opened by alice", reply["opened"]["plaintext"])]))
    out.append("#### Inputs alice must reject, before opening the reply\n")
    out += rejections(reply["rejections"])
    return out


def shown(text):
    """An id or room as written in the vectors; a long one as its first character repeated, then the rest."""
    if not text:
        return "(empty)"
    if len(text) <= 64:
        return text
    run = len(text) - len(text.lstrip(text[0]))
    rest = f" then {text[run:]}" if run < len(text) else ""
    return f"{text[0]} repeated {run} times{rest} ({len(text.encode())} bytes)"


def roster_rows(case):
    rows = [("room", shown(case["room"]))] + ([] if case["members"] else [("members", "(none)")])
    for number, member in enumerate(case["members"], 1):
        rows += [(f"member {number} id", shown(member["id"])), (f"member {number} identityPublic", member["identityPublic"])]
    return rows


def safety_doc(data):
    out = random_inputs(data) + parties(data)
    out.append("### Rosters and their codes\n")
    out.append("Members are listed in the order presented; `sortedIds` is the order of §5.2.\n")
    for case in data["cases"]:
        sorted_ids = [("sortedIds" if number == 0 else "", shown(id)) for number, id in enumerate(case["sortedIds"])]
        rows = roster_rows(case) + sorted_ids + [("encoded", case["encoded"]), ("digest", case["digest"]), ("code", case["code"])]
        out.append(f"**{case['name']}**: {case['description']}\n\n" + block(rows))
    out.append("### Rosters that must be refused\n")
    for case in data["invalidRosters"]:
        out.append(f"**{case['name']}**: {case['description']}: `{case['error']}`\n\n" + block(roster_rows(case)))
    return out
def rooms_doc(data):
    rows = ["| name (as a JSON string) | domain | canonical address, or error |", "|---|---|---|"]
    for case in data["rooms"]:
        outcome = f"`{case['address']}`" if "address" in case else " ".join(filter(None, [case["error"], case.get("character")]))
        rows.append(f"| `{json.dumps(case['name'])}` | `{case['domain']}` | {outcome} |")
    return ["\n".join(rows)]


def render(document, json_name, build):
    path = next(XEP.glob(f"{document}-*.md"))
    data = json.loads((XEP / json_name).read_text())
    body = "\n".join(build(data))
    new = re.sub(r"<!-- vectors:begin -->.*<!-- vectors:end -->",
                 lambda _: f"<!-- vectors:begin -->\n{body}\n<!-- vectors:end -->", path.read_text(), flags=re.S)
    path.write_text(new)


def invite_doc(data):
    out = [f"### Inputs\n", block([("room", data["room"]), ("secret", data["secret"]), ("secret as text", data["secretText"])])]
    out += parties(data)
    out.append("### Invite key (§5.2)\n")
    out.append(block([("info", data["inviteKeyInfo"]), ("inviteKey", data["inviteKey"])]))
    out.append("### Proofs (§5.3)\n")
    for proof in data["proofs"]:
        out.append(f"**{proof['sender']} to {proof['recipient']}**\n\n" + block([("message", proof["message"]), ("proof", proof["proof"])]))
    out.append("### Proofs a recipient must reject (§5.4)\n")
    out.append("Each case presents alice's proof to bob above to a verifier whose inputs differ as described; `expected` is what the verifier computes.\n")
    for case in data["rejections"]:
        rows = [(key, case[key]) for key in ("room", "secret", "sender", "recipient", "expected", "presented")]
        out.append(f"**{case['name']}** ({case['description']}): `{case['outcome']}`\n\n" + block(rows))
    return out


if __name__ == "__main__":
    render("CR-0001", "CR-0001-vectors.json", session_doc)
    render("CR-0002", "CR-0002-vectors.json", fanout_doc)
    render("CR-0008", "CR-0008-vectors.json", invite_doc)
    render("CR-0007", "CR-0007-vectors.json", safety_doc)
    render("CR-0005", "CR-0005-vectors.json", rooms_doc)
