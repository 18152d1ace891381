"""The sandbox process: receives (log, program) requests over a pipe and answers each.

Runs in its own process (spawned by scenmine.execute.runner). Before it runs any program it
imports what programs need and confines itself (scenmine.execute.confine: rlimits,
no_new_privs, landlock, an unprivileged uid, seccomp), once. Programs are statically checked,
then executed with the allowlisted globals (scenmine.execute.sandbox), an alarm and a CPU
limit; what they print is kept up to a few KB. Every message to the runner goes through the
data-only channel (scenmine.execute.channel): JSON and fixed-dtype arrays, never pickle.
"""
from __future__ import annotations

import functools
import json
import signal
import sys
import time
import traceback

from scenmine.execute import channel, confine


class ProgramTimeout(Exception):
    """Raised inside a program by the alarm when it runs past its time limit."""


def _on_alarm(signum, frame):
    raise ProgramTimeout()


def _error_line(exc: BaseException) -> str:
    """``Type: message (line N of the program)`` for an exception raised by a program."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == "<program>":
            line = frame.lineno
    where = f" (program line {line})" if line else ""
    try:
        message = str(exc)
    except Exception:  # a hostile __str__
        message = "?"
    return channel.clean_text(f"{type(exc).__name__}: {message}{where}")


class BoundedOutput:
    """What a program prints: the first ``limit`` characters kept, the rest only counted."""

    def __init__(self, limit: int = channel.MAX_OUTPUT_CHARS):
        self.limit, self.parts, self.kept, self.dropped = limit, [], 0, 0

    def write(self, text) -> int:
        text = str(text)
        room = self.limit - self.kept
        if room > 0:
            self.parts.append(text[:room])
            self.kept += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def flush(self) -> None:
        pass

    def print(self, *args, sep=" ", end="\n", file=None, flush=False) -> None:
        """The ``print`` programs get (``file`` is ignored: output always comes here)."""
        if self.kept >= self.limit:  # cheap once full: a print loop only counts
            self.dropped += 1
            return
        self.write(str(sep).join(str(a) for a in args) + str(end))

    def text(self) -> str:
        more = f" [{self.dropped} more characters dropped]" if self.dropped else ""
        return "".join(self.parts) + more


def _plain_timestamps(value):
    """A scenario / referral dict with every timestamp collection made a list of ints."""
    if isinstance(value, dict):
        return {str(k): _plain_timestamps(v) for k, v in value.items()}
    return [int(t) for t in value]


def run_one(log_dir: str, code: str, description: str, timeout_s: float, options: dict,
            on_start=None, checked: bool = True) -> dict:
    """Execute one program on one log; a payload dict for ExecResult (never raises).

    ``on_start()`` is called once the log is loaded, right before the program runs (the
    sandbox process uses it to tell the runner that the program's time limit starts now).
    ``checked=False`` (tests only) skips the static check and runs the program with the real
    builtins, to show that the OS layer alone holds.
    """
    from scenmine.data.logs import LogLoadError, load_log
    from scenmine.data.submission import build_frames
    from scenmine.dsl import NAMESPACE
    from scenmine.dsl.output import capture, post_process
    from scenmine.execute.sandbox import ProgramRejected, compile_program, program_globals

    start = time.perf_counter()
    payload = {"ok": False, "error": None, "scenario": None, "referred": {}, "related": {},
               "frames": None, "output": ""}
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
        payload["error"] = channel.clean_text(f"log: {exc}")
        return {**payload, "seconds": time.perf_counter() - start}
    except Exception as exc:  # an unreadable log fails its pairs, never the worker
        payload["error"] = channel.clean_text(f"log: {log_dir}: {type(exc).__name__}: {exc}")
        return {**payload, "seconds": time.perf_counter() - start}
    printed = BoundedOutput()
    saved_streams = sys.stdout, sys.stderr
    try:
        if checked:
            compiled = compile_program(code)
            env = program_globals(NAMESPACE, log_dir, description, output=printed.print)
        else:  # tests only: an attacker who already has code execution
            compiled = compile(code, "<program>", "exec")
            env = {**NAMESPACE, "log_dir": log_dir, "description": description}
        if on_start is not None:
            on_start()
        if confine.ON == _CONFINED.get("rlimits"):
            confine.limit_cpu(timeout_s + 10)
        signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout_s)
        sys.stdout = sys.stderr = printed  # e.g. warnings of DSL functions: kept bounded too
        try:
            with capture() as outputs:
                exec(compiled, env)  # noqa: S102 - checked program, allowlisted globals
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            sys.stdout, sys.stderr = saved_streams
        if not outputs:
            raise ValueError("the program never called output_scenario")
        scenario = outputs[-1][1]
        if not isinstance(scenario, dict):
            raise TypeError(f"output_scenario got a {type(scenario).__name__}, not a scenario dict")
        referred, related = post_process(scenario, log_dir, **options)
        payload.update(ok=True, scenario=_plain_timestamps(scenario),
                       referred=_plain_timestamps(referred), related=_plain_timestamps(related),
                       frames=build_frames(log, referred, related, description))
    except ProgramRejected as exc:
        payload["error"] = channel.clean_text(f"rejected: {exc}")
    except ProgramTimeout:
        payload["error"] = f"timeout: program ran past {timeout_s:g} s"
    except MemoryError:
        payload["error"] = "memory: program exceeded the memory limit"
    except RecursionError:
        payload["error"] = "recursion: program recursed too deeply"
    except LogLoadError as exc:  # e.g. the map, loaded lazily when a program first needs it
        payload["error"] = channel.clean_text(f"log: {exc}")
    except Exception as exc:  # any failure of untrusted code fails only this pair
        payload["error"] = f"error: {_error_line(exc)}"
    finally:
        sys.stdout, sys.stderr = saved_streams
    if not payload["ok"]:
        payload["frames"] = build_frames(log, {}, {}, description)
        payload["output"] = printed.text()
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


# what every log load and program imports, loaded before the worker confines itself (and by
# the runner's fork server, so that a new worker starts with them already imported); the
# seccomp and landlock bindings and matplotlib (which wants a writable config folder when
# imported: av2's map API, the DSL's polygons) must load before; other lazy imports may come
# later: landlock leaves the packages readable
PRELOAD = ("landlock", "pyseccomp", "matplotlib.path", "av2.map.map_api",
           "scipy.spatial.transform", "scenmine.data.logs",
           "scenmine.data.submission", "scenmine.dsl", "scenmine.dsl.output",
           "scenmine.execute.sandbox")


def _preload() -> None:
    import importlib
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except (ImportError, RuntimeError, OSError):  # e.g. no libseccomp: confine reports it
            pass


_CONFINED: dict[str, str] = {}  # this process's confinement report


def main(conn, settings: dict) -> None:
    """Worker loop: confine once, then answer requests until the pipe closes.

    ``settings``: ``served`` (paths to read), ``memory_mb``, ``isolation`` (required layers),
    ``max_reply_bytes`` and the test-only ``checked``.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    _die_with_parent()
    _preload()
    _CONFINED.update(confine.confine(settings.get("served", ()),
                                     confine.Limits(memory_mb=int(settings.get("memory_mb") or 0))))
    missing = confine.missing_required(_CONFINED, settings.get("isolation"))
    max_bytes = int(settings.get("max_reply_bytes") or 16 << 20)
    checked = bool(settings.get("checked", True))
    try:
        conn.send_bytes(channel.encode({"ready": _CONFINED}))
    except OSError:
        return
    current = None
    while True:
        try:
            request = json.loads(conn.recv_bytes())
        except (EOFError, OSError, KeyboardInterrupt, ValueError):
            return
        seq = request.get("seq")
        started = channel.encode({"started": seq})
        try:
            if missing:  # never run a program without the layers the run requires
                reply = {"ok": False, "error": "isolation: missing " + "; ".join(missing),
                         "seconds": 0.0}
            else:
                if request["log_dir"] != current:
                    if current is not None:
                        forget_logs()
                    current = request["log_dir"]
                reply = run_one(request["log_dir"], request["code"], request["description"],
                                float(request["timeout_s"]), request.get("options") or {},
                                on_start=functools.partial(conn.send_bytes, started),
                                checked=checked)
            message = channel.encode({**reply, "seq": seq})
            if len(message) > max_bytes:
                message = channel.encode({
                    "ok": False, "seq": seq, "seconds": reply.get("seconds", 0.0),
                    "error": f"result: larger than the {max_bytes / 2**20:g} MB limit "
                             "(execute.max_result_mb)"})
            conn.send_bytes(message)
        except (BrokenPipeError, EOFError, OSError):
            return  # the runner is gone
        except MemoryError:
            conn.send_bytes(channel.encode({"ok": False, "seq": seq, "seconds": 0.0,
                                            "error": "memory: result too large"}))
