"""The mini dataset's prompts and their canonical RefAV-style programs."""
from __future__ import annotations

_VEH = "vehicles = get_objects_of_category(log_dir, category='VEHICLE')\n"
_PED = "peds = get_objects_of_category(log_dir, category='PEDESTRIAN')\n"
_OUT = "output_scenario({}, description, log_dir, output_dir)\n"

# (truth key, prompt, program body between the description line and output_scenario)
_SPECS = [
    ("turn_left", "vehicle turning left", _VEH +
     "result = turning(vehicles, log_dir, direction='left')\n"),
    ("turn_right", "vehicle turning right", _VEH +
     "result = turning(vehicles, log_dir, direction='right')\n"),
    ("lane_change", "vehicle changing lanes", _VEH +
     "result = changing_lanes(vehicles, log_dir)\n"),
    ("parked", "parked vehicle", _VEH +
     "result = stationary(vehicles, log_dir)\n"),
    ("stopped_intersection", "stopped vehicle at an intersection", _VEH +
     "stopped = has_velocity(vehicles, log_dir, min_velocity=0, max_velocity=0.5)\n"
     "result = near_intersection(stopped, log_dir, threshold=5)\n"),
    ("ped_crossing", "pedestrian crossing at a pedestrian crossing", _PED +
     "moving_peds = has_velocity(peds, log_dir, min_velocity=0.5)\n"
     "result = at_pedestrian_crossing(moving_peds, log_dir, within_distance=1)\n"),
    ("jaywalk", "jaywalking pedestrian", _PED +
     "peds_on_road = on_road(peds, log_dir)\n"
     "result = scenario_not(at_pedestrian_crossing)(peds_on_road, log_dir)\n"),
    ("bus_lane", "bus in a bus lane",
     "buses = get_objects_of_category(log_dir, category='BUS')\n"
     "result = on_lane_type(buses, log_dir, lane_type='BUS')\n"),
    ("bike_lane", "bicycle in a bike lane",
     "bicycles = scenario_or([get_objects_of_category(log_dir, category='BICYCLE'),\n"
     "                        get_objects_of_category(log_dir, category='BICYCLIST')])\n"
     "result = on_lane_type(bicycles, log_dir, lane_type='BIKE')\n"),
    ("bike_right", "vehicle with a bicycle to its right", _VEH +
     "bicycles = get_objects_of_category(log_dir, category='BICYCLE')\n"
     "result = has_objects_in_relative_direction(vehicles, bicycles, log_dir, direction='right',\n"
     "                                           min_number=1, within_distance=10)\n"),
    ("follow", "ego vehicle following a vehicle",
     "ego = get_objects_of_category(log_dir, category='EGO_VEHICLE')\n" + _VEH +
     "result = following(ego, vehicles, log_dir)\n"),
    ("accelerating", "accelerating vehicle", _VEH +
     "result = accelerating(vehicles, log_dir, min_accel=1.0)\n"),
    ("near_peds", "vehicle near multiple pedestrians", _VEH + _PED +
     "result = near_objects(vehicles, peds, log_dir, distance_thresh=5, min_objects=2)\n"),
]


def program(prompt: str, body: str) -> str:
    return f"description = {prompt!r}\n{body}{_OUT.format('result')}"


PROMPTS: list[dict] = [{"key": k, "prompt": p, "program": program(p, b)} for k, p, b in _SPECS]
KEY_OF = {d["prompt"]: d["key"] for d in PROMPTS}
