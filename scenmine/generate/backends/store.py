"""Keys and folders of the answer cache and of recordings (replay): JSON units of the one
store (:mod:`scenmine.store`), ``<folder>/<key[:2]>/<key>.json``."""
from __future__ import annotations

import os

from scenmine.hashing import content_hash
from scenmine.store import Store

ANSWERS = ""  # answers lie directly under their folder (no kind sub-folder)


def answer_store(root: str | os.PathLike) -> Store:
    """The answer cache or recordings folder ``root`` as a store of JSON records."""
    return Store(root, codec="json", fanout=True)


def answer_key(model, messages, tools, params) -> str:
    """sha256 of model + messages + tools + sampling parameters."""
    return content_hash({"model": model, "messages": messages, "tools": tools or None,
                         "params": params or {}}, length=64)


def conversation_key(messages, tools) -> str:
    """sha256 of messages + tools only (replay without knowing the recorded model)."""
    return content_hash({"messages": messages, "tools": tools or None}, length=64)
