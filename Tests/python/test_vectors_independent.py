"""Recompute every derived value of CR-0001-vectors.json and CR-0002-vectors.json.

Only *inputs* are taken from the JSON files (identity seeds, prekey ids and
private keys, ephemeral / ratchet private keys and other random inputs,
plaintexts, room / kind, the scripted order of actions).  Everything else is
recomputed by ``catroom_reference`` (written from the two documents alone)
and compared byte for byte.  Every key of every JSON object must be either a
declared input or a value that the test recomputes: an unknown key fails.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

import catroom_reference as cr

XEP = Path(__file__).resolve().parents[2] / "xep"
h = bytes.fromhex


def load(name: str) -> dict:
    return json.loads((XEP / name).read_text())


V1 = load("CR-0001-vectors.json")
V2 = load("CR-0002-vectors.json")


class ScriptedRandom:
    """Replays random inputs in order; every draw must have the scripted length."""

    def __init__(self, values: list[bytes]):
        self.values = list(values)
        self.drawn = 0

    def __call__(self, n: int) -> bytes:
        assert self.values, "implementation drew more random bytes than the vectors script"
        v = self.values.pop(0)
        assert len(v) == n, f"draw {self.drawn}: implementation wants {n} bytes, script has {len(v)}"
        self.drawn += 1
        return v

    def assert_exhausted(self) -> None:
        assert not self.values, f"{len(self.values)} scripted random inputs were not consumed"


def hexify(value):
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    return value


def flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flatten(v, prefix + k + "."))
        else:
            out[prefix + k] = hexify(v)
    return out


# ---------------------------------------------------------------------------
# Parties (both files)
# ---------------------------------------------------------------------------
PARTY_INPUTS = {"identitySeed", "signedPreKeyId", "signedPreKeyPrivate",
                "oneTimePreKeyId", "oneTimePreKeyPrivate"}
PARTY_DERIVED = {"accountID", "identityPublic", "identityX25519Private", "identityX25519Public",
                 "signedPreKeyPublic", "signedPreKeySignature", "oneTimePreKeyPublic"}


def party_names(parties: dict) -> list[str]:
    return sorted({k.split(".", 1)[0] for k in parties})


def party_inputs(parties: dict, name: str) -> dict:
    return {k.split(".", 1)[1]: v for k, v in parties.items()
            if k.startswith(name + ".") and k.split(".", 1)[1] in PARTY_INPUTS}


def make_member(parties: dict, name: str, rng) -> cr.Member:
    i = party_inputs(parties, name)
    ident = cr.Identity(h(i["identitySeed"]))
    spk = cr.make_signed_prekey(ident, i["signedPreKeyId"], h(i["signedPreKeyPrivate"]))
    opk = cr.make_one_time_prekey(i["oneTimePreKeyId"], h(i["oneTimePreKeyPrivate"]))
    return cr.Member(ident, spk, [opk], rng)


def derive_party(inputs: dict) -> dict:
    ident = cr.Identity(h(inputs["identitySeed"]))
    spk = cr.make_signed_prekey(ident, inputs["signedPreKeyId"], h(inputs["signedPreKeyPrivate"]))
    opk = cr.make_one_time_prekey(inputs["oneTimePreKeyId"], h(inputs["oneTimePreKeyPrivate"]))
    # the signature must verify with the identity key (§5.2 initiator step 2)
    cr.ed25519_verify(ident.public, cr.LABEL_SPK + spk.public, spk.signature)
    # the two descriptions of Ed2X in §4.2 agree with libsodium
    assert cr.ed2x_private_by_formula(ident.seed) == ident.x25519_private
    assert cr.ed2x_public_by_formula(ident.public) == ident.x25519_public
    # X25519 of the converted private key gives the converted public key
    assert cr.x25519_public(ident.x25519_private) == ident.x25519_public
    acct = ident.account_id
    assert len(acct) == 32 and set(acct) <= set("abcdefghijklmnopqrstuvwxyz234567")
    return {
        "accountID": acct,
        "identityPublic": ident.public.hex(),
        "identityX25519Private": ident.x25519_private.hex(),
        "identityX25519Public": ident.x25519_public.hex(),
        "signedPreKeyPublic": spk.public.hex(),
        "signedPreKeySignature": spk.signature.hex(),
        "oneTimePreKeyPublic": opk.public.hex(),
    }


PARTY_CASES = [(doc, name) for doc, v in (("CR-0001", V1), ("CR-0002", V2))
               for name in party_names(v["parties"])]


@pytest.mark.parametrize("doc,name", PARTY_CASES, ids=[f"{d}-{n}" for d, n in PARTY_CASES])
def test_party(doc, name):
    parties = (V1 if doc == "CR-0001" else V2)["parties"]
    fields = {k.split(".", 1)[1]: v for k, v in parties.items() if k.startswith(name + ".")}
    unknown = set(fields) - PARTY_INPUTS - PARTY_DERIVED
    assert not unknown, f"unclassified party fields: {unknown}"
    derived = derive_party(party_inputs(parties, name))
    expected = {k: v for k, v in fields.items() if k in PARTY_DERIVED}
    assert derived == expected


def test_party_ids_in_conversation_match():
    """The same seeds appear in both files; they must give the same identities."""
    for name in party_names(V1["parties"]):
        a = derive_party(party_inputs(V1["parties"], name))
        b = derive_party(party_inputs(V2["parties"], name))
        assert a == b


# ---------------------------------------------------------------------------
# CR-0001 X3DH
# ---------------------------------------------------------------------------
X3DH_INPUTS = {"aliceEphemeralPrivate"}


def cr0001_members():
    """alice (initiator) and bob (responder) with their scripted random streams."""
    alice_random = [h(V1["x3dh"]["aliceEphemeralPrivate"])]
    bob_random = []
    for step in V1["conversation"]:
        if step["action"] == "send" and "dhStep" in step:
            (alice_random if step["actor"] == "alice" else bob_random).append(
                h(step["dhStep"]["ratchetPrivate"]))
    parties = V1["parties"]
    alice = make_member(parties, "alice", ScriptedRandom(alice_random))
    bob = make_member(parties, "bob", ScriptedRandom(bob_random))
    return alice, bob


def x3dh_dict(r: cr.X3DHResult) -> dict:
    out = {"associatedData": r.ad, "dh1": r.dh1, "dh2": r.dh2, "dh3": r.dh3,
           "kdfInputKeyMaterial": r.ikm, "sharedSecret": r.sk}
    if r.dh4 is not None:
        out["dh4"] = r.dh4
    return {k: v.hex() for k, v in out.items()}


def test_cr0001_x3dh_initiator():
    alice, bob = cr0001_members()
    # the bundle in the vectors carries the one-time prekey (heading of Appendix A "X3DH")
    bundle = bob.bundle(with_opk=party_inputs(V1["parties"], "bob")["oneTimePreKeyId"])
    _, result = alice.initiate(bob.account_id, bundle)
    mine = x3dh_dict(result)
    mine["aliceEphemeralPublic"] = result.base_key.hex()
    mine["aliceEphemeralPrivate"] = V1["x3dh"]["aliceEphemeralPrivate"]
    assert set(V1["x3dh"]) == set(mine), "unclassified x3dh fields"
    assert mine == V1["x3dh"]
    assert cr.x25519_public(h(V1["x3dh"]["aliceEphemeralPrivate"])) == result.base_key


def test_cr0001_x3dh_responder_agrees():
    _, bob = cr0001_members()
    alice_id = cr.Identity(h(V1["parties"]["alice.identitySeed"]))
    ek = h(V1["x3dh"]["aliceEphemeralPrivate"])
    spk = bob.spks[1]
    opk = next(iter(bob.opks.values()))
    r = cr.x3dh_respond(bob.identity, spk, opk, alice_id.public, cr.x25519_public(ek))
    expected = {k: v for k, v in V1["x3dh"].items() if k not in ("aliceEphemeralPrivate", "aliceEphemeralPublic")}
    assert x3dh_dict(r) == expected


def test_cr0001_bad_spk_signature_aborts_before_dh():
    alice, bob = cr0001_members()
    bundle = bob.bundle(with_opk=1)
    bundle.spk_signature = bytes([bundle.spk_signature[0] ^ 1]) + bundle.spk_signature[1:]
    with pytest.raises(cr.InvalidSignature):
        alice.initiate(bob.account_id, bundle)
    assert alice.rng.drawn == 0        # no ephemeral key drawn, so no DH was done


# ---------------------------------------------------------------------------
# CR-0001 conversation
# ---------------------------------------------------------------------------
STEP_META = {"action", "actor", "message"}


@pytest.fixture(scope="module")
def conversation():
    """Run the scripted conversation once; return (per-step traces, members)."""
    alice, bob = cr0001_members()
    members = {"alice": alice, "bob": bob}
    ids = {n: m.account_id for n, m in members.items()}
    bundle = bob.bundle(with_opk=party_inputs(V1["parties"], "bob")["oneTimePreKeyId"])
    alice.initiate(ids["bob"], bundle)
    wire: dict[str, tuple[str, bytes]] = {}
    traces = []
    for step in V1["conversation"]:
        actor = members[step["actor"]]
        peer = "bob" if step["actor"] == "alice" else "alice"
        if step["action"] == "send":
            encoded, trace = actor.send(ids[peer], h(step["plaintext"]))
            wire[step["message"]] = (step["actor"], encoded)
        elif step["action"] == "receive":
            sender, encoded = wire[step["message"]]     # bytes this implementation produced
            assert sender == peer
            _, trace = actor.receive(ids[peer], encoded)
            trace.pop("x3dh", None)
        else:
            raise AssertionError(f"unknown action {step['action']}")
        traces.append(flatten(trace))
    for m in members.values():
        m.rng.assert_exhausted()
    return traces, members, wire


@pytest.mark.parametrize("index", range(len(V1["conversation"])),
                         ids=[f"{i + 1}-{s['actor']}-{s['action']}-{s['message']}"
                              for i, s in enumerate(V1["conversation"])])
def test_cr0001_conversation_step(conversation, index):
    traces, _, _ = conversation
    step = V1["conversation"][index]
    expected = flatten({k: v for k, v in step.items() if k not in STEP_META})
    mine = traces[index]
    assert set(expected) == set(mine), (
        f"fields differ: only in vectors {set(expected) - set(mine)}, only here {set(mine) - set(expected)}")
    for key in sorted(expected):
        assert mine[key] == expected[key], key


def test_cr0001_vectors_wire_bytes_decrypt(conversation):
    """The receivers also accept the JSON's own encoded bytes (fresh run, JSON wire input)."""
    alice, bob = cr0001_members()
    members = {"alice": alice, "bob": bob}
    ids = {n: m.account_id for n, m in members.items()}
    alice.initiate(ids["bob"], bob.bundle(with_opk=1))
    sent = {}
    for step in V1["conversation"]:
        actor = members[step["actor"]]
        peer = "bob" if step["actor"] == "alice" else "alice"
        if step["action"] == "send":
            actor.send(ids[peer], h(step["plaintext"]))
            sent[step["message"]] = h(step["encoded"])
        else:
            pt, _ = actor.receive(ids[peer], sent[step["message"]])
            assert pt.hex() == step["plaintext"]


