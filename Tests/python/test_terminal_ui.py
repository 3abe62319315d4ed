"""The terminal UI, driven like a person would: keys into a tmux pane, eyes on the screen.

Nothing is mocked. ``catroom serve`` (the binary named by ``CATROOM_BIN``, default
``<repo>/.build/debug/catroom``) runs on a free loopback port; bob joins the lobby
with ``--json`` (commands on his stdin, events on his stdout); alice runs the full
screen UI in a 100×30 tmux pane on a private tmux socket (``tmux -L``), started from
a plain ``sh`` so that after she exits the pane shows the shell again and ``stty``
can be asked whether the terminal was restored.

The tests run in file order and read as one session:

1. alice's status line shows the room, two members and the short safety code;
2. what she types appears in her scrollback and reaches bob, and is marked ``✓ 1/1``
   once bob's client acknowledges it;
3. bob's message appears with his nick, in a 256-colour identity colour;
4. ``/who`` lists both members and the full safety code, the one bob shows;
5. Tab completes bob's nick, at the start of a line (``bob: ``) and mid-line;
6. Up recalls the previous line;
7. ``/quit``, Ctrl-C, Ctrl-D on an empty line and SIGTERM each leave the room, exit
   with status 0 and give back a terminal in canonical mode with echo.

Every wait is bounded; tmux servers and processes are cleaned up even on failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Callable

import pytest

from catroom_processes import Server, binary

ROOM = "lobby@rooms.localhost"
WIDTH, HEIGHT = 100, 30

WAIT = 5.0        # the longest any single expected change may take
STARTUP = 10.0    # a debug build generating its certificate

if shutil.which("tmux") is None:
    pytest.fail("tmux is not installed: run scripts/setup.sh (make test does)", pytrace=False)


# ---------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------
def wait_until(check: Callable[[], object], what: str, timeout: float = WAIT, describe: Callable[[], str] = lambda: ""):
    """Polls ``check`` until it returns something truthy; fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{describe()}", pytrace=False)
        time.sleep(0.05)


