"""Record with a live backend, replay offline: same programs and transcripts, bit for bit."""
from __future__ import annotations

import json

import fake_openai_server as fo
import pytest
from conftest import GOOD

from scenmine.generate.backends import BackendError
from scenmine.generate.backends.openai import OpenAIBackend
from scenmine.generate.backends.replay import MissingRecording, ReplayBackend

FAST = {"backoff_s": 0.001, "backoff_max_s": 0.01, "max_retries": 1}
BAD = "x = boom(log_dir)\noutput_scenario(x, description, log_dir, output_dir)\n"


def test_agent_run_replays_exactly(make_generator, tmp_path):
    rec = tmp_path / "rec"
    script = [fo.tools(("get_function_doc", {"name": "has_velocity"})),
              fo.tools(("submit", {"program": BAD})),
              fo.text(f"Fixed ü:\n```python\n{GOOD}```")]
    with fo.serve(script) as srv:
        live = OpenAIBackend("glm-5.1", base_url=srv.url + "/v1", record=True,
                             record_dir=str(rec), **FAST)
        first = make_generator(live, strategy="agent").generate("vehicles")
    files = sorted(rec.glob("*/*.json"))
    assert first.ok and len(files) == 3
    replay = ReplayBackend(dir=str(rec))
    again = make_generator(replay, strategy="agent").generate("vehicles")
    assert again.program == first.program and again.transcript == first.transcript
    assert json.dumps(again.transcript) == json.dumps(first.transcript)
    assert again.usage["calls"] == 0 and again.usage["cache_hits"] == 3


def test_exact_key_with_model_and_params(tmp_path):
    msgs = [{"role": "user", "content": "hi"}]
    with fo.serve([fo.text("recorded")]) as srv:
        live = OpenAIBackend("m1", base_url=srv.url + "/v1", record=True,
                             record_dir=str(tmp_path), temperature=0.2, **FAST)
        live.chat(msgs)
    exact = ReplayBackend(dir=str(tmp_path), model="m1", params=live.params())
    assert exact.key(msgs) == live.key(msgs)
    assert exact.chat(msgs).text == "recorded"
    with pytest.raises(MissingRecording, match=r"key [0-9a-f]{64}"):
        ReplayBackend(dir=str(tmp_path), model="m1", params={"temperature": 0.9}).chat(msgs)
    with pytest.raises(MissingRecording):
        ReplayBackend(dir=str(tmp_path), model="other").chat(msgs)


def test_missing_recording_stops_the_run_and_names_the_key(make_generator, tmp_path):
    gen = make_generator(ReplayBackend(dir=str(tmp_path)))
    with pytest.raises(BackendError) as err:
        gen.generate("never recorded")
    assert err.value.fatal and "conversation key" in str(err.value)
    assert "never recorded" in str(err.value) and "llm.record=true" in str(err.value)
