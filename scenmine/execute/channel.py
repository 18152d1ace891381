"""The data-only channel between a sandbox worker and the runner, and the reply's schema.

A message is ``8-byte header length | JSON header | array bytes``: the JSON holds plain
values (dicts, lists, strings, numbers, booleans, null) and, in place of each numpy array,
``{"$array": [dtype, shape, offset]}`` pointing into the bytes that follow. Only fixed,
object-free dtypes travel (``ARRAY_DTYPES``); nothing is ever unpickled. The runner treats a
reply as hostile: ``decode`` refuses anything malformed, over ``max_bytes`` or with another
dtype, and ``check_reply`` checks every field's type, size and value (uuids are bounded
strings, timestamps are the log's own, labels and names are the official ones) before it
becomes an ExecResult. A reply that fails any of this fails its pair, never the run.
"""
from __future__ import annotations

import json
import math
import re
import struct

import numpy as np

MAX_ERROR_CHARS = 2000
MAX_OUTPUT_CHARS = 4096  # program output kept (the rest is counted, not kept)
MAX_UUID_CHARS = 128
MAX_DEPTH = 32
HEADER = struct.Struct("<Q")
ARRAY_DTYPES = frozenset({"<f8", "<f4", "<i8", "<i4", "|b1", "<U31"})
_DTYPES = {name: np.dtype(name) for name in ARRAY_DTYPES}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e"
                      r"\u2066-\u2069]")


class MalformedReply(ValueError):
    """A worker's reply that is not what the schema allows; the message says what."""


def clean_text(text, limit: int = MAX_ERROR_CHARS) -> str:
    """``text`` safe for a terminal, log, CSV cell or MLflow tag: control characters
    (ESC, CR, bidi overrides...) replaced, newlines and tabs made spaces, at most ``limit``
    characters (a note says how many were cut)."""
    text = str(text)
    cut = len(text) - limit
    if cut > 0:
        text = text[:limit]
    text = _CONTROL.sub("?", text.replace("\n", " ").replace("\r", " ").replace("\t", " "))
    return f"{text}... [{cut} more characters]" if cut > 0 else text


# ----------------------------------------------------------------------------- encoding
def encode(value) -> bytes:
    """One message for ``value`` (JSON-able values and numpy arrays of ARRAY_DTYPES)."""
    buffers: list[bytes] = []
    offset = 0

    def plain(v):
        nonlocal offset
        if isinstance(v, np.ndarray):
            arr = np.ascontiguousarray(v)
            if arr.dtype.str not in ARRAY_DTYPES:
                raise TypeError(f"arrays of dtype {arr.dtype.str} cannot be sent")
            data = arr.tobytes()
            ref = {"$array": [arr.dtype.str, list(arr.shape), offset]}
            buffers.append(data)
            offset += len(data)
            return ref
        if isinstance(v, dict):
            return {str(k): plain(x) for k, x in v.items()}
        if isinstance(v, (list, tuple, set, frozenset)):
            return [plain(x) for x in (sorted(v) if isinstance(v, (set, frozenset)) else v)]
        if isinstance(v, (np.integer, np.bool_)):
            return v.item()
        if isinstance(v, np.floating):
            return float(v)
        return v

    header = json.dumps(plain(value), separators=(",", ":")).encode()
    return HEADER.pack(len(header)) + header + b"".join(buffers)


def decode(message: bytes, max_bytes: int):
    """The value of one message; MalformedReply if it is malformed or over ``max_bytes``."""
    if isinstance(message, bytearray):
        message = bytes(message)  # arrays below are read-only views of immutable bytes
    if not isinstance(message, bytes) or len(message) < HEADER.size:
        raise MalformedReply("reply: not a message")
    if len(message) > max_bytes:
        raise MalformedReply(f"reply: larger than {max_bytes} bytes")
    (size,) = HEADER.unpack_from(message)
    if size > len(message) - HEADER.size:
        raise MalformedReply("reply: truncated header")
    try:
        header = json.loads(bytes(message[HEADER.size:HEADER.size + size]))
    except (ValueError, RecursionError) as exc:  # includes ints over 4300 digits
        raise MalformedReply(f"reply: invalid JSON: {clean_text(exc, 200)}") from None
    body = memoryview(message)[HEADER.size + size:]

    def value(v, depth=0):
        if depth > MAX_DEPTH + 8:
            raise MalformedReply("reply: nested too deeply")
        if isinstance(v, dict):
            if set(v) == {"$array"}:
                return _array(v["$array"], body)
            return {k: value(x, depth + 1) for k, x in v.items()}
        if isinstance(v, list):
            if all(type(x) is int for x in v):  # timestamps: the common case, kept as is
                return v
            return [value(x, depth + 1) for x in v]
        return v

    return value(header)


def _array(spec, body: memoryview) -> np.ndarray:
    try:
        dtype_str, shape, offset = spec
        shape = tuple(int(n) for n in shape)
    except (TypeError, ValueError):
        raise MalformedReply("reply: bad array reference") from None
    dtype = _DTYPES.get(dtype_str) if isinstance(dtype_str, str) else None
    if dtype is None or len(shape) > 4 or any(n < 0 for n in shape) \
            or not isinstance(offset, int) or offset < 0:
        raise MalformedReply(f"reply: array of {clean_text(dtype_str, 20)!s} not allowed")
    count = math.prod(shape)
    if offset + count * dtype.itemsize > len(body):
        raise MalformedReply("reply: array outside the message")
    # read-only: a view of the (immutable) message bytes
    return np.frombuffer(body, dtype=dtype, count=count, offset=offset).reshape(shape)


