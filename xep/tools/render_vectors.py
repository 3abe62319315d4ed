#!/usr/bin/env python3
"""Renders CR-000N-vectors.json into the Appendix A of CR-000N-*.md, between the
vectors:begin/end markers, so the document and the JSON file never disagree.

    python3 xep/tools/render_vectors.py
"""
import json
import pathlib
import re

XEP = pathlib.Path(__file__).resolve().parent.parent


def block(rows):
    width = max(len(name) for name, _ in rows)
    lines = []
    for name, value in rows:
        value = str(value)
        # Wrap long hex at 64 characters so the document stays readable.
        chunks = [value[i:i + 64] for i in range(0, len(value), 64)] or [""]
        lines.append(f"{name.ljust(width)}  {chunks[0]}")
        lines += [" " * (width + 2) + chunk for chunk in chunks[1:]]
    return "```\n" + "\n".join(lines) + "\n```\n"


def parties(data):
    out = ["### Parties\n"]
    names = sorted({key.split(".")[0] for key in data["parties"]})
    for name in names:
        rows = [(key.split(".", 1)[1], value) for key, value in sorted(data["parties"].items()) if key.startswith(name + ".")]
        out.append(f"**{name}**\n\n" + block(rows))
    return out


def session_doc(data):
    out = parties(data)
    out.append("### X3DH (alice initiates with bob's signed prekey and one-time prekey 1)\n")
    out.append(block(sorted(data["x3dh"].items())))
    out.append("### Conversation\n")
    for number, step in enumerate(data["conversation"], 1):
        title = f"{number}. {step['actor']} {step['action']}s {step['message']}"
        rows = []
        for key in ["plaintext", "chainKey", "messageKey", "nextChainKey", "aeadKey", "aeadNonce", "header", "associatedData", "encoded", "skippedKeysStored"]:
            if key in step:
                rows.append((key, step[key]))
        if "dhStep" in step:
            rows = [("dhStep." + key, value) for key, value in sorted(step["dhStep"].items())] + rows
        out.append(f"**{title}** (plaintext as text: `{bytes.fromhex(step['plaintext']).decode()}`)\n\n" + block(rows))
    return out


def fanout_doc(data):
    out = parties(data)
    out.append("### Sessions (alice's X3DH ephemeral key per recipient; resulting root key)\n")
    for session in data["sessions"]:
        out.append(block([("peer", session["peer"]), ("aliceEphemeralPrivate", session["aliceEphemeralPrivate"]), ("rootKey", session["rootKey"])]))
    out.append("### Random inputs, in the order the sender consumes them\n")
    rows = [("payloadKey", data["payloadKey"]), ("messageID", data["messageID"])]
    rows += [(f"ratchetPrivate ({entry['peer']})", entry["private"]) for entry in data["ratchetPrivateKeys"]]
    out.append(block(rows))
    out.append("### Sealing\n")
    out.append(block([
        ("room", data["room"]), ("kind", data["kind"]), ("plaintext", data["plaintext"]),
        ("aeadKey", data["aeadKey"]), ("aeadNonce", data["aeadNonce"]), ("commitment", data["commitment"]),
        ("sortedRecipients", ", ".join(data["sortedRecipients"])),
        ("context", data["context"]), ("digest", data["digest"]), ("payload", data["payload"]),
    ]))
    out.append("### Key entries (CR-0001 initial messages, AD = AD_x3dh || header_bytes || digest)\n")
    for entry in data["keyEntries"]:
        out.append(block([("recipient", entry["recipient"]), ("encoded", entry["encoded"])]))
    return out


def render(document, json_name, build):
    path = next(XEP.glob(f"{document}-*.md"))
    data = json.loads((XEP / json_name).read_text())
    text = path.read_text()
    body = "\n".join(build(data))
    new = re.sub(r"<!-- vectors:begin -->.*<!-- vectors:end -->",
                 lambda _: f"<!-- vectors:begin -->\n{body}\n<!-- vectors:end -->", text, flags=re.S)
    path.write_text(new)


if __name__ == "__main__":
    render("CR-0001", "CR-0001-vectors.json", session_doc)
    render("CR-0002", "CR-0002-vectors.json", fanout_doc)
