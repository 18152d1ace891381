"""On-disk score cache: one small JSON file per key, written atomically."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


class ScoreCache:
    """``root/<kind>/<key[:2]>/<key>.json``; ``root=None`` disables the cache."""

    def __init__(self, root: str | Path | None):
        self.root = Path(root) if root else None
        self.hits = self.misses = 0

    def _path(self, kind: str, key: str) -> Path:
        return self.root / kind / key[:2] / f"{key}.json"

    def get(self, kind: str, key: str) -> dict | None:
        if self.root is None:
            self.misses += 1
            return None
        try:
            value = json.loads(self._path(kind, key).read_text())
        except (OSError, ValueError):
            self.misses += 1
            return None
        self.hits += 1
        return value

    def put(self, kind: str, key: str, value: dict) -> None:
        if self.root is None:
            return
        path = self._path(kind, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            json.dump(value, f)
        os.replace(tmp, path)
