"""Mapping of the openai/anthropic SDK exceptions (same shapes) onto BackendError
(classified by :func:`.retry.classify_status`)."""
from __future__ import annotations

from .retry import BackendError, classify_status, unreachable


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
    if isinstance(exc, sdk.APIStatusError):
        status = getattr(exc, "status_code", 0) or 0
        return classify_status(status, str(exc), url, retry_after=_retry_after(exc))
    if isinstance(exc, sdk.APIResponseValidationError):
        return BackendError("malformed", f"{url}: malformed response ({exc})")
    return BackendError("malformed", f"{url}: {type(exc).__name__}: {exc}")
