"""Bad input, one item at a time: each fails only its own items, with a reason naming it.

Unit checks for every kind of bad input, then one pipeline run over a dataset that has all
of them at once: the run completes, failures are listed in failures.csv and counted by
reason in MLflow, and failed pairs are empty predictions in the submission.
"""
from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scenmine.config import ConfigError
from scenmine.data.dataset import DatasetError, check_prompt, ground_truth_problems, read_prompts
from scenmine.data.logs import LogLoadError, load_log
from scenmine.data.submission import load_pkl, save_pkl
from scenmine.execute.worker import run_one
from scenmine.generate.base import Generation
from scenmine.generate.extract import extract_program

REPO = Path(__file__).resolve().parents[1]
PARKED = ("vehicles = get_objects_of_category(log_dir, category='VEHICLE')\n"
          "result = stationary(vehicles, log_dir)\n"
          "output_scenario(result, description, log_dir, output_dir)\n")
ON_MAP = ("buses = get_objects_of_category(log_dir, category='VEHICLE')\n"
          "result = on_lane_type(buses, log_dir, lane_type='BUS')\n"
          "output_scenario(result, description, log_dir, output_dir)\n")


# ----------------------------------------------------------------------------- bad logs
def make_bad_log(src: Path, dst: Path, kind: str) -> Path:
    """A copy of log ``src`` at ``dst`` (same log id) with one defect ``kind``."""
    shutil.copytree(src, dst)
    ann = dst / "annotations.feather"
    if kind == "missing_annotations":
        ann.unlink()
    elif kind == "corrupt":
        ann.write_bytes(b"ARROW1\x00\x00 this is not a feather file")
    elif kind == "missing_columns":
        pd.read_feather(ann).drop(columns=["tx_m"]).to_feather(ann)
    elif kind == "nans":
        df = pd.read_feather(ann)
        df.loc[df.index[:5], "ty_m"] = np.nan
        df.to_feather(ann)
    elif kind == "no_map":
        shutil.rmtree(dst / "map")
    elif kind == "no_poses":
        (dst / "city_SE3_egovehicle.feather").unlink()
    elif kind != "good":
        raise ValueError(kind)
    return dst


BAD_LOGS = {
    "missing_annotations": "no annotations file",
    "corrupt": "cannot read annotations.feather",
    "missing_columns": "annotations.feather lacks columns ['tx_m']",
    "nans": "annotations.feather has 5 rows with NaN values",
    "no_poses": "missing city_SE3_egovehicle.feather",
}


@pytest.fixture(scope="module")
def src_logs(mini_root) -> list[Path]:
    return sorted((mini_root / "logs").iterdir())


@pytest.mark.parametrize("kind,reason", BAD_LOGS.items())
def test_bad_log_fails_with_its_id_and_cause(src_logs, tmp_path, kind, reason):
    log = make_bad_log(src_logs[0], tmp_path / src_logs[0].name, kind)
    with pytest.raises(LogLoadError) as err:
        load_log(log)
    assert log.name in str(err.value) and reason in str(err.value)
    payload = run_one(str(log), PARKED, "parked vehicle", 10, {})  # the sandbox's path
    assert not payload["ok"] and payload["error"] == f"log: {err.value}"


def test_missing_log_folder(tmp_path):
    with pytest.raises(LogLoadError, match="nope.*is not a directory"):
        load_log(tmp_path / "nope")


def test_log_without_map_fails_only_programs_that_need_the_map(src_logs, tmp_path):
    log = make_bad_log(src_logs[0], tmp_path / src_logs[0].name, "no_map")
    assert run_one(str(log), PARKED, "parked vehicle", 10, {})["ok"]
    payload = run_one(str(log), ON_MAP, "bus in a bus lane", 10, {})
    assert not payload["ok"] and payload["error"].startswith(f"log: log {log.name}: no vector map")
    assert payload["frames"]  # still an empty prediction on every evaluation frame


