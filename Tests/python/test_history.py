"""Message history in a profile (docs/profile-format.md §3.4-3.5, docs/user-guide.md "History")
with real processes and real files: it comes back on rejoin before the separator, in order;
`catroom history` prints it; the files show no text, room or name; retention deletes what
is older; a profile without history writes none."""

from __future__ import annotations

import json
import sqlite3
import subprocess

import pytest

import profile_reader
from catroom_processes import WAIT, Client, Server, binary
from test_profiles import PASSPHRASE, Home, readable


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("history"), trace=False)
    yield server
    server.stop()


@pytest.fixture
def home(tmp_path):
    return Home(tmp_path)


def create(home: Home, name: str, *options: str) -> None:
    result = home.profile("create", name, "--test-kdf-limits", *options)
    assert result.returncode == 0, result.stderr


def history(home: Home, *arguments: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([binary(), "history", *arguments], env=env or home.env, capture_output=True, text=True, timeout=3 * WAIT)


def rows(home: Home, name: str) -> int:
    with sqlite3.connect(f"file:{home.path(name)}?mode=ro", uri=True) as db:
        return db.execute("SELECT count(*) FROM history").fetchone()[0]


def joined(home: Home, server: Server, nick: str, profile: str | None, room: str, env: dict | None = None) -> Client:
    client = Client(server, nick, room, *(("--profile", profile) if profile else ()), env=env or home.env)
    client.ready()
    return client


def meet(a: Client, b: Client) -> None:
    for one, other in ((a, b), (b, a)):
        one.wait_for(f"{other.nick}'s key", lambda e: e["event"] in ("member-joined", "member-present", "member-reconnected")
                     and e["member"]["nick"] == other.nick)


def texts(event: dict) -> list[tuple[str, str, str]]:
    return [(entry["kind"], entry["nick"], entry["text"]) for entry in event["entries"]]


def test_history_comes_back_on_rejoin_before_the_live_messages(server, home):
    create(home, "alice", "--history")
    create(home, "bob", "--history", "--keep", "30d")
    room = "archive"
    alice = joined(home, server, "alice", "alice", room)
    bob = None
    try:
        assert not any(e["event"] == "history" for e in alice.events)
        bob = joined(home, server, "bob", "bob", room)
        meet(alice, bob)
        alice.send("the plan is at noon")
        bob.received("the plan is at noon")
        bob.send("/me nods slowly")
        alice.received("nods slowly")
        bob.send("/msg alice meet me by the fountain")
        alice.received("meet me by the fountain", private=True)
        alice.send("/msg bob bring the umbrella")
        bob.received("bring the umbrella", private=True)
        bob.send("and the cake")
        alice.received("and the cake")
    finally:
        for client in (alice, bob):
            if client is not None:
                assert client.quit() == 0

    # Nothing readable in the files: texts, the room, the peers' names, fingerprints.
    for name in ("alice", "bob"):
        data = b"".join(home.files(name).values())
        for text in ("the plan", "nods slowly", "fountain", "umbrella", "cake", "archive", "alice", "bob"):
            assert not readable(data, text), (name, text)
    assert rows(home, "alice") == 5 and rows(home, "bob") == 5

    room_history = [("message", "alice", "the plan is at noon"), ("action", "bob", "nods slowly"), ("message", "bob", "and the cake")]
    alice = joined(home, server, "alice", "alice", room)
    bob = None
    try:
        shown = alice.wait_for("the stored history", lambda e: e["event"] == "history")
        assert shown["room"] == f"{room}@rooms.localhost" and shown["with"] is None, shown
        assert texts(shown) == room_history, shown
        # Before anything live.
        assert alice.events.index(shown) < next(i for i, e in enumerate(alice.events) if e["event"] == "connected")
        bob = joined(home, server, "bob", "bob", room)
        meet(alice, bob)
        alice.send("/query bob")
        private = alice.wait_for("the private history", lambda e: e["event"] == "history" and e["with"] is not None)
        assert private["with"]["nick"] == "bob" and texts(private) == [
            ("private-in", "bob", "meet me by the fountain"), ("private-out", "alice", "bring the umbrella")], private
        assert private["with"]["fingerprint"] == private["entries"][0]["fingerprint"]
    finally:
        for client in (alice, bob):
            if client is not None:
                assert client.quit() == 0

    printed = history(home, room, "--profile", "alice", "--json")
    assert printed.returncode == 0, printed.stderr
    event = json.loads(printed.stdout)
    assert event["event"] == "history" and texts(event)[:3] == room_history, event
    plain = history(home, room, "--profile", "alice")
    assert plain.returncode == 0 and "<alice> \u2068the plan is at noon\u2069" in plain.stdout, plain.stdout
    assert "* bob \u2068nods slowly\u2069" in plain.stdout, plain.stdout
    private = history(home, "--private", "bob", "--profile", "alice", "--json")
    assert private.returncode == 0 and [e["text"] for e in json.loads(private.stdout)["entries"]] == [
        "meet me by the fountain", "bring the umbrella"], private

    # The independent reader opens every row from the format document alone.
    key, conversations = profile_reader.read_history(home.path("alice"), PASSPHRASE)
    stored = conversations[profile_reader.room_handle(key, f"{room}@rooms.localhost")]
    assert [(entry.name, entry.text) for entry in stored] == [(nick, text) for _, nick, text in room_history]
    assert profile_reader.settings(home.path("alice"), PASSPHRASE) == (True, None)
    assert profile_reader.settings(home.path("bob"), PASSPHRASE) == (True, 30 * 86400)

    deleted = history(home, room, "--profile", "alice", "--delete")
    assert deleted.returncode == 0 and "deleted" in deleted.stdout, deleted
    gone = history(home, room, "--profile", "alice")
    assert gone.returncode == 5 and "keeps no history of" in gone.stderr, gone


def test_a_join_straight_back_shows_every_message_received_before_the_part(server, home):
    create(home, "alice", "--history")
    room = "straight-back"
    alice = joined(home, server, "alice", "alice", room)
    bob = Client(server, "bob", room)
    try:
        bob.ready()
        meet(alice, bob)
        # Another room keeps the connection when alice leaves this one.
        alice.send("/join elsewhere")
        alice.wait_for("the other room", lambda e: e["event"] == "ready" and e["room"].startswith("elsewhere@"))
        alice.send(f"/buffer {room}")
        said = [f"line {n}" for n in range(30)]
        for text in said:
            bob.send(text)
        alice.received(said[-1])
        # The last entries may still be queued for writing when the rejoin reads them.
        alice.send("/part")
        alice.send(f"/join {room}")
        shown = alice.wait_for("the history on rejoin", lambda e: e["event"] == "history" and e["room"].startswith(room))
        assert [text for _, _, text in texts(shown)] == said, shown
    finally:
        assert alice.quit() == 0
        bob.quit()


def test_a_profile_without_history_writes_none(server, home):
    create(home, "plain")
    partner = None
    client = joined(home, server, "carol", "plain", "quiet")
    try:
        partner = joined(home, server, "dave", None, "quiet")
        meet(client, partner)
        client.send("not for the record")
        partner.received("not for the record")
    finally:
        for one in (client, partner):
            if one is not None:
                assert one.quit() == 0
    assert rows(home, "plain") == 0
    assert not any(e["event"] == "history" for e in client.events)
    refused = history(home, "quiet", "--profile", "plain")
    assert refused.returncode == 5 and "keeps no history" in refused.stderr and "--history on" in refused.stderr, refused
    shown = home.profile("show", "plain")
    assert "history:     history off" in shown.stdout, shown.stdout


def test_retention_deletes_what_is_older_than_the_keep(server, home):
    create(home, "erin", "--history", "--keep", "1h")
    earlier = {**home.env, "CATROOM_TEST_CLOCK_SHIFT": "-7200"}
    # A new partner each time: a name back with another key would be flagged.
    for env, text, other in ((earlier, "two hours ago", "frank"), (home.env, "just now", "gwen")):
        client = joined(home, server, "erin", "erin", "kept", env=env)
        partner = None
        try:
            partner = joined(home, server, other, None, "kept")
            meet(client, partner)
            client.send(text)
            partner.received(text)
        finally:
            for one in (client, partner):
                if one is not None:
                    assert one.quit() == 0
    # The second start deleted the older row: it was more than an hour old by then.
    assert rows(home, "erin") == 1
    printed = history(home, "kept", "--profile", "erin", "--json")
    assert printed.returncode == 0 and [e["text"] for e in json.loads(printed.stdout)["entries"]] == ["just now"], printed
    later = history(home, "kept", "--profile", "erin", env={**home.env, "CATROOM_TEST_CLOCK_SHIFT": "3700"})
    assert later.returncode == 5 and "keeps no history of kept@rooms.localhost" in later.stderr, later
    assert rows(home, "erin") == 0


def test_profile_set_turns_history_on_and_off(home):
    create(home, "gil")
    on = home.profile("set", "gil", "--history", "on", "--keep", "12h")
    assert on.returncode == 0 and "history on, kept 12h" in on.stdout, on
    assert "history on, kept 12h" in home.profile("show", "gil").stdout
    off = home.profile("set", "gil", "--history", "off")
    assert off.returncode == 0 and "history off" in off.stdout, off
    bad = home.profile("set", "gil", "--keep", "3w")
    assert bad.returncode == 64 and "--keep" in bad.stderr, bad
    assert home.profile("create", "hal", "--keep", "1d", "--test-kdf-limits").returncode == 64


def test_the_documents_history_vector_opens_with_the_independent_reader():
    """docs/profile-format.md §6, history rows: recomputed from the document with PyNaCl."""
    master = bytes(range(0x40, 0x60))
    conversation_key, row_key = profile_reader.subkey(master, 1, b"profconv"), profile_reader.subkey(master, 1, b"profrows")
    room = profile_reader.room_handle(conversation_key, "lobby@rooms.localhost")
    assert room.hex() == "f0a8f9f6efd778b823dddd652fe483fb315a67a63533a3ef40521d69975bfeee"
    box = bytes.fromhex(
        "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7471761c6e286e3282cce1cb7bbb2e22c71d7f1541ec5b5ddde26472d1c80c2f3"
        "da380b4ee5be8f687ef8e7d0deb3776f577310672a48d23b06d460c6b15dbfc5d54346086224e323b600b68028a42612")
    entry = profile_reader.decode_history(profile_reader.open_box(
        box, row_key, profile_reader.associated_data("history", (1).to_bytes(8, "big") + room)))
    assert (entry.kind, entry.time, entry.name, entry.text) == (1, 1_790_000_000, "alice", "hello")
    assert profile_reader.fingerprint(entry.sender).startswith("4fd099cc")
    peer = profile_reader.conversation_handle(conversation_key, 2, entry.sender)
    with pytest.raises(Exception):
        profile_reader.open_box(box, row_key, profile_reader.associated_data("history", (1).to_bytes(8, "big") + peer))
