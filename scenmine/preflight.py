"""Backends checked before any work: every server the run will call answers, every API key
variable it names is set, every CLI it runs is on PATH. A failure is one line naming the URL,
variable or command and the setting to change, within seconds (a TCP connect per server)."""
from __future__ import annotations

import os
import shutil
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from scenmine.verify.base import build_verifier

CONNECT_TIMEOUT_S = 3.0


class BackendUnavailable(RuntimeError):
    """A configured server, key or executable the run needs is missing."""


@dataclass(frozen=True)
class Need:
    """One thing a backend needs: ``kind`` url | env | command, its ``value``, the config ``key``."""

    kind: str
    value: str
    key: str
    what: str


def _chat_needs(node, prefix: str, what: str) -> list[Need]:
    """Needs of a chat backend node (conf/llm/*.yaml, or reviewer.backend)."""
    target = str(node.get("_target_") or "")
    needs: list[Need] = []
    if target.endswith(("OpenAIBackend", "AnthropicBackend")):
        if node.get("base_url"):
            needs.append(Need("url", str(node.base_url), f"{prefix}.base_url", what))
        if node.get("api_key_env"):
            needs.append(Need("env", str(node.api_key_env), f"{prefix}.api_key_env", what))
    elif target.endswith("ClaudeCodeBackend"):
        needs.append(Need("command", str(node.command), f"{prefix}.command", what))
        for target_var, source in (node.get("env_from") or {}).items():
            needs.append(Need("env", str(source), f"{prefix}.env_from.{target_var}", what))
    return needs


def needs(cfg) -> list[Need]:
    """What the configured run will call: the generator, the LLM reviewer, the VLM."""
    out = _chat_needs(cfg.llm, "llm", "LLM server")
    if cfg.reviewer.name == "llm":
        out += _chat_needs(cfg.reviewer.backend, "reviewer.backend", "reviewer server")
    if build_verifier(cfg.verifier).uses_vlm and cfg.vlm.get("base_url"):
        out.append(Need("url", str(cfg.vlm.base_url), "vlm.base_url", "VLM server"))
    unique = {(need.kind, need.value): need for need in reversed(out)}  # first one named wins
    return [need for need in out if unique[(need.kind, need.value)] is need]  # a shared server once


def reachable(url: str, timeout_s: float = CONNECT_TIMEOUT_S) -> str | None:
    """None when a TCP connection to the URL's host and port opens, else why not."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "not an http(s) URL"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout_s):
            return None
    except OSError as exc:
        return exc.strerror or type(exc).__name__


def problem(need: Need) -> str | None:
    """One line saying what is wrong with ``need`` and what to change, or None."""
    if need.kind == "env" and not os.environ.get(need.value):
        return (f"the API key variable ${need.value} ({need.key}) is not set: export "
                f"{need.value}=<key>, or set {need.key}=<another variable> (null for a server "
                "that needs no key)")
    if need.kind == "url":
        why = reachable(need.value)
        if why:
            return (f"cannot reach the {need.what} at {need.value} ({why}): start it, or set "
                    f"{need.key}=<a reachable URL> (or another backends= profile)")
    if need.kind == "command" and shutil.which(need.value) is None:
        return (f"the {need.what} command {need.value!r} is not on PATH: install it, or set "
                f"{need.key}=/path/to/{os.path.basename(need.value)}")
    return None


def check(cfg) -> None:
    """Raise BackendUnavailable on the first backend need that is not met."""
    for need in needs(cfg):
        message = problem(need)
        if message:
            raise BackendUnavailable(message)
