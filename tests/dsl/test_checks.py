"""The DSL's argument checks: misuse seen from real models gets a short actionable message,
correct calls are unchanged."""
from __future__ import annotations

import pytest

from scenmine.dsl import NAMESPACE as N
from scenmine.dsl import DSLUsageError
from scenmine.dsl.checks import checked


@pytest.fixture(scope="module")
def log(real_log):
    return real_log


@pytest.fixture(scope="module")
def vehicles(log):
    return N["get_objects_of_category"](log, category="VEHICLE")


@pytest.mark.parametrize("call,message", [
    (lambda v, log: N["scenario_and"](v), "expects a list of scenario dicts, got a dict"),
    (lambda v, log: N["scenario_or"]([v, N["stationary"]]), "item 1 is the function stationary"),
    (lambda v, log: N["reverse_relationship"](N["at_pedestrian_crossing"]),
     "expects a relational function"),
    (lambda v, log: N["has_velocity"](v, {"log": 1}), "log_dir must be the log handle"),
    (lambda v, log: N["has_velocity"](v, "/nonexistent/log"), "log_dir must be the log handle"),
    (lambda v, log: N["stationary"](next(iter(v)), log), "must be a scenario dict"),
    (lambda v, log: N["following"](v, "uuid-string", log), "related_candidates must be a"),
    (lambda v, log: N["reverse_relationship"](N["following"])("uuid", v, log),
     "track_candidates must be a scenario dict"),
    (lambda v, log: N["scenario_not"](N["stationary"])(["a"], log), "got a list of 1 items"),
    (lambda v, log: N["scenario_not"](v), "returns a new function, got a scenario dict"),
])
def test_misuse_gets_a_short_actionable_message(call, message, vehicles, log):
    with pytest.raises(DSLUsageError, match=message) as exc:
        call(vehicles, log)
    assert len(str(exc.value)) < 300 and "\n" not in str(exc.value)


def test_correct_calls_are_unchanged(vehicles, log):
    from scenmine.dsl.unary import has_velocity
    moving = N["has_velocity"](vehicles, log, min_velocity=2)
    assert moving == has_velocity(vehicles, log, min_velocity=2)
    assert N["scenario_and"]([moving, vehicles]) == N["scenario_and"]([vehicles, moving])
    assert N["scenario_not"](N["has_velocity"])(vehicles, log, min_velocity=2) == \
        N["scenario_not"](has_velocity)(vehicles, log, min_velocity=2)


def test_checked_is_idempotent_and_leaves_other_names_alone():
    import numpy as np
    f = N["has_velocity"]
    assert checked(f) is f and checked(np) is np and checked(N["Literal"]) is N["Literal"]
    assert f.__name__ == "has_velocity" and "min_velocity" in str(
        __import__("inspect").signature(f))


def test_every_dsl_docstring_has_the_sections():
    """Purpose line, Args (with every parameter), Returns and Example."""
    import inspect

    from scenmine.generate.docs import function_docs
    for name, doc in function_docs().items():
        text = inspect.cleandoc(doc.doc)
        assert text and "\n" not in text.split("\n\n")[0], name
        for section in ("Args:", "Returns:", "Example:"):
            assert section in text, (name, section)
        params = [p for p in inspect.signature(N[name]).parameters
                  if p not in ("args", "kwargs", "visualization_kwargs")]
        args = text.split("Args:")[1].split("Returns:")[0]
        assert all(f"{p}:" in args for p in params), (name, params)
