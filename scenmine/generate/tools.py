"""The agent's tools, and the per-log summaries used by dry runs and execution feedback.

A *runner* is any ``run_program(code, log_dir, timeout_s=...) -> ExecResult`` (``ok``,
``scenario``, ``referred``, ``related``, ``error``, ``seconds``); the default is
``scenmine.execute.runner.run_program``, tests inject a fake.
"""
from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from . import docs
from .budget import cap_text
from .extract import extract_program

ERROR_CHARS = 1500  # a runtime error shown to the model (large reprs summarised)

TOOLS = [
    {"name": "list_functions", "description": "List every DSL function with its signature "
     "and a one-line summary.", "parameters": {"type": "object", "properties": {}}},
    {"name": "get_function_doc", "description": "Full documentation of one DSL function.",
     "parameters": {"type": "object", "properties": {"name": {"type": "string"}},
                    "required": ["name"]}},
    {"name": "list_categories", "description": "List the object categories a program may "
     "use.", "parameters": {"type": "object", "properties": {}}},
    {"name": "dry_run", "description": "Run a draft program on one training log and get a "
     "summary of what it finds (or the error).", "parameters": {"type": "object",
     "properties": {"program": {"type": "string"}, "log": {"type": ["integer", "string"],
                    "description": "index or id of the training log (default 0)"}},
     "required": ["program"]}},
    {"name": "submit", "description": "Submit the final program (ends the task).",
     "parameters": {"type": "object", "properties": {"program": {"type": "string"}},
                    "required": ["program"]}},
]


def default_runner():
    from scenmine.execute.runner import run_program
    return run_program


def load_runner(spec: str | Callable | None) -> Callable:
    """A runner from a callable, 'module:function', or None (the default runner)."""
    if callable(spec):
        return spec
    if not spec:
        return default_runner()
    mod, _, fn = str(spec).partition(":")
    return getattr(importlib.import_module(mod), fn)


def default_log_info(log_dir) -> tuple[dict, np.ndarray]:
    """(uuid -> category, timestamps) of a log, from the one log loader."""
    from scenmine.data.logs import load_log
    log = load_log(Path(log_dir))
    return dict(zip(log.uuids.tolist(), log.categories.tolist())), log.timestamps


def summarize(res, log_dir, log_info: Callable | None = None) -> dict:
    """Counts that tell a model whether its program does what the prompt says."""
    out = {"log": Path(log_dir).name, "ok": bool(res.ok), "seconds": round(res.seconds, 2)}
    if not res.ok:
        out["error"] = str(res.error)
        return out
    referred = {k: np.asarray(v) for k, v in (res.referred or {}).items() if len(v)}
    related = {k: np.asarray(v) for k, v in (res.related or {}).items() if len(v)}
    ts = np.unique(np.concatenate(list(referred.values()))) if referred else np.array([])
    out.update(referred_tracks=len(referred), related_tracks=len(related),
               referred_timestamps=int(ts.size))
    try:
        cats, all_ts = (log_info or default_log_info)(log_dir)
    except Exception:  # noqa: BLE001 - summaries are best-effort
        cats, all_ts = {}, np.array([])
    counts: dict[str, int] = {}
    for uuid in referred:
        cat = cats.get(uuid, "?")
        counts[cat] = counts.get(cat, 0) + 1
    out["categories"] = dict(sorted(counts.items(), key=lambda kv: -kv[1]))
    if len(all_ts) and ts.size:
        grid = all_ts[::5] if np.isin(ts, all_ts[::5]).all() else all_ts  # 2 Hz eval frames
        out["time_coverage"] = round(float(np.isin(grid, ts).mean()), 3)
        out["span_s"] = [round(float(ts.min() - all_ts[0]) / 1e9, 1),
                         round(float(ts.max() - all_ts[0]) / 1e9, 1)]
    return out


