"""Run scenario programs on logs in sandboxed worker processes.

Each worker is a separate process, confined by the OS once when it starts
(scenmine.execute.confine); it loads a log once and runs every program queued for that log.
A program that overruns its time limit is stopped (softly by an alarm, else the worker is
killed and replaced), so one bad program fails only itself; a worker that ran a failing
program is replaced before the next one. Replies come over the data-only channel
(scenmine.execute.channel): size-capped, schema-checked, never unpickled.
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
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

from scenmine.execute import channel, confine, worker

log = logging.getLogger(__name__)
DEFAULT_MAX_RESULT_MB = 16


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
_WARNED: set[str] = set()
ISOLATION: dict[str, str] = {}  # the confinement the last worker reported (isolation_tags)


def isolation_tags() -> dict[str, str]:
    """``isolation.<layer>``: what the sandbox workers of this process had, for MLflow."""
    return {f"isolation.{layer}": value for layer, value in ISOLATION.items()}


def _note_isolation(report: dict[str, str], isolation) -> None:
    """Record a worker's confinement; warn once per missing layer; raise if one is required."""
    ISOLATION.clear()
    ISOLATION.update(report)
    for layer in confine.LAYERS:
        state = report.get(layer, "missing: not reported")
        if state != confine.ON and layer not in _WARNED:
            _WARNED.add(layer)
            log.warning("sandbox: OS layer %s is %s; programs run with the other layers only "
                        "(execute.isolation=required would refuse to run)", layer, state)
    missing = confine.missing_required(report, isolation)
    if missing:
        raise confine.IsolationUnavailable(
            f"execute.isolation requires {missing[0]}; run on a kernel that has it or set "
            "execute.isolation=best_effort")


@functools.lru_cache(maxsize=16)
def log_timestamps(log_dir: str) -> frozenset[int]:
    """The log's own timestamps (every ego pose, a superset of annotation and tracker
    timestamps), read by the runner itself to check replies; empty if unreadable."""
    from pyarrow import feather

    from scenmine.data.logs import POSE_FILE
    try:
        table = feather.read_table(Path(log_dir) / POSE_FILE, columns=["timestamp_ns"])
    except Exception:  # the worker reports the unreadable log; no timestamp then passes
        return frozenset()
    return frozenset(int(t) for t in table.column("timestamp_ns").to_numpy())


class Cancelled(Exception):
    """The run was interrupted (Ctrl-C or another task's error): stop taking work."""


def default_workers() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _context():
    """Workers fork from a fork server that has imported the DSL once (a fresh worker is
    ready in a fraction of a second, so replacing one after each failed program is cheap);
    spawn where there is no fork server (not Linux)."""
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["scenmine.execute.worker", *worker.PRELOAD])
    return ctx


