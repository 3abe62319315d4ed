"""Profiles (docs/profile-format.md, docs/user-guide.md "Profiles") with real processes and
real files: verification that survives a restart, a name reused by a newcomer flagged
across runs, nothing readable in the files, kill -9, one process per profile, a wrong
passphrase, damage, and the `catroom profile` commands."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

import profile_reader
from catroom_processes import WAIT, Client, Server, binary, join_until_exit

PASSPHRASE = b"correct horse battery staple"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("profiles"), trace=False)
    yield server
    server.stop()


class Home:
    """A data directory with profiles and the passphrase file the processes read."""

    def __init__(self, root: Path):
        self.root = root
        self.passphrase_file = root / "passphrase"
        self.passphrase_file.write_bytes(PASSPHRASE + b"\n")
        self.env = {**os.environ, "XDG_DATA_HOME": str(root / "data"), "XDG_CONFIG_HOME": str(root / "config"),
                    "CATROOM_PASSPHRASE_FILE": str(self.passphrase_file)}
        self.env.pop("CATROOM_PROFILE", None)

    def profile(self, *arguments: str, env: dict | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([binary(), "profile", *arguments], env=env or self.env, capture_output=True, text=True,
                              input=stdin, timeout=3 * WAIT)

    def create(self, name: str) -> None:
        result = self.profile("create", name, "--test-kdf-limits")
        assert result.returncode == 0, result.stderr

    def path(self, name: str) -> Path:
        return self.root / "data" / "catroom" / "profiles" / f"{name}.db"

    def files(self, name: str) -> dict[str, bytes]:
        path = self.path(name)
        return {suffix: Path(f"{path}{suffix}").read_bytes() for suffix in ("", "-wal", "-shm") if Path(f"{path}{suffix}").exists()}

    def client(self, server: Server, nick: str, profile: str | None, room: str = "lobby") -> Client:
        extra = ("--profile", profile) if profile else ()
        return Client(server, nick, room, *extra, env=self.env)

    def with_passphrase(self, passphrase: bytes) -> dict:
        other = self.root / "other-passphrase"
        other.write_bytes(passphrase + b"\n")
        return {**self.env, "CATROOM_PASSPHRASE_FILE": str(other)}


@pytest.fixture
def home(tmp_path):
    return Home(tmp_path)


def member_event(client: Client, nick: str, *kinds: str) -> dict:
    return client.wait_for(f"{nick} with a key", lambda e: e["event"] in kinds and e["member"]["nick"] == nick)


def readable(data: bytes, text: str) -> bool:
    """`text` in UTF-8, UTF-16LE or UTF-16BE anywhere in `data`, as `strings` would find it and more."""
    return any(text.encode(encoding) in data for encoding in ("utf-8", "utf-16-le", "utf-16-be"))


def test_verification_survives_a_restart_and_a_newcomer_with_the_name_is_flagged(server, home):
    home.create("alice")
    home.create("bob")
    room = "verified"
    alice = home.client(server, "alice", "alice", room)
    bob = None
    try:
        alice.ready()
        bob = home.client(server, "bob", "bob", room)
        bob.ready()
        member_event(alice, "bob", "member-joined")
        member_event(bob, "alice", "member-present")
        alice_fingerprint = alice.events[1]["me"]["fingerprint"]
        bob_fingerprint = bob.events[1]["me"]["fingerprint"]
        alice.send("/verify bob")
        bob.send("/verify alice")
        alice.wait_for("the verification", lambda e: e["event"] == "notice" and e.get("command") == "verify")
        bob.wait_for("the verification", lambda e: e["event"] == "notice" and e.get("command") == "verify")
        bob.send("the secret plan is at noon")
        alice.received("the secret plan is at noon")
        # Written through while the clients run: the -wal and -shm count too.
        for name in ("alice", "bob"):
            data = b"".join(home.files(name).values())
            for text in ("alice", "bob", "the secret plan", alice_fingerprint.replace(" ", ""), bob_fingerprint.replace(" ", "")):
                assert not readable(data, text), (name, text)
    finally:
        for client in (alice, bob):
            if client is not None:
                assert client.quit() == 0

    # Bob comes back first, with the same key; someone else takes alice's name with
    # another key: flagged from the profile alone.
    bob = home.client(server, "bob", "bob", room)
    alice = carol = None
    try:
        bob.ready()
        assert bob.events[1]["me"]["fingerprint"] == bob_fingerprint
        carol = home.client(server, "alice", None, room)
        carol.ready()
        reused = bob.wait_for("the name-reuse warning", lambda e: e["event"] == "name-reused")
        assert reused["name"] == "alice" and reused["previous"] == alice_fingerprint, reused
        assert not reused["member"]["verified"] and reused["member"]["fingerprint"] != alice_fingerprint
        assert carol.quit() == 0
        bob.wait_for("carol leaving", lambda e: e["event"] == "member-left")

        # Alice comes back: each shows the other verified, with no new comparison.
        alice = home.client(server, "alice", "alice", room)
        alice.ready()
        assert alice.events[1]["me"]["fingerprint"] == alice_fingerprint
        seen = member_event(alice, "bob", "member-present")
        assert seen["member"]["verified"] and seen["member"]["verified-at"], seen
        seen = member_event(bob, "alice", "member-reconnected")
        assert seen["member"]["verified"] and seen["member"]["verified-at"], seen
        alice.send("/who")
        who = alice.wait_for("the member list", lambda e: e["event"] == "members")
        assert [(m["nick"], m["verified-at"] is not None) for m in who["members"]] == [("bob", True)], who
        bob.send("/contacts")
        contacts = bob.wait_for("the contacts", lambda e: e["event"] == "contacts")["contacts"]
        listed = sorted((c["fingerprint"], c["verified-at"] is not None) for c in contacts)
        assert listed == sorted([(alice_fingerprint, True), (reused["member"]["fingerprint"], False)]), contacts
    finally:
        for client in (alice, bob, carol):
            if client is not None:
                client.quit()

    # An independent reader finds what the format says, and the files hold no key in the clear.
    bob_file = profile_reader.read(home.path("bob"), PASSPHRASE)
    assert profile_reader.fingerprint(bob_file.public_key) == bob_fingerprint
    by_key = {profile_reader.fingerprint(contact.identity): contact for contact in bob_file.contacts}
    assert by_key[alice_fingerprint].name == "alice" and by_key[alice_fingerprint].verified_at, by_key
    data = b"".join(home.files("bob").values())
    for secret in (bob_file.seed, bob_file.master, bob_file.public_key, by_key[alice_fingerprint].identity):
        assert secret not in data


def test_without_a_profile_contacts_and_forget_say_they_need_one(server, home):
    client = home.client(server, "dora", None, "noprofile")
    try:
        client.ready()
        for command in ("/contacts", "/forget bob"):
            client.send(command)
            error = client.wait_for(f"the answer to {command}", lambda e: e["event"] == "error" and e.get("command") == command[1:].split()[0])
            assert "--profile" in error["text"], error
        assert not (home.root / "data").exists()
    finally:
        client.quit()


def test_forget_removes_the_contact_for_good(server, home):
    home.create("erin")
    room = "forget"
    erin = home.client(server, "erin", "erin", room)
    frank = None
    try:
        erin.ready()
        frank = home.client(server, "frank", None, room)
        frank.ready()
        member_event(erin, "frank", "member-joined")
        erin.send("/verify frank")
        erin.send("/contacts")
        assert len(erin.wait_for("the contacts", lambda e: e["event"] == "contacts")["contacts"]) == 1
        erin.send("/forget #00000000")
        erin.wait_for("no such contact", lambda e: e["event"] == "error" and e.get("command") == "forget")
        erin.send("/forget frank")
        erin.wait_for("the contact forgotten", lambda e: e["event"] == "notice" and e.get("command") == "forget")
    finally:
        for client in (erin, frank):
            if client is not None:
                client.quit()
    assert profile_reader.read(home.path("erin"), PASSPHRASE).contacts == []


def test_a_second_process_on_a_profile_is_refused(server, home):
    home.create("gina")
    first = home.client(server, "gina", "gina", "twice")
    try:
        first.ready()
        before = home.path("gina").read_bytes()
        second = join_until_exit("twice", "--profile", "gina", "--server", "127.0.0.1", "--domain", "localhost",
                                 "--port", str(server.port), "--pin", server.fingerprint, "--json", env=home.env)
        assert second.returncode == 5, second
        assert second.stderr.strip() == "catroom: profile gina is in use by another catroom process", second.stderr
        assert home.profile("show", "gina").returncode == 5
        assert home.path("gina").read_bytes() == before
    finally:
        first.quit()


def test_a_wrong_passphrase_changes_nothing(server, home):
    home.create("hank")
    before = home.files("hank")
    wrong = home.with_passphrase(b"correct horse battery stapler")
    shown = home.profile("show", "hank", env=wrong)
    assert shown.returncode == 5 and shown.stderr.strip() == "catroom: wrong passphrase for profile hank (or its key record is damaged); nothing was changed", shown
    joined = join_until_exit("wrong", "--profile", "hank", "--server", "127.0.0.1", "--domain", "localhost",
                             "--port", str(server.port), "--pin", server.fingerprint, "--json", env=wrong)
    assert joined.returncode == 5 and "wrong passphrase" in joined.stderr, joined
    changed = home.profile("passwd", "hank", env=wrong)
    assert changed.returncode == 5
    assert home.files("hank") == before


def test_a_missing_profile_suggests_creating_it(server, home):
    result = join_until_exit("lobby", "--profile", "nobody", "--server", "127.0.0.1", "--domain", "localhost", "--port", str(server.port), env=home.env)
    assert result.returncode == 5, result
    assert result.stderr.strip() == "catroom: there is no profile nobody: create it with `catroom profile create nobody`"
    result = join_until_exit("lobby", "--profile", "Bad/Name", "--server", "127.0.0.1", "--domain", "localhost", "--port", str(server.port), env=home.env)
    assert result.returncode == 64 and "is not a profile name" in result.stderr, result


@pytest.mark.parametrize("damage", ["truncate", "header", "row"])
def test_a_damaged_profile_is_one_clear_line(home, damage):
    home.create("ivy")
    path = home.path("ivy")
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[:len(data) // 2]
    elif damage == "header":
        data[0:16] = b"not a database!!"
    else:
        # The identity box is the last thing written: flip a byte of its tag, near the end of its page.
        reading = profile_reader.read(path, PASSPHRASE)
        import sqlite3
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            (box,) = db.execute("SELECT box FROM identity").fetchone()
        offset = bytes(data).find(box)
        assert offset > 0 and reading.seed
        data[offset + len(box) - 1] ^= 0x01
    path.write_bytes(bytes(data))
    result = home.profile("show", "ivy")
    assert result.returncode == 5, result
    line = result.stderr.strip()
    assert line.startswith("catroom: profile ivy is damaged: ") and "\n" not in line, line
    assert "restore it from a backup or delete it" in line


def test_kill_9_during_contact_writes_leaves_a_profile_that_opens(server, home):
    home.create("jack")
    room = "crash"
    jack = home.client(server, "jack", "jack", room)
    others = []
    try:
        jack.ready()
        for index in range(3):
            other = home.client(server, f"member{index}", None, room)
            other.ready()
            others.append(other)
        member_event(jack, "member2", "member-joined")
        # Each rename is a contact write: kill jack while they pour in.
        for round in range(15):
            for index, other in enumerate(others):
                other.send(f"/nick m{index}r{round}")
        jack.wait_for("some renames", lambda e: e["event"] == "nick-changed" and e["member"]["nick"].endswith("r3"))
        jack.process.send_signal(signal.SIGKILL)
        jack.process.wait(timeout=WAIT)
    finally:
        for client in [jack, *others]:
            client.quit()
    shown = home.profile("show", "jack")
    assert shown.returncode == 0, shown
    assert "contacts:    3 (0 verified)" in shown.stdout, shown.stdout
    reading = profile_reader.read(home.path("jack"), PASSPHRASE)
    assert len(reading.contacts) == 3


def test_profile_commands(home):
    assert "no profiles" in home.profile("list").stdout
    home.create("kim")
    again = home.profile("create", "kim", "--test-kdf-limits")
    assert again.returncode == 5 and "exists already" in again.stderr, again
    listed = home.profile("list")
    assert listed.returncode == 0 and listed.stdout.startswith("kim  "), listed.stdout
    shown = home.profile("show", "kim")
    assert shown.returncode == 0 and "contacts:    0 (0 verified)" in shown.stdout, shown
    fingerprint = shown.stdout.split("fingerprint: ")[1].split("\n")[0]
    assert fingerprint == profile_reader.fingerprint(profile_reader.read(home.path("kim"), PASSPHRASE).public_key)

    new = home.root / "new-passphrase"
    new.write_bytes(b"a new passphrase\n")
    changed = home.profile("passwd", "kim", "--test-kdf-limits", env={**home.env, "CATROOM_NEW_PASSPHRASE_FILE": str(new)})
    assert changed.returncode == 0, changed
    assert home.profile("show", "kim").returncode == 5
    assert fingerprint in home.profile("show", "kim", env=home.with_passphrase(b"a new passphrase")).stdout

    refused = home.profile("delete", "kim", stdin="")
    assert refused.returncode == 5 and "--yes" in refused.stderr and home.path("kim").exists(), refused
    deleted = home.profile("delete", "kim", "--yes")
    assert deleted.returncode == 0, deleted
    profiles = home.root / "data" / "catroom" / "profiles"
    assert list(profiles.iterdir()) == [] and oct(profiles.stat().st_mode & 0o777) == "0o700"


def test_bench_profile_reports_opening_and_writing(tmp_path):
    done = subprocess.run([binary(), "bench", "profile", "--quick", "--json"], capture_output=True, text=True,
                          timeout=6 * WAIT, env={**os.environ, "TMPDIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["opens"] == 2 and report["writes"] == 50 and report["deliveries"] == 20, report
    for key in ("openDefaultMilliseconds", "openMinimumMilliseconds", "contactWriteMicroseconds", "contactWriteP99Microseconds",
                "historyWriteMicroseconds", "historyWriteP99Microseconds", "deliveryHistoryOffMilliseconds",
                "deliveryHistoryOffP99Milliseconds", "deliveryHistoryOnMilliseconds", "deliveryHistoryOnP99Milliseconds"):
        assert report[key] > 0, report
    assert list(tmp_path.iterdir()) == [], "the benchmark leaves its profiles behind"
