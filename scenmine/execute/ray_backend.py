"""``execute.backend=ray``: the same per-log groups as the local runner, as Ray tasks.

Each Ray task runs its log's programs through a local sandbox process of its own, exactly
as the local backend does (runner.execute_tasks with one worker: OS confinement, static
check, allowlisted globals, per-program alarm, the data-only channel and its checks,
post-processing, official frames). The Ray worker itself never runs a program, so what it
returns to the driver (through Ray's own serialisation) comes from a process that no
program controls. A task that overruns its hard limit
(``task_timeout_s``, default: load time plus ``timeout_s`` per program) is cancelled and its
pairs fail with a timeout; a task whose worker dies fails its pairs with a crash. Results are
reported through ``on_result`` as each log's task completes, so a run resumes per log.

Ray is an optional extra (``pip install 'scenmine[ray]'``) and is imported lazily. Ray
schedules by declared resources and has its own memory monitor; the per-process address
limit of the local sandboxes (``memory_mb``) is passed to Ray as the task's memory request.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from tqdm import tqdm

from scenmine.execute import runner
from scenmine.execute.confine import IsolationUnavailable
from scenmine.execute.runner import DEFAULT_MAX_RESULT_MB, ExecResult, Task, group_by_log

LOAD_ALLOWANCE_S = 120.0  # imports and the log load, on top of the programs' time limits
GRACE_S = 10.0


def available() -> bool:
    """Whether ray can be imported here."""
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


def _run_group(log_dir: str, items: list[tuple[str, str, str]], timeout_s: float,
               options: dict, settings: dict) -> dict:
    """In a Ray worker: run each (key, code, description) of one log in a local sandbox;
    ``{"results": [ExecResult fields], "isolation": the sandbox's confinement}``."""
    from dataclasses import asdict

    tasks = [Task(key, Path(log_dir), code, description) for key, code, description in items]
    results = runner.execute_tasks(tasks, workers=1, timeout_s=timeout_s, post_options=options,
                                   progress=False, **settings)
    return {"results": [asdict(result) for result in results.values()],
            "isolation": dict(runner.ISOLATION)}


def execute_tasks(tasks: list[Task], timeout_s: float = 60.0, memory_mb: int = 4096,
                  post_options: dict | None = None,
                  on_result: Callable[[ExecResult], None] | None = None, progress: bool = True,
                  address: str | None = None, num_cpus: float = 1,
                  task_timeout_s: float | None = None, isolation="best_effort",
                  max_result_mb: float = DEFAULT_MAX_RESULT_MB) -> dict[str, ExecResult]:
    """Execute ``tasks`` as one Ray task per log; same contract as runner.execute_tasks."""
    import ray

    if not ray.is_initialized():
        runtime_env = None
        if not address:  # a local cluster: its workers import scenmine from this checkout
            root = str(Path(__file__).resolve().parents[2])
            runtime_env = {"env_vars": {"PYTHONPATH": os.pathsep.join(
                filter(None, [root, os.environ.get("PYTHONPATH")]))}}
        ray.init(address=address or None, ignore_reinit_error=True, include_dashboard=False,
                 log_to_driver=False, configure_logging=False, runtime_env=runtime_env)
    remote = ray.remote(max_retries=0)(_run_group)
    settings = {"memory_mb": memory_mb, "isolation": isolation, "max_result_mb": max_result_mb}
    groups = group_by_log(tasks)
    results: dict[str, ExecResult] = {}
    if not tasks:
        return results
    resources = {"num_cpus": num_cpus}
    if memory_mb and memory_mb > 0:
        resources["memory"] = int(memory_mb) * 1024 * 1024
    # as many tasks in flight as the cluster has CPUs for, so that each task's hard limit
    # can count from its submission (a queued Ray task would otherwise eat into it)
    slots = max(1, int(float(ray.cluster_resources().get("CPU", 1)) // max(num_cpus, 1e-3)))
    queue = list(groups.values())
    pending: dict = {}  # ObjectRef -> (group, deadline)
    bar = tqdm(total=len(tasks), desc="execute (ray)", unit="pair", disable=not progress)

    def submit() -> None:
        while queue and len(pending) < slots:
            group = queue.pop(0)
            limit = task_timeout_s or (LOAD_ALLOWANCE_S + len(group) * (timeout_s + GRACE_S))
            items = [(t.key, t.code, t.description) for t in group]
            ref = remote.options(**resources).remote(str(group[0].log_dir), items,
                                                      float(timeout_s), post_options or {},
                                                      settings)
            pending[ref] = (group, time.monotonic() + limit, limit)

    def report(result: ExecResult) -> None:
        results[result.key] = result
        if on_result is not None:
            on_result(result)
        bar.update(1)

    try:
        submit()
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
            for ref in done:
                group, _, _ = pending.pop(ref)
                try:
                    answers = ray.get(ref)
                except Exception as exc:  # the task's worker died or the task failed
                    if isinstance(getattr(exc, "cause", None), IsolationUnavailable):
                        raise exc.cause from None
                    first = str(exc).splitlines()[0] if str(exc) else ""
                    reason = (f"crash: ray task for log {group[0].log_dir.name} failed: "
                              f"{type(exc).__name__}: {first}")
                    for task in group:
                        report(ExecResult.failure(task.key, reason))
                    continue
                runner.ISOLATION.update(answers["isolation"])
                for fields in answers["results"]:
                    report(ExecResult(**fields))
            now = time.monotonic()
            for ref, (group, deadline, limit) in list(pending.items()):
                if now > deadline:
                    ray.cancel(ref, force=True)
                    pending.pop(ref)
                    for task in group:
                        report(ExecResult.failure(task.key, f"timeout: ray task for log "
                                                  f"{task.log_dir.name} ran past {limit:g} s"))
            submit()
    except BaseException:  # Ctrl-C: cancel everything still running; nothing more is queued
        for ref in pending:
            ray.cancel(ref, force=True)
        raise
    finally:
        bar.close()
    return results
