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
