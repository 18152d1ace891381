"""Verifier stage: scores (VLM via the fake server, geometric), the cache, thresholds."""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from scenmine.verify import apply_thresholds, decide, read_scores, score_pairs, write_scores

CONF = Path(__file__).resolve().parents[2] / "conf"
RULES = {"bicycle": 0.9, "stopped car": 0.2}


def _cfg(name="vlm", **verifier):
    base = {"name": name, "threshold": 0.5, "prompt": "legend_yes_no",
            "render": {"frames": 2, "image_size": [256, 256]},
            "geometric": {"threshold": 1.0, "min_persistence_s": 1.5, "max_ego_dist_m": 50.0,
                          "max_road_dist_m": 5.0, "max_related_dist_m": 50.0}}
    return {"verifier": {**base, **verifier}, "vlm": {"name": "openai", "model": "fake"}}


def _with_url(cfg, srv):
    cfg["vlm"]["base_url"] = srv.base_url
    return cfg


def test_vlm_scores_are_cached_and_thresholds_make_no_calls(gt_pairs, fake_vision, tmp_path):
    pairs, _ = gt_pairs
    with fake_vision(rules=RULES, default=0.5) as srv:
        cfg = _with_url(_cfg(cache_dir=str(tmp_path)), srv)
        s1 = score_pairs(pairs, cfg)
        assert srv.calls == 2 and s1.attrs["vlm_calls"] == 2
        assert dict(zip(s1.prompt, s1.vlm_p_yes.round(6))) == {"vehicle with a bicycle to its right": 0.9,
                                                               "stopped car": 0.2}
        assert all(len(r["image_sizes"]) == 1 and r["image_sizes"][0] == (256, 256) for r in srv.requests)
        assert any("vehicle with a bicycle to its right" in r["text"] for r in srv.requests)
        s2 = score_pairs(pairs, _with_url(_cfg(cache_dir=str(tmp_path), threshold=0.9,
                                               by_category={"BICYCLE": 0.1}), srv))
        assert srv.calls == 2 and s2.attrs["vlm_calls"] == 0 and s2.vlm_cached.all()
        assert np.allclose(s1.vlm_p_yes, s2.vlm_p_yes)
        score_pairs(pairs, _with_url(_cfg(cache_dir=str(tmp_path), render={"frames": 3}), srv))
        assert srv.calls == 4  # rendering is part of the key


def test_apply_thresholds_drops_low_scores(gt_pairs, fake_vision, tmp_path):
    pairs, gt = gt_pairs
    with fake_vision(rules=RULES) as srv:
        scores = score_pairs(pairs, _with_url(_cfg(cache_dir=str(tmp_path)), srv))
    preds = copy.deepcopy(gt)
    out = apply_thresholds(preds, scores, _cfg())
    labels = {k[1]: np.concatenate([f["label"] for f in v]) for k, v in out.items()}
    assert (labels["vehicle with a bicycle to its right"] == 0).any()
    assert (labels["stopped car"] == 2).all()
    assert any((f["label"] == 0).any() for f in preds[next(k for k in preds if k[1] == "stopped car")])  # input intact
    # per-category and per-kind thresholds
    assert decide(scores, _cfg(by_category={"REGULAR_VEHICLE": 0.1})["verifier"]).all()
    assert decide(scores, _cfg(by_kind={"unary": 0.1})["verifier"]).all()
    assert not decide(scores, _cfg(threshold=0.95)["verifier"]).any()


def test_geometric_verifier(gt_pairs, tmp_path):
    pairs, _ = gt_pairs
    scores = score_pairs(pairs, _cfg("geometric", cache_dir=str(tmp_path)))
    assert "vlm_p_yes" not in scores and (scores.geo_score == 1.0).all()
    assert (scores.geo_persistence_s >= 1.5).all()
    assert decide(scores, _cfg("geometric")["verifier"]).all()
    strict = _cfg("geometric")
    strict["verifier"]["geometric"]["max_ego_dist_m"] = 2.0
    assert not decide(scores, strict["verifier"]).any()
    strict["verifier"]["geometric"]["by_category"] = {"BICYCLE": 0.0}
    assert decide(scores, strict["verifier"]).sum() == 1


def test_both_and_scores_table_roundtrip(gt_pairs, fake_vision, tmp_path):
    pairs, _ = gt_pairs
    with fake_vision(rules=RULES) as srv:
        scores = score_pairs(pairs, _with_url(_cfg("both", cache_dir=str(tmp_path)), srv))
    assert {"vlm_p_yes", "geo_score"} <= set(scores)
    assert decide(scores, _cfg("both")["verifier"]).sum() == 1
    assert decide(scores, _cfg("both", combine="or")["verifier"]).sum() == 2
    paths = write_scores(scores, tmp_path / "run")
    back = read_scores(tmp_path / "run")
    assert (decide(back, _cfg("both")["verifier"]) == decide(scores, _cfg("both")["verifier"])).all()
    assert "geo_evidence" not in paths[1].read_text().splitlines()[0]


def test_none_keeps_everything(gt_pairs):
    pairs, gt = gt_pairs
    scores = score_pairs(pairs, {"verifier": {"name": "none"}})
    assert scores.empty and apply_thresholds(gt, scores, {"verifier": {"name": "none"}}) == gt


@pytest.mark.parametrize("verifier,vlm", [("none", "none"), ("vlm", "openai"), ("geometric", "none"),
                                          ("both", "transformers"), ("vlm", "qwen3vl_vllm")])
def test_configs_compose(verifier, vlm):
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from scenmine.verify.prompts import load_template

    with initialize_config_dir(str(CONF), version_base=None):
        cfg = compose("config", overrides=[f"verifier={verifier}", f"vlm={vlm}"])
    v = OmegaConf.to_container(cfg.verifier, resolve=True)
    assert v["name"] == verifier and cfg.vlm.name == vlm
    if verifier in ("vlm", "both"):
        assert load_template(v["prompt"])["template"]
    if verifier == "both":
        assert v["combine"] == "and" and v["geometric"]["threshold"] == 1.0 and v["threshold"] == 0.5
    for name in ("legend_yes_no", "strict_judge"):
        assert "{description}" in load_template(name)["template"]


def test_failures_are_recorded_not_cached(gt_pairs, tmp_path, monkeypatch):
    from scenmine.verify import render

    pairs, _ = gt_pairs
    real = render.render_evidence

    def flaky(log, referred, related, cfg=None):
        if log.log_id == pairs[0].log_id:
            raise RuntimeError("no map")
        return real(log, referred, related, cfg)

    monkeypatch.setattr(render, "render_evidence", flaky)
    cfg = _cfg(cache_dir=str(tmp_path))
    cfg["vlm"].update(base_url="http://127.0.0.1:9/v1", max_retries=0, timeout_s=2)  # nothing listens
    scores = score_pairs(pairs, cfg)
    assert scores.vlm_p_yes.isna().all() and scores.attrs["vlm_calls"] == 1
    errors = dict(zip(scores.log_id, scores.vlm_error))
    assert errors[pairs[0].log_id].startswith("render: no map") and errors[pairs[1].log_id].startswith("ERROR")
    assert decide(scores, cfg["verifier"]).all()
    assert not decide(scores, _cfg(on_error="drop")["verifier"]).any()
    assert not list(tmp_path.rglob("*.json"))  # failures are not cached
