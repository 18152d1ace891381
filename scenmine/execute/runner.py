"""Run scenario programs on logs in sandboxed worker processes.

Each worker is a separate process with a memory limit; it loads a log once and runs every
program queued for that log. A program that overruns its time limit is stopped (softly by
an alarm, else the worker is killed and replaced), so one bad program fails only itself.
"""
from __future__ import annotations

import hashlib
import multiprocessing as mp
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from threading import Event, Lock

import numpy as np
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
    def failure(cls, key: str, error: str, seconds: float = 0.0) -> ExecResult:
        return cls(key=key, ok=False, error=error, seconds=seconds)


SINGLE_THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_SPAWN_LOCK = Lock()


class Cancelled(Exception):
    """The run was interrupted (Ctrl-C or another task's error): stop taking work."""


def default_workers() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class WorkerProcess:
    """A sandbox process driven over a pipe; restarted after a hard timeout or crash.

    The worker answers each request with ``worker.STARTED`` once the log is loaded and the
    program is about to run, then with the result; the hard time limit (``timeout_s`` plus
    ``grace_s``) counts from STARTED, so imports and log loads (``load_timeout_s``) do not
    eat into a program's time.
    """

    def __init__(self, memory_mb: int, timeout_s: float, load_timeout_s: float = 120.0,
                 grace_s: float = 10.0):
        self.memory_mb, self.timeout_s = memory_mb, timeout_s
        self.load_timeout_s, self.grace_s = load_timeout_s, grace_s
        self.proc = None
        self.conn = None
        self.cancelled = False

    def _start(self) -> None:
        if self.cancelled:
            raise Cancelled()
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=worker.main, args=(child, self.memory_mb), daemon=True)
        with _SPAWN_LOCK:  # one thread per sandbox: no BLAS thread pools (CPU, address space)
            saved = {k: os.environ.get(k) for k in SINGLE_THREAD_ENV}
            os.environ.update({k: "1" for k in SINGLE_THREAD_ENV if k not in os.environ})
            try:
                self.proc.start()
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
        child.close()

    def kill(self) -> None:
        """Stop for good, from any thread: kill the process and refuse further work."""
        self.cancelled = True
        proc = self.proc
        if proc is not None and proc.pid is not None:
            try:
                proc.kill()
            except (OSError, AttributeError):
                pass

    def stop(self) -> None:
        """Kill the process (if any) and release the pipe; a later run() starts a new one."""
        proc, conn = self.proc, self.conn
        self.proc = self.conn = None
        if proc is not None and proc.pid is not None:  # pid is None when the start failed
            proc.kill()
            proc.join(5)
        if conn is not None:
            conn.close()

    def _receive(self, limit_s: float):
        """The next message, or None when ``limit_s`` passes first; EOFError if the worker died."""
        deadline = time.monotonic() + limit_s
        while True:
            if self.cancelled:
                raise Cancelled()
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if self.conn.poll(min(left, 0.25)):
                return self.conn.recv()

    def run(self, task: Task, options: dict) -> ExecResult:
        if self.proc is None or not self.proc.is_alive():
            self.stop()
            self._start()
        start = time.perf_counter()
        try:
            self.conn.send((str(task.log_dir), task.code, task.description, self.timeout_s, options))
            message = self._receive(self.load_timeout_s)
            if message is None:
                self.stop()
                return ExecResult.failure(task.key, f"timeout: loading log {Path(task.log_dir).name} "
                                          f"took over {self.load_timeout_s:g} s and its worker was "
                                          "killed", time.perf_counter() - start)
            if message == worker.STARTED:
                message = self._receive(self.timeout_s + self.grace_s)
                if message is None:
                    self.stop()
                    return ExecResult.failure(task.key, f"timeout: program ran past {self.timeout_s:g} s"
                                              " and its worker was killed", time.perf_counter() - start)
        except (EOFError, OSError, BrokenPipeError):
            if self.cancelled:
                raise Cancelled() from None
            code = self.proc.exitcode if self.proc else None
            self.stop()
            return ExecResult.failure(task.key, f"crash: worker died (exit code {code}), "
                                      "e.g. out of memory", time.perf_counter() - start)
        return ExecResult(key=task.key, **message)


