"""Answers on disk, one JSON file per content hash (the cache, recordings, replay)."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path


def canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)


def answer_key(model, messages, tools, params) -> str:
    """sha256 of model + messages + tools + sampling parameters."""
    payload = {"model": model, "messages": messages, "tools": tools or None,
               "params": params or {}}
    return hashlib.sha256(canonical(payload).encode()).hexdigest()


def conversation_key(messages, tools) -> str:
    """sha256 of messages + tools only (replay without knowing the recorded model)."""
    return hashlib.sha256(canonical({"messages": messages, "tools": tools or None})
                          .encode()).hexdigest()


class AnswerStore:
    """A folder of ``<key[:2]>/<key>.json`` records; writes are atomic."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).expanduser()

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        try:
            return json.loads(self.path(key).read_text())
        except FileNotFoundError:
            return None

    def put(self, key: str, record: dict) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            fh.write(json.dumps(record, ensure_ascii=False, indent=1, default=str))
        os.replace(tmp, path)

    def records(self):
        """Every stored record (for replay's index)."""
        if not self.root.is_dir():
            return
        for path in sorted(self.root.glob("*/*.json")):
            yield json.loads(path.read_text())
