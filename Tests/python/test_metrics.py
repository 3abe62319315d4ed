"""Monitoring `catroom serve`: Prometheus text at /metrics (opt-in with --metrics) and its
logs, plain or JSON lines (docs/admin-guide.md, "Monitoring" and "Logs").

A real server process, scraped with a plain HTTP client after a real chat between two
`catroom join` processes. Neither the metrics nor the info-level log may name an
account or a room. Every wait is bounded; every address is loopback.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import urllib.error
import urllib.request

import pytest

from catroom_processes import WAIT, Client, Server, binary, free_port

ROOM = f"quokka-{secrets.token_hex(4)}"


def scrape(port: int, path: str = "/metrics") -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=WAIT) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return response.read().decode()


def samples(text: str) -> dict[str, float]:
    """`name{labels}` to value, from the Prometheus text format."""
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def chat(server: Server) -> set[str]:
    """Two members join ROOM and talk both ways, then leave; their account ids."""
    alice = Client(server, "alice", ROOM)
    bob = None
    try:
        alice.ready()
        bob = Client(server, "bob", ROOM)
        bob.ready()
        joined = alice.wait_for("bob joining", lambda e: e["event"] == "member-joined")
        present = bob.wait_for("alice present", lambda e: e["event"] == "member-present")
        alice.send("hello bob")
        bob.received("hello bob")
        bob.send("hello alice")
        alice.received("hello alice")
        return {joined["member"]["id"], present["member"]["id"]}
    finally:
        for client in (alice, bob):
            if client:
                client.quit()


@pytest.fixture
def metered(tmp_path):
    server = Server(tmp_path, "--metrics", f"127.0.0.1:{free_port()}", trace=False)
    yield server
    server.stop()


def metrics_port(server: Server) -> int:
    line = next(line for line in server.stdout if line.startswith("metrics at "))
    return int(re.search(r":(\d+)/metrics", line).group(1))


def test_counters_move_with_a_chat_and_no_account_or_room_is_named(metered):
    port = metrics_port(metered)
    before = samples(scrape(port))
    assert before["catroom_connections"] == 0 and before["catroom_rooms"] == 0
    assert before["catroom_resident_memory_bytes"] > 1 << 20

    ids = chat(metered)
    text = scrape(port)
    after = samples(text)
    assert after["catroom_registrations_total"] >= before["catroom_registrations_total"] + 2
    for counter in ("catroom_stanzas_in_total", "catroom_stanzas_out_total", "catroom_deliveries_total"):
        assert after[counter] > before[counter] + 4, counter
    assert after["catroom_stanzas_out_total"] >= after["catroom_deliveries_total"]
    # Every reason and limit is there from the start, at zero until it happens.
    assert after['catroom_refusals_total{reason="unencrypted"}'] == 0
    assert 'catroom_limit_hits_total{limit="max_occupants"}' in after

    assert len(ids) == 2 and all(len(account) > 20 for account in ids), ids
    for secret in (*ids, ROOM, "alice", "bob"):
        assert secret not in text, f"{secret} appears in /metrics"


def test_gauges_follow_the_room(metered):
    port = metrics_port(metered)
    alice = Client(metered, "alice", ROOM)
    try:
        alice.ready()
        now = samples(scrape(port))
        assert (now["catroom_connections"], now["catroom_accounts"], now["catroom_rooms"], now["catroom_occupants"]) == (1, 1, 1, 1)
    finally:
        alice.quit()


@pytest.mark.parametrize("method,path", [("GET", "/"), ("GET", "/metrics/x"), ("GET", "/metricsx"), ("POST", "/metrics")])
def test_anything_but_get_metrics_is_not_found(metered, method, path):
    request = urllib.request.Request(f"http://127.0.0.1:{metrics_port(metered)}{path}", method=method, data=b"" if method == "POST" else None)
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=WAIT)
    assert error.value.code == 404


def test_an_oversized_request_is_cut_off(metered):
    with socket.create_connection(("127.0.0.1", metrics_port(metered)), timeout=WAIT) as connection:
        try:
            connection.sendall(b"GET /metrics HTTP/1.1\r\nX-Padding: " + b"a" * 20000 + b"\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            return
        reply = b""
        try:
            while chunk := connection.recv(4096):
                reply += chunk
        except ConnectionResetError:
            pass
    assert b"catroom_" not in reply


def listening_ports(pid: int) -> set[int]:
    """The TCP ports process `pid` listens on, from its socket descriptors and /proc/net."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        target = os.readlink(f"/proc/{pid}/fd/{fd}")
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if fields[3] == "0A" and fields[9] in inodes:  # TCP_LISTEN
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def test_no_metrics_port_without_the_flag(tmp_path):
    server = Server(tmp_path, trace=False)
    try:
        assert listening_ports(server.process.pid) == {server.port}
        assert not any(line.startswith("metrics at") for line in server.stdout)
    finally:
        server.stop()


def test_the_metrics_port_is_the_one_more_listener(metered):
    assert listening_ports(metered.process.pid) == {metered.port, metrics_port(metered)}


@pytest.mark.parametrize("log_format", ["plain", "json"])
def test_info_log_names_no_account_and_no_room(tmp_path, log_format):
    server = Server(tmp_path, "--log-level", "info", "--log-format", log_format, trace=False)
    try:
        ids = chat(server)
    finally:
        server.stop()
    log = server.log_path.read_text()
    assert "stopped" in log  # something was logged at info
    for secret in (*ids, ROOM):
        assert secret not in log, f"{secret} appears in the info log"
    if log_format == "json":
        lines = [json.loads(line) for line in log.splitlines()]
        assert {line["level"] for line in lines} <= {"info", "notice", "warning", "error", "critical"}
        assert all({"time", "level", "label", "message"} <= line.keys() for line in lines)


@pytest.mark.parametrize("flags", [["--log-format", "xml"], ["--log-level", "loud"], ["--metrics", "9464"],
                                   ["--metrics", "127.0.0.1:99999"]])
def test_a_bad_log_or_metrics_flag_is_a_usage_error(flags):
    result = subprocess.run([binary(), "serve", "--check-config", *flags], capture_output=True, text=True, timeout=WAIT)
    assert result.returncode == 64, result.stderr


def test_log_and_metrics_flags_reach_the_configuration():
    result = subprocess.run([binary(), "serve", "--check-config", "--metrics", "[::1]:9464", "--log-format", "json",
                             "--log-level", "debug"], capture_output=True, text=True, timeout=WAIT)
    assert result.returncode == 0, result.stderr
    assert "metrics: '[::1]:9464'\n" in result.stdout
    assert "log_level: debug\n" in result.stdout and "log_format: json\n" in result.stdout
