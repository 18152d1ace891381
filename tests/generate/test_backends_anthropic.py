"""Anthropic Messages backend against a local fake server (real HTTP, the real client)."""
from __future__ import annotations

import fake_anthropic_server as fa
import pytest

from scenmine.generate.backends import BackendError
from scenmine.generate.backends.anthropic import AnthropicBackend, to_anthropic

FAST = {"backoff_s": 0.001, "backoff_max_s": 0.01, "max_retries": 3}
MSGS = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
TOOL = [{"name": "submit", "description": "submit",
         "parameters": {"type": "object", "properties": {"program": {"type": "string"}}}}]


def backend(srv, **kw):
    return AnthropicBackend("claude-x", base_url=srv.url, **{**FAST, **kw})


def test_tool_use_round_trip():
    with fa.serve([fa.tools(("submit", {"program": "p"}), input_tokens=40, output_tokens=9),
                   fa.text("thanks")]) as srv:
        b = backend(srv, price_input_per_mtok=3.0, price_output_per_mtok=15.0)
        first = b.chat(MSGS, TOOL)
        call = first.tool_calls[0]
        assert (call.id, call.name, call.arguments) == ("toolu_0", "submit", {"program": "p"})
        msgs = MSGS + [first.message(), {"role": "tool", "tool_call_id": call.id,
                                         "name": "submit", "content": "accepted"}]
        assert b.chat(msgs, TOOL).text == "thanks"
    body = srv.requests[1]["body"]
    assert body["system"] == "be brief" and body["tools"][0]["input_schema"]["type"] == "object"
    assert body["messages"][1]["content"][0] == {"type": "tool_use", "id": "toolu_0",
                                                 "name": "submit", "input": {"program": "p"}}
    assert body["messages"][2]["content"][0]["type"] == "tool_result"
    assert b.totals.input_tokens == 53 and b.totals.cost_usd == pytest.approx(
        (53 * 3 + 14 * 15) / 1e6)


def test_429_and_overloaded_then_success():
    with fa.serve([fa.error(429), fa.error(529), fa.text("ok")]) as srv:
        resp = backend(srv).chat(MSGS)
    assert resp.text == "ok" and resp.retries == 2


def test_malformed_answer():
    with fa.serve([fa.malformed()]) as srv, pytest.raises(BackendError) as err:
        backend(srv).chat(MSGS)
    assert err.value.reason == "malformed" and not err.value.fatal


def test_consecutive_tool_results_merge_into_one_user_turn():
    system, msgs = to_anthropic([
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "a", "name": "x", "arguments": {}}, {"id": "b", "name": "y", "arguments": {}}]},
        {"role": "tool", "tool_call_id": "a", "content": "1"},
        {"role": "tool", "tool_call_id": "b", "content": "2"}])
    assert system == "" and [m["role"] for m in msgs] == ["user", "assistant", "user"]
    assert [b["tool_use_id"] for b in msgs[2]["content"]] == ["a", "b"]


def test_unreachable_names_url():
    b = AnthropicBackend("m", base_url="http://127.0.0.1:9", **{**FAST, "max_retries": 0})
    with pytest.raises(BackendError) as err:
        b.chat(MSGS)
    assert err.value.fatal and "http://127.0.0.1:9" in str(err.value)
