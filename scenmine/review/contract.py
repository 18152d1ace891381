"""The DSL contract as the static reviewer sees it: signatures, categories, value
synonyms, physical ranges, and prompt parsing helpers."""
from __future__ import annotations

import ast
import builtins
import difflib
import inspect
import math
import re
from dataclasses import dataclass

# ----------------------------------------------------------------------------- the contract
# Parameter names and defaults of shared/docs/scenario-dsl.md (the compatibility contract);
# scenmine.dsl.NAMESPACE, when importable, adds whatever else its functions take.
REQ = inspect.Parameter.empty
_TC, _RC, _LD = ("track_candidates", REQ), ("related_candidates", REQ), ("log_dir", REQ)
_DIRECTION = ("direction", REQ)
_REL_DIR = [_TC, _RC, _LD, _DIRECTION, ("min_number", 1), ("max_number", math.inf),
            ("within_distance", 50), ("lateral_thresh", math.inf)]
CONTRACT: dict[str, list[tuple[str, object]]] = {
    "get_objects_of_category": [_LD, ("category", REQ)],
    "is_category": [_TC, _LD, ("category", REQ)],
    "is_color": [_TC, _LD, ("color", REQ)],
    "within_camera_view": [_TC, _LD, ("camera", None)],
    "turning": [_TC, _LD, ("direction", None)],
    "changing_lanes": [_TC, _LD, ("direction", None)],
    "has_lateral_acceleration": [_TC, _LD, ("min_accel", -math.inf), ("max_accel", math.inf)],
    "accelerating": [_TC, _LD, ("min_accel", 0.65), ("max_accel", math.inf)],
    "has_velocity": [_TC, _LD, ("min_velocity", 0.5), ("max_velocity", math.inf)],
    "stationary": [_TC, _LD],
    "at_pedestrian_crossing": [_TC, _LD, ("within_distance", 1)],
    "on_lane_type": [_TC, _LD, ("lane_type", REQ)],
    "near_intersection": [_TC, _LD, ("threshold", 5)],
    "on_intersection": [_TC, _LD],
    "at_stop_sign": [_TC, _LD, ("forward_thresh", 10)],
    "in_drivable_area": [_TC, _LD],
    "on_road": [_TC, _LD],
    "has_objects_in_relative_direction": _REL_DIR,
    "get_objects_in_relative_direction": [*_REL_DIR[:4], ("min_number", 0), *_REL_DIR[5:]],
    "facing_toward": [_TC, _RC, _LD, ("within_angle", 22.5), ("max_distance", 50)],
    "heading_toward": [_TC, _RC, _LD, ("angle_threshold", 22.5), ("minimum_speed", 0.5),
                       ("max_distance", math.inf)],
    "being_crossed_by": [_TC, _RC, _LD, ("direction", "forward"), ("in_direction", "either"),
                         ("forward_thresh", 10), ("lateral_thresh", 5)],
    "near_objects": [_TC, _RC, _LD, ("distance_thresh", 10), ("min_objects", 1),
                     ("include_self", False)],
    "following": [_TC, _RC, _LD],
    "heading_in_relative_direction_to": [_TC, _RC, _LD, _DIRECTION],
    "in_same_lane": [_TC, _RC, _LD],
    "on_relative_side_of_road": [_TC, _RC, _LD, ("side", REQ)],
    "scenario_and": [("scenario_dicts", REQ)],
    "scenario_or": [("scenario_dicts", REQ)],
    "scenario_not": [("func", REQ)],
    "reverse_relationship": [("func", REQ)],
    "output_scenario": [("scenario", REQ), ("description", REQ), _LD, ("output_dir", REQ),
                        ("visualize", False)],
}
VAR_KEYWORDS = {"output_scenario"}
# functions whose result refers the related candidates (their second argument)
RETURNS_RELATED = frozenset({"get_objects_in_relative_direction", "nth_object_in_direction"})
WRAPPERS = ("scenario_not", "reverse_relationship")

