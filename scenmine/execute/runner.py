"""Run scenario programs on logs in sandboxed worker processes.

Each worker is a separate process with a memory limit; it loads a log once and runs every
program queued for that log. A program that overruns its time limit is stopped (softly by
an alarm, else the worker is killed and replaced), so one bad program fails only itself.
"""
from __future__ import annotations

import multiprocessing as mp
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from threading import Lock
from typing import Callable, Iterable

from tqdm import tqdm

from scenmine.execute import worker

Result = dict  # see ExecResult.from_payload


@dataclass
class Task:
    """One (program, log) pair to execute; ``key`` identifies it to the caller."""

    key: str
    log_dir: Path
    code: str
    description: str = ""


@dataclass
class ExecResult:
    """Outcome of one (program, log) pair; ``frames`` are official frames (empty on failure)."""

    key: str
    ok: bool
    error: str | None = None
    seconds: float = 0.0
    scenario: dict | None = None
    referred: dict = field(default_factory=dict)
    related: dict = field(default_factory=dict)
    frames: list | None = None

    @classmethod
    def failure(cls, key: str, error: str, seconds: float = 0.0) -> "ExecResult":
        return cls(key=key, ok=False, error=error, seconds=seconds)


class WorkerProcess:
    """A sandbox process driven over a pipe; restarted after a hard timeout or crash."""

    def __init__(self, memory_mb: int, timeout_s: float):
        self.memory_mb, self.timeout_s = memory_mb, timeout_s
        self.proc = None
        self.conn = None

    def _start(self) -> None:
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=worker.main, args=(child, self.memory_mb), daemon=True)
        self.proc.start()
        child.close()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.join(5)
            self.conn.close()
        self.proc = self.conn = None

    def run(self, task: Task, options: dict) -> ExecResult:
        if self.proc is None or not self.proc.is_alive():
            self._start()
        start = time.perf_counter()
        self.conn.send((str(task.log_dir), task.code, task.description, self.timeout_s, options))
        # the first task of a fresh worker also pays for imports and the log load
        if not self.conn.poll(self.timeout_s + 60):
            self.stop()
            return ExecResult.failure(task.key, f"timeout: program ran past {self.timeout_s:g} s "
                                      "and its worker was killed", time.perf_counter() - start)
        try:
            payload = self.conn.recv()
        except (EOFError, OSError):
            code = self.proc.exitcode if self.proc else None
            self.stop()
            return ExecResult.failure(task.key, f"crash: worker died (exit code {code}), "
                                      "e.g. out of memory", time.perf_counter() - start)
        return ExecResult(key=task.key, **payload)


def execute_tasks(tasks: Iterable[Task], workers: int = 2, timeout_s: float = 60.0,
                  memory_mb: int = 4096, post_options: dict | None = None,
                  on_result: Callable[[ExecResult], None] | None = None,
                  progress: bool = True) -> dict[str, ExecResult]:
    """Execute tasks, grouped by log, on ``workers`` sandbox processes.

    ``on_result`` is called (serialised) as each result completes, so callers can persist
    finished work immediately.
    """
    tasks = list(tasks)
    groups: dict[str, list[Task]] = {}
    for task in tasks:
        groups.setdefault(str(task.log_dir), []).append(task)
    results: dict[str, ExecResult] = {}
    lock = Lock()
    bar = tqdm(total=len(tasks), desc="execute", unit="pair", disable=not progress)
    pool_workers = [WorkerProcess(memory_mb, timeout_s) for _ in range(max(1, workers))]
    free = list(pool_workers)

    def run_group(group: list[Task]) -> None:
        with lock:
            proc = free.pop()
        try:
            for task in group:
                result = proc.run(task, post_options or {})
                with lock:
                    results[task.key] = result
                    if on_result is not None:
                        on_result(result)
                    bar.update(1)
        finally:
            with lock:
                free.append(proc)

    try:
        with ThreadPoolExecutor(max_workers=len(pool_workers)) as pool:
            for future in [pool.submit(run_group, g) for g in groups.values()]:
                future.result()
    finally:
        bar.close()
        for proc in pool_workers:
            proc.stop()
    return results


def run_program(code: str, log_dir: str | Path, description: str = "", timeout_s: float = 60.0,
                memory_mb: int = 4096, post_options: dict | None = None) -> ExecResult:
    """Run one program on one log in a fresh sandbox process."""
    task = Task("program", Path(log_dir), code, description)
    return execute_tasks([task], 1, timeout_s, memory_mb, post_options, progress=False)["program"]
