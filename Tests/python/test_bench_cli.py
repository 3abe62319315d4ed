"""`catroom bench` refuses options it cannot run with, before measuring anything."""

from __future__ import annotations

import subprocess

import pytest

from catroom_processes import binary


def bench(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([binary(), "bench", *arguments], capture_output=True, text=True, timeout=10)


@pytest.mark.parametrize("flags, message", [
    (["--repeats", "0"], "--repeats must be at least 1"),
    (["--members", "0"], "--members must be room sizes of at least 1"),
    (["--members", "10", "0"], "--members must be room sizes of at least 1"),
])
def test_bench_join_refuses_empty_runs(flags, message):
    done = bench("join", *flags)
    assert done.returncode == 64, done.stderr
    assert message in done.stderr


@pytest.mark.parametrize("flags", [["--scenario", "everything"], ["--close", "rude"]])
def test_bench_server_refuses_unknown_choices(flags):
    done = bench("server", *flags)
    assert done.returncode == 64, done.stderr
    assert flags[1] in done.stderr


@pytest.mark.parametrize("scenario", ["throughput", "latency", "idle", "all"])
@pytest.mark.parametrize("close", ["polite", "abrupt"])
def test_bench_server_accepts_every_documented_choice(scenario, close):
    # A non-loopback host stops it before it connects: the choices themselves were accepted.
    done = bench("server", "--scenario", scenario, "--close", close, "--host", "192.0.2.1")
    assert done.returncode == 64, done.stderr
    assert "--host must be a loopback address" in done.stderr
