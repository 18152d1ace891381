"""Scenario-dict plumbing and combinators, on literal dicts whose answers follow the reference.

Timestamps are small integers here; no log is needed (``log_dir`` is only used to expand uuid
lists, which these tests never pass).
"""
from __future__ import annotations

from scenmine.dsl import scenario as S
from scenmine.dsl.scenario import reverse_relationship, scenario_and, scenario_not, scenario_or


def unary(track_candidates, log_dir, keep=(2,)):
    """A stand-in unary DSL function: keeps the given timestamps of every candidate."""
    return {u: S.at_timestamps(v, set(keep)) for u, v in track_candidates.items()}


def relational(track_candidates, related_candidates, log_dir):
    return {"a": {"x": [1, 2], "y": [2, 3]}, "b": {"x": [3]}, "c": {}}


def test_and_intersects_tracks_and_timestamps():
    assert scenario_and([{"a": [1, 2, 3], "b": [1]}, {"a": [2, 3, 4], "c": [1]}]) == {"a": [2, 3]}
    assert scenario_and([{"a": []}, {"a": [1]}]) == {}  # empty entries are not tracks
    assert scenario_and([{"a": [1]}, {"a": [2]}]) == {"a": []}
    assert scenario_and([]) == {} and scenario_and([{"a": [1]}]) == {"a": [1]}


def test_and_or_put_the_referred_uuid_into_its_own_relations():
    both = scenario_and([{"a": {"x": [1, 2]}}, {"a": [2, 3]}])
    assert both == {"a": {"x": [2], "a": [2]}}
    assert scenario_or([{"a": [1]}, {"a": {"x": [2]}}]) == {"a": {"x": [2], "a": [1]}}
    assert scenario_or([{"a": {"x": [2]}}, {"a": [1]}]) == {"a": {"x": [2], "a": [1]}}


def test_or_merges_nested_relations_without_touching_inputs():
    first, second = {"a": {"x": [1]}}, {"a": {"x": [2], "y": {"z": [3]}}, "b": [4]}
    out = scenario_or([first, second])
    assert out == {"a": {"x": [1, 2], "y": {"z": [3]}}, "b": [4]}
    assert first == {"a": {"x": [1]}} and second["a"]["x"] == [2]
    out["b"].append(5)
    assert second["b"] == [4]
    assert scenario_or([{"a": [1, 2]}, {"a": {2, 3}}]) == {"a": [1, 2, 3]}


def test_not_subtracts_per_timestamp_and_keeps_structure():
    assert scenario_not(unary)({"a": [1, 2, 3], "b": [1]}, None) == {"a": [1, 3], "b": [1]}
    assert scenario_not(unary)({"a": [1, 2, 3]}, None, keep=(1, 2, 3)) == {"a": []}
    nested = {"a": {"x": [1, 2], "y": {"z": [2, 3]}}}
    assert scenario_not(unary)(nested, log_dir=None) == {"a": {"x": [1], "y": {"z": [3]}}}
    assert scenario_not(unary)({}, None) == {}


def test_not_of_a_relational_function_uses_referred_timestamps():
    out = scenario_not(relational)({"a": [1, 2, 3, 4], "c": [1]}, {"x": [1]}, None)
    assert out == {"a": [4], "c": [1]}


def test_not_of_get_objects_in_relative_direction_starts_from_the_related_side():
    def get_objects_in_relative_direction(track_candidates, related_candidates, log_dir):
        return {"x": {"a": [1]}}

    out = scenario_not(get_objects_in_relative_direction)({"a": [1, 2]}, {"x": [1, 2]}, None)
    assert out == {"x": [2]}


def test_reverse_relationship_swaps_referred_and_related():
    out = reverse_relationship(relational)({"a": [1, 2, 3], "b": [3]},
                                           {"x": [1, 2, 3], "y": [2, 3]}, None)
    assert out == {"x": {"a": [1, 2], "b": [3]}, "y": {"a": [2, 3]}}


def test_reverse_relationship_keeps_other_nested_relations():
    def nested(track_candidates, related_candidates, log_dir):
        return {"a": {"x": [1, 2], "z": {"w": [1]}}}

    out = reverse_relationship(nested)({"a": [1, 2]}, {"x": [1, 2]}, None)
    assert out == {"x": {"a": {"z": {"w": [1]}}}}
    assert reverse_relationship(nested)({}, {}, None) == {}


def test_relational_plumbing_restricts_to_shared_timestamps():
    tracks, related = S.prepare_relational({"a": [1, 2], "b": [5]}, {"x": [2, 3], "y": [7]}, None)
    assert tracks == {"a": [2]} and related == {"x": [2]}
    relations = {"a": {"x": [1, 2, 9]}}
    assert S.relational_output(tracks, related, relations) == {"a": {"x": [2]}}
    # a relational track input keeps its earlier relations at the new timestamps
    prior = {"a": {"p": [1, 2], "q": [3]}}
    out = S.relational_output(prior, {"x": {"n": [1]}}, {"a": {"x": [1]}})
    assert out == {"a": {"p": [1], "x": {"n": [1]}}}
    assert S.relational_output({"a": [1]}, {}, {"a": {}}) == {"a": {}}


def test_helpers():
    value = {"x": [3, 1], "y": {"z": {2, 3}}}
    assert S.timestamps_of(value) == [1, 2, 3] and S.timestamps_of([]) == []
    assert S.at_timestamps(value, [3]) == {"x": [3], "y": {"z": [3]}}
    assert S.at_timestamps(value, []) == {}
    scenario = {"a": {"x": [], "y": {"z": []}, "w": [1]}, "b": [], "c": {"d": {}}}
    assert S.remove_empty_branches(scenario) == {"a": {"w": [1]}}
    assert S.track_dict({"a": {"x": [2]}, "b": [], "c": [1, 1]}) == {"a": [2], "c": [1]}
    assert S.is_empty({"a": {"x": []}}) and not S.is_empty({"a": [1]})
    copied = S.copy_scenario(value)
    copied["y"]["z"] = []
    assert value["y"]["z"] == {2, 3}