# ----------------------------------------------------------------------------- the reply
FRAME_ARRAYS = {  # name -> (dtype, ndim, trailing shape)
    "translation_m": ("<f8", 2, (3,)), "size": ("<f4", 2, (3,)), "yaw": ("<f4", 1, ()),
    "velocity_m_per_s": ("<f8", 2, None), "label": ("<i4", 1, ()), "name": ("<U31", 1, ()),
    "track_id": ("<i4", 1, ()), "score": ("<f4", 1, ()),
}
FRAME_KEYS = frozenset(FRAME_ARRAYS) | {"seq_id", "timestamp_ns", "ego_translation_m",
                                        "description"}
REPLY_KEYS = frozenset({"ok", "error", "seconds", "output", "scenario", "referred", "related",
                        "frames"})


def _fail(what: str):
    raise MalformedReply(f"reply: {what}")


def _timestamps(value, known: frozenset[int], where: str) -> list[int]:
    if not isinstance(value, list):
        _fail(f"{where}: not a list of timestamps")
    for t in value:
        if type(t) is not int or t not in known:
            _fail(f"{where}: {clean_text(repr(t), 40)} is not a timestamp of the log")
    return value


def _uuid(key, where: str) -> str:
    if not isinstance(key, str) or not 0 < len(key) <= MAX_UUID_CHARS:
        _fail(f"{where}: a track uuid must be a string of 1-{MAX_UUID_CHARS} characters")
    return key


def _scenario(value, known: frozenset[int], depth: int = 0) -> dict:
    if depth > MAX_DEPTH:
        _fail("scenario nested too deeply")
    if not isinstance(value, dict):
        _fail("scenario: not a dict")
    return {_uuid(k, "scenario"): (_scenario(v, known, depth + 1) if isinstance(v, dict)
                                   else _timestamps(v, known, "scenario"))
            for k, v in value.items()}


def _track_timestamps(value, known: frozenset[int], name: str) -> dict:
    if not isinstance(value, dict):
        _fail(f"{name}: not a dict")
    return {_uuid(k, name): _timestamps(v, known, name) for k, v in value.items()}


def _frame(frame, known: frozenset[int], seq_id: tuple[str, str], labels: tuple[str, ...]):
    if not isinstance(frame, dict) or set(frame) != FRAME_KEYS:
        _fail("a frame lacks or has extra fields")
    if tuple(frame["seq_id"]) != seq_id or frame["description"] != seq_id[1]:
        _fail("a frame of another (log, prompt)")
    if type(frame["timestamp_ns"]) is not int or frame["timestamp_ns"] not in known:
        _fail("a frame timestamp is not one of the log's")
    ego = frame["ego_translation_m"]
    if not (isinstance(ego, list) and len(ego) == 3
            and all(type(x) in (int, float) for x in ego)):
        _fail("frame ego_translation_m: not 3 numbers")
    rows = None
    for name, (dtype, ndim, tail) in FRAME_ARRAYS.items():
        arr = frame[name]
        if not isinstance(arr, np.ndarray) or arr.dtype.str != dtype or arr.ndim != ndim \
                or (tail is not None and arr.shape[1:] != tail):
            _fail(f"frame {name}: not a {dtype} array of {ndim} dimensions")
        rows = arr.shape[0] if rows is None else rows
        if arr.shape[0] != rows:
            _fail(f"frame {name}: {arr.shape[0]} rows, other arrays {rows}")
    if len(frame["label"]) and (frame["label"].min() < 0 or frame["label"].max() >= len(labels)):
        _fail("frame label: not an official label")
    if not set(frame["name"].tolist()) <= set(labels):
        _fail("frame name: not an official label name")
    return {**frame, "seq_id": seq_id, "timestamp_ns": np.int64(frame["timestamp_ns"]),
            "ego_translation_m": [float(x) for x in ego]}


def check_reply(reply, log_id: str, description: str, known: frozenset[int]) -> dict:
    """The fields of an ExecResult from a decoded reply, each checked (MalformedReply if not)."""
    from scenmine.data.submission import LABEL_NAMES

    if not isinstance(reply, dict) or not set(reply) <= REPLY_KEYS or "ok" not in reply:
        _fail("not a result")
    ok, error, seconds = reply["ok"], reply.get("error"), reply.get("seconds", 0.0)
    if type(ok) is not bool or not (error is None or isinstance(error, str)) \
            or type(seconds) not in (int, float) or not 0 <= seconds < 1e7:
        _fail("bad ok / error / seconds")
    if ok == (error is not None):
        _fail("ok and error disagree")
    output = reply.get("output") or ""
    if not isinstance(output, str):
        _fail("output: not a string")
    if error is not None:
        error = clean_text(error)
        if output:
            error = clean_text(f"{error} | program output: {output}")
    scenario = reply.get("scenario")
    frames = reply.get("frames")
    if frames is not None and not isinstance(frames, list) or frames and len(frames) > len(known):
        _fail("frames: not a list of at most one frame per timestamp")
    seq_id = (log_id, description)
    return {
        "ok": ok, "error": error, "seconds": float(seconds),
        "scenario": None if scenario is None else _scenario(scenario, known),
        "referred": _track_timestamps(reply.get("referred") or {}, known, "referred"),
        "related": _track_timestamps(reply.get("related") or {}, known, "related"),
        "frames": None if frames is None else [_frame(f, known, seq_id, LABEL_NAMES)
                                               for f in frames],
    }