def pids_with_argument(argument: str) -> list[int]:
    """Processes whose command line contains ``argument`` (our unique port), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argument.encode() in arguments and int(entry.name) != os.getpid():
            found.append(int(entry.name))
    return found


def start_server(directory: Path) -> Server:
    """``catroom serve`` on a free loopback port, TLS required as by default."""
    try:
        return Server(directory, "--threads", "2", trace=False, startup=STARTUP)
    except RuntimeError as error:
        pytest.fail(f"catroom serve did not start in time: {error}", pytrace=False)


class Peer:
    """A member in ``--json`` mode: lines in, one JSON event per line out."""

    def __init__(self, binary: Path, port: int, nick: str, home: Path):
        self.nick = nick
        self.process = subprocess.Popen(
            [str(binary), "join", "lobby", "--nick", nick, "--server", "127.0.0.1", "--domain", "localhost",
             "--port", str(port), "--insecure", "--json"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env={**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config")})
        self.events: list[dict] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            with self._lock:
                self.events.append(event)

    def send(self, line: str) -> None:
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def wait_for(self, what: str, match: Callable[[dict], bool]) -> dict:
        def find():
            with self._lock:
                return next((event for event in self.events if match(event)), None)
        return wait_until(find, f"{self.nick} to see {what}", describe=lambda: "\n".join(map(json.dumps, self.events[-10:])))

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                self.process.stdin.close()   # end of input: the peer leaves and exits
                self.process.wait(timeout=WAIT)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()


class Pane:
    """One tmux server on a private socket, one 100×30 window running ``sh``."""

    def __init__(self, directory: Path):
        self.socket = f"catroom-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(directory), "LANG": "C.UTF-8",
            "XDG_CONFIG_HOME": str(directory / "config"), "PS1": "$ ", "ENV": "",
        }
        self.tmux("-f", "/dev/null", "new-session", "-d", "-s", "ui", "-x", str(WIDTH), "-y", str(HEIGHT), "sh")
        self.socket_path = Path(self.flag("socket_path"))

    def tmux(self, *arguments: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *arguments], env=self.environment, check=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=WAIT).stdout

    def keys(self, *keys: str) -> None:
        """tmux key names (Enter, Tab, C-c, Up) and text, as ``send-keys`` takes them."""
        self.tmux("send-keys", "-t", "ui", *keys)

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", "ui", "-l", text)

    def screen(self, colours: bool = False) -> str:
        """The visible pane, wrapped lines joined, trailing blanks dropped, without the
        invisible bidi isolates (U+2068, U+2069) around each message's text."""
        captured = self.tmux("capture-pane", "-p", "-J", *(["-e"] if colours else []), "-t", "ui")
        captured = captured.replace("\u2068", "").replace("\u2069", "")
        return "\n".join(line.rstrip() for line in captured.split("\n"))

    def rows(self) -> list[str]:
        return self.screen().split("\n")[:HEIGHT]

    def status_line(self) -> str:
        return self.rows()[HEIGHT - 2]

    def input_line(self) -> str:
        return self.rows()[HEIGHT - 1]

    def flag(self, name: str) -> str:
        return self.tmux("display-message", "-p", "-t", "ui", f"#{{{name}}}").strip()

    def wait_for(self, what: str, check: Callable[[str], object]) -> object:
        return wait_until(lambda: check(self.screen()), what, describe=self.screen)

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], env=self.environment,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=WAIT)
        self.socket_path.unlink(missing_ok=True)


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The server, bob (--json) and the tmux pane, torn down whatever happens."""
    directory = tmp_path_factory.mktemp("terminal-ui")
    catroom = Path(binary())
    server = start_server(directory)
    peer = pane = None
    try:
        peer = Peer(catroom, server.port, "bob", directory)
        peer.wait_for("the room joined", lambda e: e.get("event") == "joined")
        pane = Pane(directory)
        script = directory / "alice.sh"
        script.write_text(
            "#!/bin/sh\n"
            f'"{catroom}" join lobby --nick "$1" --server 127.0.0.1 --domain localhost --port {server.port} --insecure\n'
            'echo "EXIT:$?"\n')
        script.chmod(0o755)
        yield {"server": server, "peer": peer, "pane": pane, "script": script}
    finally:
        tear_down(server, peer, pane)


def tear_down(server: Server, peer: Peer | None, pane: Pane | None) -> None:
    """Stops the pane, the peer and the server, whatever state they are in."""
    if pane is not None:
        pane.kill()
    if peer is not None:
        peer.stop()
    server.stop()
    # Anything of ours still running (a UI that ignored the hangup) goes too.
    for pid in pids_with_argument(str(server.port)):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def start_ui(world, nick: str) -> Pane:
    """Runs the UI in the pane (from a clean shell screen) until bob and `nick` have exchanged keys."""
    pane, peer = world["pane"], world["peer"]
    if pane.flag("alternate_on") == "1":   # a UI left running by a failed test
        pane.keys("C-c")
        wait_until(lambda: pane.flag("alternate_on") == "0", "the previous UI to exit")
    pane.keys("clear", "Enter")
    wait_until(lambda: pane.flag("alternate_on") == "0" and pane.screen().strip() in ("$", "#", ""), "a clean shell")
    pane.type(f"{world['script']} {nick}")
    pane.keys("Enter")
    peer.wait_for(f"{nick} joined", lambda e: e.get("event") == "member-joined" and e["member"]["nick"] == nick)
    pane.wait_for(f"{nick}'s status line to say the room is encrypted", lambda _: "encrypted" in pane.status_line())
    return pane


def assert_exited_and_restored(world, nick: str) -> None:
    """Status 0, the shell's screen back, and the terminal in canonical mode with echo."""
    pane, peer = world["pane"], world["peer"]
    pane.wait_for("the shell to report the exit status", lambda screen: "EXIT:" in screen)
    screen = pane.screen()
    assert "EXIT:0" in screen, screen
    assert pane.flag("alternate_on") == "0", "the alternate screen is still on"
    peer.wait_for(f"{nick} to leave", lambda e: e.get("event") == "member-left" and e["member"]["nick"] == nick)
    pane.type("echo STTY-BEGIN; stty -a; echo STTY-END")
    pane.keys("Enter")
    settings = pane.wait_for("stty's answer", lambda s: re.search(r"^STTY-BEGIN\n(.*?)^STTY-END", s, re.S | re.M))
    flags = settings.group(1).replace(";", " ").split()
    for flag in ("icanon", "echo", "isig", "icrnl", "ixon"):
        assert flag in flags and f"-{flag}" not in flags, f"{flag} not restored: {settings.group(1)}"


