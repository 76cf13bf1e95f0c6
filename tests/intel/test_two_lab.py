"""The two-lab test (issue 12, part 5): scripts/two-lab.sh end to end.

Lab A detects the campaigns of the first half of a simulated smoke scenario and publishes its indicators
to its TAXII collection (`moat intel serve`); Lab B, with its own store and customers (another seed),
pulls them and then meets the same operators' second half under fresh account ids. The script exits 1 unless the shared
indicators lower Lab B's time to detect and leakage without raising its benign false-positive rate; here
the figures are also checked one by one, so a failure says which.
"""

import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_shared_indicators_cut_lab_b_time_to_detect_and_leakage(moat_bin, tmp_path):
    out = tmp_path / "two-lab.json"
    env = dict(os.environ, MOAT_BIN=moat_bin, PYTHON=sys.executable)
    run = subprocess.run([str(ROOT / "scripts" / "two-lab.sh"), "--json", str(out)], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=900)
    print(run.stdout)
    print(run.stderr[-4000:], file=sys.stderr)
    assert out.exists(), f"two-lab.sh wrote no figures (exit {run.returncode})"
    figures = json.loads(out.read_text())
    assert figures["indicators_shared"] > 0
    alone, shared = figures["lab_b"]["overall"]["alone"], figures["lab_b"]["overall"]["shared"]
    assert shared["mean_time_to_detect_hours"] is not None, "a campaign detected alone was missed with Lab A's indicators"
    assert alone["mean_time_to_detect_hours"] is None or shared["mean_time_to_detect_hours"] < alone["mean_time_to_detect_hours"]
    assert shared["leakage"] < alone["leakage"]
    for name, c in figures["lab_b"]["campaigns"].items():
        if c["alone"]["time_to_detect_hours"] is not None:
            assert c["shared"]["time_to_detect_hours"] is not None, f"{name}: detected alone, missed with sharing"
            assert c["shared"]["time_to_detect_hours"] <= c["alone"]["time_to_detect_hours"], f"{name}: detected later with sharing"
        assert c["shared"]["leakage"] <= c["alone"]["leakage"], f"{name}: leaks more with sharing"
    assert (shared["benign_false_positive_rate"] or 0) <= (alone["benign_false_positive_rate"] or 0)
    assert run.returncode == 0
