"""The screening loop: generate, execute on the training logs, score TS-BA, regenerate.

A prompt's program is kept when its timestamp balanced accuracy (the official evaluator's,
through :func:`scenmine.evaluate.evaluate`) on the prompt's training logs reaches
``screening.threshold``; otherwise it is regenerated with feedback (the failed program, its
score, the logs and timestamps it got wrong) up to ``screening.max_iterations`` generations.
Generators whose ``generate`` takes a ``feedback`` keyword get the feedback text; others are
simply asked again. A deterministic generator that returns a program it already returned
stops early (``stop_on_repeat``): the same program would score the same.

Every generation, execution, score and finished prompt is a store unit, so a killed
screening run resumed with ``resume=<run dir>`` continues where it stopped.
"""
from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf
from tqdm import tqdm

from scenmine.config import cfg_dict
from scenmine.evaluate import evaluate
from scenmine.execute.stage import execute_pairs
from scenmine.generate.base import Generation, accepts_feedback
from scenmine.generate.stage import generator_for_run
from scenmine.hashing import content_hash
from scenmine.results import assemble_submission
from scenmine.screening.library import Entry, Library

log = logging.getLogger("scenmine")
SCREEN_VERSION = "1"
FRAME_SECONDS = 0.5  # evaluation frames are at 2 Hz


@dataclass
class Attempt:
    iteration: int
    program: str | None
    error: str | None = None
    score: float | None = None
    feedback: str | None = None      # the feedback this generation was given
    wrong: dict = field(default_factory=dict)  # log_id -> {missed, extra, error}
    repeat: bool = False             # same program as an earlier attempt


@dataclass
class PromptResult:
    prompt: str
    attempts: list[Attempt]
    threshold: float

    @property
    def best(self) -> Attempt | None:
        scored = [a for a in self.attempts if a.score is not None]
        return max(scored, key=lambda a: (a.score, -a.iteration)) if scored else None

    @property
    def passed(self) -> bool:
        return bool(self.attempts) and self.attempts[-1].score is not None and \
            self.attempts[-1].score >= self.threshold

    @property
    def iterations(self) -> int:
        return len(self.attempts)


@dataclass
class ScreeningResult:
    library: Library
    results: dict[str, PromptResult]
    metrics: dict[str, float]
    library_path: Path | None = None


# ----------------------------------------------------------------------------- feedback
def _spans(indices: list[int]) -> str:
    """Frame indices -> '1.0-2.5 s, 7.0 s' (seconds from the log's first evaluation frame)."""
    spans, start, prev = [], None, None
    for i in indices + [None]:
        if start is None:
            start = prev = i
        elif i is not None and i == prev + 1:
            prev = i
        else:
            a, b = start * FRAME_SECONDS, prev * FRAME_SECONDS
            spans.append(f"{a:.1f} s" if a == b else f"{a:.1f}-{b:.1f} s")
            start = prev = i
    return ", ".join(spans[:6]) + (", ..." if len(spans) > 6 else "")


def _positive(frames) -> np.ndarray:
    out = []
    for f in frames or []:
        if "is_positive" in f:
            out.append(bool(f["is_positive"]))
        else:
            out.append(bool(len(f["label"])) and bool(np.any(np.asarray(f["label"]) == 0)))
    return np.array(out, dtype=bool)


def wrong_timestamps(gt_frames, pred_frames) -> dict:
    """Frame indices where the prediction misses a referred object or adds one."""
    gt, pred = _positive(gt_frames), _positive(pred_frames)
    if len(pred) != len(gt):
        pred = np.zeros(len(gt), dtype=bool) if len(pred) == 0 else np.resize(pred, len(gt))
    return {"missed": np.flatnonzero(gt & ~pred).tolist(),
            "extra": np.flatnonzero(pred & ~gt).tolist(), "frames": len(gt),
            "positive": int(gt.sum())}