def share_arrays(frames: list[dict] | None, pool: dict) -> None:
    """Make identical arrays of official frames one (read-only) object, in place.

    The pairs of one log have the same objects at each timestamp (positions, sizes, ids...)
    and mostly the same labels, so a run's frames shrink about tenfold in memory (and in a
    pickle of them all, e.g. the submission). Arrays are frozen: code that must change a
    frame replaces its arrays (as the pipeline and verifier do), never writes into them.
    """
    for frame in frames or ():
        for name, value in frame.items():
            if not isinstance(value, np.ndarray) or value.ndim == 0:
                continue
            key = (name, value.dtype.str, value.shape,
                   hashlib.blake2b(value.tobytes(), digest_size=16).digest())
            kept = pool.get(key)
            if kept is None:
                value.setflags(write=False)
                pool[key] = value
            elif kept is not value and np.array_equal(kept, value):
                frame[name] = kept


def wait_interruptibly(futures):
    """Yield futures as they finish, waking up often so that Ctrl-C reaches the main thread
    (a signal delivered to a worker thread does not interrupt a blocking wait)."""
    pending = set(futures)
    while pending:
        done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
        yield from done


def group_by_log(tasks: Iterable[Task]) -> dict[str, list[Task]]:
    """Tasks grouped by log folder (first-seen order), so each worker loads a log once."""
    groups: dict[str, list[Task]] = {}
    for task in tasks:
        groups.setdefault(str(task.log_dir), []).append(task)
    return groups


def execute_tasks(tasks: Iterable[Task], workers: int | None = 2, timeout_s: float = 60.0,
                  memory_mb: int = 4096, post_options: dict | None = None,
                  on_result: Callable[[ExecResult], None] | None = None,
                  progress: bool = True, backend: str = "local",
                  backend_options: dict | None = None,
                  frame_pool: dict | None = None) -> dict[str, ExecResult]:
    """Execute tasks, grouped by log, on ``workers`` sandbox processes (None: one per core).

    ``on_result`` is called (serialised) as each result completes, so callers can persist
    finished work immediately. ``backend="ray"`` runs the same log groups as Ray tasks
    (scenmine.execute.ray_backend). On KeyboardInterrupt (or any error) the worker
    processes are killed, no further result is reported, and the exception propagates.
    Identical frame arrays of the results are shared (``share_arrays``; pass the same
    ``frame_pool`` to share them with other results too).
    """
    tasks = list(tasks)
    shared = {} if frame_pool is None else frame_pool
    reported = on_result

    def on_result(result: ExecResult) -> None:  # noqa: F811 - shares arrays, then reports
        share_arrays(result.frames, shared)
        if reported is not None:
            reported(result)

    if backend == "ray":
        from scenmine.execute import ray_backend
        return ray_backend.execute_tasks(tasks, timeout_s=timeout_s, memory_mb=memory_mb,
                                         post_options=post_options, on_result=on_result,
                                         progress=progress, **(backend_options or {}))
    if backend != "local":
        raise ValueError(f"execute.backend: unknown backend {backend!r} (local or ray)")
    groups = group_by_log(tasks)
    results: dict[str, ExecResult] = {}
    if not tasks:
        return results
    lock = Lock()
    stop = Event()
    n_workers = max(1, min(int(workers or default_workers()), len(groups)))
    bar = tqdm(total=len(tasks), desc="execute", unit="pair", disable=not progress)
    pool_workers = [WorkerProcess(memory_mb, timeout_s) for _ in range(n_workers)]
    free = list(pool_workers)

    def run_group(group: list[Task]) -> None:
        with lock:
            proc = free.pop()
        try:
            for task in group:
                if stop.is_set():
                    return
                try:
                    result = proc.run(task, post_options or {})
                except Cancelled:
                    return
                with lock:
                    if stop.is_set():
                        return
                    results[task.key] = result
                    if on_result is not None:
                        on_result(result)
                    bar.update(1)
        finally:
            with lock:
                free.append(proc)

    pool = ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="execute")
    try:
        futures = [pool.submit(run_group, g) for g in groups.values()]
        for future in wait_interruptibly(futures):
            future.result()
    except BaseException:
        stop.set()  # Ctrl-C or an error in on_result: stop now, kill the sandboxes
        for proc in pool_workers:
            proc.kill()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True)
        bar.close()
        for proc in pool_workers:
            proc.stop()
    return results


def run_program(code: str, log_dir: str | Path, description: str = "", timeout_s: float = 60.0,
                memory_mb: int = 4096, post_options: dict | None = None) -> ExecResult:
    """Run one program on one log in a fresh sandbox process."""
    task = Task("program", Path(log_dir), code, description)
    return execute_tasks([task], 1, timeout_s, memory_mb, post_options, progress=False)["program"]
