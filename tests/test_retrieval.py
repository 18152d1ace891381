"""One few-shot retriever: the screened library and the generator's built-in examples rank
alike, and ``similarity`` means BM25 in both."""
from scenmine.generate.base import Example
from scenmine.generate.prompts import select_examples
from scenmine.screening.library import Library

POOL = [Example("vehicle turning left", "p1"), Example("pedestrian crossing the road", "p2"),
        Example("parked bus", "p3"), Example("pedestrians near a parked vehicle", "p4")]


def test_library_and_generator_examples_rank_alike():
    for prompt in ("pedestrian crossing in front of a parked car", "bus turning left"):
        for name in ("similarity", "lexical", "first"):
            shown = select_examples(prompt, POOL, 3, name)
            lib = Library(POOL, retriever=name, exclude_same_prompt=False).retrieve(prompt, 3)
            assert [e.prompt for e in shown] == [e.prompt for e in lib], (prompt, name)
    # BM25 weighs a rare word ("crossing") over a common one, which plain cosine does not
    assert select_examples("pedestrian crossing", POOL, 1)[0].prompt == "pedestrian crossing the road"
    assert select_examples("x", POOL, 2, "first") == POOL[:2]
    assert select_examples("x", POOL, 2, "none") == []
