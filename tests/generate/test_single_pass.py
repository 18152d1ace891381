"""The single-pass strategy: error retries, execution feedback, recorded failures."""
from __future__ import annotations

import fake_openai_server as fo
import pytest
from conftest import GOOD

from scenmine.generate.backends import BackendError
from scenmine.generate.backends.openai import OpenAIBackend
from scenmine.generate.base import Example

FAST = {"backoff_s": 0.001, "backoff_max_s": 0.01, "max_retries": 1}
BAD = "x = boom(log_dir)\noutput_scenario(x, description, log_dir, output_dir)\n"
REVISED = ("vehicles = get_objects_of_category(log_dir, category='VEHICLE')\n"
           "moving = has_velocity(vehicles, log_dir, min_velocity=1.0)\n"
           "output_scenario(moving, description, log_dir, output_dir)\n")


def backend(srv):
    return OpenAIBackend("qwen", base_url=srv.url + "/v1", **FAST)


def fence(code):
    return f"Here:\n```python\n{code}```"


def test_system_prompt_has_reference_and_similar_examples(make_generator):
    shots = [Example("pedestrian near a bus", "p = 1\n"),
             Example("moving bus on the road", "b = 2\n")]
    with fo.serve([fo.text(fence(GOOD))]) as srv:
        gen = make_generator(backend(srv), fewshot_k=1).generate("moving bus", shots)
    system = srv.requests[0]["body"]["messages"][0]["content"]
    assert "has_velocity(track_candidates, log_dir, min_velocity=0.5, max_velocity=np.inf)" \
        in system and "## Relational functions" in system
    assert "moving bus on the road" in system and "pedestrian near a bus" not in system
    assert gen.ok and gen.program == GOOD and gen.usage["calls"] == 1


def test_runtime_error_is_sent_back_and_fixed(make_generator):
    with fo.serve([fo.text(fence(BAD)), fo.text(fence(GOOD))]) as srv:
        gen = make_generator(backend(srv), max_error_retries=2).generate("vehicles")
    assert gen.ok and gen.usage["error_retries"] == 1
    retry = srv.requests[1]["body"]["messages"][-1]["content"]
    assert "runtime error on training log log_a" in retry and "NameError" in retry


def test_no_code_is_a_recorded_failure_and_the_run_goes_on(make_generator):
    script = [fo.text("I'm not sure."), fo.text("Still no idea."), fo.text(fence(GOOD))]
    with fo.serve(script) as srv:
        gens = make_generator(backend(srv), max_error_retries=1, concurrency=1) \
            .generate_many(["weird prompt", "vehicles"])
    assert gens[0].program is None and gens[0].reason == "no_code"
    assert gens[0].error.startswith("no code in answer: Still no idea")
    assert gens[1].ok


def test_execution_feedback_lets_the_model_revise(make_generator):
    with fo.serve([fo.text(fence(GOOD)), fo.text(fence(REVISED))]) as srv:
        gen = make_generator(backend(srv), execution_feedback=3).generate("moving vehicles")
    feedback = srv.requests[1]["body"]["messages"][-1]["content"]
    assert "ran your program on 3 training logs" in feedback
    assert 'log log_a: 3 referred tracks {"REGULAR_VEHICLE": 1, "BUS": 1, "PEDESTRIAN": 1}' \
        in feedback and "log_empty: ran fine, found NOTHING" in feedback
    assert "present in 50% of the log's timestamps" in feedback
    assert gen.program == REVISED and gen.usage["feedback_rounds"] == 1


def test_invalid_revision_keeps_the_checked_program(make_generator):
    with fo.serve([fo.text(fence(GOOD)), fo.text(fence(BAD))]) as srv:
        gen = make_generator(backend(srv), execution_feedback=1).generate("vehicles")
    assert gen.program == GOOD


def test_backend_failure_is_recorded_fatal_raises(make_generator):
    with fo.serve([fo.error(500)] * 2 + [fo.malformed()]) as srv:
        gens = make_generator(backend(srv), concurrency=1).generate_many(["a", "b"])
    assert [g.reason for g in gens] == ["backend_server_error", "backend_malformed"]
    dead = OpenAIBackend("m", base_url="http://127.0.0.1:9/v1", **FAST)
    with pytest.raises(BackendError, match="llm.base_url"):
        make_generator(dead).generate("a")


def test_concurrent_generation_keeps_order(make_generator):
    def answer(path, body):
        prompt = body["messages"][-1]["content"]
        return fo.text(fence(GOOD.replace("VEHICLE", "BUS" if "bus" in prompt else "VEHICLE")))
    with fo.serve(answer) as srv:
        gens = make_generator(backend(srv), concurrency=3, check_on_log=False) \
            .generate_many(["a bus", "a car", "another bus"])
    assert ["BUS" in g.program for g in gens] == [True, False, True]


def test_accounting_summary_counts_failures_by_reason(make_generator):
    from scenmine.generate.accounting import transcripts_json, usage_summary
    script = [fo.text("no idea"), fo.text(fence(GOOD), prompt_tokens=5, completion_tokens=3)]
    with fo.serve(script) as srv:
        gens = make_generator(backend(srv), max_error_retries=0, concurrency=1) \
            .generate_many(["a", "b"])
    s = usage_summary(gens)
    assert (s["gen_prompts"], s["gen_failed"], s["gen_failed_no_code"]) == (2, 1, 1)
    assert s["gen_calls"] == 2 and s["gen_input_tokens"] == 16 and s["gen_seconds_total"] > 0
    assert '"reason": "no_code"' in transcripts_json(gens)


def test_prompt_templates_come_from_config(make_generator):
    from scenmine.generate.prompts import Prompts
    with fo.serve([fo.text(fence(GOOD))]) as srv:
        make_generator(backend(srv), prompts=Prompts({"user": "TASK<<{{ prompt }}>>"})) \
            .generate("a bus")
    assert srv.requests[0]["body"]["messages"][1]["content"] == "TASK<<a bus>>\n"


def test_screening_feedback_reaches_the_model(make_generator):
    critique = "TS-BA 0.40 < 0.80: log_a missed 12 positive timestamps"
    with fo.serve([fo.text(fence(GOOD))]) as srv:
        gen = make_generator(backend(srv)).generate("moving bus", None, feedback=critique)
    user = srv.requests[0]["body"]["messages"][1]["content"]
    assert gen.ok and critique in user and "improved program" in user
    with fo.serve([fo.text(fence(GOOD))]) as srv:
        make_generator(backend(srv)).generate("moving bus")
    assert "improved program" not in srv.requests[0]["body"]["messages"][1]["content"]
