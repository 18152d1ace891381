"""VLM backends (one small module each) and ``build_backend(cfg.vlm)``."""
from __future__ import annotations

import importlib
from typing import Any

from scenmine.config import cfg_dict

from .base import VLMAnswer, VLMBackend, VLMRequest, p_yes_from_logprobs, parse_answer

BACKENDS = {
    "none": "scenmine.verify.vlm.none.NoVLM",
    "openai": "scenmine.verify.vlm.openai.OpenAIVLM",
    "transformers": "scenmine.verify.vlm.transformers_backend.TransformersVLM",
    "qwen3vl_vllm": "scenmine.verify.vlm.qwen3vl_vllm.VLLMQwen3VL",
}


def build_backend(cfg: Any) -> VLMBackend:
    """Backend from a ``conf/vlm/*.yaml`` mapping: ``_target_`` (a class path) or ``name``."""
    d = cfg_dict(cfg) or {}
    target = d.pop("_target_", None) or BACKENDS[d.get("name", "none")]
    d.pop("name", None)
    module, _, attr = target.rpartition(".")
    return getattr(importlib.import_module(module), attr)(**d)


__all__ = ["BACKENDS", "VLMAnswer", "VLMBackend", "VLMRequest", "build_backend", "p_yes_from_logprobs",
           "parse_answer"]