def test_cr0001_replays_are_duplicates():
    """Use case 5: every message delivered again is a duplicate and changes nothing."""
    alice, bob = cr0001_members()
    ids = {"alice": alice.account_id, "bob": bob.account_id}
    alice.initiate(ids["bob"], bob.bundle(with_opk=1))
    members = {"alice": alice, "bob": bob}
    delivered = []
    wire = {}
    for step in V1["conversation"]:
        actor = members[step["actor"]]
        peer = "bob" if step["actor"] == "alice" else "alice"
        if step["action"] == "send":
            wire[step["message"]] = actor.send(ids[peer], h(step["plaintext"]))[0]
        else:
            actor.receive(ids[peer], wire[step["message"]])
            delivered.append((step["actor"], peer, wire[step["message"]]))
    for receiver, peer, data in delivered:
        before = repr(members[receiver].sessions[ids[peer]][0].state)
        with pytest.raises(cr.Duplicate):
            members[receiver].receive(ids[peer], data)
        assert repr(members[receiver].sessions[ids[peer]][0].state) == before


def test_cr0001_tampering_changes_nothing():
    """Use case 6 on the first message: any flipped byte fails and creates no session."""
    alice, bob = cr0001_members()
    alice.initiate(bob.account_id, bob.bundle(with_opk=1))
    a1, _ = alice.send(bob.account_id, h(V1["conversation"][0]["plaintext"]))
    for pos in (1 + 1 + 32 + 32 + 9 + 3, len(a1) - 20, len(a1) - 1):   # header dh, ciphertext, tag
        bad = bytearray(a1)
        bad[pos] ^= 0x01
        with pytest.raises(cr.CatroomError):
            bob.receive(alice.account_id, bytes(bad))
        assert bob.sessions.get(alice.account_id, []) == [] and 1 in bob.opks
    with pytest.raises(cr.DecryptionFailed):
        bob.receive(alice.account_id, a1, context=b"\x00" * 32)
    pt, _ = bob.receive(alice.account_id, a1)
    assert pt == h(V1["conversation"][0]["plaintext"])


