"""Argument checks for the DSL's public functions: short messages a model can act on.

Generated programs misuse the DSL in a few recurring ways (a dict where a list of scenarios is
expected, a unary function given to ``reverse_relationship``, a uuid string or a loop variable
as candidates, something else than the program's ``log_dir`` as the log). Without checks these
surface as ``KeyError: 0`` or a 6,000-character ``OSError``; :func:`checked` wraps a DSL
function so that its arguments are checked by parameter name before it runs and a misuse
raises :class:`DSLUsageError` with one actionable sentence.

Checks look at types only (a few ``isinstance`` calls per call), so answers and speed are
unchanged. ``scenmine.dsl.NAMESPACE`` wraps every function it holds, new atoms included.
"""
from __future__ import annotations

import functools
import inspect
from collections.abc import Callable

TIMESTAMPS = (list, tuple, set, frozenset, dict)  # what a scenario dict's values may be
LOG_REFUSED = (dict, list, tuple, set, frozenset, int, float, bool, bytes)


_ACCEPTED: set = set()  # handles get_context resolved (bounded)


class DSLUsageError(TypeError):
    """A DSL function called with the wrong kind of argument (the message says the fix)."""


def describe(value) -> str:
    """A short description of a value for an error message (never its whole repr)."""
    if isinstance(value, dict):
        return f"a dict with {len(value)} keys"
    if isinstance(value, (list, tuple, set, frozenset)):
        return f"a {type(value).__name__} of {len(value)} items"
    if isinstance(value, str):
        return f"the string {value[:40]!r}" + ("..." if len(value) > 40 else "")
    if callable(value):
        return f"the function {getattr(value, '__name__', type(value).__name__)}"
    return f"a {type(value).__name__}"


def log_handle(value, function: str):
    """Check that ``value`` is the log handle a program receives as ``log_dir``.

    What counts as a handle is decided by ``scenmine.dsl.context.get_context`` (paths, loaded
    logs, contexts): obvious non-handles are refused before it, and its own failures are
    turned into the same one-line message. Returns ``value`` unchanged.
    """
    try:
        if value in _ACCEPTED:  # the same handle again (every call of a program): no work
            return value
    except TypeError:  # unhashable: certainly not a handle
        pass
    if value is None or isinstance(value, LOG_REFUSED):
        raise DSLUsageError(f"{function}: log_dir must be the log handle `log_dir` the program "
                            f"was given (pass it through unchanged), got {describe(value)}")
    from scenmine.data.logs import LogLoadError
    from scenmine.dsl.context import get_context

    try:
        get_context(value)
    except (LogLoadError, OSError, TypeError, ValueError, KeyError) as exc:
        raise DSLUsageError(f"{function}: log_dir must be the log handle `log_dir` the program "
                            f"was given, got {describe(value)} ({type(exc).__name__})") from None
    if len(_ACCEPTED) > 64:
        _ACCEPTED.clear()
    _ACCEPTED.add(value)
    return value


def candidates(value, function: str, param: str = "track_candidates"):
    """Check that ``value`` is a scenario dict ``{uuid: timestamps | {related: ...}}``."""
    if not isinstance(value, dict):
        hint = (" (looping over a scenario dict gives uuid strings: pass the whole dict, or "
                "{uuid: scenario[uuid]} for one track)") if isinstance(value, str) else ""
        raise DSLUsageError(f"{function}: {param} must be a scenario dict {{uuid: timestamps}} "
                            f"such as get_objects_of_category returns, got {describe(value)}"
                            f"{hint}")
    for first in value.values():  # one value is enough to catch {uuid: uuid} mix-ups
        if not isinstance(first, TIMESTAMPS) and not hasattr(first, "__array__"):
            raise DSLUsageError(f"{function}: {param} must map uuids to timestamp lists (or "
                                f"to related dicts), got a value that is {describe(first)}")
        break
    return value


def scenarios(value, function: str):
    """Check that ``value`` is a list of scenario dicts (scenario_and / scenario_or)."""
    if isinstance(value, dict):
        raise DSLUsageError(f"{function} expects a list of scenario dicts, got a dict: write "
                            f"{function}([a, b]) (a single scenario needs no {function})")
    if not isinstance(value, (list, tuple)):
        raise DSLUsageError(f"{function} expects a list of scenario dicts, e.g. "
                            f"{function}([a, b]), got {describe(value)}")
    for i, item in enumerate(value):
        if callable(item):
            raise DSLUsageError(f"{function}: item {i} is {describe(item)}; call it first, "
                                f"e.g. {getattr(item, '__name__', 'f')}(candidates, log_dir)")
        candidates(item, function, f"item {i}")
    return value


def _params(func) -> list[str]:
    try:
        return list(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        return []


def dsl_function(value, function: str, relational: bool = False):
    """Check that ``value`` is a DSL function (a relational one when ``relational``)."""
    if isinstance(value, dict):
        raise DSLUsageError(f"{function} wraps a DSL function and returns a new function, got "
                            f"a scenario dict: write {function}(some_function)(candidates, "
                            "..., log_dir)")
    if not callable(value):
        raise DSLUsageError(f"{function} expects a DSL function, got {describe(value)}")
    params = _params(value)
    if relational and params and "related_candidates" not in params:
        name = getattr(value, "__name__", "the function")
        raise DSLUsageError(f"{function} expects a relational function (one taking "
                            f"track_candidates, related_candidates, log_dir); {name} takes "
                            f"({', '.join(params)}): call {name} directly on the objects you "
                            "want")
    return value


# parameter name -> check(value, function name, parameter name)
CHECKS: dict[str, Callable] = {
    "track_candidates": candidates,
    "related_candidates": candidates,
    "log_dir": lambda v, f, p: log_handle(v, f),
    "scenario_dicts": lambda v, f, p: scenarios(v, f),
}
FUNCTION_CHECKS = {"reverse_relationship": True, "scenario_not": False}  # relational?


def checked(func):
    """``func`` with its arguments checked by name (see CHECKS); idempotent.

    Non-functions (np, Path, constants) and functions without checked parameters are
    returned as they are.
    """
    if not callable(func) or inspect.isclass(func) or getattr(func, "__dsl_checked__", False):
        return func
    name = getattr(func, "__name__", "")
    params = _params(func)
    if name in FUNCTION_CHECKS and params:
        relational = FUNCTION_CHECKS[name]

        @functools.wraps(func)
        def wrapper(f, *args, **kwargs):  # the wrapped result checks its own arguments
            return checked(func(dsl_function(f, name, relational), *args, **kwargs))
    else:
        plan = tuple((i, p, CHECKS[p]) for i, p in enumerate(params) if p in CHECKS)
        if not plan:
            return func

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            n = len(args)
            for i, param, check in plan:
                if i < n:
                    check(args[i], name, param)
                elif param in kwargs:
                    check(kwargs[param], name, param)
            return func(*args, **kwargs)
    wrapper.__dsl_checked__ = True
    return wrapper
