"""The mini dataset's prompts and their canonical RefAV-style programs."""
from __future__ import annotations

_VEH = "vehicles = get_objects_of_category(log_dir, category='VEHICLE')"
_PED = "peds = get_objects_of_category(log_dir, category='PEDESTRIAN')"
_BIKES = "bicycles = get_objects_of_category(log_dir, category='BICYCLE')"

# (truth key, prompt, program lines between the description line and output_scenario)
_SPECS = [
    ("turn_left", "vehicle turning left",
     [_VEH, "result = turning(vehicles, log_dir, direction='left')"]),
    ("turn_right", "vehicle turning right",
     [_VEH, "result = turning(vehicles, log_dir, direction='right')"]),
    ("lane_change", "vehicle changing lanes",
     [_VEH, "result = changing_lanes(vehicles, log_dir)"]),
    ("parked", "parked vehicle",
     [_VEH, "result = stationary(vehicles, log_dir)"]),
    ("stopped_intersection", "stopped vehicle at an intersection",
     [_VEH, "stopped = has_velocity(vehicles, log_dir, min_velocity=0, max_velocity=0.5)",
      "result = near_intersection(stopped, log_dir, threshold=5)"]),
    ("ped_crossing", "pedestrian crossing at a pedestrian crossing",
     [_PED, "moving_peds = has_velocity(peds, log_dir, min_velocity=0.5)",
      "result = at_pedestrian_crossing(moving_peds, log_dir, within_distance=1)"]),
    ("jaywalk", "jaywalking pedestrian",
     [_PED, "peds_on_road = on_road(peds, log_dir)",
      "result = scenario_not(at_pedestrian_crossing)(peds_on_road, log_dir)"]),
    ("bus_lane", "bus in a bus lane",
     ["buses = get_objects_of_category(log_dir, category='BUS')",
      "result = on_lane_type(buses, log_dir, lane_type='BUS')"]),
    ("bike_lane", "bicycle in a bike lane",
     ["bicycles = scenario_or([get_objects_of_category(log_dir, category='BICYCLE'),",
      "                        get_objects_of_category(log_dir, category='BICYCLIST')])",
      "result = on_lane_type(bicycles, log_dir, lane_type='BIKE')"]),
    ("bike_right", "vehicle with a bicycle to its right",
     [_VEH, _BIKES,
      "result = has_objects_in_relative_direction(vehicles, bicycles, log_dir, direction='right',",
      "                                           min_number=1, within_distance=10)"]),
    ("follow", "ego vehicle following a vehicle",
     ["ego = get_objects_of_category(log_dir, category='EGO_VEHICLE')", _VEH,
      "result = following(ego, vehicles, log_dir)"]),
    ("accelerating", "accelerating vehicle",
     [_VEH, "result = accelerating(vehicles, log_dir, min_accel=1.0)"]),
    ("near_peds", "vehicle near multiple pedestrians",
     [_VEH, _PED,
      "result = near_objects(vehicles, peds, log_dir, distance_thresh=5, min_objects=2)"]),
]


def program(prompt: str, lines: list[str]) -> str:
    body = "\n".join([f"description = {prompt!r}", *lines,
                      "output_scenario(result, description, log_dir, output_dir)"])
    return body + "\n"


PROMPTS: list[dict] = [{"key": k, "prompt": p, "program": program(p, lines)}
                       for k, p, lines in _SPECS]
KEY_OF = {d["prompt"]: d["key"] for d in PROMPTS}