AV2_CATEGORIES = (
    "ANIMAL", "ARTICULATED_BUS", "BICYCLE", "BICYCLIST", "BOLLARD", "BOX_TRUCK", "BUS",
    "CONSTRUCTION_BARREL", "CONSTRUCTION_CONE", "DOG", "LARGE_VEHICLE",
    "MESSAGE_BOARD_TRAILER", "MOBILE_PEDESTRIAN_CROSSING_SIGN", "MOTORCYCLE", "MOTORCYCLIST",
    "OFFICIAL_SIGNALER", "PEDESTRIAN", "RAILED_VEHICLE", "REGULAR_VEHICLE", "SCHOOL_BUS",
    "SIGN", "STOP_SIGN", "STROLLER", "TRAFFIC_LIGHT_TRAILER", "TRUCK", "TRUCK_CAB",
    "VEHICULAR_TRAILER", "WHEELCHAIR", "WHEELED_DEVICE", "WHEELED_RIDER")
VEHICLE = frozenset({"EGO_VEHICLE", "ARTICULATED_BUS", "BOX_TRUCK", "BUS", "LARGE_VEHICLE",
                     "MOTORCYCLE", "RAILED_VEHICLE", "REGULAR_VEHICLE", "SCHOOL_BUS", "TRUCK",
                     "TRUCK_CAB"})
CONCRETE = frozenset(AV2_CATEGORIES) | {"EGO_VEHICLE"}
CATEGORIES = CONCRETE | {"ANY", "VEHICLE"}
CATEGORY_SYNONYMS = {
    "CAR": "REGULAR_VEHICLE", "CARS": "REGULAR_VEHICLE", "VEHICLES": "VEHICLE",
    "PEDESTRIANS": "PEDESTRIAN", "PERSON": "PEDESTRIAN", "PEOPLE": "PEDESTRIAN",
    "CYCLIST": "BICYCLIST", "BIKE": "BICYCLE", "EGO": "EGO_VEHICLE", "EGOVEHICLE": "EGO_VEHICLE",
    "ALL": "ANY", "MOTORBIKE": "MOTORCYCLE", "CONE": "CONSTRUCTION_CONE",
    "BARREL": "CONSTRUCTION_BARREL", "TRAILER": "VEHICULAR_TRAILER",
}
_REL4 = ("forward", "backward", "left", "right")
_DIRECTION_SYNONYMS = {"front": "forward", "ahead": "forward", "forwards": "forward",
                       "behind": "backward", "back": "backward", "rear": "backward",
                       "backwards": "backward"}
