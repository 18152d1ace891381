"""Schema of the ``generate`` group (conf/generate/default.yaml) and the ``prompts`` group."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .core import Group, key


@dataclass
class FewShot:
    k: int = key("examples shown per prompt", ge=0)
    retriever: Literal["similarity", "lexical", "embedding", "first", "none"] = key("how examples are picked")
    embedding_model: str = key("retriever=embedding: a local sentence-embedding model")


@dataclass
class Augment:
    k: int = key("rewrites per description (0: augmentation off)", ge=0, le=16)
    paraphraser: Literal["auto", "llm", "rules"] = key(
        "who rewrites: the chat model (llm), fixed rewordings (rules), or llm when there is one")
    combine: Literal["vote", "first"] = key(
        "keep the program the others agree with on training logs, or the first that works")
    vote_logs: int = key("training logs the candidate programs run on to vote", ge=1)


@dataclass
class Generate:
    """How programs are generated (scenmine.generate.build_generator); ignored by llm=rules."""

    atoms: Literal["extended", "refav"] = key(
        "atoms generators may use: every atom, or RefAV's own (the richer-atoms ablation)")
    strategy: Literal["single_pass", "agent", "decompose"] = key(
        "one answer per prompt, a tool-calling agent loop, or decomposer -> atom selector -> coder")
    max_error_retries: int = key("re-prompts with the error (syntax, static check, runtime)", ge=0)
    execution_feedback: int = key("training logs the draft runs on and is shown (0: off)", ge=0)
    feedback_rounds: int = key("rounds of execution feedback", ge=0)
    check_on_log: bool = key("run each draft on one training log to catch runtime errors")
    max_turns: int = key("agent turns", ge=1)
    tools: Literal["native", "text", "auto"] = key(
        "agent tool calls: native, written as text (tools described in the prompt), or both")
    final_after: int | None = key("agent turns before the final program is asked for "
                                  "(null: max_turns - 2)", ge=1)
    max_repeats: int = key("repeated identical calls or answers before the final request", ge=1)
    fallback_after: int = key("agent answers without a usable call or program (or turns after "
                              "the final request) before falling back to single pass", ge=1)
    dry_run_timeout_s: float = key("seconds per dry run", gt=0)
    dry_run_logs: list[str] = key("extra or explicit training logs for dry runs")
    concurrency: int = key("prompts generated at once", ge=1)
    cache: bool = key("reuse answers by content hash")
    cache_dir: str = key("answer cache folder")
    fewshot: FewShot = key("few-shot examples")
    augment: Augment = key("semantics-preserving prompt augmentation")


@dataclass
class Prompts:
    """Jinja2 templates of the generator (a value ending in .j2 is read from conf/prompts/)."""

    system: str = key()
    user: str = key()
    retry: str = key()
    feedback: str = key()
    agent_system: str = key()
    agent_user: str = key()
    agent_nudge: str = key()
    agent_rejected: str = key()
    agent_feedback: str = key()
    truncated: str = key("re-prompt after a cut-off answer")
    agent_repeat: str = key("answer to a repeated identical tool call")
    agent_final: str = key("request for the final program (loop or turn limit)")
    guides: list[str] = key("guidance templates added to the system prompts")
    scenario_dicts: str = key("guidance: how scenario dicts work")
    matching: str = key("guidance: how answers are matched and scored")
    decompose_system: str = key("decompose strategy: split a description into parts (JSON)")
    decompose_user: str = key()
    select_system: str = key("decompose strategy: pick atoms for each part (JSON)")
    select_user: str = key()
    decompose_coder: str = key("decompose strategy: the coder's user prompt")
    paraphrase_system: str = key("generate.augment: ask for k rewrites (JSON list)")
    paraphrase_user: str = key()
    examples: list[dict[str, str]] = key("built-in few-shot examples: {prompt, program}")


SCHEMA = Group.single(Generate)
PROMPTS = Group.single(Prompts)