@pytest.fixture(scope="module")
def alice(world):
    pane = start_ui(world, "alice")
    world["peer"].wait_for("alice ready", lambda e: e.get("event") == "member-joined" and e["member"]["nick"] == "alice")
    return pane


# ---------------------------------------------------------------------------
# The session
# ---------------------------------------------------------------------------
def safety_code(peer: Peer, members: int) -> str:
    """bob's newest room safety code, once it covers `members` (CR-0007)."""
    def latest():
        with peer._lock:
            codes = [event for event in peer.events if event.get("event") == "safety"]
        return codes[-1]["code"] if codes and codes[-1]["members"] == members else None
    return wait_until(latest, f"bob's safety code over {members} members")


def test_status_line_shows_room_member_count_and_safety_code(world, alice):
    status = alice.status_line()
    assert ROOM in status
    assert "2 members" in status
    assert alice.input_line().startswith("[lobby]")
    # The first two groups of the code bob shows: the whole line would not fit in 100 columns.
    short = " ".join(safety_code(world["peer"], 2).split()[:2]) + "…"
    alice.wait_for("the short safety code", lambda _: f"safety {short} │" in alice.status_line())


def test_typed_message_appears_in_scrollback_and_reaches_peer(world, alice):
    alice.type("hello from alice")
    alice.keys("Enter")
    alice.wait_for("alice's own line", lambda s: re.search(r"^\d\d:\d\d <alice> hello from alice( {2}✓ \d/\d)?$", s, re.M))
    event = world["peer"].wait_for("alice's message", lambda e: e.get("event") == "message" and e["text"] == "hello from alice")
    assert event["from"]["nick"] == "alice" and not event["private"]
    assert alice.input_line() == "[lobby]"


def test_own_message_is_marked_when_acknowledged(alice):
    # bob's client acknowledges what it accepted (CR-0006 §5.8); the mark updates in place.
    alice.wait_for("the delivery mark", lambda s: re.search(r"^\d\d:\d\d <alice> hello from alice {2}✓ 1/1$", s, re.M))


def test_peer_message_appears_with_coloured_nick(world, alice):
    world["peer"].send("hi alice, bob here")
    alice.wait_for("bob's line", lambda s: re.search(r"^\d\d:\d\d <bob> hi alice, bob here$", s, re.M))
    colours = alice.screen(colours=True)
    # bob's nick in a colour of the 256-colour cube (XEP-0392 style, from his identity).
    match = re.search(r"\x1b\[38;5;(\d+)m(?:\x1b\[[\d;]*m)*bob(?:\x1b\[[\d;]*m)*> ", colours)
    assert match, colours
    assert 16 <= int(match.group(1)) <= 231


def test_who_lists_both_members_and_the_safety_code(world, alice):
    alice.type("/who")
    alice.keys("Enter")
    screen = alice.wait_for("the member list", lambda s: "-- 2 in the room, 0 verified" in s and s)
    assert re.search(r"^\d\d:\d\d    alice \([0-9a-f]{8}\) \(you\)$", screen, re.M), screen
    assert re.search(r"^\d\d:\d\d    bob \([0-9a-f]{8}\)$", screen, re.M), screen
    assert re.search(r"^\d\d:\d\d -- safety code \(2 members with keys\):\n\d\d:\d\d    " + safety_code(world["peer"], 2) + "$", screen, re.M), screen


def test_tab_completes_peer_nick(alice):
    alice.type("bo")
    alice.keys("Tab")
    alice.wait_for("the nick completed at the start of the line", lambda _: alice.input_line() == "[lobby] bob:")
    alice.keys("C-u")
    alice.type("thanks b")
    alice.keys("Tab")
    alice.wait_for("the nick completed mid-line", lambda _: alice.input_line() == "[lobby] thanks bob")
    alice.keys("C-u")
    alice.type("/wh")
    alice.keys("Tab")
    alice.wait_for("the command completed", lambda _: alice.input_line() == "[lobby] /who")
    alice.keys("C-u")
    alice.wait_for("an empty input line", lambda _: alice.input_line() == "[lobby]")


