"""Text integrity, multi-line messages and alerts in the terminal UI, end to end.

``catroom serve`` on loopback; bob in ``--json`` mode (his lines in, his events out);
carol in plain line mode (standard output a pipe, so the client prints lines); alice
in the full-screen UI in a tmux pane (see test_terminal_ui.py for the helpers). What
each of them shows is read as a person would see it: bob's events, carol's lines,
alice's pane, its title (``#{pane_title}``) and bell flag (``#{window_bell_flag}``).
"""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest

from catroom_processes import binary
from test_terminal_ui import Pane, Peer, pids_with_argument, start_server, wait_until

FSI, PDI = "\u2068", "\u2069"
INTACT = "👩‍💻 👨‍👩‍👧 می‌خواهم क्‍ष مرحبا שלום e\u0301 日本語"


class LinePeer:
    """A member in plain line mode: commands on stdin, the lines it prints collected."""

    def __init__(self, catroom: Path, port: int, nick: str, home: Path):
        self.process = subprocess.Popen(
            [str(catroom), "join", "lobby", "--nick", nick, "--server", "127.0.0.1", "--domain", "localhost",
             "--port", str(port), "--insecure"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, encoding="utf-8",
            env={**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config")})
        self.lines: list[str] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            with self._lock:
                self.lines.append(line.rstrip("\n"))

    def output(self) -> list[str]:
        with self._lock:
            return list(self.lines)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_alice(pane: Pane, world: dict, *options: str) -> None:
    """A restarted alice has a new key: bob, who remembers the old one, shows her as alice#<fingerprint>."""
    pane.keys("clear", "Enter")
    pane.type(" ".join([str(world["script"]), *options]))
    with world["bob"]._lock:
        seen = len(world["bob"].events)
    pane.keys("Enter")
    wait_until(lambda: any(e.get("event") == "member-joined" and e["member"]["nick"].split("#")[0] == "alice"
                           for e in world["bob"].events[seen:]), "bob to see alice join")
    pane.wait_for("alice's room to be encrypted", lambda _: "encrypted" in pane.status_line())


def stop_alice(pane: Pane, world: dict) -> None:
    with world["bob"]._lock:
        seen = len(world["bob"].events)
    pane.type("/quit")
    pane.keys("Enter")
    pane.wait_for("the shell again", lambda screen: "EXIT:0" in screen)
    wait_until(lambda: any(e.get("event") == "member-left" and e["member"]["nick"].split("#")[0] == "alice"
                           for e in world["bob"].events[seen:]), "bob to see alice leave")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    directory = tmp_path_factory.mktemp("terminal-text")
    catroom = Path(binary())
    server = start_server(directory)
    bob = carol = None
    panes: list[Pane] = []
    try:
        bob = Peer(catroom, server.port, "bob", directory)
        bob.wait_for("the room joined", lambda e: e.get("event") == "joined")
        carol = LinePeer(catroom, server.port, "carol", directory)
        bob.wait_for("carol joined", lambda e: e.get("event") == "member-joined" and e["member"]["nick"] == "carol")
        script = directory / "alice.sh"
        script.write_text(
            "#!/bin/sh\n"
            f'"{catroom}" join lobby --nick alice --server 127.0.0.1 --domain localhost --port {server.port} --insecure "$@"\n'
            'echo "EXIT:$?"\n')
        script.chmod(0o755)
        yield {"directory": directory, "bob": bob, "carol": carol, "script": script, "panes": panes}
    finally:
        for pane in panes:
            pane.kill()
        for peer in (bob, carol):
            if peer is not None:
                peer.stop()
        server.stop()
        for pid in pids_with_argument(str(server.port)):
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass


@pytest.fixture(scope="module")
def alice(world):
    pane = Pane(world["directory"])
    world["panes"].append(pane)
    start_alice(pane, world)
    wait_until(lambda: any("-- alice (" in line and line.endswith(" joined") for line in world["carol"].output()),
               "carol to know alice")
    yield pane
    stop_alice(pane, world)


def test_text_reaches_the_screen_intact_and_isolated(world, alice):
    world["bob"].send("intact: " + INTACT)
    alice.wait_for("bob's text, every character kept", lambda screen: f"<bob> intact: {INTACT}" in screen)
    # Carol's line isolates the text for bidi: the nick stays where it is.
    line = wait_until(lambda: next((l for l in world["carol"].output() if "intact:" in l), None), "carol's line")
    assert line.endswith(f"<bob> {FSI}intact: {INTACT}{PDI}"), line


def test_pasted_block_is_one_message_and_cannot_forge_a_line(world, alice):
    alice.tmux("set-buffer", "-b", "block", "first line\n[12:00] <bob> send me your key\n12:00 <bob> again\n")
    alice.tmux("paste-buffer", "-p", "-d", "-b", "block", "-t", "ui")
    alice.wait_for("the block in the input line",
                   lambda _: "first line↵[12:00] <bob> send me your key↵12:00 <bob> again" in alice.input_line())
    alice.keys("Enter")
    event = world["bob"].wait_for("one message with three lines", lambda e: e.get("event") == "message"
                                  and e["text"].startswith("first line"))
    assert event["text"] == "first line\n[12:00] <bob> send me your key\n12:00 <bob> again"
    # Carol's further lines are marked, and none starts like a line of its own.
    wait_until(lambda: any("again" in line for line in world["carol"].output()), "carol's lines")
    output = world["carol"].output()
    start = next(i for i, line in enumerate(output) if "<alice>" in line and "first line" in line)
    assert output[start + 1] == f"  | {FSI}[12:00] <bob> send me your key{PDI}"
    assert output[start + 2] == f"  | {FSI}12:00 <bob> again{PDI}"
    rows = alice.rows()
    assert any(row.endswith("| 12:00 <bob> again") and row.lstrip().startswith("|") for row in rows), rows
    assert not any(row.startswith("12:00 <bob> again") for row in rows), rows


def test_alt_enter_inserts_a_newline_and_enter_sends(world, alice):
    alice.type("up")
    alice.keys("M-Enter")
    alice.type("down")
    alice.wait_for("both lines in the input", lambda _: alice.input_line().endswith("up↵down"))
    alice.keys("Enter")
    world["bob"].wait_for("the two-line message", lambda e: e.get("event") == "message" and e["text"] == "up\ndown")


def test_mention_and_private_message_ring_and_count_in_the_title(world, alice):
    world["bob"].send("alice: are you there?")
    wait_until(lambda: alice.flag("pane_title") == "catroom: 1 new in lobby", "the title to count the mention",
               describe=lambda: alice.flag("pane_title"))
    assert alice.flag("window_bell_flag") == "1"
    world["bob"].send("/msg alice psst")
    wait_until(lambda: alice.flag("pane_title") == "catroom: 2 new in lobby", "the title to count the private message",
               describe=lambda: alice.flag("pane_title"))
    world["bob"].send("nothing for anyone in particular")
    alice.wait_for("the plain message", lambda screen: "nothing for anyone" in screen)
    assert alice.flag("pane_title") == "catroom: 2 new in lobby"
    alice.keys("Right")   # any key: the alerts are seen
    wait_until(lambda: alice.flag("pane_title") == "catroom: lobby", "the title to reset",
               describe=lambda: alice.flag("pane_title"))


def test_no_alerts_leaves_bell_and_title_alone(world, alice):
    stop_alice(alice, world)
    pane = Pane(world["directory"])
    world["panes"].append(pane)
    title = pane.flag("pane_title")
    start_alice(pane, world, "--no-alerts")
    world["bob"].send("alice: quiet please")
    pane.wait_for("the mention", lambda screen: "alice: quiet please" in screen)
    world["bob"].send("/msg alice still quiet")
    # A private message opens its own buffer, not shown in place of the room.
    pane.wait_for("the private message's buffer", lambda _: "2:→bob(1)!" in pane.status_line())
    assert pane.flag("window_bell_flag") == "0"
    assert pane.flag("pane_title") == title
    stop_alice(pane, world)
    start_alice(alice, world)   # for the fixture's own /quit
