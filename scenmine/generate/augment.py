"""Semantics-preserving prompt augmentation (``generate.augment``).

A description is rewritten k ways that keep every entity, count, direction and relation; a
program is generated for the description and for each rewrite, and the programs are combined
by their agreement on the training logs:

- ``vote``: run every distinct working program on the training logs and keep the one whose
  referred (track, timestamp) sets agree most with the other wordings' programs (sum of mean
  Jaccard indices; two wordings giving one program are two votes); ties keep the program of
  the original wording;
- ``first``: the original's program when it works, else the first rewrite's that does.

Rewrites come from the chat model (``paraphraser=llm``) or from a fixed table of
meaning-preserving rewordings (``paraphraser=rules``, offline). Every rewrite, from either
source, must pass :func:`meaning_changes` (same entities in the same order, same counts and
directions, none of the banned swaps) or it is dropped.
"""
from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from .base import Example, Generation, generate_with
from .structured import BadAnswer, find_json

log = logging.getLogger(__name__)

# Word pairs whose exchange changes what the benchmark's annotators count.
BANNED_SWAPS = (("passing", "overtaking"), ("braking", "slowing"), ("stopped", "parked"),
                ("near", "next to"), ("accelerating", "speeding"), ("following", "behind"),
                ("turning", "changing lanes"), ("crossing", "jaywalking"))
ENTITIES = ("ego vehicle", "vehicle", "car", "truck", "bus", "pedestrian", "person",
            "bicycle", "bicyclist", "cyclist", "motorcycle", "motorcyclist", "stroller",
            "wheelchair", "dog", "cone", "barrel", "bollard", "sign", "van", "trailer",
            "school bus", "articulated bus", "box truck", "object")
DIRECTIONS = ("left", "right", "front", "ahead", "behind", "back", "oncoming", "opposite",
              "same direction", "toward", "away")
NUMBERS = ("one", "two", "three", "four", "five", "six", "several", "multiple", "many",
           "at least", "at most", "more than", "fewer than", "no ", "without")
# Rewordings the offline paraphraser applies (each keeps the meaning; see meaning_changes).
REWORDINGS = ((r"\bthat is\b ", ""), (r"\bwhich is\b ", ""), (r"\bthat are\b ", ""),
              (r"\bwhich are\b ", ""), (r"\bin front of\b", "ahead of"),
              (r"\bahead of\b", "in front of"), (r"\bturning left\b", "making a left turn"),
              (r"\bturning right\b", "making a right turn"), (r"\bclose to\b", "near"),
              (r"\bmoving\b", "in motion"), (r"\bthe ego vehicle\b", "the ego"),
              (r"\bwhile\b", "as"), (r"^an? ", ""))


def _words(text: str) -> str:
    return " " + re.sub(r"[^a-z0-9 ]+", " ", text.lower()).strip() + " "


def _mentions(text: str, vocabulary) -> list[str]:
    """Vocabulary terms in the order they occur (longest match first, plural folded)."""
    words = _words(text)
    found = []
    for term in sorted(vocabulary, key=len, reverse=True):
        for m in re.finditer(rf" {re.escape(term.strip())}(?:s|es)? ", words):
            found.append((m.start(), term.strip()))
            words = words[:m.start()] + " " * (m.end() - m.start()) + words[m.end():]
    return [t for _, t in sorted(found)]


def _canonical(text: str) -> str:
    """The text with the offline rewordings undone (so equivalent phrasings compare equal)."""
    t = _words(text)
    for a, b in (("ahead of", "in front of"), ("making a left turn", "turning left"),
                 ("making a right turn", "turning right"), ("in motion", "moving"),
                 ("close to", "near"), (" ego vehicle ", " ego "), (" as ", " while ")):
        t = t.replace(a, b)
    return t


def meaning_changes(original: str, rewrite: str) -> str | None:
    """Why ``rewrite`` may not mean what ``original`` means, or None when it keeps it."""
    if not rewrite or not rewrite.strip():
        return "empty rewrite"
    a, b = _canonical(original), _canonical(rewrite)
    for x, y in BANNED_SWAPS:
        for p, q in ((x, y), (y, x)):
            if f" {p}" in a and f" {p}" not in b and f" {q}" in b and f" {q}" not in a:
                return f"swaps {p!r} for {q!r}"
    for name, vocab in (("entities", ENTITIES), ("directions", DIRECTIONS),
                        ("counts", NUMBERS)):
        ma, mb = _mentions(a, vocab), _mentions(b, vocab)
        if name == "entities" and ma != mb:
            return f"{name} differ: {ma} vs {mb}"
        if Counter(ma) != Counter(mb):
            return f"{name} differ: {sorted(ma)} vs {sorted(mb)}"
    if Counter(re.findall(r"\d+(?:\.\d+)?", a)) != Counter(re.findall(r"\d+(?:\.\d+)?", b)):
        return "numbers differ"
    return None


class RulesParaphraser:
    """Offline rewrites: the fixed rewordings, applied one at a time and then together."""

    def paraphrase(self, prompt: str, k: int) -> list[str]:
        singles = []
        for pattern, repl in REWORDINGS:
            new = re.sub(pattern, repl, prompt, count=1).strip()
            if new != prompt and new not in singles:
                singles.append(new)
        combined = prompt
        for pattern, repl in REWORDINGS[:4] + REWORDINGS[-1:]:  # the deletions commute
            combined = re.sub(pattern, repl, combined).strip()
        out = ([combined] if combined != prompt else []) + singles
        return list(dict.fromkeys(out))[:k]


