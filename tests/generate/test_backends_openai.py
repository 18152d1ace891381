"""OpenAI-compatible backend against a local fake server (real HTTP, the real client)."""
from __future__ import annotations

import threading
import time

import fake_openai_server as fo
import pytest

from scenmine.generate.backends import BackendError, ChatBackend, ChatResponse
from scenmine.generate.backends.openai import OpenAIBackend

FAST = {"backoff_s": 0.001, "backoff_max_s": 0.01, "max_retries": 3}
USER = [{"role": "user", "content": "hi"}]
TOOL = [{"name": "get_function_doc", "description": "doc",
         "parameters": {"type": "object", "properties": {"name": {"type": "string"}}}}]


def backend(srv, **kw):
    return OpenAIBackend("glm-5.1", base_url=srv.url + "/v1", api_key_env="FAKE_KEY",
                         **{**FAST, **kw})


def test_text_answer_usage_and_cost(monkeypatch):
    monkeypatch.setenv("FAKE_KEY", "sk-test")
    with fo.serve([fo.text("hello", prompt_tokens=1000, completion_tokens=500)]) as srv:
        b = backend(srv, price_input_per_mtok=2.0, price_output_per_mtok=8.0)
        resp = b.chat(USER)
    assert resp.text == "hello" and (resp.input_tokens, resp.output_tokens) == (1000, 500)
    assert b.totals.calls == 1 and b.totals.cost_usd == pytest.approx(0.006)
    assert srv.requests[0]["body"]["model"] == "glm-5.1"
    assert srv.requests[0]["body"]["max_tokens"] == 4096
    assert srv.requests[0]["headers"]["authorization"] == "Bearer sk-test"


def test_tool_call_round_trip():
    with fo.serve([fo.tools(("get_function_doc", {"name": "has_velocity"})),
                   fo.text("done")]) as srv:
        b = backend(srv)
        first = b.chat(USER, TOOL)
        call = first.tool_calls[0]
        assert (call.name, call.arguments, call.error) == ("get_function_doc",
                                                           {"name": "has_velocity"}, None)
        msgs = USER + [first.message(), {"role": "tool", "tool_call_id": call.id,
                                         "name": call.name, "content": "the doc"}]
        assert b.chat(msgs, TOOL).text == "done"
    sent = srv.requests[1]["body"]
    assert sent["tools"][0]["function"]["name"] == "get_function_doc"
    assert sent["messages"][1]["tool_calls"][0]["function"]["name"] == "get_function_doc"
    assert sent["messages"][2] == {"role": "tool", "tool_call_id": call.id,
                                   "content": "the doc"}


def test_bad_tool_arguments_are_kept_as_an_error():
    with fo.serve([fo.tools(("dry_run", "{not json"))]) as srv:
        call = backend(srv).chat(USER, TOOL).tool_calls[0]
    assert call.arguments == {} and "not valid JSON" in call.error


def test_429_then_success_with_backoff():
    with fo.serve([fo.error(429), fo.error(429, retry_after=0), fo.text("ok")]) as srv:
        b = backend(srv)
        t0 = time.perf_counter()
        resp = b.chat(USER)
    assert resp.text == "ok" and resp.retries == 2 and len(srv.requests) == 3
    assert time.perf_counter() - t0 < 5


def test_5xx_exhausted_is_a_non_fatal_error():
    with fo.serve([fo.error(503)] * 4) as srv, pytest.raises(BackendError) as err:
        backend(srv).chat(USER)
    assert err.value.reason == "server_error" and not err.value.fatal
    assert len(srv.requests) == 4  # 1 + max_retries


def test_timeout_is_retried():
    with fo.serve([{**fo.text("slow"), "delay_s": 1.0}, fo.text("fast")]) as srv:
        resp = backend(srv, timeout_s=0.3).chat(USER)
    assert resp.text == "fast" and resp.retries == 1


def test_malformed_body():
    with fo.serve([fo.malformed(), {"status": 200, "json": {"id": "x", "choices": []}}]) as srv:
        b = backend(srv)
        for _ in range(2):
            with pytest.raises(BackendError) as err:
                b.chat(USER)
            assert err.value.reason == "malformed" and not err.value.fatal


def test_unreachable_names_url_and_config_key():
    b = OpenAIBackend("m", base_url="http://127.0.0.1:9/v1", **{**FAST, "max_retries": 1})
    with pytest.raises(BackendError) as err:
        b.chat(USER)
    assert err.value.fatal
    assert "http://127.0.0.1:9/v1" in str(err.value) and "llm.base_url" in str(err.value)


def test_auth_error_is_fatal_and_names_the_variable():
    with fo.serve([fo.error(401)]) as srv, pytest.raises(BackendError) as err:
        backend(srv).chat(USER)
    assert err.value.fatal and "FAKE_KEY" in str(err.value)


def test_cache_makes_a_rerun_free(tmp_path):
    with fo.serve([fo.text("once")]) as srv:
        first = backend(srv, cache_dir=str(tmp_path)).chat(USER)
        again = backend(srv, cache_dir=str(tmp_path))
        second = again.chat(USER)
    assert len(srv.requests) == 1 and second.text == first.text and second.cached
    assert again.totals.calls == 0 and again.totals.cache_hits == 1


class _Slow(ChatBackend):
    def __init__(self, **kw):
        super().__init__("slow", **kw)
        self.active = self.peak = 0
        self.lock = threading.Lock()

    def _call(self, messages, tools):
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        time.sleep(0.05)
        with self.lock:
            self.active -= 1
        return ChatResponse(text="x")


def test_concurrency_limit():
    b = _Slow(max_concurrency=2)
    threads = [threading.Thread(target=b.chat, args=([{"role": "user", "content": str(i)}],))
               for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert b.peak == 2 and b.totals.calls == 6
