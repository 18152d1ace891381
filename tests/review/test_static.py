"""Each static check on a program that triggers it and on one that does not."""
from __future__ import annotations

import pytest

from scenmine.review.contract import prompt_subject
from scenmine.review.static import review


def prog(*lines: str, output: str | None = "result") -> str:
    body = "\n".join(("description = 'p'",) + lines)
    if output:
        body += f"\noutput_scenario({output}, description, log_dir, output_dir)"
    return body + "\n"


VEH = "vehicles = get_objects_of_category(log_dir, category='VEHICLE')"
ROAD = "result = in_drivable_area(moving, log_dir)"
CLEAN = prog(VEH, "moving = has_velocity(vehicles, log_dir, min_velocity=1)", ROAD)


def codes(prompt: str, program: str, autofix=()) -> list[str]:
    return [f.code for f in review(prompt, program, autofix).findings]


def test_clean_program_has_no_findings():
    r = review("moving vehicle", CLEAN)
    assert r.findings == [] and not r.changed


def test_rejected():
    assert codes("x", "import os\n") == ["rejected"]
    assert "rejected" not in codes("moving vehicle", CLEAN)


def test_unknown_function_is_fixed_to_the_closest():
    bad = CLEAN.replace("has_velocity(", "has_velocty(")
    r = review("moving vehicle", bad)
    (f,) = r.findings
    assert f.code == "unknown-function" and "has_velocity" in f.message and f.fixed
    assert r.program == CLEAN
    assert codes("moving vehicle", CLEAN.replace("has_velocity(", "zzz_frobnicate(")) == [
        "unknown-function"]  # nothing close: reported, not fixed
    # wrapped functions are checked too
    assert codes("p", prog(VEH, "result = scenario_not(stationry)(vehicles, log_dir)",
                           output="result")) [0] == "unknown-function"


def test_unknown_argument_is_fixed():
    bad = CLEAN.replace("min_velocity=1", "min_speed=1")
    r = review("moving vehicle", bad)
    assert [f.code for f in r.findings] == ["unknown-argument"] and r.findings[0].fixed
    assert "min_velocity" in r.findings[0].message and r.program == CLEAN
    # a wrapped call takes the wrapped function's parameters
    ok = prog(VEH, "result = scenario_not(has_velocity)(vehicles, log_dir, min_velocity=1)")
    assert "unknown-argument" not in codes("p", ok)


def test_missing_argument():
    bad = CLEAN.replace("has_velocity(vehicles, log_dir, ", "has_velocity(vehicles, ")
    r = review("moving vehicle", bad, ["missing-argument"])
    assert r.findings[0].code == "missing-argument" and r.findings[0].fixed
    assert "log_dir=log_dir" in r.program and review("moving vehicle", r.program).findings == []
    assert codes("p", prog(VEH, "result = on_lane_type(vehicles, log_dir)")) == ["missing-argument"]


@pytest.mark.parametrize("call, fixed", [
    ("get_objects_of_category(log_dir, category='vehicles')", "category='VEHICLE'"),
    ("get_objects_of_category(log_dir, category='car')", "category='REGULAR_VEHICLE'"),
    ("has_objects_in_relative_direction(vehicles, vehicles, log_dir, direction='front')",
     "direction='forward'"),
    ("turning(vehicles, log_dir, direction='Left')", "direction='left'"),
    ("on_lane_type(vehicles, log_dir, lane_type='bike')", "lane_type='BIKE'"),
    ("heading_in_relative_direction_to(vehicles, vehicles, log_dir, direction='parallel')",
     "direction='same'"),
])
def test_invalid_values_are_fixed(call, fixed):
    r = review("p", prog(VEH, f"result = {call}"))
    assert [f.code for f in r.findings if f.code == "invalid-value"] == ["invalid-value"]
    assert fixed in r.program and all(f.fixed for f in r.findings if f.code == "invalid-value")
    assert "invalid-value" not in codes("p", prog(VEH, f"result = {call}").replace(
        call.split("=")[-1].rstrip(")"), fixed.split("=")[-1]))


def test_invalid_value_without_a_close_match():
    r = review("p", prog(VEH, "result = on_lane_type(vehicles, log_dir, lane_type='HOV')"))
    assert r.findings[0].code == "invalid-value" and not r.findings[0].fixed