VALUES: dict[tuple[str, str], tuple] = {
    ("has_objects_in_relative_direction", "direction"): _REL4,
    ("get_objects_in_relative_direction", "direction"): _REL4,
    ("being_crossed_by", "direction"): _REL4,
    ("being_crossed_by", "in_direction"): ("clockwise", "counterclockwise", "either"),
    ("turning", "direction"): ("left", "right", None),
    ("changing_lanes", "direction"): ("left", "right", None),
    ("heading_in_relative_direction_to", "direction"): ("same", "opposite", "perpendicular"),
    ("on_relative_side_of_road", "side"): ("same", "opposite"),
    ("on_lane_type", "lane_type"): ("BUS", "VEHICLE", "BIKE"),
    ("is_color", "color"): ("white", "silver", "black", "red", "yellow", "blue"),
    ("nth_object_in_direction", "direction"): _REL4,
    ("in_lane_number", "counted_from"): ("curb", "center"),
    ("near_infrastructure", "element"): ("stop_sign", "sign", "bollard", "construction",
                                         "traffic_light_trailer", "crossing_sign", "crosswalk",
                                         "bike_lane", "bus_lane"),
    ("get_objects_of_category", "category"): tuple(sorted(CATEGORIES)),
    ("is_category", "category"): tuple(sorted(CATEGORIES)),
}
VALUE_SYNONYMS = {
    "direction": {**_DIRECTION_SYNONYMS, "parallel": "same", "orthogonal": "perpendicular",
                  "either": None, "any": None, "both": None},
    "in_direction": {"cw": "clockwise", "ccw": "counterclockwise", "anticlockwise":
                     "counterclockwise", "counter_clockwise": "counterclockwise", "any": "either",
                     "both": "either"},
    "lane_type": {"BICYCLE": "BIKE", "CAR": "VEHICLE"},
    "color": {"gray": "silver", "grey": "silver"},
    "counted_from": {"right": "curb", "kerb": "curb", "shoulder": "curb", "left": "center",
                     "centre": "center", "median": "center"},
    "element": {"stop": "stop_sign", "crosswalks": "crosswalk", "pedestrian_crossing":
                "crosswalk", "bicycle_lane": "bike_lane", "cones": "construction",
                "construction_zone": "construction"},
}
# (low, high, unit, note): allowed closed range; +-inf are defaults and allowed where a bound
# is open-ended.
RANGES = {
    "min_velocity": (0, 50, "m/s", "50 m/s is 180 km/h; speeds are in m/s"),
    "max_velocity": (0, 50, "m/s", "50 m/s is 180 km/h; speeds are in m/s"),
    "min_accel": (-15, 15, "m/s^2", "vehicles brake at most about -10 m/s^2"),
    "max_accel": (-15, 15, "m/s^2", "vehicles brake at most about -10 m/s^2"),
    "within_distance": (0, 200, "m", ""), "distance_thresh": (0, 200, "m", ""),
    "max_distance": (0, 200, "m", ""), "forward_thresh": (0, 200, "m", ""),
    "lateral_thresh": (0, 200, "m", ""), "threshold": (0, 200, "m", ""),
    "within_angle": (0, 180, "degrees", ""), "angle_threshold": (0, 180, "degrees", ""),
    "minimum_speed": (0, 5, "m per 0.1 s frame", "0.5 is about 5 m/s"),
    "min_number": (0, 100, "objects", ""), "max_number": (0, 100, "objects", ""),
    "min_objects": (0, 100, "objects", ""),
    # atoms beyond RefAV's (scenmine.dsl.map_context, scenmine.dsl.behaviour)
    "number": (1, 10, "lanes", "lane 1 is the curb lane"),
    "min_lanes": (0, 10, "lanes", ""), "max_lanes": (0, 10, "lanes", ""),
    "n": (1, 50, "objects", "n=1 is the closest"),
    "max_lateral": (0, 50, "m", ""), "forward_distance": (0, 200, "m", ""),
    "crosswalk_distance": (0, 50, "m", ""),
    "min_speed": (0, 50, "m/s", ""), "max_speed": (0, 50, "m/s", ""),
    "related_min_speed": (0, 50, "m/s", ""), "stop_speed": (0, 50, "m/s", ""),
    "min_duration": (0, 60, "s", ""), "max_duration": (0, 120, "s", ""),
    "max_seconds": (0, 60, "s", ""), "min_stop": (0, 600, "s", ""),
    "min_angle": (0, 360, "degrees", "a U-turn is about 180"),
    "min_rate": (0, 180, "degrees per second", ""),
}
MIN_MAX = (("min_velocity", "max_velocity"), ("min_accel", "max_accel"),
           ("min_number", "max_number"), ("min_lanes", "max_lanes"))
# Argument names models often write, and what the DSL calls them (first one the function has).
_DIST = ("within_distance", "distance_thresh", "max_distance", "forward_thresh", "threshold")
ARG_ALIASES = {
    "min_speed": ("min_velocity", "minimum_speed"), "max_speed": ("max_velocity",),
    "speed": ("min_velocity", "minimum_speed"), "velocity": ("min_velocity",),
    "min_acceleration": ("min_accel",), "max_acceleration": ("max_accel",),
    "acceleration": ("min_accel",), "distance": _DIST, "max_dist": _DIST, "dist": _DIST,
    "distance_threshold": _DIST, "within": _DIST, "radius": _DIST, "angle": ("within_angle",
    "angle_threshold"), "max_angle": ("within_angle", "angle_threshold"),
    "min_count": ("min_number", "min_objects"), "max_count": ("max_number",),
    "min_num": ("min_number", "min_objects"), "count": ("min_number", "min_objects"),
    "cat": ("category",), "object_category": ("category",), "type": ("lane_type",),
    "colour": ("color",), "dir": ("direction",), "relative_direction": ("direction",),
}
ROAD_FUNCTIONS = frozenset({"on_road", "in_drivable_area", "on_lane_type", "on_intersection",
                            "near_intersection", "in_same_lane", "following", "changing_lanes",
                            "at_stop_sign", "on_relative_side_of_road", "at_pedestrian_crossing",
                            "in_lane_number", "on_road_with_lanes", "on_one_way_road",
                            "running_stop_sign", "jaywalking", "cutting_in", "parking",
                            "pulling_out", "yielding"})
