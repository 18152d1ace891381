"""A small run folder built from the embedded dataset's ground truth, and its rendered view.

Four pairs on two logs: one predicted exactly, one with a false positive and a miss, one
empty (all misses), one exact; the run's files (config, programs, per-prompt metrics, review
notes) are written as a pipeline run writes them.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from omegaconf import OmegaConf

from scenmine.data.submission import LABEL_NAMES, OTHER, REFERRED, empty_like, save_pkl


def _relabel(frames: list[dict], drop_one: bool, add_one: bool) -> list[dict]:
    """A copy of ``frames``: drop the first referred track (a miss), refer one other (an FP)."""
    out = []
    referred = [int(t) for f in frames for t, lab in zip(f["track_id"], f["label"]) if lab == REFERRED]
    dropped = referred[0] if referred and drop_one else None
    for f in frames:
        f = dict(f)
        lab = np.asarray(f["label"]).copy()
        ids = np.asarray(f["track_id"])
        if dropped is not None:
            lab[ids == dropped] = OTHER
        if add_one:
            others = np.flatnonzero(lab == OTHER)
            far = [i for i in others if ids[i] != dropped]
            if far:
                lab[far[0]] = REFERRED
        f["label"] = lab.astype(np.int32)
        f["name"] = np.array([LABEL_NAMES[v] for v in lab], dtype="<U31")
        out.append(f)
    return out


@pytest.fixture(scope="session")
def small_run(mini_root, tmp_path_factory):
    """(run folder, cfg, {name: (log_id, prompt)}) of a hand-made four-pair run."""
    from scenmine.data.dataset import load_dataset
    from tests.conftest import compose_cfg

    cfg = compose_cfg([f"dataset.root={mini_root.parent}", "tracking.enabled=false",
                       "output.progress=false"])
    ds = load_dataset(cfg.dataset)
    gt = ds.ground_truth
    positive = [k for k in sorted(gt) if any(np.any(np.asarray(f["label"]) == REFERRED) for f in gt[k])]
    logs = list(dict.fromkeys(k[0] for k in positive))[:2]
    chosen = [k for k in positive if k[0] == logs[0]][:2] + [k for k in positive if k[0] == logs[1]][:2]
    names = dict(zip(("exact", "fp_and_miss", "empty", "exact2"), chosen))
    submission = {names["exact"]: gt[names["exact"]],
                  names["fp_and_miss"]: _relabel(gt[names["fp_and_miss"]], True, True),
                  names["empty"]: empty_like(gt[names["empty"]]),
                  names["exact2"]: gt[names["exact2"]]}
    run_dir = tmp_path_factory.mktemp("small_run")
    save_pkl(submission, run_dir / "submission.pkl")
    (run_dir / ".hydra").mkdir()
    OmegaConf.save(cfg, run_dir / ".hydra" / "config.yaml", resolve=True)
    prompts = sorted({p for _, p in submission})
    (run_dir / "programs").mkdir()
    for i, p in enumerate(prompts):
        (run_dir / "programs" / f"{i:03d}.py").write_text(
            f"# prompt: {p}\ndescription = {p!r}\n# <b>not markup</b>\n")
    hota = {p: 0.9 - 0.2 * i for i, p in enumerate(prompts)}
    hota[names["fp_and_miss"][1]] = 0.05                  # the worst prompt
    rows = ["prompt,program_ok,pairs,hota_temporal,hota_track,ts_ba,log_ba"]
    rows += [f'"{p}",True,1,{hota[p]},{hota[p]},0.9,1.0' for p in prompts]
    (run_dir / "per_prompt_metrics.csv").write_text("\n".join(rows) + "\n")
    (run_dir / "review").mkdir()
    (run_dir / "review" / "changes.jsonl").write_text(json.dumps(
        {"prompt": names["fp_and_miss"][1], "changed": False, "findings": [
            {"code": "unused-related", "line": 2, "fixed": False, "message": "related set is never used"}],
         "llm": None}) + "\nnot json\n")
    return run_dir, cfg, names


@pytest.fixture(scope="session")
def small_view(small_run):
    """The small run's view rendered once (256 px, two processes: one per log)."""
    from scenmine.view import RunRecord, ViewConfig, build_view

    run_dir, _, names = small_run
    index, views = build_view(RunRecord.from_dir(run_dir), ViewConfig.defaults(worst=None, size=(256, 256), workers=2),
                              progress=False)
    by_key = {(v.log_id, v.prompt): v for v in views}
    return index, {name: by_key[key] for name, key in names.items()}, views
