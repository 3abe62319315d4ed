"""Operating `catroom serve`: the configuration file, certificates reloaded on SIGHUP, the
graceful shutdown on SIGTERM, and the systemd unit (docs/admin-guide.md).

Every test runs the real binary on loopback; every wait is bounded.
"""

from __future__ import annotations

import hashlib
import shutil
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest

from catroom_processes import REPO, WAIT, Server, binary, free_port

EXAMPLE = REPO / "docs" / "catroom.example.yaml"
UNIT = REPO / "dist" / "catroom.service"
HEADER = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          "xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>").encode()


def serve(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([binary(), "serve", *arguments], capture_output=True, text=True, timeout=WAIT)


# --- configuration file -------------------------------------------------------------

def test_example_file_checks_and_prints_every_key(tmp_path):
    result = serve("--config", str(EXAMPLE), "--check-config", "--data-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "port: 5222\n" in result.stdout
    assert "limits:\n  max_stanza_bytes: 262144\n" in result.stdout
    assert "certificate:" not in result.stdout  # unset, so generated


def test_flags_override_the_file(tmp_path):
    config = tmp_path / "catroom.yaml"
    config.write_text("domain: chat.example.org\nport: 7000\nlimits:\n  max_occupants: 50\n")
    result = serve("--config", str(config), "--check-config", "--port", "6000")
    assert result.returncode == 0, result.stderr
    assert "domain: chat.example.org\n" in result.stdout
    assert "port: 6000\n" in result.stdout
    assert "  max_occupants: 50\n" in result.stdout


def test_printed_configuration_is_a_valid_file(tmp_path):
    first = serve("--check-config", "--domain", "chat.example.org", "--max-occupants", "9")
    config = tmp_path / "printed.yaml"
    config.write_text(first.stdout)
    second = serve("--config", str(config), "--check-config")
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout


@pytest.mark.parametrize("text, error", [
    ("port: 5222\nlimits:\n  max_occupant: 5\n", "catroom.yaml:3: limits.max_occupant: is not a setting"),
    ("port: 5222\n  host: x\n", "catroom.yaml:2: is not valid YAML"),
    ("limits:\n  max_occupants: 100000\n", "limits.max_occupants: must be at most 744"),
])
def test_a_bad_file_is_refused_with_its_place(tmp_path, text, error):
    config = tmp_path / "catroom.yaml"
    config.write_text(text)
    for extra in (["--check-config"], []):  # starting refuses it the same way, binding nothing
        result = serve("--config", str(config), "--port", "0", "--direct-tls-port", "0", *extra)
        assert result.returncode == 78, result  # EX_CONFIG
        assert result.stderr.startswith("catroom: "), result.stderr
        assert error in result.stderr
        assert result.stdout == ""


def test_a_flag_out_of_range_is_a_usage_error():
    result = serve("--check-config", "--max-outbound-bytes", "5")
    assert result.returncode == 64  # EX_USAGE, as for any bad flag
    assert "Error: limits.max_outbound_bytes: must be 65536 to 1073741824\n" in result.stderr


def test_flags_that_only_clash_with_the_file_are_a_configuration_error(tmp_path):
    config = tmp_path / "catroom.yaml"
    config.write_text("limits:\n  max_stanza_bytes: 20000\n")
    result = serve("--config", str(config), "--check-config", "--max-occupants", "20")
    assert result.returncode == 78
    assert result.stderr == "catroom: limits.max_occupants: must be at most 10 for 20000-byte stanzas (xep/CR-0005 §6.3)\n"


# --- certificates ---------------------------------------------------------------------

def make_certificate(directory: Path, name: str) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    certificate, key = directory / f"{name}-fullchain.pem", directory / f"{name}-privkey.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(key), "-out", str(certificate), "-subj", "/CN=localhost", "-days", "2"],
                   check=True, capture_output=True, timeout=WAIT)
    return certificate, key


def fingerprint_of(certificate: Path) -> str:
    der = ssl.PEM_cert_to_DER_cert(certificate.read_text())
    return ":".join(f"{byte:02X}" for byte in hashlib.sha256(der).digest())


class DirectTLS:
    """A direct-TLS connection (XEP-0368) that has not said anything yet."""

    def __init__(self, port: int):
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        self.socket = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=WAIT))
        der = self.socket.getpeercert(binary_form=True)
        self.fingerprint = ":".join(f"{byte:02X}" for byte in hashlib.sha256(der).digest())

    def read_until(self, marker: bytes) -> bytes:
        data = b""
        deadline = time.monotonic() + WAIT
        while marker not in data and time.monotonic() < deadline:
            chunk = self.socket.recv(65536)
            if not chunk:
                break
            data += chunk
        return data

    def open_stream(self) -> bytes:
        self.socket.sendall(HEADER)
        return self.read_until(b"</features>")

    def close(self):
        self.socket.close()


