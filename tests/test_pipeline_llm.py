"""The pipeline with a real HTTP LLM backend: the fake OpenAI server, agent strategy, replay."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from scenmine import pipeline
from scenmine.generate.backends.base import BackendError

sys.path.insert(0, str(Path(__file__).parent / "fakes"))
import fake_openai_server as fake  # noqa: E402


@pytest.fixture
def small_run_cfg(av2_mini, tmp_path, make_cfg):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("moving vehicle\nstopped car\n")
    return lambda *extra: make_cfg([
        "dataset=av2", f"dataset.logs={av2_mini / 'logs'}", f"dataset.prompts={prompts}",
        "dataset.max_logs=1", f"tracking.dir={tmp_path / 'mlruns'}", "output.progress=false",
        f"generate.cache_dir={tmp_path / 'llm-cache'}", *extra])


def test_agent_against_openai_compatible_server_then_replay(small_run_cfg, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_KEY", "sk-test")
    with fake.serve(fake.canned) as server:
        cfg = small_run_cfg("llm=openai", f"llm.base_url={server.url}/v1", "llm.model=glm-5.1",
                            "llm.api_key_env=FAKE_KEY", "generate.strategy=agent",
                            "llm.record=true", f"llm.record_dir={tmp_path / 'rec'}")
        live = pipeline.run(cfg, tmp_path / "live")
    assert live.metrics["n_programs"] == 2 and live.metrics["n_execution_failed"] == 0
    assert live.metrics["gen_calls"] >= 4 and live.metrics["gen_input_tokens"] > 0
    assert (tmp_path / "live" / "transcripts.json").exists()
    replay = pipeline.run(small_run_cfg("llm=replay", f"llm.dir={tmp_path / 'rec'}",
                                        "generate.strategy=agent", "generate.cache=false"),
                          tmp_path / "replay")
    assert {p: g.program for p, g in replay.programs.items()} == \
           {p: g.program for p, g in live.programs.items()}


def test_unreachable_server_names_url_and_key(small_run_cfg, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_KEY", "sk-test")
    cfg = small_run_cfg("llm=openai", "llm.base_url=http://127.0.0.1:9/v1", "llm.api_key_env=FAKE_KEY",
                        "llm.max_retries=0", "generate.cache=false")
    with pytest.raises(BackendError, match=r"127\.0\.0\.1:9.*llm\.base_url|llm\.base_url.*127\.0\.0\.1:9"):
        pipeline.run(cfg, tmp_path / "out")


def test_agent_against_anthropic_server(small_run_cfg, tmp_path, monkeypatch):
    import fake_anthropic_server as fake_anthropic
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    with fake_anthropic.serving(fake_anthropic.canned, fake_anthropic.PATHS, 30.0) as server:
        cfg = small_run_cfg("llm=anthropic", f"llm.base_url={server.url}", "generate.strategy=agent")
        result = pipeline.run(cfg, tmp_path / "out")
    assert result.metrics["n_programs"] == 2 and result.metrics["n_execution_failed"] == 0
    assert result.metrics["gen_cost_usd"] > 0  # priced from conf/llm/anthropic.yaml


def test_claude_code_cli(small_run_cfg, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", f"{Path(__file__).parent / 'fakes' / 'bin'}:{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_CLAUDE_MODE", "dry_run")
    cfg = small_run_cfg("llm=claude_code", "llm.max_retries=0", "generate.cache=false")
    result = pipeline.run(cfg, tmp_path / "out")
    assert result.metrics["n_programs"] == 2 and result.metrics["n_execution_failed"] == 0
    assert all("get_objects_of_category" in g.program for g in result.programs.values())
