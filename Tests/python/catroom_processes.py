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
    """`catroom serve` on loopback with TLS required, its stderr kept as the log.

    `extra` flags are passed through; `port` restarts a server where another ran (with
    the same `workdir`, so the same certificate). With `trace` (the default) it logs at trace level and
    taps the wire, for tests that check what the server saw. Its stdout is read on a
    thread, so a server that hangs before announcing itself fails the wait instead of
    blocking it.
    """

    def __init__(self, workdir: Path, *extra: str, direct_tls_port: int = 0, trace: bool = True, startup: float = WAIT,
                 port: int | None = None):
        self.port = port or free_port()
        self.direct_tls_port = direct_tls_port
        self.workdir = workdir
        self.log_path = workdir / "server.log"
        self.tap_path = workdir / "wire.tap"
        self.log = open(self.log_path, "wb")
        observe = ["--log-level", "trace", "--wire-tap", str(self.tap_path)] if trace else []
        self.process = subprocess.Popen(
            [binary(), "serve", "--host", "127.0.0.1", "--port", str(self.port), "--direct-tls-port", str(direct_tls_port),
             "--data-dir", str(workdir / "data"), *observe, *extra],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.stdout: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.serving = self.fingerprint = None
        try:
            self._await_startup(startup)
        except BaseException:
            self.stop()
            raise

    def _read(self) -> None:
        for line in self.process.stdout:
            self.stdout.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def _await_startup(self, timeout: float) -> None:
        """Until the last start-up line ("join with: ..."), keeping the serving line and the fingerprint."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                raise RuntimeError(f"catroom serve did not start within {timeout} s\n{self.diagnostics()}")
            if line.startswith("catroom serving "):
                self.serving = line
            match = re.search(r"certificate SHA-256 ([0-9A-F:]+)", line)
            if match:
                self.fingerprint = match.group(1)
            if line.startswith("join with:"):
                return

    def diagnostics(self) -> str:
        log = self.log_path.read_text(errors="replace")[-4000:]
        return f"stdout:\n{''.join(self.stdout)}\nstderr (tail):\n{log}"

    def stop(self) -> int:
        """SIGTERM, then SIGKILL if it has not exited within `WAIT`; the exit status."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(timeout=2)
        if not self._reader.is_alive():  # closing under a blocked reader would block too
            self.process.stdout.close()
        self.log.close()
        return self.process.returncode


class Client:
    """`catroom join --json`: commands in on stdin, one JSON event per stdout line; `env`
    replaces the environment (for a profile's directory and passphrase file)."""

    def __init__(self, server: Server, nick: str, room: str = "lobby", *extra: str, env: dict | None = None):
        self.nick = nick
        self.events: list[dict] = []
        self._queue: queue.Queue = queue.Queue()
        self.process = subprocess.Popen(
            [binary(), "join", room, "--nick", nick, "--server", "127.0.0.1", "--domain", "localhost",
             "--port", str(server.port), "--pin", server.fingerprint, "--json", *extra],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
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

    def _arrivals(self, seconds: float):
        """Events as they arrive within `seconds`, each also kept in `events`; stops early at end of output."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                event = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return
            if event is None:
                return
            self.events.append(event)
            yield event

    def wait_for(self, what: str, match, timeout: float = WAIT) -> dict:
        """The first event (already seen or arriving) that `match` accepts."""
        for event in self.events:
            if match(event):
                return event
        for event in self._arrivals(timeout):
            if match(event):
                return event
        raise AssertionError(f"{self.nick}: no {what} within {timeout} s; events: {json.dumps(self.events)[-3000:]}")

    def drain(self, seconds: float = 0.3) -> list[dict]:
        """Collects whatever arrives within `seconds`."""
        for _ in self._arrivals(seconds):
            pass
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


def join_until_exit(*arguments: str, env: dict | None = None, timeout: float = 3 * WAIT) -> subprocess.CompletedProcess:
    """`catroom join` with its input held open, so that only the client ends itself; its
    exit status and output. Killed (and the test failed) if it is still running after `timeout`."""
    process = subprocess.Popen([binary(), "join", *arguments], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise AssertionError(f"catroom join {' '.join(arguments)} did not exit within {timeout} s; "
                             f"stdout: {process.stdout.read()!r} stderr: {process.stderr.read()!r}")
    finally:
        process.stdin.close()
    return subprocess.CompletedProcess(process.args, process.returncode, process.stdout.read(), process.stderr.read())
