"""Generation against real model output (../shared/real_model_transcripts) and a strict server.

The transcripts are what Qwen2.5-Coder 1.5B and Gemma 3 270M answered through
llama-cpp-python's server; the strict fake server refuses what that server refuses.
"""
from __future__ import annotations

import glob
import json
from pathlib import Path

import fake_openai_server as fo
import pytest
from fake_runner import FakeExecResult
from strict_openai_server import serve_strict

from scenmine.generate.answers import copied, truncated
from scenmine.generate.backends.openai import OpenAIBackend
from scenmine.generate.base import Example
from scenmine.generate.toolcalls import parse_text_calls, validate
from scenmine.generate.tools import TOOLS

TRANSCRIPTS = Path(__file__).resolve().parents[2].parent / "shared" / "real_model_transcripts"
pytestmark = pytest.mark.skipif(not TRANSCRIPTS.is_dir(), reason="no ../shared transcripts")


def records(folder: str) -> list[dict]:
    return [json.loads(Path(f).read_text())
            for f in sorted(glob.glob(str(TRANSCRIPTS / folder / "*" / "*.json")))]


def description(rec: dict) -> str:
    user = next(m["content"] for m in rec["messages"] if m["role"] == "user")
    return user.splitlines()[0].removeprefix("Description: ").strip()


def text_answers() -> list[str]:
    return [r["response"]["text"] for d in ("agent_default", "agent_fc", "agent_fc_patched")
            for r in records(d) if not r["response"]["tool_calls"] and
            r["response"]["text"].strip()]


def test_every_text_form_tool_call_of_the_transcripts_is_parsed():
    from scenmine.dsl import NAMESPACE
    answers = text_answers()
    assert len(answers) > 100
    for text in answers:
        calls = [validate(c, TOOLS, NAMESPACE) for c in parse_text_calls(text)]
        assert calls, text
        # placeholders, DSL functions called as tools and missing programs are reported
        for c in calls:
            assert c.name in {t["name"] for t in TOOLS} or c.error, (text, c)
    placeholder = next(t for t in answers if "<final-program>" in t)
    (call,) = [validate(c, TOOLS) for c in parse_text_calls(placeholder)]
    assert call.name == "submit" and "placeholder" in call.error


@pytest.mark.parametrize("text,name,args", [
    ('<tool_call>\n{"name": "Get_Function_Doc", "arguments": {"name": "turning"}}\n'
     '</tool_call>', "get_function_doc", {"name": "turning"}),
    ('functions.get_function_doc: {"name": "near_objects"}', "get_function_doc",
     {"name": "near_objects"}),
    ('```json\n[{"name": "`submit`", "parameters": {"program": "x = 1"}}]\n```', "submit",
     {"program": "x = 1"}),
])
def test_text_forms_with_odd_punctuation_and_case(text, name, args):
    (call,) = [validate(c, TOOLS) for c in parse_text_calls(text)]
    assert (call.name, call.arguments, call.error) == (name, args, None)


def test_truncated_and_copied_answers_of_the_transcripts_are_rejected():
    from scenmine.generate.extract import extract_program
    from scenmine.generate.prompts import Prompts
    gemma = records("gemma_single_pass")
    cut = [r for r in gemma if r["response"]["finish_reason"] == "length"]
    assert len(cut) == 12
    assert all(truncated(r["response"]["text"], "length") for r in cut)
    examples = Prompts().examples
    rejected = 0
    for r in gemma:
        text = r["response"]["text"]
        program = extract_program(text).program
        system = r["messages"][0]["content"]
        if truncated(text, r["response"]["finish_reason"]) or (
                program and copied(program, text, description(r), examples, system)):
            rejected += 1
    assert rejected == len(gemma)  # the one "program" that stopped is the copied example
    ex = Example("vehicle with a bicycle to its right", examples[0].program)
    assert copied(ex.program, ex.program, "parked vehicle", [ex]) is not None
    assert copied(ex.program, ex.program, "vehicle with a bicycle to its right", [ex]) is None


# -- the repair loop on the transcripts' runtime-error programs ---------------------------
def in_process_runner(code, log_dir, timeout_s=60.0, **kw):
    """Runs a program on a real log in this process (as the DSL benchmark does)."""
    from scenmine.bench.dsl import run_program
    from scenmine.dsl.scenario import track_dict
    out = run_program(code, Path(log_dir))
    if out["error"]:
        return FakeExecResult(False, out["error"], out["seconds"])
    return FakeExecResult(True, None, out["seconds"], out["scenario"], track_dict(out["scenario"]))


