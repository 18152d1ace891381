"""Claude Code backend with a fake `claude` executable on PATH."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from scenmine.generate.backends import BackendError
from scenmine.generate.backends.claude_code import ClaudeCodeBackend

FAKES = Path(__file__).resolve().parents[1] / "fakes"
MSGS = [{"role": "system", "content": "SYSTEM TEXT"}, {"role": "user", "content": "cars"}]


@pytest.fixture
def cli(monkeypatch, tmp_path, namespace, fake_logs):
    monkeypatch.setenv("PATH", f"{FAKES / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("PYTHONPATH", str(FAKES))
    monkeypatch.setenv("FAKE_CLAUDE_LOG", str(tmp_path / "cli.json"))

    def make(mode="file", **kw):
        monkeypatch.setenv("FAKE_CLAUDE_MODE", mode)
        b = ClaudeCodeBackend(backoff_s=0.001, max_retries=0, dry_run_logs=fake_logs,
                              dry_run_runner="fake_runner:run_program", **kw)
        b.namespace = namespace
        return b
    make.log = lambda: json.loads((tmp_path / "cli.json").read_text())
    return make


def test_program_read_from_written_file_and_env_passed(cli, monkeypatch):
    monkeypatch.setenv("ZAI_API_KEY", "zai-secret")
    b = cli("file", env={"ANTHROPIC_BASE_URL": "http://127.0.0.1:1/glm"}, model="glm-5.1",
            env_from={"ANTHROPIC_AUTH_TOKEN": "ZAI_API_KEY"})
    resp = b.chat(MSGS)
    assert "```python\nvehicles = get_objects_of_category" in resp.text
    assert resp.cost_usd == 0.0123 and (resp.input_tokens, resp.output_tokens) == (120, 30)
    seen = cli.log()
    assert seen["env"]["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:1/glm"
    assert seen["env"]["ANTHROPIC_AUTH_TOKEN"] == "zai-secret"
    assert {"DSL.md", "CATEGORIES.txt", "CLAUDE.md", "dry_run.py"} <= set(seen["files"])
    argv = seen["argv"]
    assert argv[argv.index("-p") + 1] == "cars"
    assert argv[argv.index("--append-system-prompt") + 1] == "SYSTEM TEXT"
    assert argv[argv.index("--model") + 1] == "glm-5.1"
    assert not Path(seen["cwd"]).exists()  # scratch folder removed
    assert b.totals.cost_usd == pytest.approx(0.0123)


def test_program_read_from_answer(cli):
    assert "```python" in cli("answer").chat(MSGS).text


def test_dry_run_tool_in_the_scratch_folder(cli):
    text = cli("dry_run").chat(MSGS).text
    assert "dry run said: log log_a: 3 referred tracks" in text


def test_cli_error_and_garbage_are_failures(cli):
    for mode, reason in (("error", "cli_error"), ("garbage", "malformed")):
        with pytest.raises(BackendError) as err:
            cli(mode).chat(MSGS)
        assert err.value.reason == reason and not err.value.fatal


def test_timeout(cli):
    with pytest.raises(BackendError) as err:
        cli("slow", timeout_s=0.5).chat(MSGS)
    assert err.value.reason == "timeout"


def test_missing_cli_is_fatal_and_names_the_key(cli):
    with pytest.raises(BackendError) as err:
        cli("file", command="/nonexistent/claude").chat(MSGS)
    assert err.value.fatal and "llm.command" in str(err.value)


def test_generator_with_claude_code(cli, make_generator):
    gen = make_generator(cli("file"), strategy="agent", check_on_log=True)
    out = gen.generate("vehicles")
    assert out.ok and "get_objects_of_category" in out.program
    assert out.usage["calls"] == 1 and out.usage["cost_usd"] == pytest.approx(0.0123)
