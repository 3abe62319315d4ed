"""End to end on loopback: a real `catroom serve` and real `catroom join --json`
processes, over TLS with a pinned certificate.

alice and bob talk; carol joins late and reads only what follows; a side chat
carol never sees; carol leaves and comes back. Throughout, a wire tap behind the
server's TLS records every byte it reads and writes, and neither that nor the
server's own trace log may contain any display name or message text.
"""

from __future__ import annotations

import re
import secrets
import subprocess
import time

import pytest

from catroom_processes import WAIT, Client, Server, binary

# Markers that must never reach the server: unusual enough not to appear by chance.
TAG = secrets.token_hex(4)
NICKS = {name: f"Quokka{name.capitalize()}{TAG}" for name in ("alice", "bob", "carol")}


def said(name: str, n: int) -> str:
    return f"Marmoset says {name} {n} {TAG}"


@pytest.fixture
def server(tmp_path):
    server = Server(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def people(server):
    started: list[Client] = []

    def join(name: str) -> Client:
        client = Client(server, NICKS[name])
        started.append(client)
        return client

    yield join
    for client in started:
        client.quit()


def nick_of(event: dict) -> str:
    return event["member"]["nick"] if "member" in event else event["from"]["nick"]


def test_three_members_in_every_direction_with_a_late_joiner_a_side_chat_and_a_rejoin(server, people):
    alice = people("alice")
    alice.ready()
    bob = people("bob")
    bob.ready()
    alice.wait_for("bob joining", lambda e: e["event"] == "member-joined" and nick_of(e) == NICKS["bob"])
    # alice was there before bob: to him she is present, not joining (CR-0006 §5.9).
    bob.wait_for("alice present", lambda e: e["event"] == "member-present" and nick_of(e) == NICKS["alice"])
    assert not [e for e in bob.events if e["event"] == "member-joined"], bob.events

    # alice and bob, both ways.
    alice.send(said("alice", 1))
    assert bob.received(said("alice", 1))["from"]["nick"] == NICKS["alice"]
    bob.send(said("bob", 2))
    assert alice.received(said("bob", 2))["from"]["nick"] == NICKS["bob"]

    # carol joins late: she reads what follows, never what came before.
    carol = people("carol")
    carol.ready()
    for earlier in (alice, bob):
        earlier.wait_for("carol joining", lambda e: e["event"] == "member-joined" and nick_of(e) == NICKS["carol"])
    alice.send(said("alice", 3))
    for reader in (bob, carol):
        message = reader.received(said("alice", 3))
        assert message["missing"] == [] and message["unknown"] == [], message
    carol.send(said("carol", 4))
    alice.received(said("carol", 4))
    bob.received(said("carol", 4))
    bob.send(said("bob", 5))
    alice.received(said("bob", 5))
    carol.received(said("bob", 5))
    assert said("alice", 1) not in carol.texts() and said("bob", 2) not in carol.texts()

    # A side chat: bob reads it, carol never sees it.
    alice.send(f"/msg {NICKS['bob']} {said('alice', 'privately')}")
    assert bob.received(said("alice", "privately"), private=True)["private"] is True
    bob.send(f"/msg {NICKS['alice']} {said('bob', 'privately')}")
    alice.received(said("bob", "privately"), private=True)
    carol.drain(0.5)
    assert not any("privately" in text for text in carol.texts())

    # bob opens a side chat with carol: it follows her key (CR-0006 §5.4).
    bob.send(f"/query {NICKS['carol']}")
    assert bob.wait_for("the query", lambda e: e["event"] == "query")["target"] == NICKS["carol"]

    # carol leaves; the others see it; she comes back with a fresh identity and reads on.
    old_fingerprint = next(e for e in carol.events if e["event"] == "connected")["me"]["fingerprint"]
    assert carol.quit() == 0
    for remaining in (alice, bob):
        remaining.wait_for("carol leaving", lambda e: e["event"] == "member-left" and nick_of(e) == NICKS["carol"])
    bob.wait_for("the query's member left", lambda e: e["event"] == "error" and "whom your /query sends to, left" in e["text"])
    carol_again = people("carol")
    carol_again.ready()
    # Her name with a new key: the newcomer's suffix, and a warning naming both keys (§5.10).
    joined = alice.wait_for("carol rejoining", lambda e: e["event"] == "member-joined"
                            and nick_of(e).startswith(NICKS["carol"]) and e["member"]["fingerprint"] != old_fingerprint)
    assert nick_of(joined) == NICKS["carol"] + "#" + joined["member"]["fingerprint"][:8]
    reused = alice.wait_for("the name reused", lambda e: e["event"] == "name-reused")
    assert reused["name"] == NICKS["carol"] and reused["previous"] == old_fingerprint
    assert reused["member"]["fingerprint"] == joined["member"]["fingerprint"]
    # bob's side chat was with the old key: nothing goes to the newcomer.
    bob.wait_for("carol rejoining", lambda e: e["event"] == "member-joined" and nick_of(e).startswith(NICKS["carol"])
                 and e["member"]["fingerprint"] != old_fingerprint)
    bob.send(said("bob", "for the old carol"))
    assert "nothing was sent" in bob.wait_for("the refusal", lambda e: e["event"] == "error" and "left the room" in e["text"])["text"]
    bob.send("/query")
    bob.wait_for("back to the room", lambda e: e["event"] == "query" and e["target"] is None)
    alice.send(said("alice", 6))
    carol_again.received(said("alice", 6))
    bob.received(said("alice", 6))
    carol_again.send(said("carol", 7))
    alice.received(said("carol", 7))
    bob.received(said("carol", 7))

    assert not any("for the old carol" in text for text in carol_again.texts())

    # Nothing undecryptable anywhere.
    for client in (alice, bob, carol_again):
        assert not [e for e in client.drain(0.2) if e["event"] == "undecryptable"], client.events

    # The server never saw a display name or a message text: not on the wire, not in its log.
    for client in (alice, bob, carol_again):
        client.quit()
    assert server.stop() == 0
    tap = server.tap_path.read_bytes()
    log = server.log_path.read_bytes()
    assert len(tap) > 10_000, "the wire tap recorded nothing: the test would prove nothing"
    assert b"<encrypted" in tap and b"<recipient" in tap, "the tap does not see the stanzas"
    for marker in list(NICKS.values()) + ["Marmoset", TAG]:
        assert marker.encode() not in tap, f"{marker!r} reached the server in the clear"
        assert marker.encode() not in log, f"{marker!r} is in the server's log"


def latest_safety(client: Client, members: int) -> str:
    """The newest `safety` event's code, once it covers `members` (bounded wait)."""
    deadline = time.monotonic() + WAIT
    while True:
        codes = [e for e in client.drain(0.1) if e["event"] == "safety"]
        if codes and codes[-1]["members"] == members:
            return codes[-1]["code"]
        assert time.monotonic() < deadline, f"{client.nick}: no safety code over {members} members; last: {codes[-1:]}"


def test_every_member_prints_the_same_safety_code(server, people):
    """CR-0007: one code per room, the same for all; it follows joins and leaves."""
    alice = people("alice")
    alice.ready()
    alone = latest_safety(alice, 1)
    bob = people("bob")
    bob.ready()
    carol = people("carol")
    carol.ready()
    three = latest_safety(alice, 3)
    assert re.fullmatch(r"\d{5}( \d{5}){7}", three), three
    assert latest_safety(bob, 3) == three and latest_safety(carol, 3) == three
    for client in (alice, bob, carol):
        client.send("/who")
        assert client.wait_for("the member list", lambda e: e["event"] == "members")["safety"] == three
    assert carol.quit() == 0
    two = latest_safety(alice, 2)
    assert latest_safety(bob, 2) == two and len({alone, two, three}) == 3
    before = {id(e) for e in bob.drain(0.1)}
    bob.send("/safety")
    answer = bob.wait_for("/safety's answer", lambda e: e["event"] == "safety" and id(e) not in before)
    assert answer == {"event": "safety", "code": two, "members": 2}


@pytest.mark.parametrize("flags", [["--max-stanza-bytes", "12000"], ["--max-stanza-bytes", "16713"], ["--max-occupants", "0"]])
def test_serve_refuses_limits_that_cannot_hold_a_room(tmp_path, flags):
    # CR-0005 §6.3: a stanza must hold a 16 KiB payload and one key per occupant.
    done = subprocess.run([binary(), "serve", "--port", "0", "--data-dir", str(tmp_path), *flags],
                          capture_output=True, text=True, timeout=10)
    assert done.returncode == 64, done.stderr
    assert "CR-0005 §6.3" in done.stderr
