"""What real servers and real models need: strict messages, classified errors, a context
budget, answer checks, replay of failures, and the local-server profile."""
from __future__ import annotations

import json
import threading

import fake_openai_server as fo
import fake_runner
import pytest
from conftest import GOOD
from strict_openai_server import serve_strict

from scenmine.generate.backends import BackendError
from scenmine.generate.backends.openai import OpenAIBackend
from scenmine.generate.backends.replay import ReplayBackend
from scenmine.generate.budget import ContextBudget, cap_text

FAST = {"backoff_s": 0.001, "backoff_max_s": 0.01}
BAD = "x = boom(log_dir)\noutput_scenario(x, description, log_dir, output_dir)\n"
HUGE = "OSError: [Errno 36] File name too long: " + repr({f"uuid-{i:04d}": list(range(20))
                                                        for i in range(60)})


def backend(srv, **kw):
    return OpenAIBackend("qwen", base_url=srv.url + "/v1", api_key_env=None,
                         **{"max_retries": 2, **FAST, **kw})


def fence(code: str) -> str:
    return f"```python\n{code}```"


def submit_text(program: str) -> str:
    """A submit call written as text, as small models write it."""
    return "```json\n" + json.dumps({"name": "submit", "arguments": {"program": program}}) + \
        "\n```"


def test_native_tool_conversation_passes_a_strict_server(make_generator):
    script = [fo.tools(("get_function_doc", {"name": "has_velocity"})),
              fo.tools(("dry_run", {"program": GOOD})), fo.tools(("submit", {"program": GOOD}))]
    with serve_strict(script) as srv:
        gen = make_generator(backend(srv, tool_choice="auto"), strategy="agent",
                             tools="native").generate("vehicles")
    assert gen.ok and srv.refused == [] and srv.accepted == 3
    last = srv.requests[-1]["body"]
    echoed = [m for m in last["messages"] if m["role"] == "assistant"]
    assert all(isinstance(m["content"], str) for m in echoed)
    assert last["tool_choice"] == "auto"


def test_text_mode_describes_the_tools_and_sends_none(make_generator):
    script = [fo.text('functions.get_function_doc: {"name": "has_velocity"}'),
              fo.text(submit_text(GOOD))]
    with serve_strict(script) as srv:
        gen = make_generator(backend(srv), strategy="agent", tools="text").generate("x")
    assert gen.ok and gen.program == GOOD and srv.refused == []
    first = srv.requests[0]["body"]
    assert "tools" not in first and "Call a tool by answering" in first["messages"][0]["content"]
    assert "has_velocity(track_candidates" in srv.requests[1]["body"]["messages"][-1]["content"]


@pytest.mark.parametrize("status,message,calls,reason", [
    (500, "1 validation error for ChatCompletionRequest\nmessages.2.content\n  Input should be "
          "a valid string", 1, "bad_request"),
    (400, "unknown field", 1, "bad_request"),
    (503, "loading model", 3, "server_error"),
])
def test_errors_are_classified(status, message, calls, reason):
    with fo.serve([fo.error(status, message)] * 3) as srv:
        b = backend(srv)
        with pytest.raises(BackendError) as exc:
            b.chat([{"role": "user", "content": "hi"}])
    assert len(srv.requests) == calls and exc.value.reason == reason
    assert b.totals.retries == calls - 1 and b.totals.failed_calls == 1


def test_context_length_refusal_shrinks_and_retries_once(make_generator):
    """The window is unknown (no model info): the first request is refused, the session
    learns the window from the message, rebuilds a smaller prompt and succeeds."""
    from scenmine.dsl import NAMESPACE
    with serve_strict([fo.text(fence(GOOD))], n_ctx=4096, models_info=False) as srv:
        b = backend(srv, max_tokens=1024)
        gen = make_generator(b, namespace=NAMESPACE).generate("vehicle turning left")
    assert gen.ok and len(srv.refused) == 1 and srv.accepted == 1
    assert b.context_window == 4096 and gen.usage["failed_calls"] == 1
    small = srv.requests[-1]["body"]["messages"][0]["content"]
    assert "turning(track_candidates" in small and len(small) < len(
        srv.requests[0]["body"]["messages"][0]["content"])


