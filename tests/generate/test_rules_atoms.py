"""The rules generator's phrases for the atoms beyond RefAV's (dsl.map_context, dsl.behaviour)."""
from __future__ import annotations

import ast

import pytest

from scenmine.generate.rules import RulesGenerator

PHRASES = {  # prompt -> (atom the program must call, referred category)
    "vehicle making a u-turn": ("making_u_turn", "VEHICLE"),
    "car doing a three-point turn": ("making_three_point_turn", "REGULAR_VEHICLE"),
    "truck backing up": ("reversing", "TRUCK"),
    "vehicle parallel parking": ("parking", "VEHICLE"),
    "car pulling out of a parking space": ("pulling_out", "REGULAR_VEHICLE"),
    "bus cutting in front of the ego vehicle": ("cutting_in", "BUS"),
    "ego vehicle cut off by a car": ("cutting_in", "EGO_VEHICLE"),
    "car yielding to a pedestrian": ("yielding", "REGULAR_VEHICLE"),
    "vehicle running a stop sign": ("running_stop_sign", "VEHICLE"),
    "pedestrian crossing the street mid block": ("jaywalking", "PEDESTRIAN"),
    "pedestrian standing on the median": ("on_median", "PEDESTRIAN"),
    "car on a one-way street": ("on_one_way_road", "REGULAR_VEHICLE"),
    "vehicle in the rightmost lane": ("in_lane_number", "VEHICLE"),
    "car on a four-lane road": ("on_road_with_lanes", "REGULAR_VEHICLE"),
    "the second car in front of the ego vehicle": ("nth_object_in_direction",
                                                   "REGULAR_VEHICLE"),
    "pedestrian near a bike lane": ("near_infrastructure", "PEDESTRIAN"),
    "vehicle near a construction zone": ("near_infrastructure", "VEHICLE"),
    "ego vehicle driving past a parked truck": ("overtaking", "EGO_VEHICLE"),
}


def _calls(program: str) -> dict:
    return {n.func.id: n for n in ast.walk(ast.parse(program))
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}


@pytest.mark.parametrize("prompt", list(PHRASES))
def test_phrase_maps_to_its_atom_and_passes_the_static_check(prompt):
    from scenmine.execute.sandbox import check_program

    g = RulesGenerator().generate(prompt)
    assert g.ok, g.error
    atom, category = PHRASES[prompt]
    assert atom in {n.id for n in ast.walk(ast.parse(g.program)) if isinstance(n, ast.Name)}
    assert f"category={category!r}" in g.program.splitlines()[1]
    check_program(g.program)


def test_ordinal_picks_the_nth_object_with_the_atoms_reach():
    program = RulesGenerator().generate("the third vehicle behind the ego vehicle").program
    call = _calls(program)["nth_object_in_direction"]
    kw = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    assert kw["n"] == 3 and kw["direction"] == "backward" and "within_distance" not in kw
    assert [a.id for a in call.args[:2]] == ["ego_vehicle", "vehicles"]


@pytest.mark.parametrize("prompt,fragment", [
    ("second vehicle", "needs a direction"),
    ("vehicle running a red light", "'light'"),   # no traffic lights in Argoverse 2
])
def test_inexpressible_prompts_are_refused(prompt, fragment):
    g = RulesGenerator().generate(prompt)
    assert not g.ok and fragment in g.error


def test_generated_programs_run_on_a_real_log(real_log):
    from scenmine.bench.dsl import run_program

    gen = RulesGenerator()
    for prompt in PHRASES:
        res = run_program(gen.generate(prompt).program, real_log)
        assert res["error"] is None, (prompt, res["error"])


def test_static_review_knows_the_new_atoms():
    from scenmine.review.static import review

    prompt = "the second car in front of the ego vehicle"
    codes = {f.code for f in review(prompt, RulesGenerator().generate(prompt).program).findings}
    assert "referred-object" not in codes and "unknown-function" not in codes
    bad = ("cars = get_objects_of_category(log_dir, category='REGULAR_VEHICLE')\n"
           "x = in_lane_number(cars, log_dir, number=1, counted_from='left')\n"
           "output_scenario(x, description, log_dir, output_dir)\n")
    r = review("car in the leftmost lane", bad)
    assert "counted_from='center'" in r.program
    assert any(f.code == "invalid-value" and f.fixed for f in r.findings)
