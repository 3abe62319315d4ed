"""The real `catroom serve` under abuse that only a whole process shows: how a
stream that ends in an error is closed.
"""

from __future__ import annotations

import socket
import ssl

import pytest

from catroom_processes import Server, free_port

HEADER = (b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          b"xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>")


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

