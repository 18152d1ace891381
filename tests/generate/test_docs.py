"""The DSL reference is generated from signatures and docstrings."""
from __future__ import annotations

import pytest

from scenmine.generate import docs


def test_reference_from_a_namespace(namespace):
    text = docs.reference_text(namespace)
    assert "## Unary functions" in text and "## Relational functions" in text
    assert "being_crossed_by(track_candidates, related_candidates, log_dir, " \
           "direction='forward')" in text
    assert "Up to 0.5 m/s is annotation jitter." in text
    assert "BUS, PEDESTRIAN, REGULAR_VEHICLE, EGO_VEHICLE, ANY, VEHICLE" in text
    listing = docs.list_functions(namespace)
    assert "- scenario_not(func): Candidates minus" in listing
    assert "np" not in [ln.split("(")[0][2:] for ln in listing.splitlines()]
    assert "did you mean has_velocity" in docs.get_function_doc("has_velocty", namespace)


def test_real_dsl_reference_covers_the_contract():
    try:
        ns = docs.dsl_namespace()
    except docs.DocsUnavailable:
        pytest.skip("scenmine.dsl.NAMESPACE has not landed yet")
    fns = docs.function_docs(ns)
    for name in ("get_objects_of_category", "has_objects_in_relative_direction",
                 "scenario_and", "reverse_relationship", "output_scenario"):
        assert name in fns
    assert fns["has_objects_in_relative_direction"].kind == "relational"
    assert "VEHICLE" in docs.categories(ns)
    assert len(docs.reference_text(ns)) > 2000