def feedback_text(attempt: Attempt, threshold: float) -> str:
    """What the generator is told about a failed attempt."""
    if attempt.program is None:
        return (f"The previous attempt produced no usable program ({attempt.error}). "
                "Write a complete program that calls output_scenario.")
    score = attempt.score if attempt.score is not None else 0.0
    head = (f"The previous program scored timestamp balanced accuracy {score:.2f} on the "
            f"training logs (needed {threshold:.2f}):")
    lines = [head, "```python", attempt.program.rstrip(), "```",
             "Where it was wrong (evaluation frames at 2 Hz, seconds from the log start):"]
    for log_id, w in sorted(attempt.wrong.items()):
        if w.get("error"):
            lines.append(f"- log {log_id}: execution failed: {w['error']}")
            continue
        parts = []
        if w["missed"]:
            parts.append(f"missed {len(w['missed'])} of {w['positive']} timestamps where the "
                         f"description holds ({_spans(w['missed'])})")
        if w["extra"]:
            parts.append(f"flagged {len(w['extra'])} timestamps where it does not "
                         f"({_spans(w['extra'])})")
        if parts:
            lines.append(f"- log {log_id}: " + "; ".join(parts))
    lines.append("Revise the program so that it matches the description exactly.")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- the loop
def training_dataset(cfg):
    """The dataset config with ``screening.split`` (and ``screening.dataset`` overrides)."""
    from scenmine.data.dataset import DatasetError, load_dataset
    scfg = cfg.screening
    dcfg = OmegaConf.merge(cfg.dataset, {"split": scfg.split}, scfg.dataset)
    dataset = load_dataset(dcfg)
    if dataset.ground_truth is None:
        raise DatasetError("screening: the training split has no ground truth to score "
                           "programs against (set screening.dataset.ground_truth)")
    return dataset


def _subset(dataset, prompts: set[str]):
    from dataclasses import replace
    pairs = [p for p in dataset.pairs if p[1] in prompts]
    return replace(dataset, pairs=pairs, ground_truth={p: dataset.ground_truth[p] for p in pairs})


