"""The Claude Code CLI run headless per prompt (``claude -p ... --output-format json``).

Each call gets a scratch folder with the DSL reference (generated from the code), the
categories, a ``dry_run.py`` it may call, and instructions to write ``solution.py``. The
environment is passed through, plus ``env`` from the config, so the CLI can be pointed at
another provider (``ANTHROPIC_BASE_URL``, ``ANTHROPIC_AUTH_TOKEN``, ``ANTHROPIC_MODEL``).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .base import BackendError, ChatBackend, ChatResponse

INSTRUCTIONS = """# Task: write one scenario program

Read DSL.md (every function you may call) and CATEGORIES.txt. Test drafts with
`{python} dry_run.py solution.py [LOG_INDEX]` (it runs on a training log and prints what
the program finds, or the error). Write the final program to `solution.py` in this folder:
plain Python using only the DSL names, no imports, ending with
`output_scenario(result, description, log_dir, output_dir)`.
"""
REPO_ROOT = Path(__file__).resolve().parents[3]


class ClaudeCodeBackend(ChatBackend):
    """One CLI run per chat call; the conversation is flattened into the prompt."""

    name = "claude_code"
    supports_tools = False  # it runs its own tool loop inside the CLI
    text_tools = False  # so the agent hands it one single-pass prompt
    config_key = "llm.command"

    def __init__(self, model: str | None = None, command: str = "claude",
                 max_turns: int = 30, allowed_tools: list[str] | None = None,
                 extra_args: list[str] | None = None, env: dict | None = None,
                 env_from: dict | None = None,
                 scratch_root: str | None = None, keep_scratch: bool = False,
                 dry_run_logs: list[str] | None = None, dry_run_runner: str | None = None,
                 solution_file: str = "solution.py", timeout_s: float = 900.0, **kw):
        super().__init__(model, timeout_s=timeout_s, **kw)
        self.command, self.max_turns = command, int(max_turns)
        self.allowed_tools = list(allowed_tools or ["Read", "Write", "Edit", "Glob", "Grep",
                                                    "Bash(python dry_run.py:*)",
                                                    f"Bash({sys.executable} dry_run.py:*)"])
        self.extra_args = [str(a) for a in extra_args or []]
        self.env = {str(k): str(v) for k, v in (env or {}).items() if v is not None}
        for target, source in (env_from or {}).items():  # secrets by variable name only
            if os.environ.get(str(source)):
                self.env[str(target)] = os.environ[str(source)]
        self.scratch_root, self.keep_scratch = scratch_root, keep_scratch
        self.dry_run_logs = [str(p) for p in dry_run_logs or []]
        self.dry_run_runner, self.solution_file = dry_run_runner, solution_file
        self.namespace = None  # DSL namespace override (tests)

    def endpoint(self) -> str:
        return self.env.get("ANTHROPIC_BASE_URL") or os.environ.get("ANTHROPIC_BASE_URL") or \
            f"the `{self.command}` CLI"

    def params(self) -> dict:
        return {"max_turns": self.max_turns, "command": Path(self.command).name}

    def set_dry_run_logs(self, logs) -> None:
        if not self.dry_run_logs:
            self.dry_run_logs = [str(p) for p in logs]

    def prepare(self, folder: Path) -> None:
        """Write the docs, the dry-run tool and the instructions into ``folder``."""
        from .. import docs
        try:
            reference = docs.reference_text(self.namespace)
            cats = docs.categories(self.namespace)
        except docs.DocsUnavailable as exc:
            reference, cats = f"(DSL reference unavailable: {exc})", []
        (folder / "DSL.md").write_text(reference + "\n")
        (folder / "CATEGORIES.txt").write_text("\n".join(cats) + "\n")
        (folder / "CLAUDE.md").write_text(INSTRUCTIONS.format(python=sys.executable))
        (folder / "dry_run.py").write_text(
            f"#!{sys.executable}\n\"\"\"Dry-run a program: python dry_run.py PROGRAM.py [LOG]"
            f"\"\"\"\nimport sys\nsys.path.insert(0, {str(REPO_ROOT)!r})\n"
            "from scenmine.generate.tools import dry_run_cli\n"
            f"sys.exit(dry_run_cli(sys.argv[1:], {self.dry_run_logs!r}, "
            f"{self.dry_run_runner!r}))\n")

    def argv(self, prompt: str, system: str) -> list[str]:
        cmd = [self.command, "-p", prompt, "--output-format", "json",
               "--max-turns", str(self.max_turns), "--allowedTools", ",".join(self.allowed_tools)]
        if system:
            cmd += ["--append-system-prompt", system]
        if self.model:
            cmd += ["--model", self.model]
        return cmd + self.extra_args

    def _call(self, messages, tools) -> ChatResponse:
        system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
        convo = [m for m in messages if m["role"] != "system"]
        prompt = convo[-1]["content"] if len(convo) == 1 else "\n\n".join(
            f"[{m['role']}]\n{m.get('content') or ''}" for m in convo)
        folder = Path(tempfile.mkdtemp(prefix="scenmine-cc-", dir=self.scratch_root))
        try:
            self.prepare(folder)
            env = {**os.environ, **self.env}
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT),
                                                              env.get("PYTHONPATH")]))
            try:
                proc = subprocess.run(self.argv(prompt, system), cwd=folder, env=env,
                                      capture_output=True, text=True, timeout=self.timeout_s,
                                      check=False)
            except FileNotFoundError as exc:
                raise BackendError("unreachable", f"Claude Code CLI {self.command!r} not "
                                   f"found ({exc}); install it or set llm.command=/path/to/"
                                   "claude", fatal=True) from exc
            except subprocess.TimeoutExpired as exc:
                raise BackendError("timeout", f"{self.command} ran past {self.timeout_s}s")\
                    from exc
            answer = self.parse(proc)
            sol = folder / self.solution_file
            if sol.is_file() and sol.read_text().strip():
                answer.text = (answer.text.rstrip() + f"\n\n# {self.solution_file}\n```python\n"
                               + sol.read_text().rstrip() + "\n```\n")
            return answer
        finally:
            if not self.keep_scratch:
                shutil.rmtree(folder, ignore_errors=True)

    def parse(self, proc: subprocess.CompletedProcess) -> ChatResponse:
        out = (proc.stdout or "").strip()
        data = None
        for chunk in (out, out.splitlines()[-1] if out else ""):
            try:
                data = json.loads(chunk)
                break
            except ValueError:
                continue
        if not isinstance(data, dict):
            reason = "cli_error" if proc.returncode else "malformed"
            raise BackendError(reason, f"{self.command} exited {proc.returncode} without a "
                               f"JSON result: {(proc.stderr or out)[-400:]}")
        if data.get("is_error") or data.get("subtype", "success") != "success":
            raise BackendError("cli_error", f"{self.command} reported an error "
                               f"({data.get('subtype')}): {str(data.get('result'))[:400]}")
        usage = data.get("usage") or {}
        inp = sum(int(usage.get(k) or 0) for k in ("input_tokens", "cache_read_input_tokens",
                                                   "cache_creation_input_tokens"))
        return ChatResponse(text=str(data.get("result") or ""), input_tokens=inp,
                            output_tokens=int(usage.get("output_tokens") or 0),
                            finish_reason=data.get("subtype"),
                            cost_usd=data.get("total_cost_usd"))
