"""Operating `catroom serve`: the configuration file.

Every test runs the real binary on loopback; every wait is bounded.
"""

from __future__ import annotations

import subprocess

import pytest

from catroom_processes import REPO, WAIT, binary

EXAMPLE = REPO / "docs" / "catroom.example.yaml"


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


def test_a_bad_flag_value_is_refused():
    result = serve("--check-config", "--max-outbound-bytes", "5")
    assert result.returncode == 78
    assert result.stderr == "catroom: limits.max_outbound_bytes: must be 65536 to 1073741824\n"
