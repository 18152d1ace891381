"""Schema of the ``verifier`` group (conf/verifier/*.yaml), by ``name``."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .core import Group, key

OnError = Literal["keep", "drop"]


@dataclass
class ByKind:
    relational: float | None = key("threshold for relational prompts (null: the general one)", ge=0, le=1)
    unary: float | None = key("threshold for single-object prompts (null: the general one)", ge=0, le=1)


@dataclass
class Geometric:
    threshold: float = key("evidence score a pair needs", ge=0, le=1)
    by_kind: ByKind = key("per prompt kind thresholds")
    by_category: dict[str, float] = key("per referred category thresholds")
    min_persistence_s: float = key("seconds a referred track must persist", ge=0)
    max_ego_dist_m: float = key("m from the ego", gt=0)
    max_road_dist_m: float = key("m from the drivable area", ge=0)
    max_related_dist_m: float = key("m between related objects", gt=0)


@dataclass
class Render:
    frames: int = key("frames per pair", ge=1)
    layout: Literal["panel", "single"] = key("one panel image or one image per frame")
    image_size: list[int] = key("[width, height] in pixels")
    source: Literal["auto", "bev", "camera"] = key("auto: camera when the log has images")
    bev_range_m: float = key("bird's-eye view half-width (m)", gt=0)
    bev_fit: bool = key("fit the view to the objects")
    context_s: float = key("seconds of context before and after", ge=0)
    cameras: list[str] = key("cameras to crop from")


@dataclass
class NoVerifier:
    name: Literal["none"] = key()
    _target_: str = key("the class this option runs")


@dataclass
class GeometricVerifier:
    """verifier=geometric: track evidence, no model."""

    name: Literal["geometric"] = key()
    _target_: str = key("the class this option runs")
    on_error: OnError = key("keep or drop a pair whose score failed")
    cache_dir: str = key("score cache folder")
    geometric: Geometric = key("thresholds of the geometric evidence")


@dataclass
class VLMVerifier:
    """verifier=vlm: the vlm backend on rendered evidence."""

    name: Literal["vlm"] = key()
    _target_: str = key("the class this option runs")
    threshold: float = key("P(yes) a pair needs", ge=0, le=1)
    by_kind: ByKind = key("per prompt kind thresholds")
    by_category: dict[str, float] = key("per referred category thresholds")
    on_error: OnError = key("keep or drop a pair whose score failed")
    prompt: str = key("conf/prompts/vlm/<name>.yaml")
    batch_size: int = key("pairs rendered and sent per backend call", ge=1)
    cache_dir: str = key("score cache folder")
    render: Render = key("evidence rendering")


@dataclass
class BothVerifier(VLMVerifier):
    """verifier=both: VLM and geometric."""

    name: Literal["both"] = key()
    geometric: Geometric = key("thresholds of the geometric evidence")
    combine: Literal["and", "or"] = key("keep when both pass (and) or either (or)")


SCHEMA = Group("name", {"none": NoVerifier, "geometric": GeometricVerifier, "vlm": VLMVerifier,
                        "both": BothVerifier})
