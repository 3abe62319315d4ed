"""The client against a scripted hostile server (hostile_server.py): it never hangs.

Each case uses the hidden timing options (`--phase-timeout`, `--keepalive-idle`, ...) so
that it ends within seconds; the client's standard input stays open throughout, so an
exit proves the client did not wait for it.
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time

import pytest

from catroom_processes import binary
from hostile_server import HostileServer

EXIT = 15.0  # the longest any case may take to end the client
QUIT = 5.0  # a /quit ends the client within this, well before any deadline or IQ timeout (10 s)
CANNOT_CONNECT, TRUST, REFUSED = 2, 3, 4  # exit statuses (docs/user-guide.md, "Exit status")


class JSONClient:
    def __init__(self, port: int, *extra: str):
        self.events: list[dict] = []
        self._queue: queue.Queue = queue.Queue()
        self.process = subprocess.Popen(
            [binary(), "join", "lobby", "--nick", "alice", "--server", "127.0.0.1", "--domain", "localhost",
             "--port", str(port), "--plaintext", "--insecure", "--json", *extra],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self._queue.put(json.loads(line))
        self._queue.put(None)

    def wait_for(self, what: str, match, timeout: float = EXIT) -> dict:
        deadline = time.monotonic() + timeout
        for event in self.events:
            if match(event):
                return event
        while time.monotonic() < deadline:
            try:
                event = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if event is None:
                break
            self.events.append(event)
            if match(event):
                return event
        raise AssertionError(f"no {what} within {timeout} s; events: {json.dumps(self.events, indent=1)}")

    def exit_status(self) -> int:
        """Waits for the process to end by itself (stdin still open)."""
        try:
            status = self.process.wait(timeout=EXIT)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the client did not exit within {EXIT} s; events: {self.events}")
        while (event := self._queue.get(timeout=5)) is not None:
            self.events.append(event)
        return status

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def hostile(request):
    servers = []

    def start(mode: str) -> HostileServer:
        server = HostileServer(mode)
        servers.append(server)
        return server
    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def clients():
    started = []

    def start(port: int, *extra: str) -> JSONClient:
        client = JSONClient(port, *extra)
        started.append(client)
        return client
    yield start
    for client in started:
        client.kill()


def test_a_huge_scram_iteration_count_is_refused_at_once(hostile, clients):
    server = hostile("scram-iterations")
    client = clients(server.port)
    started = time.monotonic()
    assert client.exit_status() == TRUST
    assert time.monotonic() - started < 10
    failed = client.wait_for("failed", lambda e: e["event"] == "failed")
    assert failed["kind"] == "trust" and failed["status"] == TRUST, failed
    assert "2147483647" in failed["reason"] and "100000" in failed["reason"], failed
    assert server.connections == 1


def test_a_bind_result_without_an_account_name_is_refused_not_a_crash(hostile, clients):
    server = hostile("bind-without-localpart")
    client = clients(server.port)
    assert client.exit_status() == REFUSED
    failed = client.wait_for("failed", lambda e: e["event"] == "failed")
    assert failed["kind"] == "refused", failed
    assert "without an account name (localhost/r)" in failed["reason"], failed
    assert server.connections == 1


def test_a_server_silent_after_the_stream_header_fails_the_phase(hostile, clients):
    server = hostile("silent-after-header")
    client = clients(server.port, "--phase-timeout", "1")
    assert client.exit_status() == CANNOT_CONNECT
    failed = client.wait_for("failed", lambda e: e["event"] == "failed")
    assert failed["kind"] == "cannot-connect", failed
    assert failed["reason"].startswith("the server did not open the stream within 1 s"), failed
    assert server.connections == 1  # the first connection is not retried


def test_a_server_that_stops_answering_is_noticed_by_the_keepalive(hostile, clients):
    server = hostile("no-pong")
    client = clients(server.port, "--keepalive-idle", "1", "--keepalive-timeout", "1", "--no-reconnect")
    client.wait_for("joined", lambda e: e["event"] == "joined")
    assert client.exit_status() != 0
    reason = client.wait_for("disconnected", lambda e: e["event"] == "disconnected")["reason"]
    assert reason == "the server did not answer a ping within 1 s"
    assert not any(e["event"] == "reconnecting" for e in client.events)


def test_reconnecting_gives_up_after_the_configured_attempts_and_exits(hostile, clients):
    server = hostile("no-pong")
    client = clients(server.port, "--keepalive-idle", "1", "--keepalive-timeout", "1",
                     "--reconnect-base", "1", "--reconnect-cap", "1", "--reconnect-attempts", "2")
    client.wait_for("joined", lambda e: e["event"] == "joined")
    server.stop_listening()
    client.wait_for("reconnecting", lambda e: e["event"] == "reconnecting")
    client.process.stdin.write(b"typed while disconnected\n")
    client.process.stdin.flush()
    assert client.exit_status() != 0
    attempts = [e["attempt"] for e in client.events if e["event"] == "reconnecting"]
    assert attempts == [1, 2]
    assert all(0.5 <= e["seconds"] <= 1 for e in client.events if e["event"] == "reconnecting")
    last = [e for e in client.events if e["event"] == "disconnected"][-1]
    assert last["reason"].startswith("gave up after 2 attempts to reconnect"), last
    # What waited is reported, not dropped in silence.
    assert {"event": "not-sent", "text": "typed while disconnected", "reason": "the connection did not come back",
            "room": "lobby@rooms.localhost"} in client.events


def test_a_system_shutdown_stream_error_leads_to_a_reconnection(hostile, clients):
    server = hostile("shutdown-once")
    client = clients(server.port, "--reconnect-base", "0.1", "--reconnect-cap", "0.2")
    first = client.wait_for("connected", lambda e: e["event"] == "connected")
    dropped = client.wait_for("disconnected", lambda e: e["event"] == "disconnected")
    assert "system-shutdown" in dropped["reason"]
    assert server.client_answered_ping
    reconnecting = client.wait_for("reconnecting", lambda e: e["event"] == "reconnecting")
    assert reconnecting["attempt"] == 1
    again = client.wait_for("connected again", lambda e: e["event"] == "connected" and e is not first)
    assert again["me"]["fingerprint"] == first["me"]["fingerprint"]  # the same identity key
    client.wait_for("joined again", lambda e: e["event"] == "joined" and client.events.index(e) > client.events.index(again))
    assert server.connections == 2


def quit_ends_at_once(client: JSONClient) -> None:
    started = time.monotonic()
    client.process.stdin.write(b"/quit\n")
    client.process.stdin.flush()
    assert client.exit_status() == 0
    assert time.monotonic() - started < QUIT, f"/quit took {time.monotonic() - started:.1f} s"
    assert client.events[-1] == {"event": "disconnected", "reason": "quit"}, client.events


def test_quit_while_the_login_waits_for_the_server_ends_at_once(hostile, clients):
    server = hostile("silent-after-header")
    client = clients(server.port, "--phase-timeout", "60")
    client.wait_for("hello", lambda e: e["event"] == "hello")
    deadline = time.monotonic() + EXIT
    while server.connections == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.connections == 1
    quit_ends_at_once(client)
    assert not any(e["event"] in ("failed", "connected") for e in client.events), client.events


def test_quit_while_prekeys_are_being_published_ends_at_once(hostile, clients):
    server = hostile("silent-after-bind")
    client = clients(server.port, "--phase-timeout", "60")
    # Logged in: the client now waits for the answer to its prekey publication, which never comes.
    client.wait_for("connected", lambda e: e["event"] == "connected")
    quit_ends_at_once(client)
    assert not any(e["event"] in ("failed", "joined", "error") for e in client.events), client.events