def screen(cfg, store, tracker, failures, generator=None, out_dir: Path | None = None
           ) -> ScreeningResult:
    """Run the screening loop over the training prompts; returns the library and metrics."""
    scfg = cfg.screening
    threshold, max_iter = float(scfg.threshold), int(scfg.max_iterations)
    dataset = training_dataset(cfg)
    prompts = dataset.prompts
    if scfg.max_prompts:
        prompts = prompts[:int(scfg.max_prompts)]
    generator = generator if generator is not None else generator_for_run(cfg)
    backend = getattr(generator, "name", type(generator).__name__)
    with_feedback = accepts_feedback(generator)
    settings = (SCREEN_VERSION, cfg_dict(cfg.get("llm")), cfg_dict(cfg.get("generate")),
                cfg_dict(cfg.execute.post), threshold, backend)
    pairs_of = {p: [pair for pair in dataset.pairs if pair[1] == p] for p in prompts}
    out_dir = Path(out_dir or Path(store.root).parent / "screening")
    out_dir.mkdir(parents=True, exist_ok=True)

    def final_key(prompt):
        return content_hash("screen", settings, max_iter, prompt, pairs_of[prompt],
                            bool(scfg.stop_on_repeat))

    results: dict[str, PromptResult] = {}
    state: dict[str, PromptResult] = {}
    for prompt in prompts:
        done = store.get("screen", final_key(prompt))
        if done is not None:
            results[prompt] = done
        else:
            state[prompt] = PromptResult(prompt, [], threshold)
    log.info("screening %d training prompts (%d already screened) with %s, threshold %.2f, "
             "up to %d iterations%s", len(prompts), len(results), backend, threshold, max_iter,
             "" if with_feedback else " (the generator takes no feedback: plain regeneration)")
    workers = max(1, int(cfg.generate.concurrency))

    def generate(item) -> tuple[str, Generation, str | None]:
        prompt, iteration, feedback = item
        key = content_hash("screen_generate", settings, prompt, iteration, feedback)
        cached = store.get("screen_generate", key)
        if cached is not None:
            return prompt, cached, feedback
        start = time.perf_counter()
        try:
            if feedback is not None and with_feedback:
                gen = generator.generate(prompt, [], feedback=feedback)
            else:
                gen = generator.generate(prompt, [])
        except Exception as exc:
            if getattr(exc, "fatal", False):
                raise
            gen = Generation(prompt, None, error=f"backend: {type(exc).__name__}: {exc}")
        gen.usage.setdefault("seconds", time.perf_counter() - start)
        store.put("screen_generate", key, gen)
        return prompt, gen, feedback

    for iteration in range(1, max_iter + 1):
        pending = [p for p in prompts if p in state]
        if not pending:
            break
        items = []
        for p in pending:
            last = state[p].attempts[-1] if state[p].attempts else None
            items.append((p, iteration, feedback_text(last, threshold) if last else None))
        with ThreadPoolExecutor(workers) as pool:
            generated = list(tqdm(pool.map(generate, items), total=len(items), unit="prompt",
                                  desc=f"screen: generate {iteration}/{max_iter}",
                                  disable=not cfg.output.progress))
        to_score: dict[str, Attempt] = {}
        for prompt, gen, feedback in generated:
            attempt = Attempt(iteration, gen.program if gen.ok else None,
                              None if gen.ok else gen.error, feedback=feedback)
            earlier = [a for a in state[prompt].attempts
                       if a.program is not None and a.program == attempt.program]
            if earlier:
                attempt.score, attempt.wrong, attempt.repeat = earlier[0].score, earlier[0].wrong, True
            elif attempt.program is not None:
                to_score[prompt] = attempt
            state[prompt].attempts.append(attempt)
        _score(cfg, dataset, to_score, pairs_of, store, settings, out_dir / f"eval_{iteration}")
        n_pass = 0
        for prompt in pending:
            result = state[prompt]
            last = result.attempts[-1]
            stop = result.passed or iteration == max_iter or (
                last.repeat and scfg.stop_on_repeat)
            n_pass += result.passed
            if stop:
                results[prompt] = state.pop(prompt)
                if not any(str(w.get("error") or "").startswith(("timeout", "crash"))
                           for a in result.attempts for w in a.wrong.values()):
                    store.put("screen", final_key(prompt), result)
        tracker.log_metrics({"screening.pass_rate_iteration": n_pass / len(pending),
                             "screening.attempted_iteration": len(pending)}, step=iteration)
        log.info("screening iteration %d: %d of %d prompts passed", iteration, n_pass, len(pending))

    results.update(state)  # max_iterations of 0: nothing ran
    for prompt in prompts:
        r = results[prompt]
        if not r.passed:
            best = r.best
            failures.append({"stage": "screening", "log_id": "", "prompt": prompt, "reason":
                             f"below threshold: best TS-BA {best.score:.3f} < {threshold:g} after "
                             f"{r.iterations} generations" if best else
                             f"no program: none after {r.iterations} generations "
                             f"({r.attempts[-1].error if r.attempts else 'none'})"})
    source = getattr(tracker, "run_id", None) or str(Path(store.root).parent)
    entries = [Entry(p, results[p].attempts[-1].program, results[p].attempts[-1].score,
                     results[p].iterations, backend, source)
               for p in prompts if results[p].passed]
    library = Library(entries, **retrieval_options(cfg))
    metrics = screening_metrics(results, max_iter)
    path = library.save(out_dir / "library.jsonl")
    with open(out_dir / "attempts.jsonl", "w") as fh:
        for p in prompts:
            fh.writelines(json.dumps({"prompt": p, **asdict(a)}) + "\n" for a in results[p].attempts)
    tracker.log_metrics(metrics)
    tracker.log_artifact(path, "screening")
    tracker.log_artifact(out_dir / "attempts.jsonl", "screening")
    return ScreeningResult(library, results, metrics, path)


