"""The one HTTP retry policy of scenmine's model clients (LLM backends and the VLM client).

Errors are classified by what they are, not by their status code alone:

* ``rate_limited``, ``server_error``, ``timeout``, ``unreachable``: transient, retried with
  exponential backoff (``Retry-After`` honoured);
* ``bad_request`` (4xx, and a 5xx whose body is a request-validation error, which
  llama-cpp-python's server answers with HTTP 500): deterministic, never retried;
* ``context_length`` (the request does not fit the model's window): not retried here; the
  caller shrinks the request and retries once (:mod:`scenmine.generate.budget`).
"""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

RETRYABLE = frozenset({"rate_limited", "server_error", "timeout", "unreachable"})
CONTEXT_LENGTH = re.compile(
    r"context length|context window|context_length_exceeded|maximum context|"
    r"exceeds? (the )?(model'?s? )?(context|max(imum)? (model )?length)|too many tokens|"
    r"prompt is too long|requested tokens", re.IGNORECASE)
VALIDATION = re.compile(r"validation error|input should be|field required|"
                        r"extra inputs are not permitted|invalid_request", re.IGNORECASE)
PROMPT_TOKENS = re.compile(r"(\d+) (?:tokens )?in the messages", re.IGNORECASE)
WINDOW_NUMBERS = re.compile(r"(?:maximum context length|context window)(?: of| is)?\s*(\d+)",
                            re.IGNORECASE)


class BackendError(RuntimeError):
    """A failed call. ``reason`` is a short tag (rate_limited, server_error, timeout,
    unreachable, auth, bad_request, context_length, malformed, cli_error); ``fatal`` errors
    stop the run (configuration problems), the others fail one prompt. ``retries`` is how
    many times the call was retried before this error."""

    def __init__(self, reason: str, message: str, *, fatal: bool = False,
                 retry_after: float | None = None):
        super().__init__(message)
        self.reason, self.fatal, self.retry_after = reason, fatal, retry_after
        self.retries = 0

    @property
    def retryable(self) -> bool:
        return self.reason in RETRYABLE and not self.fatal

    @property
    def context_window(self) -> int | None:
        """The model's window when the server said it (context_length errors)."""
        m = WINDOW_NUMBERS.search(str(self))
        return int(m.group(1)) if m else None

    @property
    def prompt_tokens(self) -> int | None:
        """The request's prompt tokens when the server said them ("N in the messages")."""
        m = PROMPT_TOKENS.search(str(self))
        return int(m.group(1)) if m else None


def unreachable(url: str, detail: str, key: str = "llm.base_url") -> BackendError:
    """The error for a server that never answered: names the URL and the key to change."""
    return BackendError("unreachable", f"cannot reach the server at {url} ({detail}); "
                        f"start it or point the config at a reachable one: {key}=...")


def classify_status(status: int, message: str, url: str,
                    retry_after: float | None = None) -> BackendError:
    """The BackendError for an HTTP error answer (status and body text)."""
    text = f"{url}: HTTP {status} ({message[:500]})"
    if CONTEXT_LENGTH.search(message) and status in (400, 413, 422, 500):
        return BackendError("context_length", text)
    if status == 429:
        return BackendError("rate_limited", text, retry_after=retry_after)
    if status == 408:
        return BackendError("timeout", text, retry_after=retry_after)
    if status >= 500 and not VALIDATION.search(message):
        return BackendError("server_error", text, retry_after=retry_after)
    return BackendError("bad_request", text)


@dataclass
class RetryPolicy:
    """Retries of transient errors with exponential backoff (``backoff_s * 2**attempt``,
    at most ``backoff_max_s``; a server's Retry-After wins, capped the same way)."""

    max_retries: int = 4
    backoff_s: float = 1.0
    backoff_max_s: float = 30.0

    def delay(self, attempt: int, exc: BackendError) -> float:
        if exc.retry_after is not None:
            return min(max(exc.retry_after, 0.0), self.backoff_max_s)
        return min(self.backoff_s * 2 ** attempt, self.backoff_max_s)

    def run(self, call: Callable, name: str = "client",
            on_error: Callable[[BackendError, int], None] | None = None):
        """``call()`` until it returns or fails with a non-retryable error / retries run out.

        ``on_error(exc, attempt)`` may adjust ``exc`` (e.g. mark it fatal) before the retry
        decision. The final error carries ``retries``; a result's retries are returned as
        ``(result, retries)``.
        """
        attempt = 0
        while True:
            try:
                return call(), attempt
            except BackendError as exc:
                if on_error is not None:
                    on_error(exc, attempt)
                if not exc.retryable or attempt >= self.max_retries:
                    exc.retries += attempt
                    raise
                wait = self.delay(attempt, exc)
                log.warning("%s: %s (%s); retry %d/%d in %.2fs", name, exc.reason, exc,
                            attempt + 1, self.max_retries, wait)
                time.sleep(wait)
                attempt += 1