class LLMParaphraser:
    """Rewrites from the chat model (``paraphrase_*`` templates), as a JSON list."""

    def __init__(self, backend, prompts):
        self.backend, self.prompts = backend, prompts

    def paraphrase(self, prompt: str, k: int) -> list[str]:
        messages = [{"role": "system",
                     "content": self.prompts.render("paraphrase_system", prompt=prompt, k=k)},
                    {"role": "user", "content": self.prompts.render("paraphrase_user",
                                                                   prompt=prompt, k=k)}]
        text = self.backend.chat(messages).text
        try:
            items = find_json(text, list)
        except BadAnswer as exc:
            log.warning("paraphrases of %r unusable: %s", prompt, exc)
            return []
        return [s.strip() for s in items if isinstance(s, str) and s.strip()][:k]


def _pairs(result) -> dict[str, set]:
    """{uuid: {timestamps}} of a run's referred objects (empty for a failed run)."""
    if not getattr(result, "ok", False):
        return {}
    return {u: {int(t) for t in ts} for u, ts in (result.referred or {}).items() if len(ts)}


def agreement(a: list[dict], b: list[dict]) -> float:
    """Mean over logs of the Jaccard index of two programs' (track, timestamp) sets."""
    scores = []
    for pa, pb in zip(a, b):
        sa = {(u, t) for u, ts in pa.items() for t in ts}
        sb = {(u, t) for u, ts in pb.items() for t in ts}
        scores.append(1.0 if not sa and not sb else len(sa & sb) / len(sa | sb))
    return sum(scores) / len(scores) if scores else 0.0


@dataclass
class Candidate:
    wording: str
    generation: Generation


class AugmentedGenerator:
    """Wraps any Generator: programs for the description and k rewrites, one kept."""

    def __init__(self, inner, paraphraser, k: int = 3, combine: str = "vote",
                 run: Callable | None = None, logs=(), timeout_s: float = 60.0):
        if combine not in ("vote", "first"):
            raise ValueError(f"generate.augment.combine must be vote or first, got {combine!r}")
        self.inner, self.paraphraser, self.k, self.combine = inner, paraphraser, int(k), combine
        self.run, self.logs, self.timeout_s = run, [str(p) for p in logs], timeout_s
        self.name = f"{getattr(inner, 'name', 'generator')}+augment{self.k}"

    def rewrites(self, prompt: str) -> tuple[list[str], list[str]]:
        """(kept rewrites, reasons for the dropped ones)."""
        kept, dropped = [], []
        for text in self.paraphraser.paraphrase(prompt, self.k):
            why = "same as the original" if text.strip().lower() == prompt.strip().lower() \
                else meaning_changes(prompt, text)
            if why is None and text not in kept:
                kept.append(text)
            elif why:
                dropped.append(f"{text!r}: {why}")
        return kept, dropped

    def generate(self, prompt: str, examples: list[Example] | None = None,
                 feedback: str | None = None) -> Generation:
        wordings, dropped = self.rewrites(prompt)
        cands = [Candidate(w, generate_with(self.inner, w, examples, feedback))
                 for w in [prompt, *wordings]]
        chosen = self._choose(cands)
        gen = chosen.generation
        base = cands[0].generation
        usage = dict(gen.usage)
        for c in cands:  # the cost of every candidate counts
            if c is not chosen:
                for key, value in c.generation.usage.items():
                    if isinstance(value, (int, float)) and key != "seconds":
                        usage[key] = usage.get(key, 0) + value
        usage.update(augment_wordings=len(cands), augment_dropped=len(dropped),
                     augment_chosen=chosen.wording)
        transcript = [{"role": "augment", "content": json.dumps(
            {"wordings": [c.wording for c in cands], "dropped": dropped,
             "ok": [c.generation.ok for c in cands], "chosen": chosen.wording})},
            *gen.transcript]
        if not gen.ok:  # nothing worked: report the original wording's failure
            gen = base
        return Generation(prompt, gen.program, gen.error, transcript=transcript, usage=usage,
                          reason=gen.reason)

    def _choose(self, cands: list[Candidate]) -> Candidate:
        working = [c for c in cands if c.generation.ok]
        distinct, seen = [], set()
        for c in working:  # the original wording first, so ties keep it
            if c.generation.program not in seen:
                seen.add(c.generation.program)
                distinct.append(c)
        if not working:
            return cands[0]
        if self.combine == "first" or len(distinct) == 1 or not (self.run and self.logs):
            return working[0]
        outputs = {c.generation.program: [_pairs(self._run(c.generation.program, lg))
                                          for lg in self.logs] for c in distinct}
        # each wording's program is a vote: a program scores its agreement with every other
        # wording's program (a second wording that gave the same program agrees fully)
        programs = [c.generation.program for c in working]
        votes = {c.generation.program: sum(agreement(outputs[c.generation.program], outputs[p])
                                           for p in programs) - 1.0 for c in distinct}
        best = max(votes.values())
        return next(c for c in distinct if votes[c.generation.program] == best)

    def _run(self, program: str, log_dir: str):
        try:
            return self.run(program, log_dir, timeout_s=self.timeout_s)
        except Exception as exc:  # noqa: BLE001 - a failing run just gets no vote
            log.warning("augment: voting run failed on %s: %s", log_dir, exc)
            return None