# ---------------------------------------------------------------------------
# CR-0002 fan-out
# ---------------------------------------------------------------------------
CR0002_INPUTS = {"description", "document", "parties", "sessions", "payloadKey", "messageID",
                 "ratchetPrivateKeys", "room", "kind", "plaintext"}
CR0002_DERIVED = {"aeadKey", "aeadNonce", "commitment", "sortedRecipients", "context", "digest",
                  "payload", "keyEntries"}


def test_cr0002_fields_classified():
    assert set(V2) == CR0002_INPUTS | CR0002_DERIVED


@pytest.fixture(scope="module")
def fanout():
    parties = V2["parties"]
    sessions = V2["sessions"]
    # alice's random stream: one X3DH ephemeral per session (in the order the
    # sessions are listed), then the seal's inputs in the order listed.
    stream = [h(s["aliceEphemeralPrivate"]) for s in sessions]
    stream += [h(V2["payloadKey"]), h(V2["messageID"])]
    stream += [h(r["private"]) for r in V2["ratchetPrivateKeys"]]
    alice = make_member(parties, "alice", ScriptedRandom(stream))
    peers = {}
    x3dh = {}
    for s in sessions:
        peer = make_member(parties, s["peer"], ScriptedRandom([]))
        peers[s["peer"]] = peer
        opk_id = party_inputs(parties, s["peer"])["oneTimePreKeyId"]
        _, result = alice.initiate(peer.account_id, peer.bundle(with_opk=opk_id))
        x3dh[s["peer"]] = result
    recipients = [p.account_id for p in peers.values()]
    random.Random(7).shuffle(recipients)       # the caller's order must not matter
    sealed = cr.seal(alice, V2["kind"], V2["room"], recipients, h(V2["plaintext"]))
    alice.rng.assert_exhausted()
    return alice, peers, x3dh, sealed


