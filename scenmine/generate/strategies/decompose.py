"""Multi-agent generation (``generate.strategy=decompose``): decomposer -> selector -> coder.

1. The **decomposer** splits the description into its subject (what is referred to), the
   required constraints (each must hold) and descriptive context (may be ignored when the
   DSL cannot express it), as JSON.
2. The **selector** picks, for each part, atoms from an index generated from the DSL's own
   docs (name, signature, first docstring line), as JSON; unknown names are dropped.
3. The **coder** writes the program seeing only the selected atoms' full documentation (plus
   the combinators every program needs) and the few-shot examples that use them, then goes
   through the usual checks and error retries (``single_pass``).

Each step is one call through the backend, so it is cached, recorded and replayable like any
other call. A step whose answer stays unusable after one re-ask falls back to the single
agent (``agent`` strategy), counted in ``usage["fallbacks"]`` with the reason in ``usage["fallback_reason"]``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from ..base import Example, Generation
from ..structured import BadAnswer, ask_json, find_json, str_list
from ..toolcalls import normalize_name
from .session import Session
from .single_pass import single_pass

# Every program needs these whatever the parts say.
ESSENTIAL_ATOMS = ("get_objects_of_category", "scenario_and", "scenario_or", "scenario_not",
                   "reverse_relationship", "output_scenario")
MAX_ATOMS = 14


@dataclass
class Decomposition:
    """A description split into what is referred to, what must hold, and what is context."""

    subject: str
    category: str | None = None
    constraints: list[str] = field(default_factory=list)
    context: list[str] = field(default_factory=list)

    @property
    def parts(self) -> list[str]:
        return [self.subject, *self.constraints, *self.context]

    def as_dict(self) -> dict:
        return {"subject": self.subject, "category": self.category,
                "constraints": self.constraints, "context": self.context}


def parse_decomposition(text: str, categories: list[str]) -> Decomposition:
    """The decomposer's JSON answer, validated (unknown categories become None)."""
    obj = find_json(text, dict)
    subject = obj.get("subject")
    category = obj.get("category")
    if isinstance(subject, dict):  # {"subject": {"description": ..., "category": ...}}
        category = category or subject.get("category")
        subject = subject.get("description") or subject.get("text")
    if not isinstance(subject, str) or not subject.strip():
        raise BadAnswer("'subject' must be a non-empty string")
    if category is not None and not isinstance(category, str):
        raise BadAnswer("'category' must be a string or null")
    cat = category.strip().upper() if category else None
    return Decomposition(subject.strip(), cat if cat in categories else None,
                         str_list(obj.get("constraints"), "constraints"),
                         str_list(obj.get("context"), "context"))


def parse_selection(text: str, index: dict[str, str]) -> dict[str, list[str]]:
    """The selector's JSON ``{part: [atom, ...]}`` validated against the atom index."""
    obj = find_json(text, dict)
    if "atoms" in obj and isinstance(obj["atoms"], dict):
        obj = obj["atoms"]
    known = {name.lower(): name for name in index}
    out: dict[str, list[str]] = {}
    for part, names in obj.items():
        if not isinstance(part, str):
            continue
        picked = [n for n in (known.get(normalize_name(r)) for r in str_list(names, part)) if n]
        if picked:
            out[part] = list(dict.fromkeys(picked))
    if not out:
        raise BadAnswer("no known DSL function selected; choose names from the index "
                        f"(e.g. {', '.join(list(index)[:5])})")
    return out


def selected_atoms(selection: dict[str, list[str]], index: dict[str, str]) -> list[str]:
    """The union of the selected atoms in index order, essentials added, at most MAX_ATOMS
    besides the essentials."""
    chosen = {n for names in selection.values() for n in names}
    picked = [n for n in index if n in chosen and n not in ESSENTIAL_ATOMS][:MAX_ATOMS]
    return [n for n in index if n in ESSENTIAL_ATOMS] + picked


def examples_using(examples: list[Example], atoms: list[str], k: int) -> list[Example]:
    """Examples whose program calls one of the non-essential ``atoms``, best overlap first
    (the given order breaks ties); the given examples when none does."""
    specific = [a for a in atoms if a not in ESSENTIAL_ATOMS]

    def overlap(ex: Example) -> int:
        return sum(bool(re.search(rf"\b{re.escape(a)}\s*\(", ex.program)) for a in specific)

    ranked = sorted(((overlap(ex), -i, ex) for i, ex in enumerate(examples)),
                    key=lambda t: (t[0], t[1]), reverse=True)
    hits = [ex for n, _, ex in ranked if n > 0][:k]
    return hits or list(examples[:k])


def decompose(session: Session, examples: list[Example]) -> Generation:
    """The three-step strategy; falls back to the single agent when a step fails."""
    from .agent import agent

    gen = session.gen
    docs = gen.function_docs()
    index = {name: f"{d.name}{d.signature}: {d.summary}" for name, d in docs.items()}
    categories = gen.categories()
    try:
        parts = ask_json(
            lambda msgs: session.ask_aside("decompose", msgs),
            [{"role": "system", "content": session.render("decompose_system",
                                                          categories=categories)},
             {"role": "user", "content": session.render("decompose_user")}],
            lambda text: parse_decomposition(text, categories))
        selection = ask_json(
            lambda msgs: session.ask_aside("select", msgs),
            [{"role": "system", "content": session.render("select_system",
                                                          atom_index="\n".join(index.values()))},
             {"role": "user", "content": session.render(
                 "select_user", decomposition=json.dumps(parts.as_dict(), indent=1),
                 parts=parts.parts)}],
            lambda text: parse_selection(text, index))
    except BadAnswer as exc:
        step = session.side_calls[-1]["step"] if session.side_calls else "decompose"
        session.counts["fallbacks"] = 1
        session.counts["fallback_reason"] = f"{step}: {exc}"
        return agent(session, examples)
    atoms = selected_atoms(selection, index)
    reference = "\n\n".join(docs[a].render() for a in atoms)
    shots = examples_using(examples, atoms, max(len(examples), 1))
    session.counts["selected_atoms"] = len(atoms)
    return single_pass(session, shots, reference=reference, user="decompose_coder",
                       decomposition=json.dumps(parts.as_dict(), indent=1),
                       selection=json.dumps(selection, indent=1))
