"""VLM backends: yes/no arithmetic, the OpenAI-compatible client against the fake server, vLLM parsing."""
from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
from PIL import Image

from scenmine.verify.vlm import VLMRequest, build_backend, p_yes_from_logprobs, parse_answer
from scenmine.verify.vlm.qwen3vl_vllm import VLLMQwen3VL


def test_p_yes_sums_spellings_and_renormalises():
    p = p_yes_from_logprobs([(" Yes", math.log(0.5)), ("yes", math.log(0.1)), ("No", math.log(0.2)),
                             ("Maybe", math.log(0.2))])
    assert p == pytest.approx(0.6 / 0.8)
    assert p_yes_from_logprobs([("Maybe", -0.1)]) is None


@pytest.mark.parametrize("text,expected", [("Yes.", 1.0), ("no", 0.0), ("**No**, it is not", 0.0),
                                           ("<think>yes? no?</think> Answer: yes", 1.0),
                                           ("I see no cyclist. Answer: yes", 1.0), ("unclear", None)])
def test_parse_answer(text, expected):
    got = parse_answer(text)
    assert (math.isnan(got) if expected is None else got == expected)


def _req(text="Does it happen? stopped car"):
    return VLMRequest(text=text, images=[Image.new("RGB", (64, 48), (9, 9, 9))] * 2, system="be brief")


def test_openai_backend_logprobs(fake_vision):
    with fake_vision(rules={"stopped car": 0.8}, default=0.1) as srv:
        vlm = build_backend({"name": "openai", "model": "m", "base_url": srv.base_url, "concurrency": 2})
        answers = vlm.answer([_req(), _req("a cat"), _req()])
        assert srv.calls == 3
    assert [round(a.p_yes, 6) for a in answers] == [0.8, 0.1, 0.8]
    assert answers[0].raw == "Yes" and answers[1].raw == "No"
    body = srv.requests[0]["body"]
    assert body["logprobs"] is True and body["messages"][0]["role"] == "system"
    assert srv.requests[0]["image_sizes"] == [(64, 48), (64, 48)]


def test_openai_backend_without_logprobs_parses_answer(fake_vision):
    with fake_vision(rules={"stopped car": 0.8}, logprobs=False) as srv:
        vlm = build_backend({"name": "openai", "model": "m", "base_url": srv.base_url})
        assert vlm.answer([_req()])[0].p_yes == 1.0


def test_openai_backend_retries_then_records_errors(fake_vision):
    with fake_vision(default=0.3, fail_first=1) as srv:
        vlm = build_backend({"name": "openai", "model": "m", "base_url": srv.base_url, "max_retries": 2})
        assert vlm.answer([_req()])[0].p_yes == pytest.approx(0.3)
    dead = build_backend({"name": "openai", "model": "m", "base_url": "http://127.0.0.1:9/v1",
                          "max_retries": 0, "timeout_s": 2})
    ans = dead.answer([_req()])[0]
    assert math.isnan(ans.p_yes) and ans.raw.startswith("ERROR")


def test_cache_key_ignores_secrets_and_endpoint(fake_vision):
    a = build_backend({"name": "openai", "model": "m", "base_url": "http://a/v1", "api_key": "k1"})
    b = build_backend({"name": "openai", "model": "m", "base_url": "http://b/v1", "api_key": "k2"})
    c = build_backend({"name": "openai", "model": "other"})
    assert a.cache_key() == b.cache_key() != c.cache_key()


def test_none_backend():
    vlm = build_backend({"name": "none", "p_yes": 0.25})
    assert vlm.answer([_req()]) == [(0.25, "none")]


class _FakeLLM:
    """Mimics vllm.LLM.chat's RequestOutput objects."""

    def __init__(self):
        self.batches = []

    def chat(self, conversations, params, use_tqdm=False):
        self.batches.append(conversations)
        lp = lambda tok, p: SimpleNamespace(decoded_token=tok, logprob=math.log(p))
        out = []
        for conv in conversations:
            n_img = sum(part["type"] == "image_url" for part in conv[-1]["content"])
            pos = {1: lp("Yes", 0.7), 2: lp("No", 0.1), 3: lp(" the", 0.2)} if n_img else {2: lp("No", 0.9)}
            out.append(SimpleNamespace(outputs=[SimpleNamespace(text="Yes", logprobs=[pos])]))
        return out


def test_vllm_backend_batches_and_reads_logprobs():
    llm = _FakeLLM()
    vlm = VLLMQwen3VL(model="fake", batch_size=2, llm=llm)
    answers = vlm.answer([_req(), _req(), VLMRequest(text="no images")], sampling_params=object())
    assert [len(b) for b in llm.batches] == [2, 1]
    assert answers[0].p_yes == pytest.approx(0.875) and answers[2].p_yes == pytest.approx(0.0)
    assert llm.batches[0][0][-1]["content"][0]["image_url"]["url"].startswith("data:image/jpeg;base64,")


def test_openai_backend_uses_the_shared_retry_policy():
    """Validation errors and other 4xx fail at once; transient errors are retried."""
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fakes"))
    import fake_openai_server as fo

    with fo.serve([fo.error(500, "1 validation error: Input should be a valid string")] * 3) as srv:
        vlm = build_backend({"name": "openai", "model": "m", "base_url": srv.url + "/v1",
                             "max_retries": 2})
        ans = vlm.answer([_req()])[0]
    assert math.isnan(ans.p_yes) and "HTTP 500" in ans.raw and len(srv.requests) == 1
    with fo.serve([fo.error(503), fo.text("Yes.")]) as srv:
        vlm = build_backend({"name": "openai", "model": "m", "base_url": srv.url + "/v1",
                             "max_retries": 2, "logprobs": False})
        assert vlm.answer([_req()])[0].p_yes == 1.0 and len(srv.requests) == 2