def wait_for_log(server: Server, text: str) -> None:
    deadline = time.monotonic() + WAIT
    while text not in server.log_path.read_text(errors="replace"):
        assert time.monotonic() < deadline, f"{text!r} not logged\n{server.diagnostics()}"
        time.sleep(0.05)


def test_sighup_reloads_the_certificate_without_dropping_streams(tmp_path):
    live_certificate, live_key = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    old_certificate, old_key = make_certificate(tmp_path, "old")
    new_certificate, new_key = make_certificate(tmp_path, "new")
    shutil.copy(old_certificate, live_certificate)
    shutil.copy(old_key, live_key)
    config = tmp_path / "catroom.yaml"
    config.write_text(f"certificate: {live_certificate}\nkey: {live_key}\n")
    server = Server(tmp_path, "--config", str(config), direct_tls_port=free_port(), trace=False)
    try:
        assert server.fingerprint == fingerprint_of(old_certificate)
        before = DirectTLS(server.direct_tls_port)
        assert before.fingerprint == fingerprint_of(old_certificate)

        # What an ACME client's deploy hook does: new files, then `systemctl reload`.
        shutil.copy(new_certificate, live_certificate)
        shutil.copy(new_key, live_key)
        server.process.send_signal(signal.SIGHUP)
        wait_for_log(server, f"certificate reloaded, SHA-256 {fingerprint_of(new_certificate)}")

        after = DirectTLS(server.direct_tls_port)
        assert after.fingerprint == fingerprint_of(new_certificate)
        assert b"<features" in after.open_stream()
        assert b"<features" in before.open_stream(), "the stream opened before the reload still works"
        before.close()
        after.close()

        # A key that does not match: logged, and the certificate in use stays.
        shutil.copy(old_key, live_key)
        server.process.send_signal(signal.SIGHUP)
        wait_for_log(server, f"certificate not reloaded, keeping SHA-256 {fingerprint_of(new_certificate)}")
        kept = DirectTLS(server.direct_tls_port)
        assert kept.fingerprint == fingerprint_of(new_certificate)
        kept.close()
        assert server.process.poll() is None
    finally:
        assert server.stop() == 0


# --- graceful shutdown ----------------------------------------------------------------

def test_sigterm_sends_every_stream_system_shutdown_and_exits(tmp_path):
    server = Server(tmp_path, direct_tls_port=free_port(), trace=False)
    try:
        clients = [DirectTLS(server.direct_tls_port) for _ in range(3)]
        for client in clients:
            assert b"<features" in client.open_stream()
        server.process.send_signal(signal.SIGTERM)
        for client in clients:
            goodbye = client.read_until(b"</stream:stream>")
            assert b"<system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>" in goodbye, goodbye
            assert goodbye.endswith(b"</stream:stream>")
            client.close()
        assert server.process.wait(timeout=WAIT) == 0  # the server's own bound is 5 s
    finally:
        server.stop()


# --- systemd --------------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_unit_verifies_and_is_hardened(tmp_path):
    unit = tmp_path / "catroom.service"
    # verify checks that ExecStart's program exists: point it at the one built here.
    unit.write_text(UNIT.read_text().replace("/usr/local/bin/catroom", binary()))
    verify = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0, verify.stderr
    assert verify.stderr == "", verify.stderr  # a misspelt or unparsable setting is only a warning
    # The exposure score on systemd's 0-10 scale, times ten: 2.0 or below.
    security = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--threshold=20", str(unit)],
                              capture_output=True, text=True, timeout=60)
    assert security.returncode == 0, security.stdout
