"""Structured (JSON) answers from a chat model: find, parse and validate them.

The multi-step strategies (``decompose``) and the paraphraser ask a model for JSON. Models
wrap it in fences, prose or tags, or break it; this module finds the first JSON value of the
expected type in an answer and checks it against a small schema, raising ``BadAnswer`` with
a short reason the caller can record or feed back.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)


class BadAnswer(ValueError):
    """The model's answer holds no usable JSON of the expected shape."""


def _decoded_values(text: str):
    """Every JSON value that starts at a '{' or '[' of ``text``, in order."""
    decoder = json.JSONDecoder()
    for i, ch in enumerate(text):
        if ch in "{[":
            try:
                value, _ = decoder.raw_decode(text, i)
            except ValueError:
                continue
            yield value


def find_json(text: str, kind: type = dict) -> Any:
    """The first JSON value of type ``kind`` in a model answer (fenced blocks first)."""
    if not isinstance(text, str) or not text.strip():
        raise BadAnswer("empty answer")
    for chunk in [*_FENCE.findall(text), text]:
        for value in _decoded_values(chunk):
            if isinstance(value, kind):
                return value
    raise BadAnswer(f"no JSON {kind.__name__} in the answer")


def str_list(value: Any, field: str, *, allow_empty: bool = True, max_items: int = 32
             ) -> list[str]:
    """``value`` as a list of non-empty strings (a lone string becomes a one-item list)."""
    if isinstance(value, str):
        value = [value]
    if value is None:
        value = []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadAnswer(f"{field!r} must be a list of strings, got {type(value).__name__}")
    out = [v.strip() for v in value if v.strip()][:max_items]
    if not out and not allow_empty:
        raise BadAnswer(f"{field!r} is empty")
    return out


def ask_json(ask: Callable[[list[dict]], str], messages: list[dict],
             parse: Callable[[str], Any], retries: int = 1) -> Any:
    """Ask, parse; on a bad answer re-ask once with the reason. Raises the last BadAnswer."""
    msgs = list(messages)
    for attempt in range(retries + 1):
        text = ask(msgs)
        try:
            return parse(text)
        except BadAnswer as exc:
            if attempt == retries:
                raise
            msgs += [{"role": "assistant", "content": text or ""},
                     {"role": "user", "content": f"That answer was not usable: {exc}. "
                      "Answer again with the JSON only."}]
    raise AssertionError("unreachable")
