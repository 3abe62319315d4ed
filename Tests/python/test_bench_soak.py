"""`catroom bench soak`, short: real clients chat, churn and a hostile loop run against a real
server process; every expected message is delivered and every hostile connection refused."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ElementTree

from catroom_processes import binary


def test_a_short_soak_delivers_everything_and_refuses_every_hostile_connection(tmp_path):
    report, svg = tmp_path / "soak.json", tmp_path / "soak.svg"
    done = subprocess.run(
        [binary(), "bench", "soak", "--seconds", "20", "--rooms", "2", "--sample-seconds", "2",
         "--report", str(report), "--svg", str(svg)],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASSED" in done.stdout

    result = json.loads(report.read_text())
    delivery = result["delivery"]
    assert delivery["expected"] > 0 and delivery["delivered"] == delivery["expected"], delivery
    assert delivery["percent"] == 100
    assert result["failures"] == []
    # Twenty seconds of load sampled every two: the table has the whole run.
    assert len(result["samples"]) >= 10
    assert all(sample["rssKiB"] > 0 for sample in result["samples"])
    assert result["churn"]["joins"] >= 2 and result["churn"]["leaves"] >= 1
    hostile = {entry["shape"]: entry for entry in result["hostile"]}
    assert {"doctype", "httpRequest", "oversizedStanza", "halfOpen", "connectionFlood", "badSASL"} <= hostile.keys()
    assert all(entry["refused"] == entry["tried"] > 0 for entry in hostile.values())

    picture = ElementTree.parse(svg).getroot()
    assert picture.tag == "{http://www.w3.org/2000/svg}svg"
    assert len(picture.findall("{http://www.w3.org/2000/svg}polyline")) == 2


def test_bench_soak_refuses_both_durations_and_empty_rooms():
    for flags, message in [(["--minutes", "1", "--seconds", "30"], "exclude each other"),
                           (["--seconds", "20", "--chatters", "1"], "--chatters must be 2 to 50")]:
        done = subprocess.run([binary(), "bench", "soak", *flags], capture_output=True, text=True, timeout=10)
        assert done.returncode == 64, done.stderr
        assert message in done.stderr
