"""The offline rules generator: prompts -> DSL programs that refer to the right objects."""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scenmine.generate.rules import RulesGenerator

REPO = Path(__file__).resolve().parents[2]
PARITY = REPO.parent / "shared" / "refav_parity"

# The DSL contract (shared/docs/scenario-dsl.md): function names and names in scope.
DSL_FUNCTIONS = {
    "get_objects_of_category", "is_category", "is_color", "within_camera_view", "turning",
    "changing_lanes", "has_lateral_acceleration", "accelerating", "has_velocity", "stationary",
    "at_pedestrian_crossing", "on_lane_type", "near_intersection", "on_intersection",
    "at_stop_sign", "in_drivable_area", "on_road", "has_objects_in_relative_direction",
    "get_objects_in_relative_direction", "facing_toward", "heading_toward", "being_crossed_by",
    "near_objects", "following", "heading_in_relative_direction_to", "in_same_lane",
    "on_relative_side_of_road", "scenario_and", "scenario_or", "scenario_not",
    "reverse_relationship", "output_scenario",
}
IN_SCOPE = DSL_FUNCTIONS | {"log_dir", "output_dir", "description", "np"}
COMBINATORS = {"get_objects_of_category", "scenario_and", "scenario_or", "scenario_not",
               "reverse_relationship", "output_scenario"}

EMBEDDED = {  # prompt -> categories of the referred object
    "vehicle turning left": {"VEHICLE"},
    "vehicle turning right": {"VEHICLE"},
    "vehicle changing lanes": {"VEHICLE"},
    "parked vehicle": {"VEHICLE"},
    "stopped vehicle at an intersection": {"VEHICLE"},
    "pedestrian crossing at a pedestrian crossing": {"PEDESTRIAN"},
    "jaywalking pedestrian": {"PEDESTRIAN"},
    "bus in a bus lane": {"BUS"},
    "bicycle in a bike lane": {"BICYCLE", "BICYCLIST"},
    "vehicle with a bicycle to its right": {"VEHICLE"},
    "ego vehicle following a vehicle": {"EGO_VEHICLE"},
    "accelerating vehicle": {"VEHICLE"},
    "vehicle near multiple pedestrians": {"VEHICLE"},
    "stopped car": {"REGULAR_VEHICLE"},
}
MORE = {  # relational phrasings, both directions of each relation
    "pedestrian in front of the ego vehicle": {"PEDESTRIAN"},
    "ego vehicle with a pedestrian in front of it": {"EGO_VEHICLE"},
    "bus being followed by a car": {"BUS"},
    "car following a bus": {"REGULAR_VEHICLE"},
    "group of pedestrians near the ego vehicle": {"PEDESTRIAN"},
    "ego vehicle near a group of pedestrians": {"EGO_VEHICLE"},
    "pedestrian crossing in front of vehicles": {"PEDESTRIAN"},
    "vehicle being crossed by a pedestrian": {"VEHICLE"},
    "motorcycle overtaking the ego vehicle": {"MOTORCYCLE"},
    "ego vehicle being overtaken on right by a semi": {"EGO_VEHICLE"},
    "the vehicle behind another vehicle being crossed by a jaywalking pedestrian": {"VEHICLE"},
    "truck to the left of the ego vehicle": {"TRUCK", "BOX_TRUCK", "TRUCK_CAB"},
    "vehicle within 5 meters of a cyclist": {"VEHICLE"},
    "car in the same lane as the ego vehicle behind a truck": {"REGULAR_VEHICLE"},
    "vehicle without a pedestrian in front of it": {"VEHICLE"},
    "vehicle heading in the opposite direction as the ego vehicle": {"VEHICLE"},
}
PHRASINGS = [  # other wordings that must parse (plurals, synonyms, units, negation)
    "cars", "semis near the ego vehicle", "people walking on the road", "bikes in bike lanes",
    "cyclist riding in a bike lane", "vehicle making a left turn", "left turning vehicle",
    "ego vehicle approaching a pedestrian crossing", "pedestrians crossing the road",
    "pedestrian standing on the sidewalk", "car going slower than 20 mph",
    "vehicle faster than 30 km/h", "truck braking", "bus decelerating", "pedestrian not on a crosswalk",
    "vehicle not turning", "vehicle changing lanes to the left", "red car",
    "motorcycle on the opposite side of the road from the ego vehicle",
    "construction cone in the road", "vehicle stopped at a stop sign", "Stopped  Car.",
]
REFERENCE = json.loads((PARITY / "programs.json").read_text()) if PARITY.is_dir() else []


