"""``execute.backend=ray``: the same per-log groups as the local runner, as Ray tasks.

Each Ray task loads its log once and runs that log's programs through the same
``worker.run_one`` path as the local sandbox processes (static check, restricted globals,
per-program alarm, post-processing, official frames). A task that overruns its hard limit
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

from scenmine.execute.runner import ExecResult, Task, group_by_log

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
               options: dict) -> list[tuple[str, dict]]:
    """In a Ray worker: run each (key, code, description) of one log; (key, payload) pairs."""
    from scenmine.execute import worker
    return [(key, worker.run_one(log_dir, code, description, timeout_s, options))
            for key, code, description in items]


def execute_tasks(tasks: list[Task], timeout_s: float = 60.0, memory_mb: int = 4096,
                  post_options: dict | None = None,
                  on_result: Callable[[ExecResult], None] | None = None, progress: bool = True,
                  address: str | None = None, num_cpus: float = 1,
                  task_timeout_s: float | None = None) -> dict[str, ExecResult]:
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
                                                      float(timeout_s), post_options or {})
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
                    first = str(exc).splitlines()[0] if str(exc) else ""
                    reason = (f"crash: ray task for log {group[0].log_dir.name} failed: "
                              f"{type(exc).__name__}: {first}")
                    for task in group:
                        report(ExecResult.failure(task.key, reason))
                    continue
                for key, payload in answers:
                    report(ExecResult(key=key, **payload))
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
