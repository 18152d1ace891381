"""The VLM backend interface and the yes/no arithmetic every backend shares."""
from __future__ import annotations

import base64
import io
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from PIL import Image

YES_WORDS = ("yes", "true")
NO_WORDS = ("no", "false")


@dataclass
class VLMRequest:
    """One question about a pair: images first, then the text."""

    text: str
    images: list[Image.Image] = field(default_factory=list)
    system: str | None = None


class VLMAnswer(NamedTuple):
    """P(yes) in [0, 1] (NaN when unknown) and the model's raw answer."""

    p_yes: float
    raw: str


class VLMBackend(Protocol):
    """A vision-language model that answers yes/no questions about images."""

    name: str

    def answer(self, requests: list[VLMRequest]) -> list[VLMAnswer]: ...

    def cache_key(self) -> dict: ...


def _norm(token: str) -> str:
    return re.sub(r"[^a-z]", "", token.lower())


def p_yes_from_logprobs(candidates: Iterable[tuple[str, float]]) -> float | None:
    """P(yes) from (token, logprob) alternatives of one position; None if neither word is there.

    Probabilities of every spelling (" Yes", "yes", "YES" ...) are summed, then renormalised
    over yes + no.
    """
    yes = no = 0.0
    seen = False
    for token, lp in candidates:
        word = _norm(token)
        if lp is None or not math.isfinite(lp):
            continue
        if word in YES_WORDS:
            yes, seen = yes + math.exp(lp), True
        elif word in NO_WORDS:
            no, seen = no + math.exp(lp), True
    if not seen or yes + no <= 0:
        return None
    return yes / (yes + no)


def p_yes_from_positions(positions: Iterable[list[tuple[str, float]]]) -> float | None:
    """P(yes) at the first generated position whose alternatives include yes or no."""
    for cands in positions:
        p = p_yes_from_logprobs(cands)
        if p is not None:
            return p
    return None


def parse_answer(text: str) -> float:
    """1.0 / 0.0 for an answer that starts with yes / no (after any reasoning), else NaN."""
    text = re.sub(r"<think>.*?</think>", "", text or "", flags=re.DOTALL)
    m = (re.search(r"answer\W{0,4}(yes|no|true|false)\b", text, flags=re.IGNORECASE)
         or re.match(r"\W*(yes|no|true|false)\b", text, flags=re.IGNORECASE)
         or re.search(r"\b(yes|no|true|false)\b", text, flags=re.IGNORECASE))
    if not m:
        return float("nan")
    return 1.0 if m.group(1).lower() in YES_WORDS else 0.0


def image_to_data_url(img: Image.Image, fmt: str = "JPEG", quality: int = 90) -> str:
    """Base64 data URL of a PIL image."""
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format=fmt, quality=quality)
    mime = "jpeg" if fmt.upper() in ("JPEG", "JPG") else fmt.lower()
    return f"data:image/{mime};base64,{base64.b64encode(buf.getvalue()).decode()}"


def semantic_config(cfg: dict, drop: Iterable[str] = ()) -> dict:
    """A backend config minus fields that cannot change answers (keys, timeouts, workers)."""
    skip = {"api_key", "api_key_env", "timeout_s", "max_retries", "concurrency", "batch_size",
            "_target_", "device", "gpu_memory_utilization", *drop}
    return {k: v for k, v in cfg.items() if k not in skip}