def _score(cfg, dataset, attempts: dict[str, Attempt], pairs_of, store, settings,
           out_dir) -> None:
    """Execute the attempts' programs on their training logs and score TS-BA (one batch)."""
    todo = {}
    for prompt, attempt in attempts.items():
        key = content_hash("screen_score", settings, prompt, attempt.program, pairs_of[prompt])
        cached = store.get("screen_score", key)
        if cached is not None:
            attempt.score, attempt.wrong = cached
        else:
            todo[prompt] = (attempt, key)
    if not todo:
        return
    sub = _subset(dataset, set(todo))
    programs = {p: Generation(p, a.program) for p, (a, _) in todo.items()}
    exec_failures: list[dict] = []
    executions = execute_pairs(cfg, sub, programs, store, exec_failures)
    submission = assemble_submission(sub, executions)
    evaluation = evaluate(submission, sub.ground_truth, sub.logs_dir, out_dir,
                          progress="screen: evaluate" if cfg.output.progress else None)
    for prompt, (attempt, key) in todo.items():
        wrong = {}
        for pair in pairs_of[prompt]:
            result = executions.get(pair)
            w = wrong_timestamps(sub.ground_truth[pair], submission.get(pair))
            if result is not None and not result.ok:
                w["error"] = result.error
            wrong[pair[0]] = w
        attempt.wrong = wrong
        attempt.score = float(evaluation.per_prompt.get(prompt, {}).get("ts_ba", 0.0))
        transient = any(str(w.get("error") or "").startswith(("timeout", "crash"))
                        for w in wrong.values())
        if not transient:  # a crashed or timed-out sandbox is retried by a resumed run
            store.put("screen_score", key, (attempt.score, attempt.wrong))


def screening_metrics(results: dict[str, PromptResult], max_iter: int) -> dict[str, float]:
    n = len(results)
    passed = [r for r in results.values() if r.passed]
    metrics = {"screening.n_prompts": n, "screening.library_size": len(passed),
               "screening.pass_rate": len(passed) / n if n else 0.0,
               "screening.never_passed": n - len(passed),
               "screening.mean_iterations_to_pass":
                   float(np.mean([r.iterations for r in passed])) if passed else 0.0,
               "screening.generations": sum(r.iterations for r in results.values())}
    for i in range(1, max_iter + 1):
        attempted = [r for r in results.values() if r.iterations >= i]
        ok = [r for r in attempted if r.passed and r.iterations == i]
        metrics[f"screening.pass_rate.iter_{i}"] = len(ok) / len(attempted) if attempted else 0.0
        metrics[f"screening.cumulative_pass_rate.iter_{i}"] = \
            sum(r.passed and r.iterations <= i for r in results.values()) / n if n else 0.0
    return metrics


def retrieval_options(cfg) -> dict:
    fewshot = cfg.generate.fewshot
    return {"retriever": fewshot.retriever, "embedding_model": fewshot.embedding_model}


def build_library(cfg, store, tracker, failures, generator=None) -> Library | None:
    """The few-shot library for this run: loaded from ``screening.library`` when given, else
    screened now (``screening=default``), else None (``screening=off``)."""
    from scenmine.screening.library import load_library
    scfg = cfg.screening
    spec = scfg.get("library")
    if spec:
        library = load_library(str(spec), cfg.get("tracking"), **retrieval_options(cfg))
        log.info("few-shot library: %d examples from %s", len(library), spec)
        tracker.log_metrics({"screening.library_size": len(library)})
        tracker.set_tags({"screening.library": str(spec)})
        return library
    if scfg.name == "off":
        if _overridden("screening.threshold", "screening.max_iterations"):
            log.warning("screening is off, so screening.threshold / max_iterations change "
                        "nothing; add screening=default (or +exp=full) to screen")
        return None
    return screen(cfg, store, tracker, failures, generator).library


def _overridden(*keys: str) -> bool:
    """Whether this run's command line sets any of ``keys``."""
    from hydra.core.hydra_config import HydraConfig
    if not HydraConfig.initialized():
        return False
    return any(o.split("=", 1)[0].lstrip("+~") in keys for o in HydraConfig.get().overrides.task)
