"""The agent: a bounded tool loop (look up docs, list categories, dry-run drafts, submit).

Submissions are checked like single-pass answers (``max_error_retries`` rejections with the
error), then optionally shown execution feedback once per round before being accepted.
Backends without tool calling (claude_code runs its own loop, vllm) fall back to single pass.
"""
from __future__ import annotations

from ..base import Example, Generation
from ..extract import extract_program
from ..tools import TOOLS
from .session import Session
from .single_pass import single_pass


class _Done(Exception):
    def __init__(self, generation: Generation):
        self.generation = generation


def _submit(session: Session, state: dict, code: str) -> str:
    """Handle one submission; returns the reply text, or raises _Done."""
    gen = session.gen
    program, err, reason = session.check(extract_program(code))
    if err is not None:
        if session.counts["error_retries"] >= gen.max_error_retries:
            raise _Done(session.result(None, err, reason))
        session.counts["error_retries"] += 1
        return session.render("agent_rejected", error=err)
    if state.get("pending") == program:
        raise _Done(session.result(program))
    state["pending"] = program
    feedback = session.feedback_text(program)
    if feedback is None:
        raise _Done(session.result(program))
    return session.render("agent_feedback", feedback=feedback, n_logs=gen.feedback_logs)


def _turn(session: Session, state: dict) -> None:
    resp = session.ask(TOOLS)
    box = session.gen.toolbox
    if not resp.tool_calls:
        ext = extract_program(resp.text)
        reply = _submit(session, state, resp.text) if ext.program else \
            session.render("agent_nudge")
        session.add("user", reply)
        return
    replies = []
    try:
        for call in resp.tool_calls:
            session.counts["tool_calls"] += 1
            if call.error:
                text = f"ERROR: {call.error}"
            elif call.name == "submit":
                text = _submit(session, state, str(call.arguments.get("program", "")))
            else:
                text = box.call(call.name, call.arguments)
                if call.name == "dry_run" and ": ERROR" not in text.split("\n")[0] \
                        and text.startswith("log "):
                    state["last_good"] = extract_program(
                        str(call.arguments.get("program"))).program
            replies.append({"role": "tool", "tool_call_id": call.id, "name": call.name,
                            "content": text})
    finally:
        session.messages.extend(replies)


def agent(session: Session, examples: list[Example]) -> Generation:
    gen = session.gen
    if not gen.backend.supports_tools:
        return single_pass(session, examples)
    session.add("system", session.render("agent_system", function_list=gen.function_list(),
                                         categories=gen.categories(), examples=examples,
                                         max_turns=gen.max_turns))
    session.add("user", session.render("agent_user"))
    state: dict = {}
    try:
        while session.counts["turns"] < gen.max_turns:
            _turn(session, state)
    except _Done as done:
        return done.generation
    fallback = state.get("pending") or state.get("last_good")
    if fallback:
        session.counts["fallback"] = 1
        return session.result(fallback)
    return session.result(None, f"max turns ({gen.max_turns}) reached without an accepted "
                                 "submission", "max_turns")
