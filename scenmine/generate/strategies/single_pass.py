"""The RefAV baseline: one system prompt (DSL reference, categories, few-shot examples),
then optional re-prompts with the error (max_error_retries) and execution feedback."""
from __future__ import annotations

from ..base import Example, Generation
from .session import Session


def revise(session: Session, program: str) -> str:
    """Execution-feedback rounds: show per-log results, keep a valid revision."""
    while (feedback := session.feedback_text(program)) is not None:
        session.add("user", session.render("feedback", feedback=feedback,
                                           n_logs=session.gen.feedback_logs))
        new, err, _ = session.check_text(session.ask().text)
        if err is None and new:
            program = new
    return program


def single_pass(session: Session, examples: list[Example]) -> Generation:
    gen = session.gen
    session.add("system", session.render("system", dsl_reference=gen.reference(),
                                         categories=gen.categories(), examples=examples))
    session.add("user", session.render("user"))
    program, err, reason = session.check_text(session.ask().text)
    while err is not None and session.counts["error_retries"] < gen.max_error_retries:
        session.counts["error_retries"] += 1
        session.add("user", session.render("retry", error=err))
        program, err, reason = session.check_text(session.ask().text)
    if err is not None:
        return session.result(None, err, reason)
    return session.result(revise(session, program))
