"""Reconnection against the real server: it is killed, restarted on the same port, shut
down (``system-shutdown``) and restarted again, under two clients that stay up:

- bob in ``--json`` mode (``catroom_processes.Client``);
- alice in the full-screen UI in a tmux pane (``test_terminal_ui.Pane``).

Both come back by themselves with the same keys, the status line shows
``reconnecting in … s`` and then ``encrypted``, messages typed while the server was down
are delivered after reconnecting, and the two exchange messages again. Short backoffs
come from the hidden ``--reconnect-base``/``--reconnect-cap`` options.
"""

from __future__ import annotations

import os
import signal

import pytest

from catroom_processes import Client, Server, binary
from test_terminal_ui import STARTUP, Pane, pids_with_argument, wait_until

FAST = ("--reconnect-base", "0.5", "--reconnect-cap", "1")
BACK = 20.0  # a debug server restarting, then both clients reconnecting and exchanging keys


def start_server(directory, port=None) -> Server:
    return Server(directory, "--threads", "2", trace=False, startup=STARTUP, port=port)


@pytest.fixture
def world(tmp_path):
    things = {"servers": []}
    try:
        yield things
    finally:
        if "pane" in things:
            things["pane"].kill()
        if "bob" in things:
            things["bob"].quit()
        for server in things["servers"]:
            server.stop()
        for server in things["servers"][:1]:
            for pid in pids_with_argument(str(server.port)):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


def count(client: Client, event: str) -> int:
    return sum(1 for e in client.drain(0.05) if e["event"] == event)


def wait_after(client: Client, mark: int, what: str, match) -> dict:
    """The first event after the first `mark` ones that `match` accepts (equal events repeat across reconnections)."""
    return wait_until(lambda: next((e for e in client.drain(0.05)[mark:] if match(e)), None), f"{client.nick}: {what}",
                      timeout=BACK, describe=lambda: "\n".join(map(str, client.events[mark:])))


def test_both_clients_come_back_after_a_kill_and_a_shutdown(world, tmp_path):
    server = start_server(tmp_path)
    world["servers"].append(server)
    port, fingerprint = server.port, server.fingerprint
    bob = world["bob"] = Client(server, "bob", "lobby", *FAST)
    bob.ready()
    pane = world["pane"] = Pane(tmp_path)
    script = tmp_path / "alice.sh"
    script.write_text(
        "#!/bin/sh\n"
        f'"{binary()}" join lobby --nick alice --server 127.0.0.1 --domain localhost --port {port} --pin {fingerprint}'
        f' {" ".join(FAST)}\necho "EXIT:$?"\n')
    script.chmod(0o755)
    pane.type(str(script))
    pane.keys("Enter")
    # known_hosts has no record for the server: a terminal is asked before the --pin is kept.
    pane.wait_for("the --pin question", lambda screen: "[y/N]" in screen)
    pane.type("n")
    pane.keys("Enter")
    bob.wait_for("alice", lambda e: e["event"] == "member-joined" and e["member"]["nick"] == "alice")
    pane.wait_for("encrypted", lambda _: "encrypted" in pane.status_line())
    me = bob.wait_for("connected", lambda e: e["event"] == "connected")["me"]

    # 1. Killed: the sockets drop without a word.
    server.process.kill()
    server.stop()
    bob.wait_for("the drop", lambda e: e["event"] == "disconnected")
    bob.wait_for("reconnecting", lambda e: e["event"] == "reconnecting")
    pane.wait_for("reconnecting on the status line", lambda _: "reconnecting in" in pane.status_line())
    bob.send("bob typed while the server was down")
    bob.wait_for("queued", lambda e: e["event"] == "notice" and e["text"].startswith("not connected: the message goes out"))
    pane.type("alice typed while the server was down")
    pane.keys("Enter")
    pane.wait_for("alice's message queued", lambda screen: "not connected: the message goes out" in screen)

    restarted = start_server(tmp_path, port=port)
    world["servers"].append(restarted)
    assert restarted.fingerprint == fingerprint
    wait_until(lambda: count(bob, "connected") >= 2, "bob to connect again", timeout=BACK)
    again = [e for e in bob.events if e["event"] == "connected"][-1]
    assert again["me"]["fingerprint"] == me["fingerprint"] and again["me"]["id"] == me["id"]
    pane.wait_for("encrypted again", lambda _: "encrypted" in pane.status_line())
    bob.received("alice typed while the server was down")
    pane.wait_for("bob's queued message", lambda screen: "bob typed while the server was down" in screen)
    bob.wait_for("the queue sent", lambda e: e["event"] == "notice" and e["text"] == "sent 1 queued message")
    bob.send("hello again")
    pane.wait_for("hello again", lambda screen: "hello again" in screen)
    pane.type("and back to you")
    pane.keys("Enter")
    bob.received("and back to you")

    # 2. Shut down properly: `system-shutdown` (RFC 6120 §4.9.3.22), then back.
    mark = len(bob.drain(0.05))
    restarted.stop()
    wait_after(bob, mark, "system-shutdown", lambda e: e["event"] == "disconnected" and "system-shutdown" in e["reason"])
    pane.wait_for("reconnecting after the shutdown", lambda _: "reconnecting in" in pane.status_line())
    third = start_server(tmp_path, port=port)
    world["servers"].append(third)
    wait_until(lambda: count(bob, "connected") >= 3, "bob to connect a third time", timeout=BACK)
    pane.wait_for("encrypted a third time", lambda _: "encrypted" in pane.status_line())
    # Whoever is back first finds the other present; the later one is known by its key.
    back = ("member-present", "member-reconnected")
    wait_after(bob, mark, "alice back", lambda e: e["event"] in back and e["member"]["nick"] == "alice")
    bob.send("after the shutdown")
    pane.wait_for("after the shutdown", lambda screen: "after the shutdown" in screen)


def test_a_refused_room_password_is_not_retried_and_ends_the_process(world, tmp_path):
    server = start_server(tmp_path)
    world["servers"].append(server)
    alice = world["bob"] = Client(server, "alice", "vault", "--password", "right", *FAST)
    alice.ready()
    mallory = Client(server, "mallory", "vault", "--password", "wrong", *FAST)
    try:
        status = mallory.process.wait(timeout=BACK)  # standard input is still open
        events = mallory.drain(0.5)
        assert status == 4  # refused (docs/user-guide.md, "Exit status")
        assert events[-1]["event"] == "failed" and events[-1]["kind"] == "refused", events
        assert "has a password and this is not it" in events[-1]["reason"], events[-1]
        assert not any(e["event"] == "reconnecting" for e in events)
    finally:
        mallory.quit()
