"""The real `catroom serve` under abuse that only a whole process shows: running out
of file descriptors, and how a stream that ends in an error is closed.
"""

from __future__ import annotations

import os
import resource
import socket
import ssl
import time

import pytest

from catroom_processes import Server, free_port

HEADER = (b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          b"xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>")
# Limits out of the way, so that only descriptors run out.
UNLIMITED = ("--allow-plaintext", "--connections-per-address", "100000",
             "--connection-attempts-per-minute", "1000000")


def stream(port: int, wait: float) -> socket.socket | None:
    """A connection that sent its header; None if the server did not answer within `wait` s."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=wait)
    sock.sendall(HEADER)
    try:
        if b"<stream:stream" in sock.recv(4096):
            return sock
    except TimeoutError:
        pass
    sock.close()
    return None


def cpu_seconds(pid: int) -> float:
    """User and system time the process has used so far (proc(5), fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def read_to_end(sock: socket.socket) -> tuple[bytes, str]:
    """Everything the server sends, and how it ended: "eof" or the exception's name."""
    received = b""
    for _ in range(1000):
        try:
            chunk = sock.recv(65536)
        except OSError as error:
            return received, type(error).__name__
        if not chunk:
            return received, "eof"
        received += chunk
    return received, "still open"


def test_out_of_descriptors_the_server_backs_off_keeps_serving_and_recovers(tmp_path):
    server = Server(tmp_path, *UNLIMITED, trace=False)
    opened: list[socket.socket] = []
    unanswered: list[socket.socket] = []
    try:
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.prlimit(server.process.pid, resource.RLIMIT_NOFILE, (64, hard))
        # Open streams until one is not answered: accept now fails with EMFILE, and
        # the next connections wait in the listen backlog.
        for _ in range(100):
            sock = stream(server.port, wait=2.0)
            if sock is None:
                break
            opened.append(sock)
        else:
            pytest.fail("100 connections were all accepted under a 64-descriptor limit")
        for _ in range(3):
            unanswered.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
        # No busy loop: under 30 % of one core over 2 s (a spinning accept loop takes all of one).
        before, start = cpu_seconds(server.process.pid), time.monotonic()
        time.sleep(2)
        share = (cpu_seconds(server.process.pid) - before) / (time.monotonic() - start)
        assert share < 0.3, f"the server used {share:.0%} of a core while out of descriptors"
        # The streams it has are still served: a registration form is answered.
        oldest = opened[0]
        oldest.settimeout(5)
        oldest.sendall(b"<iq type='get' id='r1'><query xmlns='jabber:iq:register'/></iq>")
        reply = b""
        while b"</iq>" not in reply:
            chunk = oldest.recv(65536)
            assert chunk, "an existing stream was closed while the server was out of descriptors"
            reply += chunk
        assert b"jabber:iq:register" in reply
        # Descriptors freed: those waiting are accepted, and then a new one.
        for sock in opened[-10:]:
            sock.close()
        del opened[-10:]
        assert stream(server.port, wait=5.0) is not None, "no new connection served after descriptors were freed"
        assert server.process.poll() is None
    finally:
        for sock in opened + unanswered:
            sock.close()
        server.stop()


@pytest.mark.parametrize("tls", [False, True], ids=["starttls-port", "direct-tls"])
def test_a_stream_error_arrives_whole_and_the_connection_ends_in_order(tmp_path, tls):
    server = Server(tmp_path, "--allow-plaintext", direct_tls_port=free_port() if tls else 0, trace=False)
    try:
        sock = socket.create_connection(("127.0.0.1", server.direct_tls_port if tls else server.port), timeout=10)
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            sock = context.wrap_socket(sock)
        # Malformed XML, followed by more than the server reads at once: unread data
        # at close() would turn the close into a TCP reset and lose the error.
        sock.sendall(HEADER + b"<message><body>ok</body></nope>" + b"<a/>" * 16384)
        received, end = read_to_end(sock)
        assert b"<not-well-formed" in received and received.endswith(b"</stream:stream>"), received[-300:]
        assert end == "eof", f"the connection ended with {end}, not an orderly close"
        sock.close()
    finally:
        server.stop()

