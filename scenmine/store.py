"""A run's store of finished work units, written atomically as each completes.

Units are keyed by a content hash of everything that determines them, so a re-run with the
same inputs (same run directory, or ``resume=`` pointing at an interrupted one) reuses them
and recomputes only what is missing.
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any


def content_hash(*parts: Any) -> str:
    """A stable sha256 over JSON-serialisable parts (dicts sorted by key)."""
    text = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class Store:
    """Pickled units under ``root/<kind>/<key>.pkl``; reads fall back to ``resume_from``."""

    def __init__(self, root: str | Path, resume_from: str | Path | None = None):
        self.root = Path(root)
        self.resume_from = Path(resume_from) if resume_from else None
        self.hits: dict[str, int] = {}
        self.writes: dict[str, int] = {}

    def _path(self, root: Path, kind: str, key: str) -> Path:
        return root / kind / f"{key}.pkl"

    def get(self, kind: str, key: str) -> Any | None:
        for root in filter(None, (self.root, self.resume_from)):
            path = self._path(root, kind, key)
            if path.exists():
                try:
                    with open(path, "rb") as fh:
                        value = pickle.load(fh)
                except (EOFError, pickle.UnpicklingError, OSError):
                    continue  # a torn file cannot happen with atomic writes, but never trust it
                self.hits[kind] = self.hits.get(kind, 0) + 1
                return value
        return None

    def put(self, kind: str, key: str, value: Any) -> None:
        path = self._path(self.root, kind, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        self.writes[kind] = self.writes.get(kind, 0) + 1
