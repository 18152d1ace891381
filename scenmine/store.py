"""The one keyed on-disk store: units written atomically, each with a sha256 checksum.

Every piece of finished work that is kept on disk goes through :class:`Store`: a run's units
(generated programs, executed pairs, reviews, screening attempts; pickled, under the run
folder's ``store/``), the LLM answer cache and recordings (JSON, readable, replayable) and the
verifier's score cache (JSON, shared across runs). Keys come from
:func:`scenmine.hashing.content_hash` over everything that determines a unit, so a re-run with
the same inputs reuses it and recomputes only what is missing.

A unit whose bytes do not match its checksum (a torn write, a flipped bit, an edited file) or
that cannot be decoded is reported once with a warning and treated as missing, so it is
recomputed: never a crash, never a silently wrong value. A checksum only proves the bytes are
the ones written, not who wrote them: pickled units are read with scenmine's restricted
unpickler, so a unit that asks for anything but containers, numpy values and scenmine's own
dataclasses is refused the same way (a resumed run folder may come from elsewhere).
"""
from __future__ import annotations

import json
import logging
import os
import pickle
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from scenmine.data import safe_pickle
from scenmine.hashing import bytes_hash, content_hash

log = logging.getLogger("scenmine")

_MAGIC = b"scenmine-unit sha256="  # pickle units: this, the hex checksum, "\n", the payload
Codec = Literal["pickle", "json"]


class CorruptUnit(ValueError):
    """A stored unit that fails its checksum or cannot be decoded."""


class Store:
    """Units under ``root/<kind>/[<key[:2]>/]<key>.<pkl|json>``.

    ``resume_from``: further roots read (not written) when ``root`` lacks a unit, e.g. the
    store of an interrupted run. ``codec``: ``pickle`` (any Python value) or ``json``
    (readable records; a legacy record without checksum is read as it is). ``fanout``: one
    sub-folder per first two key characters (for stores with many units). ``root=None``: a
    disabled store (nothing read, nothing written). ``kind=""`` keeps units directly under
    the root. ``hits``, ``misses``, ``writes`` and ``corrupt`` count per kind.
    """

    def __init__(self, root: str | os.PathLike | None, resume_from: str | os.PathLike | None = None,
                 *, codec: Codec = "pickle", fanout: bool = False):
        if codec not in ("pickle", "json"):
            raise ValueError(f"store codec {codec!r}: one of pickle, json")
        self.root = Path(root).expanduser() if root else None
        self.resume_from = Path(resume_from).expanduser() if resume_from else None
        self.codec, self.fanout = codec, fanout
        self.suffix = ".pkl" if codec == "pickle" else ".json"
        self.hits: dict[str, int] = {}
        self.misses: dict[str, int] = {}
        self.writes: dict[str, int] = {}
        self.corrupt: dict[str, int] = {}

    @property
    def enabled(self) -> bool:
        return self.root is not None

    def path(self, kind: str, key: str, root: Path | None = None) -> Path:
        folder = (root or self.root) / kind
        return (folder / key[:2] if self.fanout else folder) / f"{key}{self.suffix}"

    # -- reading -----------------------------------------------------------------------
    def get(self, kind: str, key: str) -> Any | None:
        """The unit, or None when it is missing or corrupt (then it is recomputed)."""
        for root in filter(None, (self.root, self.resume_from)):
            path = self.path(kind, key, root)
            try:
                data = path.read_bytes()
            except OSError:
                continue
            try:
                value = self._decode(data)
            except CorruptUnit as exc:
                self._count(self.corrupt, kind)
                log.warning("store: %s is corrupt (%s); it is recomputed", path, exc)
                continue
            self._count(self.hits, kind)
            return value
        self._count(self.misses, kind)
        return None

    def records(self, kind: str = "") -> Iterator[Any]:
        """Every readable unit of ``kind`` under ``root`` (corrupt ones warned about, skipped)."""
        if self.root is None:
            return
        pattern = f"*/*{self.suffix}" if self.fanout else f"*{self.suffix}"
        for path in sorted((self.root / kind).glob(pattern)):
            try:
                yield self._decode(path.read_bytes())
            except (OSError, CorruptUnit) as exc:
                self._count(self.corrupt, kind)
                log.warning("store: %s is corrupt (%s); skipped", path, exc)

    def _decode(self, data: bytes) -> Any:
        if self.codec == "json":
            return self._decode_json(data)
        head, sep, payload = data.partition(b"\n")
        if not sep or not head.startswith(_MAGIC):
            raise CorruptUnit("no checksum header")
        if head[len(_MAGIC):].decode("ascii", "replace") != bytes_hash(payload):
            raise CorruptUnit("checksum mismatch")
        try:
            # a store copied from elsewhere is not trusted: only containers, numpy values and
            # scenmine's own dataclasses are built, never a function (data/safe_pickle.py)
            return safe_pickle.loads(payload, "unit", dataclasses_of="scenmine")
        except safe_pickle.UnsafePickle as exc:  # checksum ok but refused or not loadable
            raise CorruptUnit(str(exc).removeprefix("unit: ")) from None

    @staticmethod
    def _decode_json(data: bytes) -> Any:
        try:
            record = json.loads(data)
        except ValueError as exc:
            raise CorruptUnit(f"not JSON: {exc}") from None
        if isinstance(record, dict) and set(record) == {"sha256", "value"}:
            if record["sha256"] != content_hash(record["value"], length=64):
                raise CorruptUnit("checksum mismatch")
            return record["value"]
        return record  # a record written before checksums (e.g. older recordings)

    # -- writing -----------------------------------------------------------------------
    def put(self, kind: str, key: str, value: Any) -> None:
        """Write one unit atomically (a temporary file renamed into place)."""
        if self.root is None:
            return
        path = self.path(kind, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(self._encode(value))
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._count(self.writes, kind)

    def _encode(self, value: Any) -> bytes:
        if self.codec == "json":
            plain = json.loads(json.dumps(value, default=str))  # what a reader will get back
            record = {"sha256": content_hash(plain, length=64), "value": plain}
            return json.dumps(record, ensure_ascii=False, indent=1).encode()
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        return _MAGIC + bytes_hash(payload).encode() + b"\n" + payload

    @staticmethod
    def _count(counter: dict[str, int], kind: str) -> None:
        counter[kind] = counter.get(kind, 0) + 1