def format_summary(s: dict) -> str:
    if not s["ok"]:
        return f"log {s['log']}: ERROR\n{cap_text(s['error'], ERROR_CHARS)}"
    if not s["referred_tracks"]:
        return f"log {s['log']}: ran fine, found NOTHING (empty result)"
    extra = ""
    if "time_coverage" in s:
        extra = (f", present in {s['time_coverage']:.0%} of the log's timestamps "
                 f"(from {s['span_s'][0]} s to {s['span_s'][1]} s)")
    return (f"log {s['log']}: {s['referred_tracks']} referred tracks "
            f"{json.dumps(s['categories'])}, {s['related_tracks']} related tracks{extra}")


def format_feedback(summaries: list[dict]) -> str:
    lines = [format_summary(s) for s in summaries]
    empty = [s["log"] for s in summaries if s["ok"] and not s["referred_tracks"]]
    failed = [s["log"] for s in summaries if not s["ok"]]
    lines.append(f"{len(summaries)} logs: {len(empty)} empty, {len(failed)} failed")
    return "\n".join(lines)


class Toolbox:
    """Executes the agent's tool calls (except ``submit``, which the agent loop owns)."""

    def __init__(self, runner: Callable | None = None, logs=(), namespace: dict | None = None,
                 timeout_s: float = 60.0, max_chars: int = 6000,
                 log_info: Callable | None = None):
        self.runner, self.logs = runner, [Path(p) for p in logs]
        self.namespace, self.timeout_s = namespace, timeout_s
        self.max_chars, self.log_info = max_chars, log_info

    @property
    def can_run(self) -> bool:
        return self.runner is not None and bool(self.logs)

    def _log(self, which) -> Path:
        if which is None or which == "":
            return self.logs[0]
        if isinstance(which, int) or str(which).isdigit():
            return self.logs[int(which) % len(self.logs)]
        for p in self.logs:
            if p.name == str(which) or str(p) == str(which):
                return p
        raise KeyError(f"unknown log {which!r}; use an index 0..{len(self.logs) - 1}")

    def run(self, program: str, log_dir) -> dict:
        try:
            res = self.runner(program, log_dir, timeout_s=self.timeout_s)
        except Exception as exc:  # noqa: BLE001 - a runner crash is the program's result
            return {"log": Path(log_dir).name, "ok": False, "seconds": 0.0,
                    "error": f"{type(exc).__name__}: {exc}"}
        return summarize(res, log_dir, self.log_info)

    def run_many(self, program: str, n: int) -> list[dict]:
        return [self.run(program, p) for p in self.logs[:max(1, n)]]

    def dry_run(self, program: str, log=None) -> str:
        if not self.can_run:
            return "dry_run is unavailable: no training logs or runner configured"
        ext = extract_program(program)
        if ext.program is None or ext.error:
            return f"ERROR: {ext.error}"
        try:
            log_dir = self._log(log)
        except KeyError as exc:
            return f"ERROR: {exc.args[0]}"
        return format_summary(self.run(ext.program, log_dir))

    def call(self, name: str, args: dict) -> str:
        """Run one tool; a wrong call returns an error text (the model can fix it)."""
        try:
            if name == "list_functions":
                text = docs.list_functions(self.namespace)
            elif name == "get_function_doc":
                text = docs.get_function_doc(str(args.get("name", "")), self.namespace)
            elif name == "list_categories":
                text = ", ".join(docs.categories(self.namespace))
            elif name == "dry_run":
                text = self.dry_run(str(args.get("program", "")), args.get("log"))
            else:
                text = f"unknown tool {name!r}; tools: " + ", ".join(t["name"] for t in TOOLS)
        except Exception as exc:  # noqa: BLE001
            text = f"ERROR in {name}: {type(exc).__name__}: {exc}"
        return cap_text(text, self.max_chars)


def dry_run_cli(argv: list[str], logs: list[str], runner: str | None = None) -> int:
    """``python dry_run.py PROGRAM.py [LOG]`` in the Claude Code scratch folder."""
    if not argv:
        print("usage: python dry_run.py PROGRAM.py [LOG_INDEX_OR_ID]")
        return 2
    box = Toolbox(load_runner(runner), logs)
    print(box.dry_run(Path(argv[0]).read_text(), argv[1] if len(argv) > 1 else None))
    return 0