def test_no_request_exceeds_the_window(make_generator, fake_logs):
    """A huge runtime error (a dict's repr) is capped and the full DSL reference shrunk:
    every request of the repair loop fits a small window."""
    from scenmine.dsl import NAMESPACE

    def runner(code, log_dir, timeout_s=60.0, **kw):
        if "boom" in code:
            return fake_runner.FakeExecResult(False, HUGE)
        return fake_runner.run_program(code, log_dir)
    script = [fo.text(fence(BAD)), fo.text(fence(BAD.replace("x =", "y ="))),
              fo.text(fence(GOOD))]
    with serve_strict(script, n_ctx=4096) as srv:
        gen = make_generator(backend(srv, max_tokens=1024), namespace=NAMESPACE,
                             runner=runner).generate("parked vehicle")
    assert gen.ok and srv.refused == [] and srv.accepted == 3
    retry = srv.requests[1]["body"]["messages"][-1]["content"]
    assert "chars>" in retry and len(retry) < 2000


def test_budget_trims_old_turns_then_the_completion():
    msgs = [{"role": "system", "content": "s" * 400}, {"role": "user", "content": "u"}] + \
        [{"role": r, "content": "x" * 400} for r in ("assistant", "user") * 6]
    b = ContextBudget(window=700, completion=256, chars_per_token=4)
    fitted, completion = b.fit(msgs)
    assert b.tokens(fitted) + completion <= 700 and fitted[0] == msgs[0]
    assert fitted[-1] == msgs[-1] and len(fitted) < len(msgs)
    assert "left out" in fitted[1]["content"]
    with pytest.raises(ValueError, match="llm.context_window"):
        ContextBudget(window=100, completion=64, chars_per_token=4).fit(msgs[:2])
    assert len(cap_text(HUGE, 500)) <= 500 and "chars>" in cap_text(HUGE, 1500)


def test_truncated_answers_are_retried_not_run(make_generator):
    fake_runner.CALLS.clear()
    script = [fo.text(fence(GOOD), finish="length"), fo.text("```python\n" + GOOD),
              fo.text(fence(GOOD))]
    with fo.serve(script) as srv:
        gen = make_generator(backend(srv)).generate("vehicles")
    assert gen.ok and gen.usage["truncated"] == 2 and len(srv.requests) == 3
    assert "cut off" in srv.requests[1]["body"]["messages"][-1]["content"]
    assert len(fake_runner.CALLS) == 1  # only the complete answer ran


def test_identical_resubmission_is_refused_with_the_earlier_error(make_generator):
    fake_runner.CALLS.clear()
    script = [fo.text(fence(BAD)), fo.text(fence(BAD)), fo.text(fence(GOOD))]
    with fo.serve(script) as srv:
        gen = make_generator(backend(srv)).generate("vehicles")
    assert gen.ok and len(fake_runner.CALLS) == 2  # the resubmission never ran
    refusal = srv.requests[2]["body"]["messages"][-1]["content"]
    assert "same program as before" in refusal and "NameError" in refusal


def test_empty_on_every_training_log_is_fed_back(make_generator, tmp_path):
    logs = [tmp_path / f"log_empty_{i}" for i in range(2)]
    script = [fo.text(fence(GOOD)), fo.text(fence(GOOD.replace("VEHICLE", "BUS")))]
    with fo.serve(script) as srv:
        gen = make_generator(backend(srv), logs=logs, max_error_retries=1).generate("v")
    feedback = srv.requests[1]["body"]["messages"][-1]["content"]
    assert "finds nothing on any of the training logs" in feedback and "2 logs: 2 empty" \
        in feedback
    assert gen.ok  # nothing better came: the running program is kept


def test_failed_calls_are_recorded_and_replayed_as_the_same_error(make_generator, tmp_path):
    rec = tmp_path / "rec"
    with fo.serve([fo.error(400, "bad thing")]) as srv:
        first = make_generator(backend(srv, record=True, record_dir=str(rec))).generate("v")
    assert not first.ok and "bad thing" in first.error
    replayed = make_generator(ReplayBackend(dir=str(rec))).generate("v")
    assert not replayed.ok and replayed.error == first.error


def test_usage_counts_every_retry(make_generator):
    with fo.serve([fo.error(503), fo.error(503), fo.text(fence(GOOD))]) as srv:
        gen = make_generator(backend(srv)).generate("v")
    assert gen.ok and gen.usage["retries"] == 2
    with fo.serve([fo.error(503)] * 3) as srv:
        gen = make_generator(backend(srv)).generate("v")
    assert not gen.ok and gen.usage["retries"] == 2 and gen.usage["failed_calls"] == 1


def test_failed_prompt_keeps_its_last_draft(make_generator):
    with fo.serve([fo.text(fence(BAD))] + [fo.text(fence(BAD.replace("x", v)))
                                           for v in ("y", "z")]) as srv:
        gen = make_generator(backend(srv)).generate("v")
    assert not gen.ok and gen.last_draft and "boom" in gen.last_draft


