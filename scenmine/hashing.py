"""The one content-hash helper: stable sha256 keys of JSON-able values and of files.

Every cache and store key, fingerprint tag and recording key in scenmine comes from here, so
two places that hash the same value always agree.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any


def canonical_json(value: Any) -> str:
    """``value`` as compact JSON with sorted keys (non-JSON values by ``str``)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)


def content_hash(*parts: Any, length: int = 32) -> str:
    """Hex sha256 (first ``length`` digits) of ``parts``' canonical JSON.

    One part hashes as itself, several as their list; dict key order never matters.
    """
    value = parts[0] if len(parts) == 1 else list(parts)
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()[:length]


def bytes_hash(data: bytes) -> str:
    """Hex sha256 of raw bytes (store checksums)."""
    return hashlib.sha256(data).hexdigest()


def file_hash(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()