@pytest.fixture(scope="module")
def gen() -> RulesGenerator:
    return RulesGenerator()


def _check_program(program: str, prompt: str) -> ast.Module:
    tree = ast.parse(program)
    assigned = {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
                for t in node.targets if isinstance(t, ast.Name)}
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert names <= IN_SCOPE | assigned, names - IN_SCOPE - assigned
    called = {n.func.id for n in ast.walk(tree)
              if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert called <= DSL_FUNCTIONS, called - DSL_FUNCTIONS
    assert not any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(tree))
    first, last = tree.body[0], tree.body[-1]
    assert ast.unparse(first) == f"description = {prompt.strip()!r}"
    assert ast.unparse(last).startswith("output_scenario(")
    assert ast.unparse(last).endswith(", description, log_dir, output_dir)")
    return tree


class _Sym(dict):
    """A symbolic scenario: which categories are referred, and which are related."""


def _symbolic_namespace(captured: list) -> dict:
    """DSL stand-ins that track only which objects end up referred."""
    def sym(cats, related=frozenset()):
        return _Sym(cats=frozenset(cats), related=frozenset(related))

    def unary(x, log_dir, *a, **k):
        return x

    def relational(x, y, log_dir, *a, **k):
        return sym(x["cats"], x["related"] | y["cats"])

    def combine(items):
        assert len({s["cats"] for s in items}) == 1, "combined scenarios refer to different objects"
        return sym(items[0]["cats"], frozenset().union(*(s["related"] for s in items)))

    def reverse(func):
        return lambda x, y, log_dir, *a, **k: sym(y["cats"], x["cats"])

    ns = {name: unary for name in DSL_FUNCTIONS}
    ns.update({name: relational for name in (
        "has_objects_in_relative_direction", "facing_toward", "heading_toward",
        "being_crossed_by", "near_objects", "following", "heading_in_relative_direction_to",
        "in_same_lane", "on_relative_side_of_road")})
    ns.update(
        get_objects_of_category=lambda log_dir, category: sym({category}),
        is_category=lambda x, log_dir, category: sym({category}, x["related"]),
        get_objects_in_relative_direction=reverse(None), reverse_relationship=reverse,
        scenario_and=combine, scenario_or=lambda items: sym(
            frozenset().union(*(s["cats"] for s in items)),
            frozenset().union(*(s["related"] for s in items))),
        scenario_not=lambda func: func,
        output_scenario=lambda s, d, l, o, **k: captured.append(s),
        log_dir="LOG", output_dir="OUT", np=None)
    return ns


def _referred(program: str) -> set:
    captured: list = []
    exec(compile(program, "<rules>", "exec"), _symbolic_namespace(captured))  # noqa: S102
    assert len(captured) == 1
    return set(captured[0]["cats"])


ALL_PROMPTS = list(EMBEDDED) + list(MORE) + PHRASINGS + [p["description"] for p in REFERENCE]


@pytest.mark.parametrize("prompt", ALL_PROMPTS)
def test_prompt_gives_a_valid_dsl_program(gen, prompt):
    g = gen.generate(prompt)
    assert g.ok, g.error
    _check_program(g.program, prompt)
    from scenmine.execute.sandbox import check_program
    check_program(g.program)


@pytest.mark.parametrize("prompt,categories", list({**EMBEDDED, **MORE}.items()))
def test_referred_object_is_the_first_mentioned(gen, prompt, categories):
    assert _referred(gen.generate(prompt).program) == categories