def test_cr0002_session_root_keys(fanout):
    _, _, x3dh, _ = fanout
    for s in V2["sessions"]:
        assert set(s) == {"peer", "aliceEphemeralPrivate", "rootKey"}
        assert x3dh[s["peer"]].sk.hex() == s["rootKey"], s["peer"]


def test_cr0002_payload_keys(fanout):
    *_, sealed = fanout
    assert sealed.payload_key.hex() == V2["payloadKey"]
    aead_key, aead_nonce, commitment = cr.payload_keys(h(V2["payloadKey"]))
    assert aead_key.hex() == V2["aeadKey"] == sealed.aead_key.hex()
    assert aead_nonce.hex() == V2["aeadNonce"] == sealed.aead_nonce.hex()
    assert commitment.hex() == V2["commitment"] == sealed.commitment.hex()


def test_cr0002_sorted_recipients(fanout):
    *_, sealed = fanout
    assert sealed.recipients == V2["sortedRecipients"]


def test_cr0002_context_and_digest(fanout):
    *_, sealed = fanout
    assert sealed.context.hex() == V2["context"]
    assert sealed.digest.hex() == V2["digest"]
    assert cr.digest(sealed.context).hex() == V2["digest"]


def test_cr0002_context_independent_of_presented_order(fanout):
    alice, _, _, sealed = fanout
    for seed in range(5):
        shuffled = list(sealed.recipients)
        random.Random(seed).shuffle(shuffled)
        ctx = cr.build_context(V2["kind"], V2["room"], alice.account_id, h(V2["messageID"]),
                               shuffled, h(V2["commitment"]))
        assert ctx == sealed.context


