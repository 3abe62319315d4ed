"""Several rooms in one `catroom join --json` process (CR-0006 §5.12): one connection,
every event naming its room, `/buffer` choosing where lines go, and `/part` leaving one
room while the others stay."""

from __future__ import annotations

import os
from pathlib import Path

from catroom_processes import Client, Server

LOBBY, SECOND = "lobby@rooms.localhost", "second@rooms.localhost"


def server_connections(pid: int, port: int) -> int:
    """The process's TCP connections to `port` on loopback, from /proc."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            remote_port = int(fields[2].split(":")[1], 16)
            if remote_port == port and fields[3] == "01" and fields[9] in inodes:
                count += 1
    return count


def test_two_rooms_share_one_connection_and_every_event_names_its_room(tmp_path):
    server = Server(tmp_path, trace=False)
    alice = bob = None
    try:
        alice = Client(server, "alice", "lobby", "second")
        for room in (LOBBY, SECOND):
            alice.wait_for(f"ready in {room}", lambda e, room=room: e["event"] == "ready" and e.get("room") == room)
        bob = Client(server, "bob")
        bob.ready()
        bob.send("/join second")
        alice.wait_for("bob in second", lambda e: e["event"] == "member-joined" and e["member"]["nick"] == "bob"
                       and e["room"] == SECOND)
        alice.wait_for("bob in lobby", lambda e: e["event"] == "member-joined" and e["member"]["nick"] == "bob"
                       and e["room"] == LOBBY)
        assert server_connections(alice.process.pid, server.port) == 1

        bob.send("to second")    # /join made second bob's current room
        assert alice.received("to second")["room"] == SECOND
        bob.send("/buffer lobby")
        bob.wait_for("the switch", lambda e: e["event"] == "notice" and e.get("command") == "buffer")
        bob.send("to lobby")
        assert alice.received("to lobby")["room"] == LOBBY
        bob.send("/buffer 9")
        bob.wait_for("no ninth room", lambda e: e["event"] == "error" and e.get("command") == "buffer")

        # Connection events name no room; everything a room says names it.
        for event in alice.drain(0.2):
            if event["event"] in ("joined", "ready", "member-joined", "message", "safety", "delivery"):
                assert event.get("room") in (LOBBY, SECOND), event
            if event["event"] in ("hello", "connected"):
                assert "room" not in event, event

        bob.send("/part")        # leaves lobby, stays in second
        alice.wait_for("bob leaving lobby", lambda e: e["event"] == "member-left" and e["room"] == LOBBY)
        bob.send("still in second")
        assert alice.received("still in second")["room"] == SECOND
        bad = [e for e in alice.drain(0.3) + bob.drain(0.1) if e["event"] in ("undecryptable", "error")
               and e.get("command") != "buffer"]
        assert not bad, bad
    finally:
        for client in (alice, bob):
            if client is not None:
                client.quit()
        server.stop()
