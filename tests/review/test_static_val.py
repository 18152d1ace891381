"""On the embedded val split, reviewer=static never lowers HOTA-Temporal vs reviewer=none."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from hydra import compose, initialize_config_dir

from scenmine import review, track
from scenmine.data.dataset import load_dataset
from scenmine.evaluate import evaluate
from scenmine.execute.stage import execute_pairs
from scenmine.generate.rules import RulesGenerator
from scenmine.results import assemble_submission
from scenmine.store import Store

CONF = Path(__file__).resolve().parents[2] / "conf"
# Misspellings a model makes; the static review must repair them (typo -> correct).
TYPOS = {"vehicle turning left": ("turning(", "turnng("),
         "accelerating vehicle": ("min_accel=", "min_acceleration="),
         "bus in a bus lane": ("lane_type='BUS'", "lane_type='bus'")}


def _hota(cfg, dataset, programs, store, out_dir):
    executions = execute_pairs(cfg, dataset, programs, store, [])
    submission = assemble_submission(dataset, executions)
    return evaluate(submission, dataset.ground_truth, dataset.logs_dir, out_dir).per_prompt


def test_static_review_never_lowers_hota_temporal_on_val(tmp_path, mini_root):
    with initialize_config_dir(str(CONF), version_base=None):
        none, static = (compose("config", overrides=[
            f"reviewer={r}", "dataset.split=val", f"dataset.root={mini_root}",
            "output.progress=false", "execute.workers=1"]) for r in ("none", "static"))
    dataset = load_dataset(static.dataset)
    generator = RulesGenerator()
    generated = {p: generator.generate(p) for p in dataset.prompts}
    # 1. The rules programs of every val prompt: static review changes none of them, so the
    #    two runs execute identical programs and score identically.
    reviewed = review.review_programs(static, generated, Store(tmp_path / "a" / "store"),
                                      track.Tracker(None), [])
    changed = [p for p in generated if reviewed[p].program != generated[p].program]
    assert changed == [], changed
    # 2. Programs with typos: the static review repairs them; HOTA-Temporal never drops.
    typos = {p: replace(generated[p], program=generated[p].program.replace(*TYPOS[p]))
             for p in TYPOS}
    assert all(typos[p].program != generated[p].program for p in TYPOS)
    fixed = review.review_programs(static, typos, Store(tmp_path / "b" / "store"),
                                   track.Tracker(None), [])
    assert {p: fixed[p].program for p in TYPOS} == {p: generated[p].program for p in TYPOS}
    first_log = dataset.pairs[0][0]  # one log keeps the test fast
    pairs = [k for k in dataset.pairs if k[1] in TYPOS and k[0] == first_log]
    sub = replace(dataset, pairs=pairs, ground_truth={k: dataset.ground_truth[k] for k in pairs})
    store = Store(tmp_path / "exec")
    before = _hota(none, sub, typos, store, tmp_path / "none")
    after = _hota(static, sub, fixed, store, tmp_path / "static")
    for prompt in TYPOS:
        assert after[prompt]["hota_temporal"] >= before[prompt]["hota_temporal"], prompt
    assert sum(a["hota_temporal"] for a in after.values()) > \
        sum(b["hota_temporal"] for b in before.values())