def test_timeout_counts_from_sending_not_from_queueing():
    """One request at a time, each answered in 0.6 s, timeout 1 s: the second request waits
    its turn (0.6 s) without timing out."""
    with fo.serve([{**fo.text("a"), "delay_s": 0.6}, {**fo.text("b"), "delay_s": 0.6}]) as srv:
        b = backend(srv, timeout_s=1.0, max_concurrency=1, max_retries=0)
        out: list = []
        threads = [threading.Thread(target=lambda i=i: out.append(
            b.chat([{"role": "user", "content": str(i)}]).text)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(5)
    assert sorted(out) == ["a", "b"] and b.totals.failed_calls == 0


def test_local_profile(make_cfg):
    from hydra.utils import instantiate
    cfg = make_cfg(["llm=local"])
    b = instantiate(cfg.llm)
    assert (b.max_tokens, b.tool_choice, b.timeout_s, b.max_retries) == (1024, "auto", 600, 2)
    assert b._sem._value == 1 and b.context_window is None


def test_server_model_info_gives_the_window():
    with serve_strict([], n_ctx=8192) as srv:
        assert backend(srv).window() == 8192


def test_failed_program_file_keeps_the_reason_and_the_last_draft():
    from scenmine.generate.base import Generation
    from scenmine.results import failed_program_text
    gen = Generation("v", None, "runtime error on training log a:\nNameError: boom",
                     reason="runtime_error", last_draft=BAD)
    text = failed_program_text(gen)
    assert text.startswith("# generation failed:\n# runtime error") and "# NameError" in text
    assert text.endswith(BAD) and "# last draft:" in text


def test_agent_detects_a_loop_and_asks_for_the_final_program(make_generator):
    doc = fo.tools(("get_function_doc", {"name": "has_velocity"}))
    script = [doc, doc, doc, fo.text(fence(GOOD))]
    with fo.serve(script) as srv:
        gen = make_generator(backend(srv), strategy="agent").generate("v")
    assert gen.ok and gen.program == GOOD and len(srv.requests) == 4
    texts = [str(m["content"]) for m in gen.transcript]
    assert sum("You already made this call" in t for t in texts) == 2
    assert any("Stop using tools now" in t for t in texts)
    assert "fallback_single_pass" not in gen.usage  # the final request was enough


def test_reference_shrinks_by_relevance():
    from scenmine.generate import docs
    full = docs.reference_text()
    small = docs.reference_text(prompt="bus in a bus lane", n_full=5)
    assert len(small) < len(full) / 2
    assert "on_lane_type(track_candidates, log_dir, lane_type)\n    Objects on a lane" in small
    assert "- following(track_candidates, related_candidates, log_dir): " in small
    assert "Example:\n        in_bus_lane = on_lane_type" in docs.get_function_doc("on_lane_type")


def test_a_denser_tokenizer_than_estimated_is_learnt_from_the_refusal(make_generator):
    """The window is known but the server counts more tokens than the estimate: the refusal
    ("N in the messages") recalibrates the estimate and the smaller request passes."""
    from scenmine.dsl import NAMESPACE
    with serve_strict([fo.text(fence(GOOD))], n_ctx=6144, chars_per_token=1.3) as srv:
        b = backend(srv, max_tokens=1024)
        gen = make_generator(b, namespace=NAMESPACE).generate("vehicle turning left")
    assert gen.ok and len(srv.refused) == 1 and srv.accepted == 1
    assert b.chars_per_token is not None and b.chars_per_token < 2.5


def test_backend_without_native_tools_gets_text_tools(make_generator):
    """A text-only backend (vllm's offline engine) runs the agent with tools described in the
    prompt; one that runs its own loop (claude_code) gets a single-pass prompt."""
    from scenmine.generate.backends.base import ChatBackend, ChatResponse

    class TextOnly(ChatBackend):
        supports_tools = False

        def __init__(self, answers, **kw):
            super().__init__("m", **kw)
            self.answers, self.seen = list(answers), []

        def _call(self, messages, tools):
            self.seen.append((messages, tools))
            return ChatResponse(text=self.answers.pop(0))

    b = TextOnly(['functions.list_categories:', submit_text(GOOD)])
    gen = make_generator(b, strategy="agent").generate("v")
    assert gen.ok and gen.program == GOOD and all(t is None for _, t in b.seen)
    assert "Call a tool by answering" in b.seen[0][0][0]["content"]
    own_loop = TextOnly([fence(GOOD)])
    own_loop.text_tools = False
    assert make_generator(own_loop, strategy="agent").generate("v").usage["turns"] == 1