ROAD_USERS = (VEHICLE - {"EGO_VEHICLE"}) | {"BICYCLIST", "MOTORCYCLIST", "VEHICULAR_TRAILER",
                                           "WHEELED_RIDER"}
PROGRAM_NAMES = frozenset({"log_dir", "output_dir", "description", "np", "Literal",
                           "math"}) | frozenset(dir(builtins))

# Nouns of prompts -> the categories the referred object may have (longest phrase first).
NOUNS: list[tuple[str, frozenset]] = [(re.compile(rf"\b{p}\b"), frozenset(c)) for p, c in [
    (r"ego[ -]vehicles?|ego[ -]cars?|ego", {"EGO_VEHICLE"}),
    (r"school ?bus(es)?", {"SCHOOL_BUS", "BUS"}),
    (r"articulated bus(es)?", {"ARTICULATED_BUS", "BUS"}),
    (r"box trucks?", {"BOX_TRUCK", "TRUCK"}),
    (r"semi[- ]trucks?|truck cabs?|tractor trailers?", {"TRUCK_CAB", "TRUCK", "VEHICULAR_TRAILER"}),
    (r"stop signs?", {"STOP_SIGN", "SIGN"}),
    (r"construction cones?|traffic cones?|cones?", {"CONSTRUCTION_CONE"}),
    (r"construction barrels?|barrels?", {"CONSTRUCTION_BARREL"}),
    (r"(motor)?cycl?ists?|bicyclists?|bikers?", {"BICYCLIST", "MOTORCYCLIST", "BICYCLE",
                                                 "MOTORCYCLE", "WHEELED_RIDER"}),
    (r"motorcycles?|motorbikes?|scooters?|mopeds?", {"MOTORCYCLE", "MOTORCYCLIST"}),
    (r"bicycles?|bikes?(?! lanes?)", {"BICYCLE", "BICYCLIST"}),
    (r"pedestrians?|persons?|people|man|woman|child(ren)?|jogg?ers?|walkers?",
     {"PEDESTRIAN", "OFFICIAL_SIGNALER"}),
    (r"strollers?", {"STROLLER"}), (r"wheelchairs?", {"WHEELCHAIR"}), (r"dogs?", {"DOG"}),
    (r"animals?", {"ANIMAL", "DOG"}), (r"bollards?", {"BOLLARD"}),
    (r"buses|bus(?! lanes?)", {"BUS", "ARTICULATED_BUS", "SCHOOL_BUS"}),
    (r"trucks?|pickups?", {"TRUCK", "BOX_TRUCK", "TRUCK_CAB", "REGULAR_VEHICLE", "LARGE_VEHICLE"}),
    (r"trailers?", {"VEHICULAR_TRAILER", "MESSAGE_BOARD_TRAILER", "TRAFFIC_LIGHT_TRAILER"}),
    (r"cars?|sedans?|suvs?|vans?|taxis?", {"REGULAR_VEHICLE", "LARGE_VEHICLE"}),
    (r"vehicles?(?! lanes?)", VEHICLE - {"EGO_VEHICLE"} | {"VEHICULAR_TRAILER"}),
    (r"objects?|anything|things?|tracks?", CONCRETE),
]]
# Words that show the prompt's subject is not the first noun ("at a stop sign", "near cones").
NOT_SUBJECT = frozenset(["at", "near", "on", "in", "into", "to", "toward", "towards", "behind", "with", "from", "by", "across", "between", "beside", "next", "around", "over", "under", "while", "and", "or", "that", "which", "who", "than", "front", "ahead", "past", "through", "of", "approaching", "following", "passing", "crossing", "facing", "overtaking"]) - {"of"}
QUANTIFIER_OF = frozenset({"group", "groups", "pair", "pairs", "line", "lot", "lots", "number",
                           "couple", "crowd", "set", "few", "any", "one", "two", "three",
                           "several", "multiple", "many", "all", "each", "either"})


