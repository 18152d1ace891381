"""The RefAV-compatible scenario DSL, vectorised over per-log arrays (see docs/scenario-dsl.md).

``NAMESPACE`` holds every public DSL name, ready to be a program's globals (together with
``log_dir``, ``output_dir`` and ``description``).
"""
from __future__ import annotations

from typing import Literal

import numpy as np

from scenmine.dsl.behaviour import BEHAVIOUR_FUNCTIONS
from scenmine.dsl.camera import is_color, within_camera_view
from scenmine.dsl.checks import DSLUsageError, checked
from scenmine.dsl.context import LogContext, get_context
from scenmine.dsl.map_context import MAP_CONTEXT_FUNCTIONS
from scenmine.dsl.map_functions import (
    at_pedestrian_crossing,
    at_stop_sign,
    in_drivable_area,
    near_intersection,
    on_intersection,
    on_lane_type,
    on_road,
)
from scenmine.dsl.output import capture, output_scenario, post_process
from scenmine.dsl.scenario import reverse_relationship, scenario_and, scenario_not, scenario_or
from scenmine.dsl.unary import (
    accelerating,
    changing_lanes,
    get_objects_of_category,
    has_lateral_acceleration,
    has_velocity,
    is_category,
    stationary,
    turning,
)

RELATIONAL_NAMES = ("has_objects_in_relative_direction", "get_objects_in_relative_direction",
                    "facing_toward", "heading_toward", "being_crossed_by", "near_objects",
                    "following", "heading_in_relative_direction_to", "in_same_lane",
                    "on_relative_side_of_road")

NAMESPACE: dict = {
    "get_objects_of_category": get_objects_of_category, "is_category": is_category,
    "is_color": is_color, "within_camera_view": within_camera_view, "turning": turning,
    "changing_lanes": changing_lanes, "has_lateral_acceleration": has_lateral_acceleration,
    "accelerating": accelerating, "has_velocity": has_velocity, "stationary": stationary,
    "at_pedestrian_crossing": at_pedestrian_crossing, "on_lane_type": on_lane_type,
    "near_intersection": near_intersection, "on_intersection": on_intersection,
    "at_stop_sign": at_stop_sign, "in_drivable_area": in_drivable_area, "on_road": on_road,
    "scenario_and": scenario_and, "scenario_or": scenario_or, "scenario_not": scenario_not,
    "reverse_relationship": reverse_relationship, "output_scenario": output_scenario,
    "np": np, "Literal": Literal,
}

# atoms beyond RefAV's (scenmine.dsl.map_context, scenmine.dsl.behaviour)
NAMESPACE.update({f.__name__: f for f in (*MAP_CONTEXT_FUNCTIONS, *BEHAVIOUR_FUNCTIONS)})

try:  # the relational functions live in their own module (may be absent while in progress)
    from scenmine.dsl import relational as _relational
except ModuleNotFoundError as exc:  # pragma: no cover - depends on the working tree
    if exc.name != "scenmine.dsl.relational":
        raise
    _relational = None
if _relational is not None:
    NAMESPACE.update({name: getattr(_relational, name) for name in RELATIONAL_NAMES
                      if hasattr(_relational, name)})

NAMESPACE = {name: checked(value) for name, value in NAMESPACE.items()}  # argument checks
# The atoms beyond RefAV's (generate.atoms=refav leaves them out of what generators may use).
EXTENDED_ATOMS = frozenset(f.__name__ for f in (*MAP_CONTEXT_FUNCTIONS, *BEHAVIOUR_FUNCTIONS))


def namespace_for(atoms: str = "extended") -> dict:
    """The names generators may use: every atom (``extended``) or RefAV's own (``refav``)."""
    if atoms not in ("extended", "refav"):
        raise ValueError(f"generate.atoms must be extended or refav, got {atoms!r}")
    if atoms == "extended":
        return NAMESPACE
    return {k: v for k, v in NAMESPACE.items() if k not in EXTENDED_ATOMS}
MISSING = tuple(name for name in RELATIONAL_NAMES if name not in NAMESPACE)

# the category names programs may pass: the 30 AV2 annotation categories, the ego, and the
# super-categories ANY and VEHICLE
CATEGORIES = ("ANIMAL", "ARTICULATED_BUS", "BICYCLE", "BICYCLIST", "BOLLARD", "BOX_TRUCK", "BUS",
              "CONSTRUCTION_BARREL", "CONSTRUCTION_CONE", "DOG", "LARGE_VEHICLE",
              "MESSAGE_BOARD_TRAILER", "MOBILE_PEDESTRIAN_CROSSING_SIGN", "MOTORCYCLE",
              "MOTORCYCLIST", "OFFICIAL_SIGNALER", "PEDESTRIAN", "RAILED_VEHICLE",
              "REGULAR_VEHICLE", "SCHOOL_BUS", "SIGN", "STOP_SIGN", "STROLLER",
              "TRAFFIC_LIGHT_TRAILER", "TRUCK", "TRUCK_CAB", "VEHICULAR_TRAILER", "WHEELCHAIR",
              "WHEELED_DEVICE", "WHEELED_RIDER", "EGO_VEHICLE", "ANY", "VEHICLE")

__all__ = ["NAMESPACE", "MISSING", "DSLUsageError", "CATEGORIES", "LogContext", "get_context", "capture", "output_scenario",
           "post_process"] + [n for n in NAMESPACE if n not in ("np", "Literal")]
globals().update({n: NAMESPACE[n] for n in NAMESPACE if n not in globals()})
