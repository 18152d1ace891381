"""Stage 4 in a run: each prompt's program on each of its logs, sandboxed and in parallel."""
from __future__ import annotations

from pathlib import Path

from scenmine.config import cfg_dict
from scenmine.data.dataset import Dataset
from scenmine.execute.confine import required_layers
from scenmine.execute.runner import (
    ExecResult,
    Task,
    execute_tasks,
    isolation_tags,
    share_arrays,
)
from scenmine.generate.base import Generation
from scenmine.store import Store, content_hash

ENGINE_VERSION = "1"  # bump when the DSL's answers change, so stored executions are not reused


def outcome_settings(cfg) -> dict:
    """Every execute setting that can change a pair's outcome (limits, isolation, caps):
    part of each stored execution's key, so raising a limit reruns the pairs it failed."""
    return {"timeout_s": float(cfg.execute.timeout_s), "memory_mb": int(cfg.execute.memory_mb),
            "isolation": sorted(required_layers(cfg.execute.isolation)),
            "max_result_mb": float(cfg.execute.max_result_mb)}


def _execution_key(program: str, log_dir: Path, post: dict, settings: dict) -> str:
    files = sorted(p for p in log_dir.glob("*.feather"))
    fingerprint = [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files]
    return content_hash("execute", ENGINE_VERSION, program, log_dir.name, fingerprint, post,
                        settings)


def execute_pairs(cfg, dataset: Dataset, programs: dict[str, Generation], store: Store,
                  failures: list[dict], tracker=None) -> dict[tuple[str, str], ExecResult]:
    """Stage 4: run each prompt's program on each of its logs (sandboxed, in parallel);
    the sandbox's OS confinement is recorded in ``tracker``'s tags (``isolation.*``)."""
    post = cfg_dict(cfg.execute.post)
    settings = outcome_settings(cfg)
    if dataset.tracks:  # tracker predictions replace the annotations
        post["tracks"] = str(Path(dataset.tracks).resolve())
        if cfg.get("tracks") is not None and cfg.tracks.get("refine"):  # scenmine.tracks
            post["refine"] = cfg_dict(cfg.tracks)
    results: dict[tuple[str, str], ExecResult] = {}
    tasks, keys = [], {}
    frame_pool: dict = {}  # identical frame arrays of all pairs, kept once (share_arrays)
    for log_id, prompt in dataset.pairs:
        gen = programs.get(prompt)
        if gen is None or not gen.ok:
            continue
        log_dir = dataset.logs.get(log_id)
        if log_dir is None:
            failures.append({"stage": "execute", "log_id": log_id, "prompt": prompt,
                             "reason": "log: not found in dataset.logs"})
            continue
        key = _execution_key(gen.program, log_dir, post, settings)
        cached = store.get("execute", key)
        if cached is not None:
            share_arrays(cached.frames, frame_pool)
            results[(log_id, prompt)] = cached
            continue
        task_key = f"{log_id}|{prompt}"
        keys[task_key] = (key, (log_id, prompt))
        tasks.append(Task(task_key, log_dir, gen.program, prompt))

    def persist(result: ExecResult) -> None:
        key, pair = keys[result.key]
        if not result.error or not result.error.startswith(("timeout", "crash", "isolation")):
            store.put("execute", key, result)
        results[pair] = result

    execute_tasks(tasks, workers=cfg.execute.get("workers"), timeout_s=float(cfg.execute.timeout_s),
                  memory_mb=int(cfg.execute.memory_mb), post_options=post, on_result=persist,
                  progress=bool(cfg.output.progress), backend=cfg.execute.backend,
                  backend_options=cfg_dict(cfg.execute.get("ray") or {}), frame_pool=frame_pool,
                  isolation=cfg.execute.isolation, max_result_mb=settings["max_result_mb"])
    if tracker is not None and tasks:
        tracker.set_tags(isolation_tags())
    for (log_id, prompt), result in sorted(results.items()):
        if not result.ok:
            failures.append({"stage": "execute", "log_id": log_id, "prompt": prompt,
                             "reason": result.error})
    return results