def test_cr0002_payload(fanout):
    *_, sealed = fanout
    assert sealed.payload.hex() == V2["payload"]


@pytest.mark.parametrize("index", range(len(V2["keyEntries"])),
                         ids=[e["recipient"] for e in V2["keyEntries"]])
def test_cr0002_key_entry(fanout, index):
    alice, peers, x3dh, sealed = fanout
    entry = V2["keyEntries"][index]
    assert set(entry) == {"recipient", "encoded"}
    # entries are listed in sorted recipient order
    assert entry["recipient"] == sealed.recipients[index]
    mine = sealed.entries[entry["recipient"]]
    assert mine.hex() == entry["encoded"]
    # structure: an initial message (§5.5) from alice with the X3DH prekey fields,
    # carrying the 32-byte payload key, AD = AD_x3dh || header_bytes || digest
    msg = cr.parse_message(mine)
    peer_name = next(n for n, p in peers.items() if p.account_id == entry["recipient"])
    r = x3dh[peer_name]
    assert msg.msg_type == cr.TYPE_INITIAL
    assert msg.prekey == cr.PrekeyFields(alice.identity.public, r.base_key, r.spk_id, r.opk_id)
    assert (msg.pn, msg.n) == (0, 0)
    assert len(mine) == 115 + 32 + 16       # CR-0002 §7.3: 163 bytes with a one-time prekey
    # recompute the entry by hand from the session's first sending step
    rk, ck = cr.kdf_rk(r.sk, cr.dh(next(h(x["private"]) for x in V2["ratchetPrivateKeys"]
                                        if x["peer"] == peer_name), peers[peer_name].spks[r.spk_id].public))
    _, mk = cr.kdf_ck(ck)
    ad = r.ad + msg.header_bytes + h(V2["digest"])
    assert cr.decrypt(mk, msg.ciphertext, ad) == h(V2["payloadKey"])


