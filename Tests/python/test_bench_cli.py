"""`catroom bench` refuses options it cannot run with, before measuring anything."""

from __future__ import annotations

import json
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


def test_bench_ui_measures_each_mode_and_diffing_writes_less():
    done = subprocess.run([binary(), "bench", "ui", "--seconds", "0.3", "--json"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    modes = {row["mode"]: row for row in report["modes"]}
    assert len(modes) == 3, report
    for row in modes.values():
        assert row["messages"] == 60 and row["keys"] == 6, row
        assert row["redrawMicrosecondsMean"] > 0 and row["keyLatencyMillisecondsP99"] >= row["keyLatencyMillisecondsP50"] >= 0
    spread, repaint = modes["spread over buffers, one shown"], modes["spread, whole screen repainted (baseline)"]
    assert spread["bytesPerMessage"] < repaint["bytesPerMessage"], report


@pytest.mark.parametrize("flags, message", [(["--buffers", "0"], "--buffers must be 1 to 9"), (["--size", "10x2"], "--size"),
                                            (["--rate", "0"], "--rate")])
def test_bench_ui_refuses_what_it_cannot_run(flags, message):
    done = bench("ui", *flags)
    assert done.returncode == 64, done.stderr
    assert message in done.stderr