def runtime_error_programs(log_dir) -> list[str]:
    from scenmine.generate.extract import extract_program
    programs = []
    for folder in ("single_pass", "single_pass_tuned", "single_pass_feedback"):
        for r in records(folder):
            p = extract_program(r["response"]["text"]).program
            if p and p not in programs and not in_process_runner(p, log_dir).ok:
                programs.append(p)
    return programs


def test_repair_loop_makes_most_runtime_error_programs_run(real_log, capsys):
    from scenmine.generate.extract import Extraction
    from scenmine.generate.strategies import LLMGenerator
    from scenmine.generate.strategies.session import Session

    failing = runtime_error_programs(real_log)
    assert len(failing) >= 5
    gen = LLMGenerator(OpenAIBackend("m", base_url="http://127.0.0.1:9/v1"),
                       runner=in_process_runner, logs=[real_log])
    fixed = 0
    for program in failing:
        _, err, reason = Session(gen, "scenario").check(Extraction(program))
        fixed += err is None or reason == "empty_result"
    with capsys.disabled():
        print(f"\nrepair loop: {fixed} of {len(failing)} runtime-error programs of the "
              f"transcripts now run ({fixed / len(failing):.0%})")
    assert fixed / len(failing) >= 0.5


# -- the agent on the real pairs against a strict server ----------------------------------
def real_model(folder_agent: str = "agent_default"):
    """A script answering with the transcripts' answers: the agent's recorded answers for
    the description while tools are sent, the single-pass answer once they are not."""
    agent = {}
    for r in records(folder_agent):
        agent.setdefault(description(r), []).append(r["response"])
    single = {description(r): r["response"] for r in records("single_pass_tuned")
              if len(r["messages"]) == 2}
    turn: dict[str, int] = {}

    def answer(path, body):
        first_user = next(m["content"] for m in body["messages"] if m["role"] == "user")
        desc = first_user.splitlines()[0].removeprefix("Description: ").strip()
        if body.get("tools"):
            i = turn[desc] = turn.get(desc, -1) + 1
            resp = agent[desc][i % len(agent[desc])]
        else:
            resp = single[desc]
        calls = [(c["name"], c["arguments"]) for c in resp["tool_calls"]]
        return fo.completion(resp["text"] or "", calls or None, resp["finish_reason"] or "stop")
    return answer, sorted(agent)


@pytest.mark.parametrize("folder", ["agent_default", "agent_fc_patched"])
def test_agent_on_the_real_pairs_against_a_strict_server(folder, make_generator):
    from scenmine.dsl import NAMESPACE
    script, prompts = real_model(folder)
    with serve_strict(script, n_ctx=8192) as srv:
        backend = OpenAIBackend("qwen2.5-coder-1.5b", base_url=f"{srv.url}/v1",
                                api_key_env=None, max_retries=0, max_tokens=1024,
                                tool_choice="auto")
        gens = [make_generator(backend, strategy="agent", namespace=NAMESPACE).generate(p)
                for p in prompts]
    assert srv.refused == []
    assert [g.prompt for g in gens if not g.ok] == []
    assert backend.context_window == 8192  # from GET /models
    assert all(r["body"].get("tool_choice") == "auto" for r in srv.requests
               if r["body"] and r["body"].get("tools"))


def test_strict_server_refuses_what_llama_cpp_refuses():
    from strict_openai_server import refusal
    base = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    assert refusal({"messages": base + [{"role": "assistant", "content": None,
                                         "tool_calls": [call]}]}, 8192, 3.5)["status"] == 500
    assert refusal({"messages": base + [{"role": "tool", "tool_call_id": "x",
                                         "content": "r"}]}, 8192, 3.5)["status"] == 400
    assert refusal({"messages": base, "max_tokens": 9000}, 8192, 3.5)["status"] == 400
    assert refusal({"messages": base + [{"role": "assistant", "content": "",
                                         "tool_calls": [call]},
                                        {"role": "tool", "tool_call_id": "c1",
                                         "content": "r"}]}, 8192, 3.5) is None
