"""Schema of the ``vlm`` group (conf/vlm/*.yaml), by ``name``."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .core import Group, key


@dataclass
class NoVLM:
    name: Literal["none"] = key()
    _target_: str = key()
    p_yes: float = key("P(yes) every pair gets", ge=0, le=1)


@dataclass
class OpenAIVLM:
    """vlm=openai: an OpenAI-compatible vision chat endpoint."""

    name: Literal["openai"] = key()
    _target_: str = key()
    model: str = key("model name sent to the server")
    base_url: str = key("the server's /v1 URL")
    api_key_env: str | None = key("NAME of the environment variable holding the key")
    max_tokens: int = key("answer length limit", ge=1)
    temperature: float = key("sampling temperature", ge=0, le=2)
    logprobs: bool = key("ask for token log-probabilities")
    top_logprobs: int = key("alternatives per token", ge=0, le=20)
    timeout_s: float = key("seconds per request", gt=0)
    max_retries: int = key("retries of a failed request", ge=0)
    concurrency: int = key("requests at once", ge=1)
    image_format: Literal["JPEG", "PNG", "WEBP"] = key("image encoding")
    image_quality: int = key("JPEG/WEBP quality", ge=1, le=100)
    extra_body: dict[str, Any] = key("provider-specific request fields")


@dataclass
class VLLMQwen3VL:
    """vlm=qwen3vl_vllm: vLLM's offline engine on a GPU."""

    name: Literal["qwen3vl_vllm"] = key()
    _target_: str = key()
    model: str = key("Hugging Face id or local folder")
    max_model_len: int = key("context length", ge=1)
    gpu_memory_utilization: float = key("share of GPU memory vLLM takes", gt=0, le=1)
    tensor_parallel_size: int = key("GPUs", ge=1)
    max_images: int = key("images per request", ge=1)
    max_tokens: int = key("answer length limit", ge=1)
    temperature: float = key("sampling temperature", ge=0, le=2)
    top_logprobs: int = key("alternatives per token", ge=0)
    batch_size: int = key("requests per engine batch", ge=1)
    dtype: str = key("weights dtype (auto, bfloat16, ...)")
    seed: int = key("sampling seed")
    enforce_eager: bool = key("disable CUDA graphs")
    mm_processor_kwargs: dict[str, Any] = key("multimodal processor arguments")


@dataclass
class TransformersVLM:
    """vlm=transformers: Hugging Face transformers, local weights."""

    name: Literal["transformers"] = key()
    _target_: str = key()
    model_path: str = key("local folder or Hugging Face id")
    model_class: str = key("transformers class name")
    dtype: str = key("weights dtype")
    device: str = key("device (auto, cpu, cuda:0)")
    attn_implementation: str | None = key("attention kernel")
    min_pixels: int | None = key("image resize lower bound", ge=1)
    max_pixels: int | None = key("image resize upper bound", ge=1)
    max_new_tokens: int = key("> 0 also generates a raw answer", ge=0)


SCHEMA = Group("name", {"none": NoVLM, "openai": OpenAIVLM, "qwen3vl_vllm": VLLMQwen3VL,
                        "transformers": TransformersVLM})