@pytest.mark.parametrize("name", [s["peer"] for s in V2["sessions"]])
def test_cr0002_recipient_opens(name):
    """Each recipient opens the JSON's wire values (its own entry only) per §5.4."""
    parties = V2["parties"]
    alice_id = cr.Identity(h(parties["alice.identitySeed"])).account_id
    me = make_member(parties, name, ScriptedRandom([]))
    entry = next(e for e in V2["keyEntries"] if e["recipient"] == me.account_id)
    presented = list(V2["sortedRecipients"])[::-1]      # a relay may present any order
    args = (alice_id, V2["kind"], V2["room"], h(V2["messageID"]), presented,
            h(V2["commitment"]), h(V2["payload"]), h(entry["encoded"]))
    # negative cases first: each must fail and keep no state
    other = next(e for e in V2["keyEntries"] if e["recipient"] != me.account_id)
    bad_cases = [
        (alice_id, 2 if V2["kind"] == 1 else 1) + args[2:],                        # kind changed
        args[:2] + ("other@rooms.example.org",) + args[3:],                         # moved
        args[:4] + ([r for r in presented if r == me.account_id],) + args[5:],      # recipients dropped
        args[:7] + (h(other["encoded"]),),                                          # another's entry
        args[:6] + (h(V2["payload"])[:-1] + bytes([h(V2["payload"])[-1] ^ 1]),) + args[7:],  # payload
    ]
    for bad in bad_cases:
        with pytest.raises(cr.CatroomError):
            cr.open_message(me, *bad)
        assert me.sessions.get(alice_id, []) == [] and 1 in me.opks
    plaintext = cr.open_message(me, *args)
    assert plaintext.hex() == V2["plaintext"]
    assert len(me.sessions[alice_id]) == 1 and 1 not in me.opks
    with pytest.raises(cr.Duplicate):                   # replay
        cr.open_message(me, *args)


def test_cr0002_recipients_open_sealed(fanout):
    """And each recipient opens what this implementation sealed (same bytes, separate path)."""
    alice, _, _, sealed = fanout
    parties = V2["parties"]
    for s in V2["sessions"]:
        me = make_member(parties, s["peer"], ScriptedRandom([]))
        pt = cr.open_message(me, alice.account_id, sealed.kind, sealed.room, sealed.message_id,
                             sealed.recipients, sealed.commitment, sealed.payload,
                             sealed.entries[me.account_id])
        assert pt == h(V2["plaintext"])


# ---------------------------------------------------------------------------
# The documents' Appendix A and the JSON files hold the same values
# ---------------------------------------------------------------------------
def _appendix_values(md_name: str) -> tuple[list[str], str]:
    import re
    text = (XEP / md_name).read_text()
    body = text.split("<!-- vectors:begin -->")[1].split("<!-- vectors:end -->")[0]
    values = []
    for block in re.findall(r"```\n(.*?)```", body, re.S):
        current = None
        for line in block.splitlines():
            if not line.strip():
                continue
            if line[0] != " ":
                if current:
                    values.append(current)
                m = re.match(r"(\S+(?: \([a-z]+\))?)\s+(.*)$", line)
                current = [m.group(1), m.group(2).strip()]
            else:
                current[1] += line.strip()          # continuation of a wrapped value
        if current:
            values.append(current)
    out = []
    for key, value in values:
        out += [x.strip() for x in value.split(",")] if key == "sortedRecipients" else [value]
        if key.endswith(")"):                      # "ratchetPrivate (carol)": the JSON's "peer"
            out.append(key.split("(")[1].rstrip(")"))
    return out, body


def _json_scalars(obj, skip=("description", "document", "action", "actor", "message")):
    out = []
    items = obj.items() if isinstance(obj, dict) else enumerate(obj)
    for k, v in items:
        if k in skip:
            continue
        out += _json_scalars(v, skip) if isinstance(v, (dict, list)) else [str(v)]
    return out


@pytest.mark.parametrize("md_name,vectors", [("CR-0001-sessions.md", V1), ("CR-0002-fanout.md", V2)],
                         ids=["CR-0001", "CR-0002"])
def test_appendix_matches_json(md_name, vectors):
    import re
    from collections import Counter
    md_vals, body = _appendix_values(md_name)
    assert Counter(md_vals) == Counter(_json_scalars(vectors))
    if "conversation" in vectors:
        headings = re.findall(r"\*\*\d+\. (\w+) (sends|receives) (\w+)\*\*", body)
        script = [(s["actor"], s["action"] + "s", s["message"]) for s in vectors["conversation"]]
        assert headings == script
