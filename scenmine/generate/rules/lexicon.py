"""The rules generator's vocabulary: English phrases -> DSL building blocks (data only).

Phrases are matched on normalised text (lower case, articles dropped: "to the left of" is
"to left of"). Thresholds are written ``T("name")`` and resolved from the generator's options
(defaults in ``THRESHOLDS``).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class T:
    """A named threshold, resolved at compile time."""

    name: str


@dataclass(frozen=True)
class F:
    """One unary DSL call ``func(x, log_dir, **params)``, optionally under scenario_not."""

    func: str
    params: tuple = ()
    negate: bool = False


def f(func: str, negate: bool = False, **params) -> F:
    return F(func, tuple(params.items()), negate)


@dataclass(frozen=True)
class Or:
    """Union of alternative filter chains, each applied to the same input."""

    chains: tuple


@dataclass(frozen=True)
class Modifier:
    """A unary modifier: a chain of steps (F or Or) and a short label for variable names."""

    label: str
    steps: tuple
    default_category: str = "ANY"  # when the prompt names no object ("turning left")


@dataclass(frozen=True)
class Relation:
    """Canonical 'A <rel> B'. The call is ``func(first, second, log_dir, **params)``.

    ``first`` says which of A/B is the call's first argument. When the referred object is
    the second argument the call is wrapped in reverse_relationship, or uses ``reverse_func``
    with the same arguments. ``qparam`` takes the quantity of the second argument
    ("near multiple pedestrians" -> min_objects=2). ``symmetric`` relations put the referred
    object first, or second when it is quantified ("group of pedestrians near X").
    """

    label: str
    func: str
    first: str = "A"
    params: tuple = ()
    reverse_func: str | None = None
    qparam: str | None = None
    symmetric: bool = False
    first_filter: F | None = None  # applied to the first argument (e.g. moving for overtaken)


def rel(label, func, first="A", reverse_func=None, qparam=None, symmetric=False,
        first_filter=None, **params) -> Relation:
    return Relation(label, func, first, tuple(params.items()), reverse_func, qparam,
                    symmetric, first_filter)


THRESHOLDS = {
    "accelerating_min_accel": 1.0,
    "braking_max_accel": -1.0,
    "moving_min_velocity": None,  # None: "moving" = scenario_not(stationary), else has_velocity
    "near_distance": 10,
    "near_small_object_distance": 5,
    "near_intersection": 10,
    "front_distance": 20,
    "front_lateral": 2,
    "side_distance": 10,
    "facing_angle": 30,
    "facing_distance": 20,
    "stop_sign_approach": 20,
}

# ---- categories ---------------------------------------------------------------------
# phrase -> (AV2 categories, variable name). Plurals are listed where not just "+s".
_CATS = {
    ("vehicle", "vehicles", "automobile", "automobiles"): (("VEHICLE",), "vehicles"),
    ("car", "cars", "regular vehicle", "regular vehicles", "sedan", "sedans", "suv", "suvs"):
        (("REGULAR_VEHICLE",), "cars"),
    ("truck", "trucks"): (("TRUCK", "BOX_TRUCK", "TRUCK_CAB"), "trucks"),
    ("box truck", "box trucks"): (("BOX_TRUCK",), "box_trucks"),
    ("semi", "semis", "semi truck", "semi trucks", "truck cab", "truck cabs",
     "tractor trailer", "tractor trailers", "big rig", "big rigs"): (("TRUCK_CAB",), "semis"),
    ("bus", "buses", "busses"): (("BUS",), "buses"),
    ("articulated bus", "articulated buses"): (("ARTICULATED_BUS",), "articulated_buses"),
    ("school bus", "school buses"): (("SCHOOL_BUS",), "school_buses"),
    ("large vehicle", "large vehicles"): (("LARGE_VEHICLE",), "large_vehicles"),
    ("trailer", "trailers", "vehicular trailer", "vehicular trailers"):
        (("VEHICULAR_TRAILER",), "trailers"),
    ("pedestrian", "pedestrians", "ped", "peds", "person", "persons", "people",
     "walker", "walkers"): (("PEDESTRIAN",), "peds"),
    # a ridden bicycle is annotated twice (BICYCLE and BICYCLIST): "bicycle" means either
    ("bicycle", "bicycles", "bike", "bikes"): (("BICYCLE", "BICYCLIST"), "bicycles"),
    ("cyclist", "cyclists", "bicyclist", "bicyclists", "biker", "bikers"):
        (("BICYCLIST",), "cyclists"),
    ("motorcycle", "motorcycles", "motorbike", "motorbikes"): (("MOTORCYCLE",), "motorcycles"),
    ("motorcyclist", "motorcyclists"): (("MOTORCYCLIST",), "motorcyclists"),
    ("ego vehicle", "ego vehicles", "ego", "ego car", "autonomous vehicle",
     "self driving car", "self driving vehicle", "our vehicle", "av"):
        (("EGO_VEHICLE",), "ego_vehicle"),
    ("construction cone", "construction cones", "cone", "cones", "traffic cone",
     "traffic cones"): (("CONSTRUCTION_CONE",), "cones"),
    ("construction barrel", "construction barrels", "barrel", "barrels"):
        (("CONSTRUCTION_BARREL",), "barrels"),
    ("bollard", "bollards"): (("BOLLARD",), "bollards"),
    ("stroller", "strollers"): (("STROLLER",), "strollers"),
    ("wheelchair", "wheelchairs"): (("WHEELCHAIR",), "wheelchairs"),
    ("dog", "dogs"): (("DOG",), "dogs"),
    ("animal", "animals"): (("ANIMAL",), "animals"),
    ("scooter", "scooters", "wheeled device", "wheeled devices", "skateboard", "skateboards"):
        (("WHEELED_DEVICE",), "wheeled_devices"),
    ("wheeled rider", "wheeled riders", "scooter rider", "scooter riders"):
        (("WHEELED_RIDER",), "wheeled_riders"),
    ("tram", "trams", "train", "trains", "streetcar", "streetcars", "railed vehicle"):
        (("RAILED_VEHICLE",), "railed_vehicles"),
    ("official signaler", "official signalers", "traffic officer"):
        (("OFFICIAL_SIGNALER",), "signalers"),
    ("object", "objects", "anything", "thing", "things", "track", "tracks"):
        (("ANY",), "objects"),
}
CATEGORIES = {phrase: v for phrases, v in _CATS.items() for phrase in phrases}
SMALL_OBJECTS = {"CONSTRUCTION_CONE", "CONSTRUCTION_BARREL", "BOLLARD"}
EGO = ("EGO_VEHICLE",)

# ---- quantities, colours, fillers ---------------------------------------------------
# "the second car in front of the ego": the n-th object in a direction (nth_object_in_direction)
ORDINALS = {"first": 1, "closest": 1, "nearest": 1, "second": 2, "third": 3, "fourth": 4,
            "fifth": 5}
QUANTITIES = {
    "multiple": 2, "several": 2, "many": 2, "more than one": 2, "two or more": 2,
    "at least two": 2, "two": 2, "pair of": 2, "three": 3, "at least three": 3,
    "group of": 3, "crowd of": 3, "groups of": 3, "four": 4, "five": 5,
    "one": 1, "single": 1,
}
COLORS = {"white": "white", "silver": "silver", "gray": "silver", "grey": "silver",
          "black": "black", "red": "red", "yellow": "yellow", "blue": "blue"}
# Dropped before matching (phrases are written without them).
ARTICLES = {"a", "an", "the", "being", "is", "are", "was", "that", "which", "who", "currently"}
# Skipped after matching: they carry no meaning on their own ("to" does inside "next to").
STOPWORDS = {"another", "other", "while", "traveling", "travelling", "driving", "going", "riding",
             "and", "also", "there", "some", "any", "to", "of", "itself"}
NEGATIONS = {"not", "no", "never", "non"}
NUMBERS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
           "seven": 7, "eight": 8, "nine": 9, "ten": 10, "fifteen": 15, "twenty": 20,
           "thirty": 30, "fifty": 50}

# ---- motions (unary, about the object itself) ---------------------------------------
_STOPPED = (Or(((f("stationary"),),
                (f("has_velocity", min_velocity=0, max_velocity=0.5),))),)
_MOVING = (f("moving"),)  # expanded by the compiler (velocity or not-stationary)
MOTIONS = {
    "turning left": Modifier("left_turning", (f("turning", direction="left"),), "VEHICLE"),
    "turning right": Modifier("right_turning", (f("turning", direction="right"),), "VEHICLE"),
    "turning": Modifier("turning", (f("turning"),), "VEHICLE"),
    "making left turn": Modifier("left_turning", (f("turning", direction="left"),), "VEHICLE"),
    "making right turn": Modifier("right_turning", (f("turning", direction="right"),), "VEHICLE"),
    "left turning": Modifier("left_turning", (f("turning", direction="left"),), "VEHICLE"),
    "right turning": Modifier("right_turning", (f("turning", direction="right"),), "VEHICLE"),
    "changing lanes": Modifier("lane_changing", (f("changing_lanes"),), "VEHICLE"),
    "changing lanes to left": Modifier("left_lane_changing",
                                       (f("changing_lanes", direction="left"),), "VEHICLE"),
    "changing lanes to right": Modifier("right_lane_changing",
                                        (f("changing_lanes", direction="right"),), "VEHICLE"),
    "stopped": Modifier("stopped", _STOPPED),
    "stationary": Modifier("stopped", _STOPPED),
    "standing still": Modifier("stopped", _STOPPED),
    "standing": Modifier("stopped", _STOPPED),
    "not moving": Modifier("stopped", _STOPPED),
    "parked": Modifier("parked", (f("stationary"),), "VEHICLE"),
    "moving": Modifier("moving", _MOVING),
    "in motion": Modifier("moving", _MOVING),
    "active": Modifier("moving", _MOVING),
    "walking": Modifier("walking", (f("has_velocity", min_velocity=0.5),), "PEDESTRIAN"),
    "crossing": Modifier("crossing", (f("has_velocity", min_velocity=0.5),), "PEDESTRIAN"),
    "crossing road": Modifier("crossing", (f("on_road"), f("has_velocity", min_velocity=0.5)),
                              "PEDESTRIAN"),
    "crossing street": Modifier("crossing", (f("on_road"), f("has_velocity", min_velocity=0.5)),
                                "PEDESTRIAN"),
    "accelerating": Modifier("accelerating",
                             (f("accelerating", min_accel=T("accelerating_min_accel")),)),
    "speeding up": Modifier("accelerating",
                            (f("accelerating", min_accel=T("accelerating_min_accel")),)),
    "braking": Modifier("braking", (f("accelerating", min_accel=-100.0,
                                      max_accel=T("braking_max_accel")),)),
    "decelerating": Modifier("braking", (f("accelerating", min_accel=-100.0,
                                           max_accel=T("braking_max_accel")),)),
    "slowing down": Modifier("braking", (f("accelerating", min_accel=-100.0,
                                           max_accel=T("braking_max_accel")),)),
    "accelerating to side": Modifier("side_accelerating", (
        f("has_lateral_acceleration", negate=True, min_accel=-1, max_accel=1),)),
    "accelerating sideways": Modifier("side_accelerating", (
        f("has_lateral_acceleration", negate=True, min_accel=-1, max_accel=1),)),
    "jaywalking": Modifier("jaywalking", (f("on_road"), f("at_pedestrian_crossing", negate=True)),
                           "PEDESTRIAN"),
}
# Manoeuvres of the atoms beyond RefAV's (scenmine.dsl.behaviour).
_U_TURN = Modifier("u_turning", (f("making_u_turn"),), "VEHICLE")
_K_TURN = Modifier("three_point_turning", (f("making_three_point_turn"),), "VEHICLE")
_REVERSING = Modifier("reversing", (f("reversing"),), "VEHICLE")
_PARKING = Modifier("parking", (f("parking"),), "VEHICLE")
_PARALLEL = Modifier("parallel_parking", (f("parking", parallel=True),), "VEHICLE")
_PULLING_OUT = Modifier("pulling_out", (f("pulling_out"),), "VEHICLE")
_REVERSING_OUT = Modifier("reversing_out", (f("pulling_out"), f("reversing")), "VEHICLE")
_RUNS_STOP = Modifier("running_stop_sign", (f("running_stop_sign"),), "VEHICLE")
_JAYWALK = Modifier("jaywalking", (f("jaywalking"),), "PEDESTRIAN")
_SPOT = ("parking spot", "parking space", "spot", "space", "curb",
         "parking lot", "parking")
MOTIONS.update({p: _U_TURN for p in (
    "making u turn", "doing u turn", "performing u turn", "u turning", "making uturn",
    "doing uturn", "turning around", "making u turns", "doing u turns")})
MOTIONS.update({p: _K_TURN for p in (
    "making three point turn", "doing three point turn", "performing three point turn",
    "making 3 point turn", "making k turn", "doing k turn", "turning around in three points")})
MOTIONS.update({p: _REVERSING for p in (
    "reversing", "backing up", "backing", "driving backwards", "driving backward",
    "moving backwards", "moving backward", "going backwards", "in reverse", "driving in reverse")})
MOTIONS.update({p: _PARKING for p in (
    "parking", "pulling over", "pulling over to curb", "pulling over to side of road",
    "pulling into parking spot", "pulling into parking space", "pulling into spot",
    "parking on side of road")})
MOTIONS.update({p: _PARALLEL for p in ("parallel parking", "parallel parks")})
MOTIONS.update({f"pulling out of {spot}": _PULLING_OUT for spot in _SPOT})
MOTIONS.update({f"leaving {spot}": _PULLING_OUT for spot in _SPOT[:3]})
MOTIONS.update({f"backing out of {spot}": _REVERSING_OUT for spot in _SPOT})
MOTIONS.update({f"reversing out of {spot}": _REVERSING_OUT for spot in _SPOT})
MOTIONS.update({p: _PULLING_OUT for p in ("pulling out", "pulling away from curb",
                                          "pulling away")})
MOTIONS.update({p: _RUNS_STOP for p in (
    "running stop sign", "running stop signs", "ran stop sign", "runs stop sign",
    "rolling through stop sign", "blowing through stop sign", "blowing stop sign",
    "not stopping at stop sign", "failing to stop at stop sign")})
MOTIONS.update({p: _JAYWALK for p in (
    "crossing road away from crosswalk", "crossing street away from crosswalk",
    "crossing road outside crosswalk", "crossing street outside crosswalk",
    "crossing mid block", "crossing midblock", "crossing road mid block",
    "crossing street mid block", "crossing outside crosswalk", "crossing away from crosswalk")})

# Speed phrases: "<comparator> N <unit>" -> has_velocity.
SPEED_MIN = {"faster than", "above", "over", "more than", "at least", "exceeding"}
SPEED_MAX = {"slower than", "below", "under", "less than", "at most"}
SPEED_UNITS = {"mps": 1.0, "m s": 1.0, "meters per second": 1.0, "meter per second": 1.0,
               "metres per second": 1.0, "mph": 0.44704, "miles per hour": 0.44704,
               "kph": 1 / 3.6, "kmh": 1 / 3.6, "kilometers per hour": 1 / 3.6}
DISTANCE_UNITS = {"m": 1.0, "meters": 1.0, "meter": 1.0, "metres": 1.0, "metre": 1.0,
                  "feet": 0.3048, "foot": 0.3048, "ft": 0.3048}

# ---- map context: "<preposition> <place>" ---------------------------------------------
_ON_INTER = Modifier("intersection", (f("on_intersection"),))
_NEAR_INTER = Modifier("near_intersection", (f("near_intersection",
                                              threshold=T("near_intersection")),))
_CROSSWALK = Modifier("crosswalk", (f("at_pedestrian_crossing"),))
_IN_CROSSWALK = Modifier("crosswalk", (f("at_pedestrian_crossing", within_distance=0),))
_NEAR_CROSSWALK = Modifier("near_crosswalk", (f("at_pedestrian_crossing", within_distance=5),))
_BUS_LANE = Modifier("bus_lane", (f("on_lane_type", lane_type="BUS"),))
_BIKE_LANE = Modifier("bike_lane", (f("on_lane_type", lane_type="BIKE"),))
_STOP_SIGN = Modifier("stop_sign", (f("at_stop_sign"),))
_TO_STOP_SIGN = Modifier("stop_sign", (f("at_stop_sign",
                                        forward_thresh=T("stop_sign_approach")),))
_ON_ROAD = Modifier("on_road", (f("on_road"),))
_DRIVABLE = Modifier("drivable", (f("in_drivable_area"),))
_SIDEWALK = Modifier("off_road", (f("in_drivable_area", negate=True),))
_AT, _IN = ("at", "in", "on", "through", "entering"), ("in", "inside", "within", "on")
_PLACES = [
    (("intersection", "intersections", "junction"), {p: _ON_INTER for p in _AT + _IN}),
    (("intersection", "intersections", "junction"),
     {"near": _NEAR_INTER, "approaching": _NEAR_INTER, "close to": _NEAR_INTER}),
    (("pedestrian crossing", "pedestrian crossings", "crosswalk", "crosswalks",
      "zebra crossing"), {"at": _CROSSWALK, "on": _CROSSWALK, "through": _CROSSWALK,
                          "in": _IN_CROSSWALK, "inside": _IN_CROSSWALK,
                          "within": _IN_CROSSWALK, "near": _NEAR_CROSSWALK,
                          "approaching": _NEAR_CROSSWALK}),
    (("bus lane", "bus lanes"), {p: _BUS_LANE for p in _AT + _IN}),
    (("bike lane", "bike lanes", "bicycle lane", "bicycle lanes", "cycle lane"),
     {p: _BIKE_LANE for p in _AT + _IN}),
    (("stop sign", "stop signs"), {"at": _STOP_SIGN, "near": _TO_STOP_SIGN,
                                   "approaching": _TO_STOP_SIGN}),
    (("road", "street", "roadway"), {"on": _ON_ROAD, "in": _ON_ROAD}),
    (("drivable area",), {p: _DRIVABLE for p in _IN}),
    (("sidewalk", "sidewalks", "pavement"), {"on": _SIDEWALK, "in": _SIDEWALK}),
]
# Road layout and infrastructure of the atoms beyond RefAV's (scenmine.dsl.map_context).
_MEDIAN = Modifier("median", (f("on_median"),))
_ONE_WAY = Modifier("one_way", (f("on_one_way_road"),))
_CURB_LANE = Modifier("curb_lane", (f("in_lane_number", number=1),))
_INNER_LANE = Modifier("inner_lane", (f("in_lane_number", number=1, counted_from="center"),))
_SECOND_LANE = Modifier("second_lane", (f("in_lane_number", number=2),))
_MULTI_LANE = Modifier("multi_lane", (f("on_road_with_lanes", min_lanes=2),))
_SINGLE_LANE = Modifier("single_lane", (f("on_road_with_lanes", min_lanes=1, max_lanes=1),))


def _near(element: str, distance: float) -> Modifier:
    return Modifier(f"near_{element}", (f("near_infrastructure", element=element,
                                          within_distance=distance),))


_NEAR_PREPS = ("near", "next to", "beside", "close to", "by", "alongside", "adjacent to")
_PLACES += [
    (("median", "medians", "center median", "central median", "traffic island",
      "median strip"), {p: _MEDIAN for p in ("on", "in", "at", "along")}),
    (("one way road", "one way street", "one way roads", "one way streets"),
     {p: _ONE_WAY for p in ("on", "in", "along", "down")}),
    (("rightmost lane", "right most lane", "curb lane", "kerb lane", "right hand lane",
      "outer lane", "slow lane", "right lane"), {p: _CURB_LANE for p in ("in", "on")}),
    (("leftmost lane", "left most lane", "inner lane", "fast lane", "passing lane",
      "left hand lane", "left lane"), {p: _INNER_LANE for p in ("in", "on")}),
    (("second lane", "second lane from right", "second lane from curb"),
     {p: _SECOND_LANE for p in ("in", "on")}),
    (("multi lane road", "multilane road", "multi lane street", "multilane street",
      "road with multiple lanes", "multi lane highway"), {p: _MULTI_LANE for p in ("on", "in")}),
    (("single lane road", "one lane road"), {p: _SINGLE_LANE for p in ("on", "in")}),
    (("bike lane", "bike lanes", "bicycle lane", "bicycle lanes", "cycle lane"),
     {p: _near("bike_lane", 2) for p in _NEAR_PREPS}),
    (("bus lane", "bus lanes"), {p: _near("bus_lane", 2) for p in _NEAR_PREPS}),
    (("construction zone", "construction area", "construction site", "road work",
      "roadworks", "work zone"), {**{p: _near("construction", 10) for p in _NEAR_PREPS},
                                  **{p: _near("construction", 5) for p in ("in", "through",
                                                                          "inside")}}),
    (("sign", "signs", "road sign", "traffic sign", "street sign"),
     {p: _near("sign", 5) for p in _NEAR_PREPS}),
]
# "on a two-lane road": lanes of both directions
for _n, _word in ((2, "two"), (3, "three"), (4, "four"), (5, "five"), (6, "six")):
    _PLACES.append(((f"{_word} lane road", f"{_word} lane street", f"{_n} lane road"),
                    {p: Modifier(f"{_word}_lane_road", (f("on_road_with_lanes", min_lanes=_n,
                                                          max_lanes=_n, both_directions=True),))
                     for p in ("on", "in")}))
MAP_CONTEXT = {f"{prep} {place}": mod for places, preps in _PLACES
               for place in places for prep, mod in preps.items()}
# Modifier pairs that mean more together: "stopped at an intersection" is waiting in traffic
# (temporarily stopped, parked cars excluded) just before or on it.
_WAITING = f("has_velocity", min_velocity=0, max_velocity=0.5)
COMBINATIONS = {
    frozenset({"stopped", "intersection"}): Modifier("stopped_at_intersection", (
        _WAITING, f("near_intersection", threshold=5))),
    frozenset({"stopped", "stop_sign"}): Modifier("stopped_at_stop_sign", (
        _WAITING, f("at_stop_sign"))),
}

# ---- relations: "A <phrase> B" ---------------------------------------------------------
def _direction(d: str, label: str) -> Relation:
    near = {"within_distance": T("front_distance"), "lateral_thresh": T("front_lateral")} \
        if d in ("forward", "backward") else {"within_distance": T("side_distance")}
    # A is in direction d of B: B is the track, A the related object.
    return rel(label, "has_objects_in_relative_direction", first="B",
               reverse_func="get_objects_in_relative_direction", qparam="min_number",
               direction=d, **near)


FRONT, BEHIND = _direction("forward", "in_front_of"), _direction("backward", "behind")
LEFT, RIGHT = _direction("left", "left_of"), _direction("right", "right_of")
NEAR = rel("near", "near_objects", qparam="min_objects", symmetric=True,
           distance_thresh=T("near_distance"))
FOLLOWING = rel("following", "following")
CROSSING = rel("crossing", "being_crossed_by", first="B")
CROSSING_BEHIND = rel("crossing", "being_crossed_by", first="B", direction="backward")
HEADING = rel("heading_toward", "heading_toward")
FACING = rel("facing", "facing_toward", within_angle=T("facing_angle"),
             max_distance=T("facing_distance"))
SAME_LANE = rel("same_lane", "in_same_lane", symmetric=True)
OPPOSITE_SIDE = rel("opposite_side", "on_relative_side_of_road", symmetric=True, side="opposite")
SAME_SIDE = rel("same_side", "on_relative_side_of_road", symmetric=True, side="same")
PERPENDICULAR = rel("crossing_path", "heading_in_relative_direction_to", symmetric=True,
                    direction="perpendicular")
OPPOSITE_DIR = rel("oncoming", "heading_in_relative_direction_to", symmetric=True,
                   direction="opposite")
SAME_DIR = rel("same_direction", "heading_in_relative_direction_to", symmetric=True,
               direction="same")
_MOVING_F = f("moving")


def _overtaking(side: str) -> Relation:
    """A overtakes B on ``side``: A crosses B's side midplane, B is moving."""
    return rel(f"overtaking_{side}", "being_crossed_by", first="B", first_filter=_MOVING_F,
               direction=side, forward_thresh=5, lateral_thresh=10)


