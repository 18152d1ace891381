"""Mapping of the openai/anthropic SDK exceptions (same shapes) onto BackendError."""
from __future__ import annotations

from .base import BackendError, unreachable


def _retry_after(exc) -> float | None:
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    try:
        return float(headers.get("retry-after"))
    except (TypeError, ValueError):
        return None


def map_error(exc: Exception, sdk, url: str, key_env: str | None) -> BackendError:
    """Translate one SDK exception; configuration problems come back fatal."""
    if isinstance(exc, sdk.APITimeoutError):
        return BackendError("timeout", f"request to {url} timed out")
    if isinstance(exc, sdk.APIConnectionError):
        return unreachable(url, str(exc) or type(exc).__name__)
    if isinstance(exc, (sdk.AuthenticationError, sdk.PermissionDeniedError)):
        hint = f"set the environment variable {key_env}" if key_env else "check the API key"
        return BackendError("auth", f"{url} refused the credentials ({exc}); {hint} "
                            "(config key llm.api_key_env names the variable)", fatal=True)
    if isinstance(exc, sdk.NotFoundError):
        return BackendError("bad_request", f"{url}: not found ({exc}); check llm.base_url "
                            "and llm.model", fatal=True)
    if isinstance(exc, sdk.RateLimitError):
        return BackendError("rate_limited", f"{url}: rate limited ({exc})",
                            retry_after=_retry_after(exc))
    if isinstance(exc, sdk.APIStatusError):
        status = getattr(exc, "status_code", 0) or 0
        if status >= 500 or status == 408:
            return BackendError("server_error" if status != 408 else "timeout",
                                f"{url}: HTTP {status} ({exc})", retry_after=_retry_after(exc))
        return BackendError("bad_request", f"{url}: HTTP {status} ({exc})")
    if isinstance(exc, sdk.APIResponseValidationError):
        return BackendError("malformed", f"{url}: malformed response ({exc})")
    return BackendError("malformed", f"{url}: {type(exc).__name__}: {exc}")
