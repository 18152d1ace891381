"""scenmine.report on the session's two-job sweep (tests/test_experiments.py) and on tables."""
from __future__ import annotations

import math

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from test_experiments import CONF, SWEEP_OVERLAYS, sweep_result


@pytest.fixture(scope="module")
def sweep(tmp_path_factory, mini_root):
    return sweep_result(tmp_path_factory, mini_root)


def report_cfg(*overrides: str):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose("report", overrides=list(overrides))


@pytest.fixture(scope="module")
def report(sweep, tmp_path_factory):
    from scenmine.report import build_report

    out = tmp_path_factory.mktemp("report")
    cfg = report_cfg(f"tracking.dir={sweep['tracking'].dir}", "name=ablation", f"out_root={out}",
                     f"baseline={SWEEP_OVERLAYS[0]}")
    return build_report(cfg)


def test_report_lists_both_runs_with_mlflow_metrics(sweep, report):
    children = [r for r in sweep["runs"] if r.data.tags.get("scenmine.role") == "sweep_job"]
    text = report.markdown.read_text()
    assert len(report.table) == 2
    for run in children:
        assert run.info.run_id in text and run.info.run_name in text
        row = report.table[report.table.run_id == run.info.run_id].iloc[0]
        for metric in ("hota_temporal", "hota_track", "ts_ba", "log_ba"):
            assert row[metric] == run.data.metrics[metric]  # the table is what MLflow holds
            assert f"{run.data.metrics[metric]:.3f}" in text
    assert "(baseline)" in text and f"exp={SWEEP_OVERLAYS[0]}" in text
    assert "## Cost" in text and "wall_seconds" in text and "gen_calls" in text
    assert "## What each stage did" in text and "verify.scored" in text
    assert "Per prompt" in text


def test_report_files_and_report_run(sweep, report):
    from scenmine import track

    png = report.chart.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    assert (report.out_dir / "runs.csv").exists()
    per_prompt = pd.read_csv(report.out_dir / "per_prompt.csv")
    assert set(per_prompt.run) == {f"exp={n}" for n in SWEEP_OVERLAYS}
    client = track.client(sweep["tracking"])
    run = client.get_run(report.run_id)
    assert run.data.tags["scenmine.role"] == "report"
    names = {a.path for a in client.list_artifacts(report.run_id, "report")}
    assert {"report/report.md", "report/metrics.png"} <= names


def test_report_selects_runs_by_id_and_sweep_dir(sweep, tmp_path):
    from scenmine.report import build_report

    ids = [r.info.run_id for r in sweep["runs"] if r.data.tags.get("scenmine.role") == "sweep_job"]
    cfg = report_cfg(f"tracking.dir={sweep['tracking'].dir}", f"out_root={tmp_path}", "name=ids",
                     f"runs=[{ids[1]},{ids[0]}]", "log_run=false", f"baseline={ids[0]}")
    rep = build_report(cfg)
    assert list(rep.table.run_id) == [ids[1], ids[0]] and rep.run_id is None
    cfg = report_cfg(f"tracking.dir={sweep['tracking'].dir}", f"out_root={tmp_path}", "name=dir",
                     f"sweep={sweep['sweep_dir']}", "log_run=false")
    assert len(build_report(cfg).table) == 2


def test_unknown_baseline_is_an_error(sweep, tmp_path):
    from scenmine.report import ReportError, build_report

    cfg = report_cfg(f"tracking.dir={sweep['tracking'].dir}", f"out_root={tmp_path}", "name=x",
                     "baseline=no-such-run", "log_run=false")
    with pytest.raises(ReportError, match="baseline"):
        build_report(cfg)


def test_disagreements_table():
    from scenmine.report import disagreements

    long = pd.DataFrame({"run": ["a", "a", "b", "b"], "prompt": ["p", "q", "p", "q"],
                         "hota_temporal": [0.9, 0.5, 0.2, 0.52]})
    table = disagreements(long, ["a", "b"], "hota_temporal", 0.05)
    assert list(table.index) == ["p"] and math.isclose(table.spread["p"], 0.7)


@pytest.mark.parametrize("override, message", [
    ("digits=-1", "digits=-1 is not allowed"),
    ("per_prompt.metric=hota", "per_prompt.metric='hota' is not allowed: expected one of hota_temporal"),
    ("+per_prompt.metrik=ts_ba", "per_prompt.metrik is not a known key (did you mean per_prompt.metric?)"),
    ("include_failed=maybe", "include_failed='maybe' is not allowed: expected true or false"),
])
def test_a_bad_report_setting_is_one_line_naming_the_key(override, message, tmp_path):
    """conf/report.yaml has a schema: a bad value fails before any MLflow store is read."""
    from scenmine.config import ConfigError
    from scenmine.report import build_report

    cfg = report_cfg(f"tracking.dir={tmp_path / 'no-store'}", f"out_root={tmp_path}", override)
    with pytest.raises(ConfigError) as err:
        build_report(cfg)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "no-store").exists()
