"""Schema of the ``llm`` group (conf/llm/*.yaml): one dataclass per backend class (``_target_``).

A ``_target_`` not listed here (your own backend class) is instantiated with its keys unchecked.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .core import Group, key


@dataclass
class RulesLLM:
    """llm=rules: the offline rules parser; the thresholds it writes into programs."""

    _target_: str = key()
    accelerating_min_accel: float = key("m/s^2 for 'accelerating'", gt=0)
    braking_max_accel: float = key("m/s^2 for 'braking'", lt=0)
    moving_min_velocity: float | None = key("m/s for 'moving' (null: not stationary)", ge=0)
    near_distance: float = key("m for 'near'", gt=0)
    near_small_object_distance: float = key("m for 'near' a small object", gt=0)
    near_intersection: float = key("m for 'near an intersection'", gt=0)
    front_distance: float = key("m for 'in front of' / 'behind'", gt=0)
    front_lateral: float = key("m lateral for 'in front of' / 'behind'", gt=0)
    side_distance: float = key("m for 'to the left / right of'", gt=0)
    facing_angle: float = key("degrees for 'facing'", gt=0, le=180)
    facing_distance: float = key("m for 'facing'", gt=0)
    stop_sign_approach: float = key("m for 'approaching a stop sign'", gt=0)


@dataclass
class ChatLLM:
    """Keys every chat backend takes (scenmine.generate.backends.base.ChatBackend)."""

    _target_: str = key()
    model: str | None = key("model name sent to the server")
    temperature: float = key("sampling temperature", ge=0, le=2)
    max_tokens: int = key("answer length limit", ge=1)
    timeout_s: float = key("seconds per request", gt=0)
    max_retries: int = key("retries of a failed request", ge=0)
    backoff_s: float = key("first retry delay (s)", ge=0)
    backoff_max_s: float = key("longest retry delay (s)", ge=0)
    max_concurrency: int = key("requests at once", ge=1)
    record: bool = key("write every answer to record_dir for llm=replay")
    record_dir: str = key("folder of recorded answers")
    price_input_per_mtok: float | None = key("USD per million input tokens", ge=0)
    price_output_per_mtok: float | None = key("USD per million output tokens", ge=0)
    cache_dir: str | None = key("answer cache folder (default: generate.cache_dir)", optional=True)
    context_window: int | None = key("the model's window in tokens (null: ask the server, else "
                                     "learnt from a refusal)", ge=1, optional=True)
    tool_choice: Literal["auto", "required", "none"] | None = key(
        "sent with tool schemas when set (null: not sent)", optional=True)


@dataclass
class OpenAILLM(ChatLLM):
    """llm=openai / llm=local: any OpenAI-compatible chat endpoint."""

    base_url: str = key("the server's /v1 URL")
    api_key_env: str | None = key("NAME of the environment variable holding the key (null: none)")
    token_param: Literal["max_tokens", "max_completion_tokens"] = key("request field of max_tokens")
    extra_body: dict[str, Any] = key("provider-specific request fields")


@dataclass
class AnthropicLLM(ChatLLM):
    """llm=anthropic: the Anthropic Messages API."""

    base_url: str | None = key("API URL (null: api.anthropic.com)")
    api_key_env: str | None = key("NAME of the environment variable holding the key")


@dataclass
class ClaudeCodeLLM(ChatLLM):
    """llm=claude_code: the Claude Code CLI, headless."""

    temperature: float = key("unused by the CLI", ge=0, le=2, optional=True)
    max_tokens: int = key("unused by the CLI", ge=1, optional=True)
    backoff_max_s: float = key("longest retry delay (s)", ge=0, optional=True)
    command: str = key("the CLI executable")
    max_turns: int = key("agent turns per prompt", ge=1)
    allowed_tools: list[str] | None = key("--allowedTools (null: the default set)")
    extra_args: list[str] = key("extra CLI arguments")
    env: dict[str, str] = key("variables added to the CLI's environment")
    env_from: dict[str, str] = key("TARGET: SOURCE variables copied from the environment")
    scratch_root: str | None = key("scratch folder root (null: system temp)")
    keep_scratch: bool = key("keep the scratch folders")
    dry_run_logs: list[str] = key("training logs for dry runs (default: the pipeline's)")
    dry_run_runner: str | None = key("module:function running a dry run")
    solution_file: str = key("file the CLI writes the program to")


@dataclass
class VLLMLLM(ChatLLM):
    """llm=vllm: vLLM's offline engine."""

    timeout_s: float = key("seconds per request", gt=0, optional=True)
    backoff_s: float = key("first retry delay (s)", ge=0, optional=True)
    backoff_max_s: float = key("longest retry delay (s)", ge=0, optional=True)
    price_input_per_mtok: float | None = key("USD per million input tokens", ge=0, optional=True)
    price_output_per_mtok: float | None = key("USD per million output tokens", ge=0, optional=True)
    engine_kwargs: dict[str, Any] = key("vllm.LLM(...) arguments")
    max_batch: int = key("prompts per engine batch", ge=1)
    batch_wait_s: float = key("seconds to wait for a batch to fill", ge=0)


@dataclass
class ReplayLLM:
    """llm=replay: recorded answers, replayed."""

    _target_: str = key()
    dir: str = key("folder of recordings")
    model: str | None = key("require the recording model (null: any)")
    params: dict[str, Any] | None = key("require these recorded request parameters")
    supports_tools: bool = key("offer tools to the agent strategy")
    cache_dir: str | None = key("unused by replay", optional=True)


_BACKENDS = "scenmine.generate.backends"
SCHEMA = Group("_target_", {
    "scenmine.generate.rules.RulesGenerator": RulesLLM,
    f"{_BACKENDS}.openai.OpenAIBackend": OpenAILLM,
    f"{_BACKENDS}.anthropic.AnthropicBackend": AnthropicLLM,
    f"{_BACKENDS}.claude_code.ClaudeCodeBackend": ClaudeCodeLLM,
    f"{_BACKENDS}.vllm.VLLMBackend": VLLMLLM,
    f"{_BACKENDS}.replay.ReplayBackend": ReplayLLM,
}, open=True)
