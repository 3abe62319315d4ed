"""The full-screen UI when the start fails, when leaving, and when `--pin` differs from
the known_hosts record: in a real tmux pane, from a plain `sh` so that the exit status
and the terminal's settings can be read afterwards."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from catroom_processes import binary, free_port
from test_terminal_ui import Pane, start_server, wait_until

STARTUP = 20.0


@pytest.fixture
def pane(tmp_path):
    pane = Pane(tmp_path)
    yield pane
    pane.kill()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("terminal-failures"))
    yield server
    server.stop()


def run(pane: Pane, *arguments: str) -> None:
    command = " ".join([f'"{binary()}"', "join", *arguments])
    pane.type(f"{command}; echo EXIT:$?")
    pane.keys("Enter")


def exit_status(pane: Pane) -> int:
    screen = pane.wait_for("the exit status", lambda s: re.search(r"^EXIT:(\d+)$", s, re.M))
    return int(screen.group(1))


def assert_terminal_restored(pane: Pane) -> None:
    assert pane.flag("alternate_on") == "0", "the alternate screen is still on"
    pane.type("echo STTY-BEGIN; stty -a; echo STTY-END")
    pane.keys("Enter")
    settings = pane.wait_for("stty's answer", lambda s: re.search(r"^STTY-BEGIN\n(.*?)^STTY-END", s, re.S | re.M))
    flags = settings.group(1).replace(";", " ").split()
    for flag in ("icanon", "echo", "isig", "icrnl"):
        assert flag in flags and f"-{flag}" not in flags, f"{flag} not restored: {settings.group(1)}"


def test_a_fatal_start_error_leaves_the_screen_prints_the_reason_and_fails(pane):
    port = free_port()
    run(pane, "lobby", "--nick", "alice", "--server", "127.0.0.1", "--port", str(port), "--insecure")
    assert exit_status(pane) == 2, pane.screen()
    screen = pane.screen()
    assert f"catroom: nothing accepts connections at 127.0.0.1 port {port} (connection refused)" in screen, screen
    assert_terminal_restored(pane)


def test_part_and_quit_say_what_happened(pane, server):
    run(pane, "lobby", "--nick", "alice", "--server", "127.0.0.1", "--domain", "localhost", "--port", str(server.port), "--insecure")
    wait_until(lambda: "encrypted" in pane.status_line(), "the room joined", timeout=STARTUP, describe=pane.screen)
    pane.type("/part")
    pane.keys("Enter")
    pane.wait_for("the part", lambda s: re.search(r"^\d\d:\d\d -- left lobby@rooms\.localhost$", s, re.M))
    assert "not in a room" in pane.status_line()
    pane.type("/quit")
    pane.keys("Enter")
    assert exit_status(pane) == 0
    assert_terminal_restored(pane)


def test_a_pin_replaces_the_known_hosts_record_when_the_user_agrees(pane, server, tmp_path):
    known_hosts = Path(pane.environment["XDG_CONFIG_HOME"]) / "catroom" / "known_hosts"
    known_hosts.parent.mkdir(parents=True, exist_ok=True)
    old = ":".join(["AB"] * 32)
    known_hosts.write_text(f"[other]:5222 SHA256:{old}\n[127.0.0.1]:{server.port} SHA256:{old}\n")
    run(pane, "lobby", "--nick", "alice", "--server", "127.0.0.1", "--domain", "localhost", "--port", str(server.port),
        "--pin", server.fingerprint)
    pane.wait_for("the question", lambda s: "Replace it with the --pin fingerprint once the server presents it? [y/N]" in s)
    pane.type("y")
    pane.keys("Enter")
    wait_until(lambda: "encrypted" in pane.status_line(), "the room joined", timeout=STARTUP, describe=pane.screen)
    assert known_hosts.read_text() == f"[other]:5222 SHA256:{old}\n[127.0.0.1]:{server.port} SHA256:{server.fingerprint}\n"
    pane.type("/quit")
    pane.keys("Enter")
    assert exit_status(pane) == 0