_REL_ACTIVE = {
    FRONT: ("in front of", "ahead of", "directly in front of"),
    BEHIND: ("behind", "directly behind", "in back of"),
    LEFT: ("to left of", "on left of", "left of", "on left side of"),
    RIGHT: ("to right of", "on right of", "right of", "on right side of"),
    NEAR: ("near", "close to", "next to", "around", "beside", "by"),
    FOLLOWING: ("following", "tailgating", "driving behind"),
    CROSSING: ("crossing", "crossing in front of", "walking in front of", "crossing paths with"),
    CROSSING_BEHIND: ("crossing behind",),
    HEADING: ("heading toward", "heading towards", "approaching", "moving toward",
              "moving towards", "driving toward", "driving towards"),
    FACING: ("facing", "facing toward", "facing towards", "looking at"),
    SAME_LANE: ("in same lane as", "in lane of", "sharing lane with", "in same lane with"),
    OPPOSITE_SIDE: ("on opposite side of road from", "on opposite side of road as",
                    "on opposite side of road to", "on other side of road from"),
    SAME_SIDE: ("on same side of road as",),
    PERPENDICULAR: ("crossing path of", "cutting across path of", "perpendicular to"),
    OPPOSITE_DIR: tuple(f"{verb}in opposite direction {prep}"
                        for verb in ("", "heading ", "moving ")
                        for prep in ("of", "as", "to", "from")) + ("oncoming to",),
    SAME_DIR: ("in same direction as", "heading in same direction as",
               "moving in same direction as"),
    _overtaking("left"): ("overtaking", "passing", "overtaking on left", "passing on left"),
    _overtaking("right"): ("overtaking on right", "passing on right"),
}
CUT_IN = rel("cutting_in", "cutting_in")
YIELD = rel("yielding", "yielding")
PASS_BY = rel("passing", "overtaking", related_min_speed=0)
_REL_ACTIVE.update({
    CUT_IN: ("cutting in front of", "cutting off", "cutting in ahead of", "cuts in front of",
             "cut in front of", "cutting in on", "merging in front of", "cuts off"),
    YIELD: ("yielding to", "giving way to", "waiting for", "yielding for", "stopping for",
            "slowing for", "yields to", "gives way to"),
    PASS_BY: ("driving past", "going past", "speeding past", "moving past"),
})
_REL_PASSIVE = {  # "B <phrase> A"
    CROSSING: ("crossed by",),
    FOLLOWING: ("followed by",),
    HEADING: ("approached by",),
    _overtaking("left"): ("overtaken by", "passed by", "overtaken on left by",
                          "passed on left by"),
    _overtaking("right"): ("overtaken on right by", "passed on right by"),
    CUT_IN: ("cut off by", "cut in on by"),
    YIELD: ("yielded to by", "given way to by"),
}
_REL_PRONOUN = {  # after "with A": "B with A <phrase>" means "A <rel> B"
    FRONT: ("in front of it", "in front of them", "in front", "ahead", "ahead of it",
            "ahead of them"),
    BEHIND: ("behind it", "behind them"),
    LEFT: ("to its left", "to their left", "on its left", "on their left", "on left",
           "to left", "on its left side"),
    RIGHT: ("to its right", "to their right", "on its right", "on their right", "on right",
            "to right", "on its right side"),
    NEAR: ("nearby", "near it", "near them", "around it", "around them", "close by"),
    SAME_LANE: ("in its lane", "in their lane", "in same lane", "in its own lane"),
    FOLLOWING: ("following it", "following them"),
    CROSSING: ("crossing in front of it", "crossing in front of them", "crossing in front"),
}
RELATIONS = {p: (r, "active") for r, ps in _REL_ACTIVE.items() for p in ps}
RELATIONS.update({p: (r, "passive") for r, ps in _REL_PASSIVE.items() for p in ps})
RELATIONS.update({p: (r, "pronoun") for r, ps in _REL_PRONOUN.items() for p in ps})
WITHIN_DISTANCE = "within"  # "within N meters of B" -> near with distance_thresh=N