# ----------------------------------------------------------------------------- ground truth
def test_ground_truth_pairs_missing_frames_or_keys(mini_root):
    gt = load_pkl(mini_root / "ground_truth" / "test.pkl")
    keys = sorted(gt)[:4]
    preds = {k: gt[k] for k in keys}
    bad = {k: copy.deepcopy(gt[k]) for k in keys}
    bad[keys[0]] = bad[keys[0]][: len(bad[keys[0]]) // 2]
    bad[keys[1]] = []
    for frame in bad[keys[2]]:
        del frame["track_id"]
    problems = ground_truth_problems(bad, preds)
    n = len(gt[keys[0]])
    assert problems[keys[0]] == (f"missing frames: {n // 2} of the log's {n} evaluation "
                                 "timestamps have a frame (0 frames at unknown timestamps)")
    assert problems[keys[1]].startswith("no frames")
    assert problems[keys[2]].startswith("missing keys:") and "track_id" in problems[keys[2]]
    assert keys[3] not in problems


def test_unreadable_ground_truth_is_a_config_error(tmp_path, make_cfg):
    from scenmine import pipeline
    (tmp_path / "logs" / "a").mkdir(parents=True)
    (tmp_path / "gt.pkl").write_bytes(b"not a pickle")
    cfg = make_cfg(["dataset=av2", f"dataset.logs={tmp_path / 'logs'}",
                    f"dataset.ground_truth={tmp_path / 'gt.pkl'}", f"tracking.dir={tmp_path / 'ml'}"])
    with pytest.raises(DatasetError, match="dataset.ground_truth: cannot read"):
        pipeline.run(cfg, tmp_path / "run")
    assert not (tmp_path / "run" / "store").exists() and not (tmp_path / "ml").exists()


# ----------------------------------------------------------------------------- prompts
def test_prompt_checks():
    assert check_prompt("") == "empty prompt" and check_prompt("   ") == "empty prompt"
    assert check_prompt(None) == "empty prompt"
    assert "control" in check_prompt("parked\x07 vehicle")
    assert check_prompt("parked\u200b vehicle").startswith("invisible characters")
    assert check_prompt("véhicule garé près d'un café") is None  # non-ASCII text is a prompt


def test_prompts_file_reports_empty_duplicate_and_bad_lines(tmp_path):
    path = tmp_path / "prompts.txt"
    path.write_text("parked vehicle\n\n# a comment\nparked vehicle\nvéhicule garé\n"
                    "bad\u200bprompt\n", encoding="utf-8")
    prompts, skipped = read_prompts(path)
    assert prompts == ["parked vehicle", "véhicule garé"]
    assert skipped == {"parked vehicle": "duplicate prompt",
                       "bad\u200bprompt": check_prompt("bad\u200bprompt")}


def test_model_answer_that_is_not_a_program():
    assert extract_program("I am not sure how to write that.").error.startswith("no code in answer")
    assert extract_program("").error.startswith("no code in answer")


# ----------------------------------------------------------------------------- configuration
@pytest.mark.parametrize("override,key", [("execute.bogus=1", "execute.bogus"),
                                          ("execute=nope", "execute"),
                                          ("bogus_top=1", "bogus_top")])
def test_unknown_option_names_the_key(make_cfg, override, key):
    from hydra.errors import HydraException
    with pytest.raises(HydraException) as err:
        make_cfg([override])
    assert key in str(err.value)


@pytest.mark.parametrize("override,message", [
    ("execute.backend=spark", "execute.backend='spark' is not allowed: expected one of local, ray"),
    ("execute.workers=0", "execute.workers=0 is not allowed: expected an integer >= 1 or null"),
    ("execute.timeout_s=-1", "execute.timeout_s=-1 is not allowed: expected a number > 0"),
    ("resume=/no/such/run", "resume: no such run folder /no/such/run"),
])
def test_bad_settings_fail_before_any_work(make_cfg, tmp_path, override, message):
    from scenmine import pipeline
    cfg = make_cfg([override, f"tracking.dir={tmp_path / 'ml'}"])
    with pytest.raises(ConfigError) as err:
        pipeline.run(cfg, tmp_path / "run")
    assert str(err.value).startswith(message)
    assert not (tmp_path / "run").exists() and not (tmp_path / "ml").exists()


def test_ray_backend_without_ray_names_the_fix(make_cfg, tmp_path):
    from scenmine import pipeline
    from scenmine.execute import ray_backend
    if ray_backend.available():
        pytest.skip("ray is installed here")
    with pytest.raises(ConfigError, match=r"execute.backend=ray needs the ray package"):
        pipeline.run(make_cfg(["execute.backend=ray"]), tmp_path / "run")


def test_cli_missing_path_exits_2_naming_the_key(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, "-m", "scenmine", "dataset=av2", f"dataset.logs={tmp_path / 'missing'}",
         f"hydra.run.dir={tmp_path / 'run'}", f"tracking.dir={tmp_path / 'ml'}"],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "configuration error: dataset.logs: no such folder" in proc.stderr + proc.stdout
    assert not (tmp_path / "run" / "store").exists()


# ----------------------------------------------------------------------------- one whole run
class CannedGenerator:
    """Model answers from a JSON file (prompt -> answer text), else the rules generator."""

    name = "canned"

    def __init__(self, answers: str, **rules_options):
        from scenmine.generate.rules import RulesGenerator
        self.answers = json.loads(Path(answers).read_text())
        self.rules = RulesGenerator(**rules_options)

    def generate(self, prompt, examples=None):
        if prompt not in self.answers:
            return self.rules.generate(prompt, examples)
        found = extract_program(self.answers[prompt])
        return Generation(prompt, found.program if not found.error else None, error=found.error)


HOSTILE_ANSWERS = {
    "hostile: loops forever": "```python\nfor i in range(10**12):\n    pass\n"
                              "output_scenario({}, description, log_dir, output_dir)\n```",
    "hostile: raises": "```python\nx = {}['missing']\noutput_scenario(x, description, log_dir, "
                       "output_dir)\n```",
    "hostile: returns a list": "```python\noutput_scenario([1, 2], description, log_dir, "
                               "output_dir)\n```",
    "hostile: answers in prose": "Sorry, I cannot help with that scenario.",
}


@pytest.fixture(scope="module")
def bad_run(src_logs, mini_root, tmp_path_factory, make_cfg):
    """One run over good, corrupt, map-less, NaN and missing logs, bad ground truth, bad
    prompts and hostile programs."""
    from scenmine import pipeline

    tmp = tmp_path_factory.mktemp("bad_run")
    test_gt = load_pkl(mini_root / "ground_truth" / "test.pkl")
    all_gt = {k: v for split in ("train", "val", "test")
              for k, v in load_pkl(mini_root / "ground_truth" / f"{split}.pkl").items()}
    good_id = sorted({k[0] for k in test_gt})[0]
    src = {p.name: p for p in src_logs}
    ids = [good_id] + [i for i in sorted(src) if i != good_id][:4]
    kinds = dict(zip(ids, ["good", "corrupt", "no_map", "nans", "missing_columns"]))
    for log_id, kind in kinds.items():
        make_bad_log(src[log_id], tmp / "logs" / log_id, kind)
    frames = test_gt[(good_id, "parked vehicle")]

    def like(prompt):  # ground-truth frames of the good log, for another prompt
        return [{**copy.deepcopy(f), "description": prompt} for f in frames]

    gt = {(log_id, prompt): all_gt[(log_id, prompt)] for log_id in ids
          for prompt in ("parked vehicle", "bus in a bus lane")}
    gt[("00000000-0000-4000-8000-000000000000", "parked vehicle")] = like("x")  # no log
    gt[(good_id, "accelerating vehicle")] = test_gt[(good_id, "accelerating vehicle")][:10]
    gt[(good_id, "vehicle turning left")] = []
    for prompt in ["véhicule garé", "   ", "parked\x07 vehicle", *HOSTILE_ANSWERS]:
        gt[(good_id, prompt)] = like(prompt)
    save_pkl(gt, tmp / "gt.pkl")
    (tmp / "answers.json").write_text(json.dumps(HOSTILE_ANSWERS))
    cfg = make_cfg(["dataset=av2", f"dataset.logs={tmp / 'logs'}", f"dataset.ground_truth={tmp / 'gt.pkl'}",
                    f"tracking.dir={tmp / 'mlruns'}", "output.progress=false", "execute.workers=2",
                    "execute.timeout_s=3", f"llm._target_={__name__}.CannedGenerator",
                    f"+llm.answers={tmp / 'answers.json'}"])
    result = pipeline.run(cfg, tmp / "run")
    return cfg, result, kinds, good_id, gt


def test_run_completes_and_every_failure_names_its_item_and_cause(bad_run):
    cfg, result, kinds, good_id, gt = bad_run
    by_pair = {(f["stage"], f["log_id"], f["prompt"]): f["reason"] for f in result.failures}
    kind_of = {v: k for k, v in kinds.items()}

    def reason(stage, log_id, prompt):
        return by_pair.get((stage, log_id, prompt), "")

    for prompt in ("parked vehicle", "bus in a bus lane"):
        assert reason("execute", kind_of["corrupt"], prompt).startswith(
            f"log: log {kind_of['corrupt']}: cannot read annotations.feather")
        assert "rows with NaN values" in reason("execute", kind_of["nans"], prompt)
        assert "lacks columns ['tx_m']" in reason("execute", kind_of["missing_columns"], prompt)
        assert (good_id, prompt) in result.executions and result.executions[(good_id, prompt)].ok
    assert "no vector map" in reason("execute", kind_of["no_map"], "bus in a bus lane")
    assert result.executions[(kind_of["no_map"], "parked vehicle")].ok  # needs no map
    assert reason("execute", "00000000-0000-4000-8000-000000000000", "parked vehicle") == \
        "log: not found in dataset.logs"
    assert reason("dataset", "", "   ") == "empty prompt"
    assert "control characters" in reason("dataset", "", "parked\x07 vehicle")
    assert reason("generate", "", "véhicule garé").startswith("cannot parse")
    assert reason("generate", "", "hostile: answers in prose").startswith("no code in answer")
    assert reason("execute", good_id, "hostile: loops forever").startswith("timeout")
    assert reason("execute", good_id, "hostile: raises").startswith("error: KeyError")
    assert "expects a scenario dict" in reason("execute", good_id, "hostile: returns a list")
    assert reason("ground_truth", good_id, "accelerating vehicle").startswith("missing frames: 10 of")
    assert reason("ground_truth", good_id, "vehicle turning left").startswith("no frames")
    # the evaluator cannot read map-less or missing logs: those pairs are left out, not fatal
    assert reason("evaluate", kind_of["no_map"], "parked vehicle").startswith("no map")
    assert reason("evaluate", "00000000-0000-4000-8000-000000000000", "parked vehicle") \
        .startswith("log not found")
    assert {f["stage"] for f in result.failures} == {"dataset", "generate", "execute",
                                                     "ground_truth", "evaluate"}
    csv = pd.read_csv(result.run_dir / "failures.csv", keep_default_na=False)
    assert len(csv) == len(result.failures) and set(csv.columns) == {"stage", "log_id", "prompt",
                                                                     "reason"}


def test_failed_pairs_are_empty_predictions_never_dropped(bad_run):
    cfg, result, kinds, good_id, gt = bad_run
    sub = load_pkl(result.submission_path)
    pairs = [k for k in gt if check_prompt(k[1]) is None]
    assert set(sub) == set(pairs) and result.metrics["n_pairs"] == len(pairs)
    failed = {(f["log_id"], f["prompt"]) for f in result.failures if f["stage"] == "execute"}
    failed |= {(good_id, p) for p in ("véhicule garé", "hostile: answers in prose")}
    for pair in failed:
        assert sub[pair] and all((np.asarray(f["label"]) != 0).all() for f in sub[pair]), pair
    assert result.metrics["n_empty_predictions"] >= len(failed)
    found = [p for p, r in result.executions.items() if r.ok and r.referred]
    assert found  # the good items were predicted as usual
    for pair in found:
        assert any((np.asarray(f["label"]) == 0).any() for f in sub[pair]), pair


def test_failures_counted_by_reason_in_mlflow(bad_run):
    import mlflow

    from scenmine.track import tracking_uri
    cfg, result, kinds, good_id, gt = bad_run
    mlflow.set_tracking_uri(tracking_uri(cfg.tracking))
    metrics = mlflow.get_run(result.run_id).data.metrics
    assert metrics["failures.execute.log"] == 8  # 3 broken logs x 2, the map-less one, the missing one
    assert metrics["failures.execute.timeout"] == 1 and metrics["failures.execute.error"] == 2
    assert metrics["failures.generate.cannot_parse"] == 1
    assert metrics["failures.generate.no_code_in_answer"] == 1
    assert metrics["failures.ground_truth.missing_frames"] == 1
    assert metrics["failures.ground_truth.no_frames"] == 1
    assert metrics["failures.dataset.empty_prompt"] == 1
    assert metrics["failures.evaluate.no_map"] == 2 and metrics["failures.evaluate.log_not_found"] == 1
    for name in ("hota_temporal", "hota_track", "ts_ba", "log_ba"):
        assert 0.0 <= metrics[name] <= 1.0  # the rest was scored
