"""Plain records shared by the verifier stage: the pair to verify and hashing helpers."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from scenmine.hashing import content_hash

# Relational DSL functions (shared/docs/scenario-dsl.md): a program calling any is "relational".
RELATIONAL_FUNCTIONS = (
    "has_objects_in_relative_direction", "get_objects_in_relative_direction", "facing_toward",
    "heading_toward", "being_crossed_by", "near_objects", "following",
    "heading_in_relative_direction_to", "in_same_lane", "on_relative_side_of_road",
)
_RELATIONAL_RE = re.compile(r"\b(" + "|".join(RELATIONAL_FUNCTIONS) + r")\s*\(")


@dataclass
class PairPrediction:
    """One (log, prompt) prediction to verify: the program and its post-processed result."""

    log_id: str
    log_dir: Path | str
    prompt: str
    program: str | None
    referred: dict[str, np.ndarray] = field(default_factory=dict)
    related: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def positive(self) -> bool:
        """True when some referred object has at least one timestamp."""
        return any(len(ts) for ts in self.referred.values())

    @property
    def relational(self) -> bool:
        """True for a program that uses a relational function (or has related objects)."""
        if self.program:
            return bool(_RELATIONAL_RE.search(self.program))
        return any(len(ts) for ts in self.related.values())


def program_hash(program: str | None) -> str:
    """Hash of a program's text (whitespace at the ends ignored)."""
    return content_hash((program or "").strip(), length=16)


def evidence_hash(referred: dict, related: dict) -> str:
    """Hash of the referred/related timestamps a pair's evidence is rendered from."""
    def norm(d: dict) -> dict:
        return {str(k): [int(t) for t in np.sort(np.asarray(v, dtype=np.int64))] for k, v in d.items()}
    return content_hash(norm(referred), norm(related), length=16)


class Verifier:
    """What a verifier checks; the ``verifier`` group's ``_target_`` names one of these, built
    with the group's settings (thresholds, rendering, cache...) by :func:`build_verifier`."""

    uses_vlm = False        # P(yes) of a VLM shown rendered evidence
    uses_geometric = False  # the track-evidence score

    def __init__(self, **settings: Any):
        self.settings = settings

    @property
    def enabled(self) -> bool:
        return self.uses_vlm or self.uses_geometric


class NoVerifier(Verifier):
    """``verifier=none``: every prediction is kept."""


class GeometricVerifier(Verifier):
    """``verifier=geometric``: offline, from track evidence."""

    uses_geometric = True


class VLMVerifier(Verifier):
    """``verifier=vlm``: a vision-language model judges rendered evidence."""

    uses_vlm = True


class CombinedVerifier(Verifier):
    """``verifier=both``: the VLM and the geometric checks, joined by ``combine`` (and | or)."""

    uses_vlm = uses_geometric = True


def build_verifier(vcfg: Any) -> Verifier:
    """The verifier a ``verifier`` group node names (a node without ``_target_``: by name)."""
    from scenmine.config import instantiate_group
    return instantiate_group("verifier", vcfg)
