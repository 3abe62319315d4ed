"""Real catroom processes for end-to-end tests: a server and JSON-mode clients.

Every wait is bounded; every process is stopped at the end, whatever happens.
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
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WAIT = 10.0


def binary() -> str:
    path = os.environ.get("CATROOM_BIN") or str(REPO / ".build" / "debug" / "catroom")
    if not Path(path).exists():
        raise RuntimeError(f"catroom binary not found at {path}: run `swift build` first or set CATROOM_BIN")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`catroom serve` on loopback with TLS required, its stderr kept as the log."""

    def __init__(self, workdir: Path, *extra: str):
        self.port = free_port()
        self.workdir = workdir
        self.log_path = workdir / "server.log"
        self.tap_path = workdir / "wire.tap"
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [binary(), "serve", "--host", "127.0.0.1", "--port", str(self.port), "--direct-tls-port", "0",
             "--data-dir", str(workdir / "data"), "--log-level", "trace", "--wire-tap", str(self.tap_path), *extra],
            stdout=subprocess.PIPE, stderr=self.log)
        self.fingerprint = None
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            line = self.process.stdout.readline().decode()
            if not line:
                break
            match = re.search(r"certificate SHA-256 ([0-9A-F:]+)", line)
            if match:
                self.fingerprint = match.group(1)
            if line.startswith("join with:"):
                return
        raise RuntimeError(f"the server did not start: {self.log_path.read_text()}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()
        return self.process.returncode


class Client:
    """`catroom join --json`: commands in on stdin, one JSON event per stdout line."""

    def __init__(self, server: Server, nick: str, room: str = "lobby", *extra: str):
        self.nick = nick
        self.events: list[dict] = []
        self._queue: queue.Queue = queue.Queue()
        self.process = subprocess.Popen(
            [binary(), "join", room, "--nick", nick, "--server", "127.0.0.1", "--domain", "localhost",
             "--port", str(server.port), "--pin", server.fingerprint, "--json", *extra],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            try:
                self._queue.put(json.loads(line))
            except json.JSONDecodeError:
                self._queue.put({"event": "unparsable", "line": line.decode(errors="replace")})
        self._queue.put(None)

    def send(self, line: str) -> None:
        self.process.stdin.write((line + "\n").encode())
        self.process.stdin.flush()

    def wait_for(self, what: str, match, timeout: float = WAIT) -> dict:
        """The first event (already seen or arriving) that `match` accepts."""
        for event in self.events:
            if match(event):
                return event
        deadline = time.monotonic() + timeout
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
        raise AssertionError(f"{self.nick}: no {what} within {timeout} s; events: {json.dumps(self.events, indent=1)[-3000:]}")

    def drain(self, seconds: float = 0.3) -> list[dict]:
        """Collects whatever arrives within `seconds`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                event = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if event is None:
                break
            self.events.append(event)
        return self.events

    def ready(self) -> dict:
        return self.wait_for("ready", lambda e: e["event"] == "ready")

    def received(self, text: str, private: bool | None = None) -> dict:
        return self.wait_for(f"message {text!r}", lambda e: e["event"] == "message" and not e["own"] and e["text"] == text
                             and (private is None or e["private"] == private))

    def texts(self) -> list[str]:
        return [e["text"] for e in self.drain(0.1) if e["event"] == "message" and not e["own"]]

    def quit(self) -> int:
        if self.process.poll() is None:
            try:
                self.send("/quit")
                self.process.stdin.close()
                self.process.wait(timeout=WAIT)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
        return self.process.returncode
