"""The context budget: every request fits the model's window with the completion reserved.

Token counts are estimated from characters (``chars_per_token``, conservative by default and
tightened by what the server reports for earlier requests). :func:`cap_text` keeps error and
feedback text short (large reprs summarised); :meth:`ContextBudget.fit` trims a conversation
(older turns first, then the completion budget) until it fits.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

DEFAULT_CHARS_PER_TOKEN = 2.5  # code and JSON tokenise densely; the server's counts refine it
MESSAGE_OVERHEAD = 8  # role and template tokens per message
MIN_COMPLETION = 256
LONG_LITERAL = re.compile(r"(\{[^{}]{120,}\}|\[[^\[\]]{120,}\]|'[^'\n]{120,}'|\"[^\"\n]{120,}\")")


def cap_text(text: str, max_chars: int = 1500) -> str:
    """``text`` at most ``max_chars`` long: long dict/list/string literals become
    ``<dict of N chars>``, then the middle is cut (head and tail kept)."""
    text = str(text)
    if len(text) <= max_chars:
        return text

    def summary(m: re.Match) -> str:
        s = m.group(0)
        kind = {"{": "dict", "[": "list"}.get(s[0], "string")
        return f"{s[:40]}... <{kind} of {len(s)} chars>"

    text = LONG_LITERAL.sub(summary, text)
    if len(text) <= max_chars:
        return text
    head = int(max_chars * 0.6)
    tail = max_chars - head - 40
    return f"{text[:head]}\n[... {len(text) - head - tail} chars cut ...]\n{text[-tail:]}"


def message_chars(messages: list[dict], tools: list[dict] | None = None) -> int:
    """Characters a request sends (contents, tool calls and tool schemas)."""
    n = 0
    for m in messages:
        n += len(str(m.get("content") or ""))
        for c in m.get("tool_calls") or []:
            n += len(str(c.get("name", ""))) + len(json.dumps(c.get("arguments") or {}))
    return n + (len(json.dumps(tools)) if tools else 0)


@dataclass
class ContextBudget:
    """A model window (tokens) and the completion to reserve in it."""

    window: int | None
    completion: int
    chars_per_token: float = DEFAULT_CHARS_PER_TOKEN
    min_completion: int = MIN_COMPLETION

    def tokens(self, messages: list[dict], tools: list[dict] | None = None) -> int:
        return int(message_chars(messages, tools) / self.chars_per_token) + \
            MESSAGE_OVERHEAD * (len(messages) + 1)

    @property
    def prompt_limit(self) -> int | None:
        """Prompt tokens allowed with the full completion reserved (None: no window)."""
        return None if self.window is None else self.window - self.completion

    def fits(self, messages, tools=None, completion: int | None = None) -> bool:
        if self.window is None:
            return True
        return self.tokens(messages, tools) + (completion or self.completion) <= self.window

    def fit(self, messages: list[dict], tools: list[dict] | None = None
            ) -> tuple[list[dict], int]:
        """(messages, max_tokens) that fit: older middle turns dropped first (the system
        prompt, the first user turn and the latest exchange stay), then the completion
        lowered down to ``min_completion``. Raises ValueError when even that cannot fit."""
        if self.fits(messages, tools):
            return messages, self.completion
        msgs = list(messages)
        keep_head = 2 if len(msgs) > 2 and msgs[0]["role"] == "system" else 1
        while len(msgs) > keep_head + 2 and not self.fits(
                _with_note(msgs, len(messages) - len(msgs), keep_head), tools):
            drop = keep_head
            # never leave tool results without the assistant turn that called them
            end = drop + 1
            while end < len(msgs) - 2 and msgs[end]["role"] == "tool":
                end += 1
            del msgs[drop:end]
            if msgs[keep_head]["role"] == "tool":
                del msgs[keep_head]
        msgs = _with_note(msgs, len(messages) - len(msgs), keep_head)
        room = self.window - self.tokens(msgs, tools)
        if room >= self.min_completion:
            return msgs, min(room, self.completion)
        raise ValueError(f"the prompt needs about {self.tokens(msgs, tools)} tokens and the "
                         f"window is {self.window} (llm.context_window); shorten the prompt "
                         "templates or use a model with a larger window")


def _with_note(msgs: list[dict], dropped: int, keep_head: int) -> list[dict]:
    """Say in the first user turn that ``dropped`` messages were left out."""
    at = keep_head - 1
    if not dropped or msgs[at]["role"] != "user":
        return msgs
    merged = dict(msgs[at])
    merged["content"] = (f"{str(merged.get('content') or '').rstrip()}\n[{dropped} earlier "
                         "messages left out to fit the context window]")
    return msgs[:at] + [merged] + msgs[at + 1:]