def test_up_recalls_previous_line(alice):
    alice.keys("Up")
    alice.wait_for("the last line sent", lambda _: alice.input_line() == "[lobby] /who")
    alice.keys("Up")
    alice.wait_for("the line before", lambda _: alice.input_line() == "[lobby] hello from alice")
    alice.keys("Down", "Down")
    alice.wait_for("the empty line again", lambda _: alice.input_line() == "[lobby]")


def test_join_with_a_name_that_has_no_room_is_refused_and_alice_stays(world, alice):
    # The names that used to crash the client (`try! JID`): a space, an `@`, nothing at all.
    for line, answer in [("/join my room", "cannot join: a room name cannot contain a space"),
                         ("/join a@b", "cannot join: a room name cannot contain '@'"),
                         ("/join", "usage: /join <room>")]:
        alice.type(line)
        alice.keys("Enter")
        alice.wait_for(f"the answer to {line!r}", lambda s: answer in s)
    alice.type("still here")
    alice.keys("Enter")
    world["peer"].wait_for("alice's message after the refusals", lambda e: e.get("event") == "message" and e["text"] == "still here")
    assert ROOM in alice.status_line()


def test_help_for_one_command_then_clear_empties_the_scrollback(alice):
    alice.type("/help topic")
    alice.keys("Enter")
    alice.wait_for("the help line", lambda s: "/topic [text | -delete]: show the room topic" in s)
    assert "hello from alice" in alice.screen()
    alice.type("/clear")
    alice.keys("Enter")
    alice.wait_for("an empty scrollback", lambda s: "hello from alice" not in s and "/topic [text" not in s)
    assert ROOM in alice.status_line() and alice.input_line() == "[lobby]"


def test_own_private_message_is_tagged_with_its_recipient(world, alice):
    # A /msg to nobody fails and must not tag the next private message.
    alice.type("/msg bbo typo")
    alice.keys("Enter")
    alice.wait_for("the refusal", lambda s: "no member called bbo" in s)
    alice.type("/msg bob psst")
    alice.keys("Enter")
    alice.wait_for("the tagged line", lambda s: re.search(r"^\d\d:\d\d \[private → bob\] <alice> psst$", s, re.M))
    event = world["peer"].wait_for("the side chat", lambda e: e.get("event") == "message" and e["text"] == "psst")
    assert event["private"]


def test_verified_member_is_marked_on_message_lines(world, alice):
    # CR-0006 §5.10: verification is by key, and every message line from it shows it,
    # before the name, where no chosen name can reach.
    world["peer"].send("before verifying")
    alice.wait_for("bob's unmarked line", lambda s: re.search(r"^\d\d:\d\d <bob> before verifying$", s, re.M))
    alice.type("/verify bob")
    alice.keys("Enter")
    alice.wait_for("the verification", lambda s: "bob is now marked verified" in s)
    world["peer"].send("after verifying")
    alice.wait_for("bob's marked line", lambda s: re.search(r"^\d\d:\d\d ✓ <bob> after verifying$", s, re.M))
    colours = alice.screen(colours=True)
    assert re.search(r"\x1b\[[\d;]*m✓ (?:\x1b\[[\d;]*m)*<", colours), colours

# ---------------------------------------------------------------------------
# Every way out restores the terminal
# ---------------------------------------------------------------------------
def test_quit_exits_and_restores_terminal(world, alice):
    alice.type("/quit")
    alice.keys("Enter")
    assert_exited_and_restored(world, "alice")


def test_ctrl_c_exits_cleanly(world):
    pane = start_ui(world, "carol")
    pane.keys("C-c")
    assert_exited_and_restored(world, "carol")


def test_ctrl_d_on_empty_line_exits_cleanly(world):
    pane = start_ui(world, "dave")
    pane.type("not empty")
    pane.wait_for("the typed text", lambda _: pane.input_line() == "[lobby] not empty")
    pane.keys("C-d")   # deletes forward (nothing at the end of the line): still running
    time.sleep(0.3)
    assert pane.flag("alternate_on") == "1" and pane.input_line() == "[lobby] not empty"
    pane.keys("C-u", "C-d")
    assert_exited_and_restored(world, "dave")


def test_sigterm_exits_cleanly(world):
    pane = start_ui(world, "erin")
    [pid] = [pid for pid in pids_with_argument("erin") if Path(f"/proc/{pid}/exe").resolve().name == "catroom"]
    os.kill(pid, signal.SIGTERM)
    assert_exited_and_restored(world, "erin")