# ----------------------------------------------------------------------------- signatures
@dataclass(frozen=True)
class Signature:
    params: tuple[str, ...]
    required: frozenset
    var_keyword: bool = False


def _contract_signatures() -> dict[str, Signature]:
    out = {}
    for name, params in CONTRACT.items():
        out[name] = Signature(tuple(p for p, _ in params),
                              frozenset(p for p, d in params if d is REQ), name in VAR_KEYWORDS)
    return out


def signatures(namespace: dict | None = None) -> dict[str, Signature]:
    """The contract's signatures, extended by the DSL's own (``namespace`` or NAMESPACE)."""
    sigs = _contract_signatures()
    if namespace is None:
        try:
            from scenmine.dsl import NAMESPACE as namespace
        except Exception:  # noqa: BLE001 - the contract alone is enough to review
            namespace = {}
    for name, obj in namespace.items():
        if name.startswith("_") or not callable(obj) or inspect.isclass(obj):
            continue
        try:
            sig = inspect.signature(obj)
        except (TypeError, ValueError):
            continue
        params = [p for p in sig.parameters.values()
                  if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        var_kw = any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values())
        names = tuple(p.name for p in params)
        if name in sigs:  # keep the contract's required set; add extra parameters
            base = sigs[name]
            extra = tuple(n for n in names if n not in base.params)
            sigs[name] = Signature(base.params + extra, base.required,
                                   base.var_keyword or var_kw)
        elif name not in WRAPPERS and "log_dir" in names:
            sigs[name] = Signature(names, frozenset(p.name for p in params
                                                    if p.default is p.empty), var_kw)
    return sigs


# ----------------------------------------------------------------------------- helpers
def number_value(node: ast.AST) -> float | None:
    """A numeric literal (also np.inf, -np.inf, math.inf, float('inf')), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = number_value(node.operand)
        return None if inner is None else (-inner if isinstance(node.op, ast.USub) else inner)
    if isinstance(node, ast.Attribute) and node.attr == "inf" and isinstance(node.value, ast.Name):
        return math.inf
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "float" \
            and node.args and isinstance(node.args[0], ast.Constant) \
            and str(node.args[0].value).lower() in ("inf", "+inf", "infinity"):
        return math.inf
    return None


def closest(word: str, options, cutoff: float = 0.75) -> str | None:
    match = difflib.get_close_matches(word, list(options), n=1, cutoff=cutoff)
    return match[0] if match else None


def expand(categories) -> frozenset:
    """Super-categories (ANY, VEHICLE) -> the concrete categories they stand for."""
    out = set()
    for c in categories:
        out |= CONCRETE if c == "ANY" else VEHICLE if c == "VEHICLE" else {c}
    return frozenset(out)


def prompt_subject(prompt: str) -> tuple[str, frozenset] | None:
    """The prompt's first-mentioned object and the categories it may have, when the prompt
    opens with it ("the vehicle with a bicycle to its right" -> vehicle); None when the prompt
    names no object before a preposition or relation word."""
    text = prompt.lower()
    best = None
    for pattern, cats in NOUNS:
        m = pattern.search(text)
        if m and (best is None or m.start() < best[0].start()):
            best = (m, cats)
    if best is None:
        return None
    m, cats = best
    before = re.findall(r"[a-z]+", text[:m.start()])
    for i, word in enumerate(before):
        if word == "of" and not (i and before[i - 1] in QUANTIFIER_OF):
            return None
        if word in NOT_SUBJECT:
            return None
    return m.group(0), cats
