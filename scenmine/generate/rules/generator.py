"""RulesGenerator: the offline, deterministic ``llm=rules`` backend."""
from __future__ import annotations

import time

from scenmine.generate.base import Example, Generation
from scenmine.generate.rules import codegen, lexicon
from scenmine.generate.rules.parser import ParseError, parse


class RulesGenerator:
    """Parses RefAV-style English into a DSL program with a fixed lexicon; no model, no I/O.

    Keyword options override the thresholds in ``lexicon.THRESHOLDS`` (e.g.
    ``accelerating_min_accel=1.0``, ``moving_min_velocity=None`` for
    ``scenario_not(stationary)``). Few-shot examples are ignored.
    """

    name = "rules"

    def __init__(self, **thresholds):
        unknown = set(thresholds) - set(lexicon.THRESHOLDS)
        if unknown:
            raise ValueError(f"unknown rules options: {sorted(unknown)}")
        self.thresholds = {**lexicon.THRESHOLDS, **thresholds}

    def generate(self, prompt: str, examples: list[Example] | None = None) -> Generation:
        start = time.perf_counter()
        program, error = None, None
        try:
            if not isinstance(prompt, str):
                raise ParseError(f"prompt is not text ({type(prompt).__name__})")
            program = codegen.program(prompt.strip(), parse(prompt), self.thresholds)
        except ParseError as exc:
            error = f"cannot parse: {exc}"
        except Exception as exc:  # noqa: BLE001 - a bug must not stop a run: record it
            error = f"cannot parse: internal error {type(exc).__name__}: {exc}"
        usage = {"calls": 0, "input_tokens": 0, "output_tokens": 0, "cost": 0.0,
                 "seconds": time.perf_counter() - start}
        gen = Generation(prompt=prompt, program=program, error=error, usage=usage)
        if error is not None:
            gen.reason = "cannot_parse"  # failure tag, counted like other backends' tags
        return gen
