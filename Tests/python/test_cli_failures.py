"""`catroom join` when something goes wrong: each failure ends the process with its exit
status (docs/user-guide.md, "Exit status") and one line on standard error that
says what happened and what to do, never a library's error name. And the options that
shape a join: `--server host:port`, `--pin`, `--version`, `--nick` from the login name.

Real processes throughout: `catroom serve` on loopback, or a loopback port with nothing on
it, or a tiny scripted server for a TLS handshake that goes wrong.
"""

from __future__ import annotations

import json
import os
import queue
import re
import socket
import subprocess
import threading
import time

import pytest

from catroom_processes import Client, Server, binary, free_port, join_until_exit

CANNOT_CONNECT, TRUST, REFUSED, USAGE = 2, 3, 4, 64

# What must never reach the user: type and case names from the libraries below.
RAW_NAMES = ["SingleConnectionFailure", "NIOConnectionError", "uncleanShutdown", "NIOSSLError", "BoringSSL",
             "IOError", "ChannelError", "SocketAddressError", "connectTimeout", "handshakeFailed", "errnoCode",
             "Failure(", "Mismatch(", "description:"]
outputs: list[str] = []


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("failures"), "--max-occupants", "2", trace=False)
    yield server
    server.stop()


@pytest.fixture
def home(tmp_path):
    """An environment whose known_hosts lives in the test's directory."""
    return {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")}


def failed(result: subprocess.CompletedProcess, status: int) -> str:
    """The one line on standard error, once the exit status is checked."""
    outputs.append(result.stdout + result.stderr)
    assert result.returncode == status, f"exit {result.returncode}, wanted {status}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("catroom: "), result.stderr
    return lines[0]


def join(server: Server, *extra: str, env=None, room: str = "lobby") -> subprocess.CompletedProcess:
    return join_until_exit(room, "--nick", "alice", "--server", "127.0.0.1", "--domain", "localhost",
                           "--port", str(server.port), *extra, env=env)


def joined_then_quit(*arguments: str, env) -> tuple[list[dict], str, int]:
    """`catroom join ... --json` until it has joined, then `/quit`: its events, standard error and exit status."""
    client = subprocess.Popen([binary(), "join", *arguments, "--json"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env)
    lines: queue.Queue = queue.Queue()

    def read():
        for line in client.stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    events: list[dict] = []
    try:
        deadline = time.monotonic() + 30
        while not any(e["event"] in ("joined", "failed") for e in events):
            events.append(json.loads(lines.get(timeout=max(0.01, deadline - time.monotonic()))))
        client.stdin.write("/quit\n")
        client.stdin.close()
        client.wait(timeout=30)
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()
    while not lines.empty():
        events.append(json.loads(lines.get()))
    return events, client.stderr.read(), client.returncode


# ---------------------------------------------------------------------------
# Cannot connect (2)
# ---------------------------------------------------------------------------
def test_unknown_host_suggests_server_and_domain(home):
    pin = "AB" * 32
    line = failed(join_until_exit("lobby", "--nick", "alice", "--server", "nonexistent.invalid", "--pin", pin, env=home), CANNOT_CONNECT)
    assert "cannot find the host nonexistent.invalid" in line and "--server" in line and "--domain" in line, line


def test_refused_connection_names_host_and_port(home):
    port = free_port()
    line = failed(join_until_exit("lobby", "--nick", "alice", "--server", "127.0.0.1", "--port", str(port), "--insecure", env=home),
                  CANNOT_CONNECT)
    assert f"127.0.0.1 port {port}" in line and "connection refused" in line and "catroom serve" in line, line


def test_bracketed_ipv6_server_with_port_is_accepted(home):
    port = free_port()
    result = join_until_exit("lobby", "--nick", "alice", "--server", f"[::1]:{port}", "--insecure", env=home)
    assert result.returncode == USAGE and "give the server's XMPP name with --domain" in result.stderr, result
    line = failed(join_until_exit("lobby", "--nick", "alice", "--server", f"[::1]:{port}", "--domain", "localhost", "--insecure", env=home),
                  CANNOT_CONNECT)
    assert f"::1 port {port}" in line, line


def scripted_server(script) -> tuple[int, threading.Thread]:
    """A one-connection loopback server running `script(connection)`."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(10)

    def serve():
        with listener:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                connection.settimeout(10)
                try:
                    script(connection)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener.getsockname()[1], thread


def read_until(connection: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = connection.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def test_tls_handshake_failure_is_said_in_words(home):
    """STARTTLS is accepted, then the bytes that follow are not TLS."""
    def script(connection):
        read_until(connection, b"version='1.0'>")
        connection.sendall(b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'"
                           b" id='x' from='localhost' version='1.0'><stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
                           b"</stream:features>")
        read_until(connection, b"<starttls")
        connection.sendall(b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        connection.recv(4096)
        connection.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n" * 20)

    port, thread = scripted_server(script)
    line = failed(join_until_exit("lobby", "--nick", "alice", "--server", "127.0.0.1", "--port", str(port), "--pin", "AB" * 32,
                                  env=home), CANNOT_CONNECT)
    thread.join(timeout=10)
    assert f"127.0.0.1 port {port}" in line and "TLS" in line, line


def test_a_server_that_hangs_up_during_the_login(home):
    port, thread = scripted_server(lambda connection: read_until(connection, b"version='1.0'>"))
    line = failed(join_until_exit("lobby", "--nick", "alice", "--server", "127.0.0.1", "--port", str(port), "--pin", "AB" * 32,
                                  env=home), CANNOT_CONNECT)
    thread.join(timeout=10)
    assert "closed" in line and "during the login" in line, line


# ---------------------------------------------------------------------------
# Trust (3)
# ---------------------------------------------------------------------------
def test_known_hosts_mismatch_shows_both_fingerprints_how_to_check_and_how_to_repin(server, home, tmp_path):
    wrong = ":".join(["AB"] * 32)
    known_hosts = tmp_path / "config" / "catroom" / "known_hosts"
    known_hosts.parent.mkdir(parents=True)
    entry = f"[127.0.0.1]:{server.port} SHA256:{wrong}"
    known_hosts.write_text(entry + "\n")
    result = join(server, env=home)
    outputs.append(result.stdout + result.stderr)
    assert result.returncode == TRUST, result
    headline, *details = result.stderr.splitlines()
    assert headline.startswith(f"catroom: the certificate of [127.0.0.1]:{server.port} is not the one trusted"), headline
    assert all(line.startswith("  ") for line in details), result.stderr
    text = result.stderr
    assert f"expected ({known_hosts}): {wrong}" in text and f"presented: {server.fingerprint}" in text, text
    assert "`catroom serve` prints its fingerprint" in text and "operator" in text, text
    assert f"remove the line `{entry}` from {known_hosts}" in text and "--pin" in text, text
    assert known_hosts.read_text() == entry + "\n", "the record must not change"


def test_pin_mismatch_shows_both_fingerprints(server, home):
    wrong = ":".join(["CD"] * 32)
    result = join(server, "--pin", wrong, env=home)
    outputs.append(result.stdout + result.stderr)
    assert result.returncode == TRUST, result
    assert f"expected (--pin): {wrong}" in result.stderr and f"presented: {server.fingerprint}" in result.stderr, result.stderr


# ---------------------------------------------------------------------------
# Refused by the server (4)
# ---------------------------------------------------------------------------
def test_wrong_room_password_and_full_room(server, home):
    first = Client(server, "owner", "vault", "--password", "right")
    try:
        first.ready()
        line = failed(join(server, "--pin", server.fingerprint, "--password", "wrong", env=home, room="vault"), REFUSED)
        assert "vault@rooms.localhost has a password and this is not it" in line and "--password" in line, line
        second = Client(server, "second", "vault", "--password", "right")
        try:
            second.ready()
            line = failed(join(server, "--pin", server.fingerprint, "--password", "right", env=home, room="vault"), REFUSED)
            assert "vault@rooms.localhost is full" in line, line
        finally:
            second.quit()
    finally:
        first.quit()


def test_json_mode_reports_the_failure_as_its_last_event(home):
    port = free_port()
    result = join_until_exit("lobby", "--nick", "bot", "--server", "127.0.0.1", "--port", str(port), "--insecure", "--json", env=home)
    outputs.append(result.stdout + result.stderr)
    assert result.returncode == CANNOT_CONNECT
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events[0]["event"] == "hello"
    assert events[-1]["event"] == "failed" and events[-1]["kind"] == "cannot-connect" and events[-1]["status"] == CANNOT_CONNECT
    assert f"127.0.0.1 port {port}" in events[-1]["reason"]
    assert result.stderr == f"catroom: {events[-1]['reason']}\n"


# ---------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("pin", ["AB:CD", "nonsense", "AB" * 33, "ZZ" * 32])
def test_malformed_pin_is_refused_with_the_expected_form(pin, home):
    result = join_until_exit("lobby", "--nick", "alice", "--pin", pin, env=home)
    outputs.append(result.stdout + result.stderr)
    assert result.returncode == USAGE, result
    assert "is not a fingerprint" in result.stderr and "32 bytes in hex" in result.stderr and "AB:CD:" in result.stderr, result.stderr


@pytest.mark.parametrize("nick, problem", [
    ("bob#1a2b", "it contains #, which is reserved for fingerprint suffixes"),
    ("\u202eevil", "it contains a bidirectional control (U+202E)"),
    ("   ", "it is empty"),
])
def test_a_refused_display_name_is_a_usage_error_before_connecting(nick, problem, home):
    # No server at all: the name is refused before any connection is tried.
    result = join_until_exit("lobby", "--nick", nick, "--server", "127.0.0.1", "--port", str(free_port()), env=home)
    outputs.append(result.stdout + result.stderr)
    assert result.returncode == USAGE, result
    assert f"cannot join with that name: {problem}" in result.stderr, result.stderr


def test_conflicting_port_is_refused(home):
    result = join_until_exit("lobby", "--nick", "alice", "--server", "127.0.0.1:5000", "--port", "5001", env=home)
    assert result.returncode == USAGE and "--server says port 5000 and --port says 5001" in result.stderr, result


def test_server_with_port_joins(server, home):
    events, err, status = joined_then_quit("lobby", "--nick", "alice", "--server", f"127.0.0.1:{server.port}", "--domain", "localhost",
                                           "--pin", server.fingerprint, env=home)
    assert status == 0 and any(e["event"] == "joined" for e in events), (events, err)


def test_version():
    for arguments in (["--version"], ["join", "--version"]):
        done = subprocess.run([binary(), *arguments], capture_output=True, text=True, timeout=10)
        assert done.returncode == 0 and re.fullmatch(r"\d+\.\d+\.\d+\n", done.stdout), done


def test_nick_defaults_to_the_login_name(server, home):
    environment = {**home, "USER": "quokka\x1b[31m", "LOGNAME": "other"}
    events, err, status = joined_then_quit("lobby", "--server", "127.0.0.1", "--domain", "localhost", "--port", str(server.port),
                                           "--pin", server.fingerprint, env=environment)
    connected = next(e for e in events if e["event"] == "connected")
    assert connected["me"]["nick"] == "quokka31m", connected


def test_pin_differing_from_known_hosts_is_not_recorded_silently(server, home, tmp_path):
    """Without a terminal to ask in, the record stays and the user is told how to change it."""
    old = ":".join(["AB"] * 32)
    known_hosts = tmp_path / "config" / "catroom" / "known_hosts"
    known_hosts.parent.mkdir(parents=True)
    entry = f"[127.0.0.1]:{server.port} SHA256:{old}"
    known_hosts.write_text(entry + "\n")
    events, err, status = joined_then_quit("lobby", "--nick", "alice", "--server", "127.0.0.1", "--domain", "localhost",
                                           "--port", str(server.port), "--pin", server.fingerprint.lower(), env=home)
    assert status == 0 and any(e["event"] == "joined" for e in events), (events, err)
    assert f"remove the line `{entry}`" in err and "in a terminal" in err, err
    assert known_hosts.read_text() == entry + "\n"


def test_invite_takes_the_same_server_and_pin_forms():
    pin = "ab" * 32
    done = subprocess.run([binary(), "invite", "lobby", "--server", "127.0.0.1:6000", "--pin", pin], capture_output=True, text=True, timeout=10)
    assert done.returncode == 0, done
    assert f"--server 127.0.0.1 --port 6000 --pin {':'.join(['AB'] * 32)}" in done.stdout, done.stdout
    for arguments in (["--pin", "AB:CD"], ["--server", "127.0.0.1:6000", "--port", "6001"]):
        done = subprocess.run([binary(), "invite", "lobby", *arguments], capture_output=True, text=True, timeout=10)
        assert done.returncode == USAGE, done


def test_no_library_names_in_any_failure_output():
    """Runs last: everything the failure cases above printed."""
    assert len(outputs) >= 10, "the failure cases did not run"
    for text in outputs:
        for name in RAW_NAMES:
            assert name not in text, f"{name!r} reached the user:\n{text}"

