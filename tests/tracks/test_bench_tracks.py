"""python -m scenmine.bench tracks: the report's figures and a tiny end-to-end run."""
from __future__ import annotations

import pytest

from scenmine.bench import tracks as bench


def test_the_report_ends_with_the_recovered_share():
    result = {"programs": ["p1", "p2"], "logs": ["l"], "errors": [],
              "timing": [{"log": "l", "tracks": 300, "seconds": 0.2}],
              "scores": {"clean": {"overall": 1.0, "per_program": {"p1": 1.0, "p2": 1.0}},
                         "noisy": {"overall": 0.6, "per_program": {"p1": 0.5, "p2": 0.7}},
                         "refined": {"overall": 0.9, "per_program": {"p1": 0.95, "p2": 0.66}}}}
    text = bench.report(result)
    lines = text.splitlines()
    assert lines[-1] == ("refinement recovers 75 % of the HOTA-Temporal lost to noise "
                         "(noisy 0.600, refined 0.900)")
    assert "worse by more than 0.02 on 1 (p2)" in text
    assert "p2" in next(line for line in lines if "<- loses" in line)


@pytest.mark.slow
def test_a_tiny_bench_runs_end_to_end(av2_mini, capsys):
    """One log, one program: the three variants run and are scored by the official evaluator."""
    assert bench.main(["--logs", str(av2_mini / "logs"), "--max-logs", "1", "--only", "b01",
                       "--dense-phantoms", "50", "--quiet"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("refinement recovers ") and "(noisy " in out[-1]
    assert any(line.startswith("b01_vehicle_two_peds_ahead") for line in out)
    assert any("(dense)" in line for line in out)
