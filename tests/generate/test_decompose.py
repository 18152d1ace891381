"""The decompose strategy (decomposer -> selector -> coder) against the fake OpenAI server,
with scripted answers, including malformed JSON at each step."""
from __future__ import annotations

import json

import fake_openai_server as fo
import pytest
from conftest import GOOD

from scenmine.generate.backends.openai import OpenAIBackend
from scenmine.generate.base import Example
from scenmine.generate.strategies.decompose import (
    examples_using,
    parse_decomposition,
    parse_selection,
)
from scenmine.generate.structured import BadAnswer, find_json

FAST = {"backoff_s": 0.001, "backoff_max_s": 0.01, "max_retries": 1}
PARTS = {"subject": "moving bus", "category": "BUS", "constraints": ["moving"], "context": []}
PICK = {"moving bus": ["get_objects_of_category"], "moving": ["Has_Velocity()"]}
MOVING = ("b = get_objects_of_category(log_dir, category='BUS')\n"
          "m = has_velocity(b, log_dir, min_velocity=1.0)\n"
          "output_scenario(m, description, log_dir, output_dir)\n")


def backend(srv):
    return OpenAIBackend("qwen", base_url=srv.url + "/v1", **FAST)


def js(obj, wrap="Sure:\n```json\n{}\n```"):
    return fo.text(wrap.format(json.dumps(obj)))


def test_three_steps_coder_sees_only_selected_atoms(make_generator):
    shots = [Example("crossing pedestrian", "x = being_crossed_by(a, b, log_dir)\n"),
             Example("fast bus", "y = has_velocity(b, log_dir, min_velocity=5)\n")]
    script = [js(PARTS), js(PICK), fo.text(f"```python\n{MOVING}```")]
    with fo.serve(script) as srv:
        gen = make_generator(backend(srv), strategy="decompose", fewshot_k=1) \
            .generate("moving bus", shots)
    assert gen.ok and gen.program == MOVING
    assert gen.usage["calls"] == 3 and gen.usage["selected_atoms"] >= 2
    coder = srv.requests[2]["body"]["messages"]
    system, user = coder[0]["content"], coder[1]["content"]
    assert "has_velocity(track_candidates" in system
    assert "being_crossed_by(" not in system  # not selected: not documented to the coder
    assert "fast bus" in system and "crossing pedestrian" not in system  # examples filtered
    assert '"subject": "moving bus"' in user
    steps = [t["step"] for t in gen.transcript if t.get("role") == "step"]
    assert steps == ["decompose", "select"]


def test_malformed_decomposition_is_reasked_once_then_succeeds(make_generator):
    script = [fo.text("{subject: moving bus"), js(PARTS), js(PICK), fo.text(f"```python\n{GOOD}```")]
    with fo.serve(script) as srv:
        gen = make_generator(backend(srv), strategy="decompose").generate("moving bus")
    assert gen.ok and gen.usage["calls"] == 4 and not gen.usage.get("fallbacks")
    assert "not usable" in srv.requests[1]["body"]["messages"][-1]["content"]


@pytest.mark.parametrize("step", ["decompose", "select"])
def test_step_failing_twice_falls_back_to_the_agent(make_generator, step):
    bad = [fo.text("no json here"), fo.text("[1, 2")]
    if step == "decompose":
        script = bad
    else:
        script = [js(PARTS), js({"moving": ["not_a_function"]}), js({"x": ["nope"]})]
    script.append(fo.text(f"```python\n{GOOD}```"))  # the agent's first turn answers in text
    with fo.serve(script) as srv:
        gen = make_generator(backend(srv), strategy="decompose").generate("moving bus")
    assert gen.ok and gen.program == GOOD
    assert gen.usage["fallbacks"] == 1 and gen.usage["fallback_reason"].startswith(step)
    assert "tools" in srv.requests[-1]["body"]  # the fallback is the tool-using agent


def test_parsers_validate_shapes():
    cats = ["BUS", "PEDESTRIAN"]
    d = parse_decomposition('{"subject": {"description": "bus", "category": "bus"}, '
                            '"constraints": "moving"}', cats)
    assert d.category == "BUS" and d.constraints == ["moving"] and d.context == []
    assert parse_decomposition('{"subject": "x", "category": "SPACESHIP"}', cats).category is None
    for bad in ['{"subject": ""}', '{"subject": 3}', '{"subject": "x", "constraints": [1]}',
                "nothing"]:
        with pytest.raises(BadAnswer):
            parse_decomposition(bad, cats)
    index = {"has_velocity": "", "near_objects": ""}
    sel = parse_selection('{"atoms": {"a": ["`HAS_VELOCITY`", "ghost"], "b": "near_objects"}}',
                          index)
    assert sel == {"a": ["has_velocity"], "b": ["near_objects"]}
    with pytest.raises(BadAnswer, match="no known DSL function"):
        parse_selection('{"a": ["ghost"]}', index)
    assert find_json("text [1] then {\"a\": 1}", dict) == {"a": 1}


def test_examples_filtered_to_selected_atoms():
    exs = [Example("a", "x = foo(1)"), Example("b", "y = has_velocity(t, log_dir)"),
           Example("c", "z = near_objects(t, r, log_dir)\nw = has_velocity(t, log_dir)")]
    picked = examples_using(exs, ["has_velocity", "near_objects", "scenario_and"], 2)
    assert [e.prompt for e in picked] == ["c", "b"]
    assert [e.prompt for e in examples_using(exs, ["ghost"], 2)] == ["a", "b"]
