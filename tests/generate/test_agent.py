"""The agent loop, driven by scripted transcripts from the fake OpenAI server."""
from __future__ import annotations

import fake_openai_server as fo
from conftest import GOOD

from scenmine.generate.backends.openai import OpenAIBackend

FAST = {"backoff_s": 0.001, "backoff_max_s": 0.01, "max_retries": 2}
BAD = "x = boom(log_dir)\noutput_scenario(x, description, log_dir, output_dir)\n"


def backend(srv):
    return OpenAIBackend("glm-5.1", base_url=srv.url + "/v1", **FAST)


def tool_results(gen):
    return {m["tool_call_id"] + ":" + m["name"]: m["content"] for m in gen.transcript
            if m["role"] == "tool"}


def test_full_tool_loop_with_rejection_and_feedback(make_generator):
    script = [
        fo.tools(("list_functions", {}), ("get_function_doc", {"name": "has_velocity"})),
        fo.tools(("dry_run", {"program": BAD})),
        fo.tools(("dry_run", {"program": GOOD, "log": 1})),
        fo.tools(("submit", {"program": "f = open('x')\n" + GOOD})),
        fo.tools(("submit", {"program": f"```python\n{GOOD}```"})),
        fo.tools(("submit", {"program": GOOD})),
    ]
    with fo.serve(script) as srv:
        gen = make_generator(backend(srv), strategy="agent", execution_feedback=2,
                             max_error_retries=2).generate("moving vehicles")
    assert gen.ok and gen.program == GOOD and gen.reason is None
    tools = [m["content"] for m in gen.transcript if m["role"] == "tool"]
    assert "has_velocity(track_candidates, log_dir, min_velocity=0.5" in tools[0]
    assert "Tracks whose speed is within" in tools[1]
    assert "NameError" in tools[2]
    assert "log_empty: ran fine, found NOTHING" in tools[3]
    assert tools[4].startswith("REJECTED: rejected by the static check") and "open" in tools[4]
    assert "log log_a: 3 referred tracks" in tools[5] and "REGULAR_VEHICLE" in tools[5]
    assert "1 empty" in tools[5]
    u = gen.usage
    assert (u["calls"], u["turns"], u["tool_calls"], u["error_retries"],
            u["feedback_rounds"]) == (6, 6, 7, 1, 1)
    assert u["input_tokens"] == 66 and u["seconds"] > 0
    # the server saw the whole conversation, tool results included
    last = srv.requests[-1]["body"]["messages"]
    assert last[0]["role"] == "system" and "list_functions" in last[0]["content"]
    assert sum(m["role"] == "tool" for m in last) == 6


def test_text_answer_counts_as_submission(make_generator):
    with fo.serve([fo.text("Let me think."), fo.text(f"Final:\n```python\n{GOOD}```")]) as srv:
        gen = make_generator(backend(srv), strategy="agent").generate("vehicles")
    assert gen.ok and gen.usage["turns"] == 2
    assert "submit" in gen.transcript[3]["content"]  # the nudge after prose without code


def test_bad_calls_are_reported_to_the_model(make_generator):
    script = [fo.tools(("no_such_tool", {}), ("dry_run", "{broken")),
              fo.tools(("get_function_doc", {"name": "has_velocty"})),
              fo.tools(("submit", {"program": GOOD}))]
    with fo.serve(script) as srv:
        gen = make_generator(backend(srv), strategy="agent").generate("vehicles")
    tools = [m["content"] for m in gen.transcript if m["role"] == "tool"]
    assert tools[0].startswith("ERROR: unknown tool 'no_such_tool'")
    assert tools[1].startswith("ERROR: arguments are not valid JSON")
    assert "did you mean has_velocity" in tools[2]
    assert gen.ok


def test_max_turns_without_a_draft_falls_back_to_single_pass(make_generator):
    script = [fo.tools(("list_categories", {}))] * 3 + [fo.text(f"```python\n{GOOD}```")]
    with fo.serve(script) as srv:
        gen = make_generator(backend(srv), strategy="agent", max_turns=3).generate("x")
    assert gen.ok and gen.program == GOOD and gen.usage["fallback_single_pass"] == 1
    assert "BUS, PEDESTRIAN, REGULAR_VEHICLE" in gen.transcript[3]["content"]
    assert "tools" not in srv.requests[-1]["body"]  # the single pass sends no tools


def test_max_turns_falls_back_to_last_good_dry_run(make_generator):
    script = [fo.tools(("dry_run", {"program": GOOD})), fo.tools(("list_categories", {}))]
    with fo.serve(script) as srv:
        gen = make_generator(backend(srv), strategy="agent", max_turns=2).generate("x")
    assert gen.ok and gen.program == GOOD and gen.usage["fallback"] == 1


def test_rejections_exhausted_fail_with_the_error(make_generator):
    with fo.serve([fo.tools(("submit", {"program": BAD}))] * 2) as srv:
        gen = make_generator(backend(srv), strategy="agent",
                             max_error_retries=1).generate("x")
    assert gen.program is None and gen.reason == "resubmitted" and "NameError" in gen.error
