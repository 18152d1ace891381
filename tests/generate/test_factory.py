"""build_generator from the real config files (conf/llm, conf/generate, conf/prompts)."""
from __future__ import annotations

from pathlib import Path

import fake_openai_server as fo
import fake_runner
from omegaconf import OmegaConf

from scenmine.generate import build_generator
from scenmine.generate.backends.openai import OpenAIBackend
from scenmine.generate.strategies import LLMGenerator

CONF = Path(__file__).resolve().parents[2] / "conf"


def compose(llm: str, tmp_path, **overrides):
    cfg = OmegaConf.create({"llm": OmegaConf.load(CONF / "llm" / f"{llm}.yaml"),
                            "generate": OmegaConf.load(CONF / "generate" / "default.yaml"),
                            "prompts": OmegaConf.load(CONF / "prompts" / "default.yaml")})
    cfg.generate.cache_dir = str(tmp_path / "cache")
    for key, value in overrides.items():
        OmegaConf.update(cfg, key, value)
    return cfg


def test_every_llm_config_instantiates(tmp_path):
    for name in ("openai", "anthropic", "claude_code", "vllm", "replay"):
        gen = build_generator(compose(name, tmp_path))
        assert isinstance(gen, LLMGenerator), name
    assert type(build_generator(compose("rules", tmp_path))).__name__ == "RulesGenerator"


def test_openai_agent_end_to_end_with_cache(tmp_path, namespace, fake_logs):
    with fo.serve(fo.canned) as srv:
        cfg = compose("openai", tmp_path, **{"llm.base_url": srv.url + "/v1",
                                             "llm.model": "glm-5.1", "llm.backoff_s": 0.001,
                                             "generate.strategy": "agent"})
        gen = build_generator(cfg, logs=fake_logs, runner=fake_runner.run_program)
        assert isinstance(gen.backend, OpenAIBackend) and gen.backend.cache is not None
        gen.namespace = gen.toolbox.namespace = namespace
        first = gen.generate("moving vehicles")
        n = len(srv.requests)
        again = build_generator(cfg, logs=fake_logs, runner=fake_runner.run_program)
        again.namespace = again.toolbox.namespace = namespace
        second = again.generate("moving vehicles")
    assert first.ok and "has_velocity" in first.program and n == 2
    assert second.program == first.program and len(srv.requests) == n  # served from cache
    assert set(first.usage) >= {"calls", "input_tokens", "output_tokens", "cost_usd", "seconds"}