class WorkerProcess:
    """A sandbox process driven over the data-only channel; replaced after a hard timeout,
    a crash, a malformed reply or a failed program.

    The worker first reports its confinement (``ready``), then answers each request with
    ``started`` once the log is loaded and the program is about to run, then with the
    result; the hard time limit (``timeout_s`` plus ``grace_s``) counts from ``started``,
    so imports and log loads (``load_timeout_s``) do not eat into a program's time.
    ``served``: the folders and files the worker may read (its logs, tracker predictions).
    ``checked=False`` is for tests only (no static check: the OS layer alone must hold).
    """

    def __init__(self, memory_mb: int, timeout_s: float, load_timeout_s: float = 120.0,
                 grace_s: float = 10.0, served: tuple[str, ...] = (),
                 isolation="best_effort", max_result_mb: float = DEFAULT_MAX_RESULT_MB,
                 checked: bool = True):
        self.memory_mb, self.timeout_s = memory_mb, timeout_s
        self.load_timeout_s, self.grace_s = load_timeout_s, grace_s
        self.max_bytes = int(float(max_result_mb) * 2**20)
        self.isolation = isolation
        self.settings = {"served": list(served), "memory_mb": memory_mb,
                         "isolation": sorted(confine.required_layers(isolation)),
                         "max_reply_bytes": self.max_bytes, "checked": checked}
        self.proc = None
        self.conn = None
        self.cancelled = False
        self.report: dict[str, str] = {}
        self.seq = 0

    def _start(self) -> None:
        if self.cancelled:
            raise Cancelled()
        ctx = _context()
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=worker.main, args=(child, self.settings), daemon=True)
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
        ready = self._message(self.load_timeout_s)
        report = ready.get("ready") if isinstance(ready, dict) else None
        if not isinstance(report, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in report.items()):
            raise channel.MalformedReply("reply: the worker did not report its confinement")
        self.report = {k: channel.clean_text(v, 300) for k, v in report.items()}
        _note_isolation(self.report, self.isolation)

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

    def _message(self, limit_s: float):
        """The next decoded message, or None when ``limit_s`` passes first; EOFError if the
        worker died, MalformedReply if the message is not a well-formed one within the cap."""
        deadline = time.monotonic() + limit_s
        while True:
            if self.cancelled:
                raise Cancelled()
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if self.conn.poll(min(left, 0.25)):
                try:
                    data = self.conn.recv_bytes(self.max_bytes)
                except OSError as exc:
                    if "bad message length" in str(exc):
                        raise channel.MalformedReply(
                            f"result: larger than the {self.max_bytes / 2**20:g} MB limit "
                            "(execute.max_result_mb)") from None
                    raise
                return channel.decode(data, self.max_bytes)

    def run(self, task: Task, options: dict) -> ExecResult:
        if self.proc is None or not self.proc.is_alive():
            self.stop()
            try:
                self._start()
            except channel.MalformedReply as exc:
                self.stop()
                return ExecResult.failure(task.key, f"crash: sandbox did not start ({exc})")
            except (EOFError, OSError):
                code = self.proc.exitcode if self.proc else None
                self.stop()
                return ExecResult.failure(task.key, f"crash: sandbox did not start (exit code "
                                          f"{code})")
        start = time.perf_counter()
        self.seq += 1
        request = {"seq": self.seq, "log_dir": str(task.log_dir), "code": task.code,
                   "description": task.description, "timeout_s": self.timeout_s,
                   "options": options}
        try:
            self.conn.send_bytes(json.dumps(request).encode())
            message = self._message(self.load_timeout_s)
            if message is None:
                self.stop()
                return ExecResult.failure(task.key, f"timeout: loading log {Path(task.log_dir).name} "
                                          f"took over {self.load_timeout_s:g} s and its worker was "
                                          "killed", time.perf_counter() - start)
            if message == {"started": self.seq}:
                message = self._message(self.timeout_s + self.grace_s)
                if message is None:
                    self.stop()
                    return ExecResult.failure(task.key, f"timeout: program ran past {self.timeout_s:g} s"
                                              " and its worker was killed", time.perf_counter() - start)
            if not isinstance(message, dict) or message.pop("seq", None) != self.seq:
                raise channel.MalformedReply("reply: not the answer to this request")
            resolved = Path(task.log_dir).resolve()
            fields = channel.check_reply(message, resolved.name, task.description,
                                         log_timestamps(str(resolved)))
        except channel.MalformedReply as exc:
            self.stop()
            return ExecResult.failure(task.key, channel.clean_text(exc),
                                      time.perf_counter() - start)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:  # odd shapes
            self.stop()
            return ExecResult.failure(task.key, channel.clean_text(f"reply: malformed ({exc})"),
                                      time.perf_counter() - start)
        except (EOFError, OSError, BrokenPipeError):
            if self.cancelled:
                raise Cancelled() from None
            code = self.proc.exitcode if self.proc else None
            self.stop()
            return ExecResult.failure(task.key, f"crash: worker died (exit code {code}), "
                                      "e.g. out of memory", time.perf_counter() - start)
        if not fields["ok"] and not fields["error"].startswith("log:"):
            self.stop()  # the program may have broken the worker's state: a fresh one next
        return ExecResult(key=task.key, **fields)


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


def served_paths(tasks: Iterable[Task], post_options: dict | None) -> tuple[str, ...]:
    """What sandbox workers may read for these tasks: their logs and tracker predictions."""
    paths = {str(Path(t.log_dir).resolve()) for t in tasks}
    if (post_options or {}).get("tracks"):
        paths.add(str(Path(post_options["tracks"]).resolve()))
    return tuple(sorted(paths))


def execute_tasks(tasks: Iterable[Task], workers: int | None = 2, timeout_s: float = 60.0,
                  memory_mb: int = 4096, post_options: dict | None = None,
                  on_result: Callable[[ExecResult], None] | None = None,
                  progress: bool = True, backend: str = "local",
                  backend_options: dict | None = None,
                  frame_pool: dict | None = None, isolation="best_effort",
                  max_result_mb: float = DEFAULT_MAX_RESULT_MB) -> dict[str, ExecResult]:
    """Execute tasks, grouped by log, on ``workers`` sandbox processes (None: one per core).

    ``on_result`` is called (serialised) as each result completes, so callers can persist
    finished work immediately. ``backend="ray"`` runs the same log groups as Ray tasks
    (scenmine.execute.ray_backend). On KeyboardInterrupt (or any error) the worker
    processes are killed, no further result is reported, and the exception propagates.
    Identical frame arrays of the results are shared (``share_arrays``; pass the same
    ``frame_pool`` to share them with other results too). ``isolation`` names the OS layers
    a worker must have (scenmine.execute.confine.required_layers); ``max_result_mb`` caps
    each reply.
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
                                         progress=progress, isolation=isolation,
                                         max_result_mb=max_result_mb, **(backend_options or {}))
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
    confine.required_layers(isolation)  # a bad setting fails now, with its key
    served = served_paths(tasks, post_options)
    pool_workers = [WorkerProcess(memory_mb, timeout_s, served=served, isolation=isolation,
                                  max_result_mb=max_result_mb) for _ in range(n_workers)]
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