@pytest.mark.skipif(not REFERENCE, reason=f"reference programs not found in {PARITY}")
@pytest.mark.parametrize("ref", REFERENCE, ids=lambda r: r["id"])
def test_reference_descriptions_use_the_reference_functions(gen, ref):
    """Same key DSL functions as the human-written program (helpers for "moving" aside)."""
    def calls(code):
        return {n.func.id for n in ast.walk(ast.parse(code))
                if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    g = gen.generate(ref["description"])
    assert g.ok, g.error
    helpers = COMBINATORS | {"stationary", "has_velocity", "in_drivable_area", "is_category"}
    assert calls(ref["code"]) - helpers <= calls(g.program)
    assert _referred(g.program) == _referred(ref["code"].replace("”ANY)", '"ANY")'))


@pytest.mark.parametrize("prompt,fragment", [
    ("", "empty"), ("   ", "empty"), ("\u98de\u673a", "no English words"),
    ("blorp the zoink", "'blorp'"), ("vehicle near", "expected an object after 'near'"),
    ("vehicle 10 m/s", "10 mps"), ("not jaywalking pedestrian", "cannot negate"),
    ("### $$$ !!!", "no English words"), ("x" * 5000, None),
    ("vehicle turning left; import os", "'os'"),
])
def test_unparseable_prompts_give_a_clear_error(gen, prompt, fragment):
    g = gen.generate(prompt)
    assert g.program is None and not g.ok
    assert g.error.startswith("cannot parse: ")
    if fragment:
        assert fragment in g.error


def test_non_text_prompt_is_an_error_not_an_exception(gen):
    g = gen.generate(None)  # type: ignore[arg-type]
    assert g.program is None and g.error.startswith("cannot parse: ")


def test_deterministic_across_instances_and_hash_seeds(gen):
    prompts = ALL_PROMPTS
    first = [gen.generate(p).program for p in prompts]
    assert first == [RulesGenerator().generate(p).program for p in prompts]
    code = ("import json, sys; from scenmine.generate.rules import RulesGenerator; "
            "g = RulesGenerator(); "
            "print(json.dumps([g.generate(p).program for p in json.load(sys.stdin)]))")
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code], input=json.dumps(prompts), env=env,
                         capture_output=True, text=True, check=True, cwd=REPO)
    assert json.loads(out.stdout) == first


def test_options_change_thresholds():
    assert "scenario_not(stationary)(" in RulesGenerator().generate("moving vehicle").program
    g = RulesGenerator(moving_min_velocity=1.5, accelerating_min_accel=2.5)
    assert "has_velocity(vehicles, log_dir, min_velocity=1.5)" in g.generate("moving vehicle").program
    assert "min_accel=2.5" in g.generate("accelerating bus").program
    with pytest.raises(ValueError, match="unknown rules options"):
        RulesGenerator(no_such_option=1)


def test_conf_instantiates_the_generator():
    from hydra.utils import instantiate
    from omegaconf import OmegaConf
    gen = instantiate(OmegaConf.load(REPO / "conf" / "llm" / "rules.yaml"))
    assert isinstance(gen, RulesGenerator) and gen.name == "rules"
    assert gen.generate("parked vehicle").ok


def _dsl_or_skip():
    try:
        from scenmine import dsl
        from scenmine.dsl.output import capture  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"scenmine.dsl not available yet ({exc})")
    if not hasattr(dsl, "NAMESPACE"):
        pytest.skip("scenmine.dsl has no NAMESPACE yet")
    return dsl


@pytest.mark.skipif(not REFERENCE, reason=f"reference programs not found in {PARITY}")
@pytest.mark.parametrize("ref", REFERENCE, ids=lambda r: r["id"])
def test_reference_descriptions_execute_on_a_real_log(gen, real_log, tmp_path, ref):
    dsl = _dsl_or_skip()
    from scenmine.dsl.output import capture
    g = gen.generate(ref["description"])
    tree = _check_program(g.program, ref["description"])
    called = {n.func.id for n in ast.walk(tree)
              if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert called <= set(dsl.NAMESPACE), called - set(dsl.NAMESPACE)
    ns = {**dsl.NAMESPACE, "log_dir": real_log, "output_dir": tmp_path,
          "description": ref["description"]}
    with capture() as records:
        exec(compile(g.program, "<rules>", "exec"), ns)  # noqa: S102
    assert len(records) == 1 and records[0][0] == ref["description"]
    assert isinstance(records[0][1], dict)


def test_stopped_at_an_intersection_means_waiting_near_it(gen):
    program = gen.generate("stopped vehicle at an intersection").program
    assert "near_intersection(" in program and "stationary(" not in program
    assert "stationary(" in gen.generate("stopped car").program  # parked cars count as stopped
    assert "on_intersection(" in gen.generate("vehicle turning left at an intersection").program
