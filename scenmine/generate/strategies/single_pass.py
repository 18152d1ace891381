"""The RefAV baseline: one system prompt (DSL reference, categories, few-shot examples),
then re-prompts with the error (max_error_retries) and optional execution feedback.

A cut-off answer is asked again (``truncated``) rather than run; a program that runs but
finds nothing on every training log is retried with that feedback and, if nothing better
comes, kept (a running program beats none).
"""
from __future__ import annotations

from ..base import Example, Generation
from .session import Session


def revise(session: Session, program: str) -> str:
    """Execution-feedback rounds: show per-log results, keep a valid revision."""
    while (feedback := session.feedback_text(program)) is not None:
        session.add("user", session.render("feedback", feedback=feedback,
                                           n_logs=session.gen.feedback_logs))
        new, err, _ = session.check_answer(session.ask())
        if err is None and new:
            program = new
    return program


def repair_loop(session: Session, program, err, reason) -> tuple:
    """Re-prompt with the error until a program passes or ``max_error_retries`` are spent."""
    gen = session.gen
    while err is not None and session.counts["error_retries"] < gen.max_error_retries:
        session.counts["error_retries"] += 1
        template = "truncated" if reason == "truncated" else "retry"
        session.add("user", session.render(template, error=err))
        program, err, reason = session.check_answer(session.ask())
    if err is not None and session.best is not None:  # an empty result that runs
        return session.best, None, None
    return program, err, reason


def single_pass(session: Session, examples: list[Example], reference: str | None = None,
                user: str = "user", **variables) -> Generation:
    """One answer, repaired with the error up to ``max_error_retries`` times. ``reference``
    replaces the DSL reference (the decompose strategy passes its selected atoms); ``user``
    names the user template, ``variables`` go to it."""
    gen = session.gen
    session.add("system", session.system_prompt("system", examples, reference=reference,
                                                categories=gen.categories()))
    session.add("user", session.render(user, **variables))
    program, err, reason = repair_loop(session, *session.check_answer(session.ask()))
    if err is not None:
        return session.result(None, err, reason)
    return session.result(revise(session, program))