def test_unused_result():
    program = prog(VEH, "moving = has_velocity(vehicles, log_dir)",
                   "turns = turning(vehicles, log_dir)", "result = in_drivable_area(moving, log_dir)")
    found = review("moving vehicle", program).findings
    assert [(f.code, "turns" in f.message) for f in found] == [("unused-result", True)]
    assert "unused-result" not in codes("moving vehicle", CLEAN)


def test_no_output_is_fixed_by_outputting_the_last_result():
    program = prog(VEH, "moving = has_velocity(vehicles, log_dir)", ROAD, output=None)
    r = review("moving vehicle", program)
    assert [f.code for f in r.findings] == ["no-output"] and r.findings[0].fixed
    assert r.program.endswith("output_scenario(result, description, log_dir, output_dir)\n")
    assert "no-output" not in codes("moving vehicle", CLEAN)


PAIR = ["bikes = get_objects_of_category(log_dir, category='BICYCLE')"]


def test_referred_object_must_be_the_first_mentioned():
    prompt = "vehicle with a bicycle to its right"
    wrong = prog(VEH, *PAIR, "rel = has_objects_in_relative_direction(bikes, vehicles, log_dir, "
                 "direction='left')", "result = in_drivable_area(rel, log_dir)")
    assert "referred-object" in codes(prompt, wrong)
    right = prog(VEH, *PAIR, "rel = has_objects_in_relative_direction(vehicles, bikes, log_dir, "
                 "direction='right')", "result = in_drivable_area(rel, log_dir)")
    assert "referred-object" not in codes(prompt, right)
    # get_objects_in_relative_direction and reverse_relationship refer the related objects
    rev = prog(VEH, *PAIR, "result = get_objects_in_relative_direction(bikes, vehicles, "
               "log_dir, direction='left')", "result = in_drivable_area(result, log_dir)")
    assert "referred-object" not in codes(prompt, rev)
    rev2 = prog(VEH, *PAIR, "result = reverse_relationship(near_objects)(vehicles, bikes, log_dir)")
    assert "referred-object" in codes(prompt, rev2)


def test_prompt_subject():
    assert prompt_subject("vehicle with a bicycle to its right")[0] == "vehicle"
    assert prompt_subject("group of pedestrians near a bus")[0] == "pedestrians"
    assert prompt_subject("the ego vehicle approaching a cone")[0] == "ego vehicle"
    assert prompt_subject("vehicle in a bus lane")[0] == "vehicle"
    assert prompt_subject("turning left at a stop sign") is None


def test_missing_road_constraint():
    bare = prog(VEH, "result = has_velocity(vehicles, log_dir)")
    r = review("moving vehicle", bare, ["missing-road-constraint"])
    assert [f.code for f in r.findings] == ["missing-road-constraint"] and r.findings[0].fixed
    assert "output_scenario(in_drivable_area(result, log_dir)" in r.program
    assert codes("moving vehicle", bare) == ["missing-road-constraint"]  # not fixed by default
    assert codes("moving vehicle", CLEAN) == []
    peds = prog("result = get_objects_of_category(log_dir, category='PEDESTRIAN')")
    assert codes("pedestrian", peds) == []
    ego = prog("result = get_objects_of_category(log_dir, category='EGO_VEHICLE')")
    assert codes("ego vehicle", ego) == []


@pytest.mark.parametrize("args", ["min_velocity=100", "min_velocity=-1",
                                  "min_velocity=5, max_velocity=2"])
def test_threshold_range_speed(args):
    program = CLEAN.replace("min_velocity=1", args)
    assert "threshold-range" in codes("moving vehicle", program)


def test_threshold_range_angles_and_distances():
    base = "rel = facing_toward(vehicles, vehicles, log_dir, within_angle={a}, max_distance={d})"
    for a, d, flagged in [(30, 20, False), (1.5708, 20, True), (270, 20, True),
                          (30, -5, True), (30, "np.inf", False)]:
        program = prog(VEH, base.format(a=a, d=d), "result = in_drivable_area(rel, log_dir)")
        assert ("threshold-range" in codes("vehicle facing a vehicle", program)) == flagged, (a, d)
    assert "threshold-range" not in codes("moving vehicle", CLEAN)


def test_unicode_program_is_fixed_at_the_right_place():
    program = CLEAN.replace("'p'", "'véhicule — moving'").replace("min_velocity", "min_velocty")
    r = review("moving vehicle", program)
    assert "min_velocity=1" in r.program and "véhicule" in r.program
