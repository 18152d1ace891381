"""vLLM backend with a stand-in `vllm` module: concurrent prompts become one batch."""
from __future__ import annotations

import sys
import threading
import types
from typing import ClassVar

import pytest

from scenmine.generate.backends import BackendError
from scenmine.generate.backends.vllm import VLLMBackend


class _FakeLLM:
    batches: ClassVar[list[int]] = []

    def __init__(self, model, **kw):
        self.model, self.kw = model, kw

    def chat(self, conversations, sampling_params=None, use_tqdm=True):
        _FakeLLM.batches.append(len(conversations))
        outs = []
        for conv in conversations:
            comp = types.SimpleNamespace(text="echo: " + conv[-1]["content"],
                                         token_ids=[1, 2, 3], finish_reason="stop")
            outs.append(types.SimpleNamespace(prompt_token_ids=[0] * 5, outputs=[comp]))
        return outs


@pytest.fixture
def fake_vllm(monkeypatch):
    mod = types.SimpleNamespace(LLM=_FakeLLM, SamplingParams=lambda **kw: kw)
    monkeypatch.setitem(sys.modules, "vllm", mod)
    _FakeLLM.batches = []
    return mod


def test_concurrent_calls_are_batched(fake_vllm):
    b = VLLMBackend("tiny", engine_kwargs={"dtype": "auto"}, batch_wait_s=0.2)
    results = {}

    def ask(i):
        results[i] = b.chat([{"role": "user", "content": f"p{i}"}])

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert {i: r.text for i, r in results.items()} == {i: f"echo: p{i}" for i in range(5)}
    assert sum(_FakeLLM.batches) == 5 and max(_FakeLLM.batches) >= 2
    assert results[0].input_tokens == 5 and results[0].output_tokens == 3
    assert b._llm.kw == {"dtype": "auto"}


def test_missing_vllm_is_a_fatal_error_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # import fails
    with pytest.raises(BackendError) as err:
        VLLMBackend("tiny", max_retries=0).chat([{"role": "user", "content": "x"}])
    assert err.value.fatal and "scenmine[vllm]" in str(err.value)
