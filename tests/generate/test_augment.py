"""Prompt augmentation: meaning-preserving rewrites, and programs combined by agreement."""
from __future__ import annotations

import json

import fake_openai_server as fo
import pytest

from scenmine.generate.augment import (
    AugmentedGenerator,
    LLMParaphraser,
    RulesParaphraser,
    agreement,
    meaning_changes,
)
from scenmine.generate.backends.openai import OpenAIBackend
from scenmine.generate.base import Generation
from scenmine.generate.prompts import Prompts


@pytest.mark.parametrize("rewrite, why", [
    ("vehicle overtaking a bus", "swaps 'passing' for 'overtaking'"),
    ("bus passing a vehicle", "entities differ"),          # subject/object swap
    ("vehicle passing two buses", "counts differ"),
    ("vehicle passing a bus on its right", "directions differ"),
    ("", "empty rewrite"),
])
def test_meaning_changes_are_caught(rewrite, why):
    assert why in (meaning_changes("vehicle passing a bus", rewrite) or "")


@pytest.mark.parametrize("original, rewrite", [
    ("vehicle that is turning left near a pedestrian", "vehicle making a left turn near a pedestrian"),
    ("pedestrian in front of the ego vehicle", "pedestrian ahead of the ego"),
    ("car stopped within 10 m of a bus", "a car stopped within 10 m of a bus"),
])
def test_equivalent_wordings_pass(original, rewrite):
    assert meaning_changes(original, rewrite) is None


def test_rules_paraphraser_rewrites_keep_meaning():
    prompt = "a vehicle that is turning left in front of the ego vehicle"
    out = RulesParaphraser().paraphrase(prompt, 4)
    assert len(out) == 4 and prompt not in out
    assert all(meaning_changes(prompt, r) is None for r in out), out


class Scripted:
    """A generator answering from a {wording: program or None} table."""
    name = "scripted"

    def __init__(self, table):
        self.table, self.asked = table, []

    def generate(self, prompt, examples=None):
        self.asked.append(prompt)
        prog = self.table.get(prompt)
        return Generation(prompt, prog, None if prog else "cannot parse: x",
                          usage={"calls": 1}, reason=None if prog else "no_code")


class Para:
    def __init__(self, rewrites):
        self.rewrites = rewrites

    def paraphrase(self, prompt, k):
        return self.rewrites[:k]


class Result:
    def __init__(self, referred):
        self.ok, self.referred = True, referred


def test_vote_keeps_the_program_most_others_agree_with():
    outputs = {"A": {"u1": [1, 2]}, "B": {"u1": [1, 2], "u2": [1]}, "C": {"u9": [5]}}
    inner = Scripted({"bus moving": "A", "moving bus": "B", "the bus moving": "B"})
    run = lambda program, log, timeout_s: Result(outputs[program])  # noqa: E731
    gen = AugmentedGenerator(inner, Para(["moving bus", "the bus moving", "bus passing a car"]),
                             k=3, run=run, logs=["l1"]).generate("bus moving")
    # "bus passing a car" changes the entities: dropped before generation
    assert inner.asked == ["bus moving", "moving bus", "the bus moving"]
    assert gen.ok and gen.program == "B" and gen.prompt == "bus moving"
    assert gen.usage["calls"] == 3 and gen.usage["augment_dropped"] == 1
    info = json.loads(gen.transcript[0]["content"])
    assert info["chosen"] == "moving bus"


def test_a_rewrite_rescues_an_unparseable_original_and_ties_keep_the_original():
    inner = Scripted({"moving bus": "B"})
    gen = AugmentedGenerator(inner, Para(["moving bus"]), k=2).generate("bus that is moving")
    assert gen.ok and gen.program == "B"
    inner = Scripted({"x bus": "A", "bus x": "C"})
    run = lambda program, log, timeout_s: Result({})  # noqa: E731 - all agree (empty)
    gen = AugmentedGenerator(inner, Para(["bus x"]), k=1, run=run, logs=["l"]).generate("x bus")
    assert gen.program == "A"


def test_nothing_works_reports_the_original_failure():
    gen = AugmentedGenerator(Scripted({}), Para(["moving bus"]), k=1).generate("bus moving")
    assert not gen.ok and gen.error.startswith("cannot parse") and gen.reason == "no_code"


def test_agreement_is_mean_jaccard_over_logs():
    assert agreement([{"a": {1, 2}}, {}], [{"a": {2}}, {}]) == pytest.approx((0.5 + 1) / 2)


def test_llm_paraphraser_reads_a_json_list():
    with fo.serve([fo.text('Here you go: ["moving bus", 3, "a bus in motion"]'),
                   fo.text("sorry")]) as srv:
        b = OpenAIBackend("q", base_url=srv.url + "/v1", backoff_s=0.001, max_retries=1)
        p = LLMParaphraser(b, Prompts())
        assert p.paraphrase("bus moving", 2) == ["moving bus", "a bus in motion"]
        assert p.paraphrase("bus moving", 2) == []
    assert "JSON list of 2 rewrites" in srv.requests[0]["body"]["messages"][0]["content"]


def test_augment_offline_in_a_run(make_cfg, tmp_path):
    from scenmine.generate.augment import AugmentedGenerator as AG
    from scenmine.generate.factory import build_generator
    cfg = make_cfg(["generate.augment.k=2"])
    gen = build_generator(cfg, logs=[])
    assert isinstance(gen, AG) and isinstance(gen.paraphraser, RulesParaphraser)
    out = gen.generate("vehicle that is turning left")
    assert out.ok and out.usage["augment_wordings"] >= 2


def test_atom_pool_switch_limits_generators_to_refav_atoms(make_cfg):
    """generate.atoms=refav: the rules parser's programs may not call the richer atoms, and an
    LLM generator's reference leaves them out."""
    from scenmine.dsl import EXTENDED_ATOMS, namespace_for
    from scenmine.generate.factory import build_generator

    assert EXTENDED_ATOMS and not EXTENDED_ATOMS & set(namespace_for("refav"))
    prompt = "vehicle making a U-turn"
    assert build_generator(make_cfg([]), logs=[]).generate(prompt).ok
    gen = build_generator(make_cfg(["generate.atoms=refav"]), logs=[]).generate(prompt)
    assert not gen.ok and "making_u_turn" in gen.error and gen.reason == "atoms_outside_pool"
    # a prompt RefAV's atoms express is unaffected
    assert build_generator(make_cfg(["generate.atoms=refav"]), logs=[]).generate(
        "vehicle turning left").ok
    from scenmine.generate import docs
    assert "making_u_turn" not in docs.reference_text(namespace_for("refav"))


def test_wrappers_forward_feedback_only_where_the_inner_generator_takes_it():
    from scenmine.generate.base import accepts_feedback
    from scenmine.generate.factory import AtomPool

    class WithFeedback(Scripted):
        def generate(self, prompt, examples=None, feedback=None):
            self.feedback = feedback
            return super().generate(prompt, examples)

    plain, fed = Scripted({"x bus": "A"}), WithFeedback({"x bus": "A"})
    for inner, takes in ((plain, False), (fed, True)):
        for wrapper in (AugmentedGenerator(inner, Para([]), k=1), AtomPool(inner, "refav")):
            assert accepts_feedback(wrapper) is takes
            assert wrapper.generate("x bus", None, feedback="too many").program == "A"
    assert fed.feedback == "too many"
