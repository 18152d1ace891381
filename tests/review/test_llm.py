"""The LLM reviewer against the local fake OpenAI server, and the review stage's wiring."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

FAKES = Path(__file__).resolve().parents[1] / "fakes"
sys.path.insert(0, str(FAKES))
import fake_openai_server as fo

from scenmine import review, track
from scenmine.generate.backends.openai import OpenAIBackend
from scenmine.generate.base import Generation
from scenmine.review.llm import LLMReviewer, parse_answer
from scenmine.store import Store

CONF = Path(__file__).resolve().parents[2] / "conf"
PROMPT = "vehicle with a bicycle to its right"
WRONG = ("description = 'vehicle with a bicycle to its right'\n"
         "vehicles = get_objects_of_category(log_dir, category='VEHICLE')\n"
         "bikes = get_objects_of_category(log_dir, category='BICYCLE')\n"
         "result = has_objects_in_relative_direction(bikes, vehicles, log_dir, direction='left')\n"
         "output_scenario(result, description, log_dir, output_dir)\n")
RIGHT = WRONG.replace("(bikes, vehicles, log_dir, direction='left')",
                      "(vehicles, bikes, log_dir, direction='right')")


def answer(verdict: str, program: str | None, reasons=("relation points the wrong way",)):
    body = {"verdict": verdict, "reasons": list(reasons)}
    if program is not None:
        body["program"] = program
    return fo.text("```json\n" + json.dumps(body) + "\n```")


def reviewer(srv, dry_run=None):
    backend = OpenAIBackend("fake-reviewer", base_url=srv.url + "/v1", api_key_env="NO_KEY",
                            max_retries=0)
    return LLMReviewer(backend, dry_run=dry_run, reference="(DSL reference)")


def test_correction_is_accepted_after_static_check_and_dry_run():
    ran = []
    with fo.serve([answer("incorrect", RIGHT)]) as srv:
        out = reviewer(srv, dry_run=lambda p: ran.append(p)).review(PROMPT, WRONG, [])
        sent = srv.requests[0]["body"]["messages"]
    assert out.verdict == "incorrect" and out.accepted and out.proposed == RIGHT
    assert ran == [RIGHT]
    assert PROMPT in sent[1]["content"] and WRONG in sent[1]["content"]
    assert "(DSL reference)" in sent[0]["content"]


def test_correction_with_new_static_errors_or_failed_dry_run_is_rejected():
    broken = RIGHT.replace("has_objects_in_relative_direction", "zzz_unknown_relation")
    with fo.serve([answer("incorrect", broken), answer("incorrect", RIGHT)]) as srv:
        r = reviewer(srv, dry_run=lambda p: "NameError: boom")
        first, second = r.review(PROMPT, WRONG, []), r.review(PROMPT, WRONG, [])
    assert not first.accepted and first.rejected_because.startswith("static: unknown-function")
    assert not second.accepted and second.rejected_because == "dry run: NameError: boom"


def test_correct_verdict_keeps_the_program_and_findings_reach_the_model():
    from scenmine.review.static import review as static_review
    findings = static_review(PROMPT, WRONG).findings
    with fo.serve([answer("correct", WRONG, [])]) as srv:
        out = reviewer(srv).review(PROMPT, WRONG, findings)
        sent = srv.requests[0]["body"]["messages"][1]["content"]
    assert out.verdict == "correct" and not out.accepted and out.rejected_because is None
    assert "referred-object" in sent


def test_parse_answer_variants():
    assert parse_answer('{"verdict": "correct", "reasons": "fine"}') == ("correct", ["fine"], None)
    verdict, _, program = parse_answer(f"Fixed:\n```python\n{RIGHT}```")
    assert verdict == "incorrect" and program.strip() == RIGHT.strip()
    assert parse_answer("no idea") == (None, [], None)


def test_review_stage_with_llm_reviewer(tmp_path):
    """reviewer=llm through the config: its own backend, artifacts and metrics."""
    with fo.serve(lambda path, body: answer("incorrect", RIGHT)) as srv:
        with initialize_config_dir(str(CONF), version_base=None):
            cfg = compose("config", overrides=[
                "reviewer=llm", f"reviewer.backend.base_url={srv.url}/v1",
                "reviewer.backend.max_retries=0", "reviewer.dry_run=false",
                f"tracking.dir={tmp_path}/mlruns"])
        programs = {PROMPT: Generation(PROMPT, WRONG), "bad": Generation("bad", None, "x")}
        store = Store(tmp_path / "run" / "store")
        failures: list[dict] = []
        with track.start_run(cfg.tracking) as tracker:
            out = review.review_programs(cfg, programs, store, tracker, failures)
        n_requests = len(srv.requests)
        again = review.review_programs(cfg, programs, store, track.Tracker(None), [])
        assert len(srv.requests) == n_requests  # reviews are store units: not asked twice
    assert out[PROMPT].program == RIGHT and out["bad"] is programs["bad"]
    assert again[PROMPT].program == RIGHT and failures == []
    folder = tmp_path / "run" / "review"
    assert {p.name for p in folder.iterdir()} >= {"findings.csv", "changes.jsonl",
                                                   "side_by_side.html"}
    assert "referred-object" in (folder / "findings.csv").read_text()
    html = (folder / "side_by_side.html").read_text()
    assert "before" in html and "after" in html and "right" in html
    import mlflow
    run = mlflow.get_run(tracker.run_id)
    assert run.data.metrics["review.programs_changed"] == 1
    assert run.data.metrics["review.findings.referred-object"] == 1
    assert run.data.metrics["review.llm.accepted"] == 1


def test_static_reviewer_and_none(tmp_path):
    with initialize_config_dir(str(CONF), version_base=None):
        none = compose("config")
        static = compose("config", overrides=["reviewer=static"])
    typo = RIGHT.replace("get_objects_of_category(log_dir, category='BICYCLE')",
                         "get_object_of_category(log_dir, category='bicycle')")
    programs = {PROMPT: Generation(PROMPT, typo)}
    assert review.review_programs(none, programs, Store(tmp_path / "a"), None, []) is programs
    out = review.review_programs(static, programs, Store(tmp_path / "s" / "store"),
                                 track.Tracker(None), [])
    assert out[PROMPT].program == RIGHT


def test_unknown_reviewer_and_missing_backend(tmp_path):
    with initialize_config_dir(str(CONF), version_base=None):
        cfg = compose("config", overrides=["reviewer=static", "reviewer.name=psychic"])
    with pytest.raises(ValueError, match="unknown reviewer"):
        review.review_programs(cfg, {}, Store(tmp_path), track.Tracker(None), [])
