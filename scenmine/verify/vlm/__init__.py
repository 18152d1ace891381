"""VLM backends (one small module each) and ``build_backend(cfg.vlm)``."""
from __future__ import annotations

from typing import Any

from scenmine.config import instantiate_group

from .base import VLMAnswer, VLMBackend, VLMRequest, p_yes_from_logprobs, parse_answer


def build_backend(cfg: Any) -> VLMBackend:
    """The backend a ``conf/vlm/*.yaml`` node names with its ``_target_`` (a bare mapping
    naming an option, e.g. ``{"name": "openai", ...}``, takes that option's target)."""
    return instantiate_group("vlm", cfg)


__all__ = ["VLMAnswer", "VLMBackend", "VLMRequest", "build_backend", "p_yes_from_logprobs",
           "parse_answer"]
