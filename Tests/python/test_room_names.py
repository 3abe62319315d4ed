"""Room names (CR-0005 §3.1) through real processes, and the document's vectors.

`catroom join` refuses a name without a canonical form before connecting, and
`/join` refuses it without leaving the room; `Lobby` joins `lobby`, says so, and
talks with members who typed `lobby`. The vectors of CR-0005 Appendix A are checked
against a second implementation written from §3.1 alone.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from catroom_processes import WAIT, Client, Server, binary

XEP = Path(__file__).resolve().parents[2] / "xep"
RULE = ("room names are 1 to 64 characters: lowercase letters a-z, digits 0-9, '-', '_' and '.', "
        "starting with a letter or digit")


@pytest.fixture
def server(tmp_path):
    server = Server(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def people(server):
    started: list[Client] = []

    def join(nick: str, room: str) -> Client:
        client = Client(server, nick, room)
        started.append(client)
        return client

    yield join
    for client in started:
        client.quit()


@pytest.mark.parametrize("room, problem", [
    ("my room", "cannot contain a space"),
    ("", "cannot be empty"),
    ("a@b", "cannot contain '@'"),
    ("r" * 65, "cannot have 65 characters"),
    ("café", "cannot contain U+00E9"),
])
def test_join_refuses_a_name_without_a_canonical_form(server, room, problem):
    # stdin stays open, so the client would get as far as joining if nothing stopped it.
    process = subprocess.Popen(
        [binary(), "join", room, "--nick", "alice", "--server", "127.0.0.1", "--domain", "localhost",
         "--port", str(server.port), "--pin", server.fingerprint, "--json"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        process.wait(timeout=WAIT)
    except subprocess.TimeoutExpired:
        process.kill()
    out, err = process.communicate()
    assert process.returncode == 64, f"exit {process.returncode}\nstdout: {out}\nstderr: {err}"
    assert f"cannot join: a room name {problem}; {RULE}" in err
    assert out == ""


def test_slash_join_refuses_a_bad_name_and_stays_in_the_room(people):
    alice, bob = people("alice", "lobby"), people("bob", "lobby")
    alice.ready()
    bob.ready()
    alice.wait_for("bob joining", lambda e: e["event"] in ("member-joined", "member-present") and e["member"]["nick"] == "bob")
    alice.send("/join my room")
    error = alice.wait_for("the refusal", lambda e: e["event"] == "error")
    assert error["text"] == f"cannot join: a room name cannot contain a space; {RULE}"
    alice.send("still in the lobby")
    bob.received("still in the lobby")
    assert alice.process.poll() is None


def test_lobby_and_LOBBY_typed_are_the_room_lobby(server, people):
    alice, bob = people("alice", "Lobby"), people("bob", "lobby")
    notice = alice.wait_for("the notice", lambda e: e["event"] == "notice")
    assert notice["text"] == "joining lobby: room names are lowercase"
    assert alice.wait_for("joined", lambda e: e["event"] == "joined")["room"] == "lobby@rooms.localhost"
    alice.ready()
    bob.ready()
    alice.wait_for("bob joining", lambda e: e["event"] in ("member-joined", "member-present") and e["member"]["nick"] == "bob")
    alice.send("typed Lobby")
    bob.received("typed Lobby")
    bob.send("typed lobby")
    alice.received("typed lobby")

    # /join folds too: carol comes over from another room.
    carol = people("carol", "side")
    carol.ready()
    carol.send("/join LOBBY")
    carol.wait_for("the notice", lambda e: e["event"] == "notice" and e["text"] == "joining lobby: room names are lowercase")
    carol.wait_for("joined", lambda e: e["event"] == "joined" and e["room"] == "lobby@rooms.localhost")
    alice.wait_for("carol joining", lambda e: e["event"] == "member-joined" and e["member"]["nick"] == "carol")
    alice.send("welcome carol")
    carol.received("welcome carol")

    for client in (alice, bob, carol):
        bad = [e for e in client.drain(0.2) if e["event"] in ("undecryptable", "error")]
        assert not bad, client.nick
    for client in (alice, bob, carol):
        client.quit()
    server.stop()
    tap = server.tap_path.read_bytes()
    assert b"lobby@rooms.localhost" in tap
    assert b"Lobby@" not in tap and b"LOBBY@" not in tap, "a typed spelling reached the wire"


# ---------------------------------------------------------------------------
# CR-0005 Appendix A, recomputed from §3.1 alone
# ---------------------------------------------------------------------------
VECTORS = json.loads((XEP / "CR-0005-vectors.json").read_text())["rooms"]


def canonical_address(name: str, domain: str) -> str:
    """CR-0005 §3.1, written from the document: the address, or the error and its character."""
    service = ("rooms." + domain).lower().removesuffix(".")
    if not re.fullmatch(r"[a-z0-9-]{1,63}(\.[a-z0-9-]{1,63})*", service):
        return "invalid-domain"
    if name == "":
        return "empty"
    folded = ""
    for character in name:
        if "A" <= character <= "Z":
            character = character.lower()
        elif not re.fullmatch(r"[a-z0-9_.-]", character):
            return f"disallowed-character U+{ord(character):04X}"
        folded += character
    if not re.fullmatch(r"[a-z0-9]", folded[0]):
        return f"bad-first-character U+{ord(folded[0]):04X}"
    if len(folded) > 64:
        return "too-long"
    return f"{folded}@{service}"


def expected(case: dict) -> str:
    return case.get("address") or " ".join(filter(None, [case["error"], case.get("character")]))


@pytest.mark.parametrize("case", VECTORS, ids=lambda case: json.dumps(case["name"]) + " " + case["domain"])
def test_vector_agrees_with_the_document(case):
    assert canonical_address(case["name"], case["domain"]) == expected(case)


def test_appendix_shows_the_vectors():
    document = (XEP / "CR-0005-rooms.md").read_text()
    table = re.search(r"<!-- vectors:begin -->\n(.*)\n<!-- vectors:end -->", document, re.S).group(1).splitlines()[2:]
    rows = [re.fullmatch(r"\| `(.*)` \| `(.*)` \| `?(.*?)`? \|", row).groups() for row in table]
    assert rows == [(json.dumps(c["name"]), c["domain"], expected(c)) for c in VECTORS]
