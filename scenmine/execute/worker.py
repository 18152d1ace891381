"""The sandbox process: receives (log, program) requests over a pipe and answers each.

Runs in its own process (spawned by scenmine.execute.runner) with an address-space limit;
programs are statically checked, then executed with restricted globals and an alarm.
"""
from __future__ import annotations

import resource
import signal
import time
import traceback
from pathlib import Path

STARTED = "started"  # sent once the log is loaded and the program is about to run


class ProgramTimeout(Exception):
    """Raised inside a program by the alarm when it runs past its time limit."""


def _on_alarm(signum, frame):
    raise ProgramTimeout()


def _limit_memory(memory_mb: int) -> None:
    if memory_mb and memory_mb > 0:
        limit = memory_mb * 1024 * 1024
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _error_line(exc: BaseException, code: str) -> str:
    """``Type: message (line N of the program)`` for an exception raised by a program."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == "<program>":
            line = frame.lineno
    where = f" (program line {line})" if line else ""
    return f"{type(exc).__name__}: {exc}{where}".replace("\n", " ")


def run_one(log_dir: str, code: str, description: str, timeout_s: float, options: dict,
            on_start=None) -> dict:
    """Execute one program on one log; a payload dict for ExecResult (never raises).

    ``on_start()`` is called once the log is loaded, right before the program runs (the
    sandbox process uses it to tell the runner that the program's time limit starts now).
    """
    from scenmine.data.logs import LogLoadError, load_log
    from scenmine.data.submission import build_frames
    from scenmine.dsl import NAMESPACE
    from scenmine.dsl.output import capture, post_process
    from scenmine.execute.sandbox import ProgramRejected, check_program, program_globals

    start = time.perf_counter()
    payload = {"ok": False, "error": None, "scenario": None, "referred": {}, "related": {},
               "frames": None}
    options = dict(options)
    tracks = options.pop("tracks", None)
    refine = options.pop("refine", None)  # the `tracks` config node when refinement is on
    try:
        if refine is not None:
            from scenmine.tracks import RefineOptions
            refine = RefineOptions.from_dict(refine)
        log = load_log(log_dir, tracks=tracks, refine=refine)
        if tracks is not None:  # the DSL reads this log's tracker tracks, not the annotations
            from scenmine.dsl.context import use_log
            use_log(log)
    except LogLoadError as exc:
        payload["error"] = f"log: {exc}"
        return {**payload, "seconds": time.perf_counter() - start}
    except Exception as exc:  # an unreadable log fails its pairs, never the worker
        payload["error"] = f"log: {log_dir}: {type(exc).__name__}: {exc}"
        return {**payload, "seconds": time.perf_counter() - start}
    try:
        tree = check_program(code)
        compiled = compile(tree, "<program>", "exec")
        env = program_globals(NAMESPACE, Path(log_dir), Path(log_dir) / "_outputs", description)
        if on_start is not None:
            on_start()
        signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout_s)
        try:
            with capture() as outputs:
                exec(compiled, env)  # noqa: S102 - checked program, restricted globals
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if not outputs:
            raise ValueError("the program never called output_scenario")
        scenario = outputs[-1][1]
        if not isinstance(scenario, dict):
            raise TypeError(f"output_scenario got a {type(scenario).__name__}, not a scenario dict")
        referred, related = post_process(scenario, log_dir, **options)
        payload.update(ok=True, scenario=scenario, referred=referred, related=related,
                       frames=build_frames(log, referred, related, description))
    except ProgramRejected as exc:
        payload["error"] = f"rejected: {exc}"
    except ProgramTimeout:
        payload["error"] = f"timeout: program ran past {timeout_s:g} s"
    except MemoryError:
        payload["error"] = "memory: program exceeded the memory limit"
    except RecursionError:
        payload["error"] = "recursion: program recursed too deeply"
    except LogLoadError as exc:  # e.g. the map, loaded lazily when a program first needs it
        payload["error"] = f"log: {exc}"
    except Exception as exc:  # any failure of untrusted code fails only this pair
        payload["error"] = f"error: {_error_line(exc, code)}"
    if not payload["ok"]:
        payload["frames"] = build_frames(log, {}, {}, description)
    return {**payload, "seconds": time.perf_counter() - start}


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (e.g. the run is killed with -9)."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: orphans still exit when the pipe closes
        pass


def forget_logs() -> None:
    """Drop cached logs (arrays, maps, DSL contexts): the runner sends one log's programs
    together, so a log that is done is not needed again and would only hold memory."""
    import gc

    from scenmine.data import logs
    from scenmine.dsl import context, relational_geometry
    for name in ("_load_cached", "_load_tracker_cached"):
        cached = getattr(logs, name, None)
        if hasattr(cached, "cache_clear"):
            cached.cache_clear()
    # per-log registries of the DSL; the geometry cache's values hold their LogData keys,
    # so its weak keys never die on their own
    for registry in (getattr(context, "_registered", None), getattr(relational_geometry, "_GEOS", None)):
        if registry is not None:
            registry.clear()
    gc.collect()
    try:  # hand freed heap pages back to the system (glibc keeps them otherwise)
        import ctypes
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def main(conn, memory_mb: int) -> None:
    """Worker loop: answer requests until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    _die_with_parent()
    _limit_memory(memory_mb)
    current = None
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        if request[0] != current:
            if current is not None:
                forget_logs()
            current = request[0]
        try:
            conn.send(run_one(*request, on_start=lambda: conn.send(STARTED)))
        except (BrokenPipeError, EOFError, OSError):
            return  # the runner is gone
        except MemoryError:
            conn.send({"ok": False, "error": "memory: result too large", "seconds": 0.0,
                       "scenario": None, "referred": {}, "related": {}, "frames": None})
