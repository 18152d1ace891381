"""The agent: a bounded tool loop (look up docs, list categories, dry-run drafts, submit).

Tool calls are read however the model writes them (``generate.tools``: ``native`` calls,
``text`` forms in the answer with the tools described in the prompt, or ``auto``: native
calls sent, text forms accepted). The loop is kept from going in circles: a repeated
identical call is answered with a reminder instead of being run again, and after
``final_after`` turns, or ``max_repeats`` repeats, the model is asked for its final program.
When turns run out, the best draft that ran cleanly (dry run or submission) is submitted;
when the first ``fallback_after`` answers hold no usable tool call or program, when
``fallback_after`` turns after the final request bring no program, or when turns run out
without a draft, the prompt falls back to single pass (a fresh conversation). Submissions
are checked like single-pass answers (``max_error_retries`` rejections), then optionally shown
execution feedback once per round. Backends without native tool calling (vllm's offline
engine) get the tools described in the prompt; claude_code, which runs its own loop, gets a
single-pass prompt.
"""
from __future__ import annotations

import json

from ..answers import truncated
from ..base import Example, Generation
from ..extract import extract_program
from ..toolcalls import describe_tools, tool_calls
from ..tools import TOOLS
from .session import Session
from .single_pass import single_pass


class _Done(Exception):
    def __init__(self, generation: Generation):
        self.generation = generation


class _Loop:
    """State of one agent conversation."""

    def __init__(self, session: Session, mode: str):
        self.session, self.mode = session, mode
        self.send_tools = TOOLS if mode in ("native", "auto") else None
        self.seen: set[tuple[str, str]] = set()
        self.answers: set[str] = set()
        self.repeats = self.useless = 0
        self.usable = self.asked_final = False
        self.since_final = 0  # turns since the final program was asked for
        self.pending: str | None = None
        self.drafts: list[tuple[bool, str]] = []  # (found something, program) of clean runs
        self.dsl_names = set(session.gen.function_docs())

    # -- submissions ------------------------------------------------------------------------
    def submit(self, program, err, reason) -> str:
        """Handle one submission's check result; returns the reply text, or raises _Done."""
        session, gen = self.session, self.session.gen
        if err is not None:
            if session.counts["error_retries"] >= gen.max_error_retries:
                if session.best is not None:
                    raise _Done(session.result(session.best))
                raise _Done(session.result(None, err, reason))
            session.counts["error_retries"] += 1
            name = "truncated" if reason == "truncated" else "agent_rejected"
            return session.render(name, error=err)
        if self.pending == program:
            raise _Done(session.result(program))
        self.pending = program
        feedback = session.feedback_text(program)
        if feedback is None:
            raise _Done(session.result(program))
        return session.render("agent_feedback", feedback=feedback, n_logs=gen.feedback_logs)

    def best_draft(self) -> str | None:
        found = [p for ok, p in self.drafts if ok]
        return self.pending or (found[-1] if found else None) or self.session.best or \
            (self.drafts[-1][1] if self.drafts else None)

    # -- one turn ---------------------------------------------------------------------------
    def turn(self) -> None:
        session = self.session
        resp = session.ask(self.send_tools)
        calls = tool_calls(resp, TOOLS, self.mode, self.dsl_names)
        text = (resp.text or "").strip()
        if text:
            if text in self.answers:
                self.repeats += 1
            self.answers.add(text)
        if not calls:
            ext = extract_program(resp.text)
            if ext.program is not None or truncated(resp.text, resp.finish_reason):
                self.usable = True
                reply = self.submit(*session.check_answer(resp))
            else:
                self.useless += 1
                reply = session.render("agent_nudge")
            session.add("user", reply)
            return
        if any(_usable(c) for c in calls):
            self.usable = True
        else:
            self.useless += 1
        native = bool(resp.tool_calls) and self.mode != "text"
        replies: list[tuple] = []
        try:
            for call in calls:
                replies.append((call, self.run(call)))
        finally:
            if native:
                session.messages.extend({"role": "tool", "tool_call_id": c.id, "name": c.name,
                                         "content": t} for c, t in replies)
            elif replies:
                session.add("user", "\n\n".join(f"[{c.name} result]\n{t}" for c, t in replies))

    def run(self, call) -> str:
        session, box = self.session, self.session.gen.toolbox
        session.counts["tool_calls"] += 1
        if call.error:
            return f"ERROR: {call.error}"
        if call.name == "submit":
            code = str(call.arguments.get("program", ""))
            ext = extract_program(code)
            if ext.program is None:  # nothing to check: not counted as a rejection
                return session.render("agent_rejected", error=ext.error)
            return self.submit(*session.check(ext, code))
        key = (call.name, json.dumps(call.arguments, sort_keys=True, default=str))
        if key in self.seen:
            self.repeats += 1
            return session.render("agent_repeat", call=f"{call.name}({key[1]})")
        self.seen.add(key)
        text = box.call(call.name, call.arguments)
        if call.name == "dry_run" and text.startswith("log ") and \
                ": ERROR" not in text.split("\n")[0]:
            program = extract_program(str(call.arguments.get("program"))).program
            if program:
                self.drafts.append(("found NOTHING" not in text, program))
        return text


def _usable(call) -> bool:
    """A valid call; a submit only if its program argument holds code."""
    if call.error is not None:
        return False
    return call.name != "submit" or \
        extract_program(str(call.arguments.get("program", ""))).program is not None


def agent(session: Session, examples: list[Example]) -> Generation:
    gen = session.gen
    mode = gen.tools_mode
    if not gen.backend.supports_tools:  # vllm's offline engine: tools as text, or single pass
        if mode == "native" or not gen.backend.text_tools:
            return single_pass(session, examples)
        mode = "text"
    loop = _Loop(session, mode)
    session.add("system", session.system_prompt(
        "agent_system", examples, function_list=gen.function_list(),
        categories=gen.categories(), max_turns=gen.max_turns,
        tool_list=describe_tools(TOOLS) if mode == "text" else ""))
    session.add("user", session.render("agent_user"))
    try:
        while session.counts["turns"] < gen.max_turns:
            if not loop.usable and loop.useless >= gen.fallback_after or \
                    loop.since_final >= gen.fallback_after:  # stuck: single pass works
                return _fallback(session, examples)
            if not loop.asked_final and (session.counts["turns"] >= gen.final_after or
                                         loop.repeats >= gen.max_repeats):
                loop.asked_final = True
                final = session.render("agent_final")
                if session.messages[-1]["role"] == "user":  # no two user turns in a row
                    last = session.messages[-1]
                    last["content"] = f"{last['content'].rstrip()}\n\n{final}"
                else:
                    session.add("user", final)
            loop.turn()
            loop.since_final += loop.asked_final
    except _Done as done:
        return done.generation
    best = loop.best_draft()
    if best:
        session.counts["fallback"] = 1
        return session.result(best)
    return _fallback(session, examples)


def _fallback(session: Session, examples: list[Example]) -> Generation:
    """Single pass in a fresh conversation (the agent's turns stay in the transcript)."""
    before = session.messages
    session.messages = []
    session.counts["fallback_single_pass"] = 1
    result = single_pass(session, examples)
    result.transcript = before + [{"role": "user", "content": "[fallback to single pass]"}] + \
        result.transcript
    return result
