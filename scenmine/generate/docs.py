"""The DSL reference, generated from the DSL's own signatures and docstrings.

Nothing here is written by hand about individual functions, so prompts and the agent's
tools can never drift from ``scenmine.dsl.NAMESPACE``. Every function takes an optional
``namespace`` (tests pass a small one).
"""
from __future__ import annotations

import difflib
import inspect
import re
from dataclasses import dataclass

COMBINATORS = ("scenario_and", "scenario_or", "scenario_not", "reverse_relationship",
               "output_scenario")
ALWAYS_FULL = ("get_objects_of_category", "scenario_and", "scenario_not", "output_scenario")
STOP_WORDS = frozenset("a an the of to in on at or and is are with by for from its their it "
                       "that this objects object tracks track candidates".split())
EXTRA_CATEGORIES = ("EGO_VEHICLE", "ANY", "VEHICLE")


class DocsUnavailable(ImportError):
    """scenmine.dsl is not importable yet."""


def dsl_namespace() -> dict:
    try:
        from scenmine.dsl import NAMESPACE
    except ImportError as exc:
        raise DocsUnavailable(f"the DSL reference needs scenmine.dsl.NAMESPACE ({exc})") from exc
    return NAMESPACE


@dataclass(frozen=True)
class FunctionDoc:
    name: str
    signature: str
    doc: str
    kind: str  # unary | relational | combinator

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0] if self.doc.strip() else ""

    def render(self) -> str:
        body = inspect.cleandoc(self.doc) if self.doc else "(no documentation)"
        return f"{self.name}{self.signature}\n" + "\n".join("    " + ln for ln in
                                                            body.splitlines())

    def render_short(self) -> str:
        """One line: required parameters and summary (the shrunk reference's form; the
        optional parameters are elided as '...': get_function_doc has them)."""
        parts = [p for p in self.signature[1:-1].split(", ") if p]
        required = [p for p in parts if "=" not in p and not p.startswith("*")]
        shown = ", ".join(required + (["..."] if len(required) < len(parts) else []))
        return f"- {self.name}({shown}): {self.summary}"

    def words(self) -> set[str]:
        """Words of the name and summary (for relevance to a description)."""
        return _words(self.name.replace("_", " ") + " " + self.summary)

    def doc_words(self) -> set[str]:
        """Words of the whole docstring (argument values such as 'BUS' included)."""
        return _words(self.doc)


def _words(text: str) -> set[str]:
    words = set(re.findall(r"[a-z]+", text.lower())) - STOP_WORDS
    return words | {w[:-1] for w in words if w.endswith("s") and len(w) > 3} | \
        {w[:-3] for w in words if w.endswith("ing") and len(w) > 5} | \
        {w[:-2] for w in words if w.endswith("ed") and len(w) > 4}


def rank_functions(prompt: str, docs: dict[str, FunctionDoc]) -> list[str]:
    """Function names by relevance to ``prompt`` (words shared with the name and summary
    count twice, with the rest of the docstring once), the always-needed ones first."""
    want = _words(prompt)
    order = {name: i for i, name in enumerate(docs)}

    def score(name: str) -> tuple:
        d = docs[name]
        return (name not in ALWAYS_FULL,
                -(2 * len(want & d.words()) + len(want & d.doc_words())), order[name])
    return sorted(docs, key=score)


def _is_dsl_function(name: str, obj) -> bool:
    if name.startswith("_") or inspect.isclass(obj) or inspect.ismodule(obj):
        return False
    return inspect.isroutine(obj) or (callable(obj) and hasattr(obj, "__wrapped__"))


def _kind(name: str, params: list[str]) -> str:
    if name in COMBINATORS:
        return "combinator"
    return "relational" if "related_candidates" in params else "unary"


def _signature(obj) -> tuple[str, list[str]]:
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return "(...)", []
    parts = []
    for p in sig.parameters.values():
        text = p.name if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) else \
            ("*" if p.kind == p.VAR_POSITIONAL else "**") + p.name
        if p.default is not p.empty:
            text += f"={p.default!r}".replace("=inf", "=np.inf").replace("=-inf", "=-np.inf")
        parts.append(text)
    return "(" + ", ".join(parts) + ")", list(sig.parameters)


def function_docs(namespace: dict | None = None) -> dict[str, FunctionDoc]:
    """Every public DSL function, in namespace order."""
    ns = dsl_namespace() if namespace is None else namespace
    out = {}
    for name, obj in ns.items():
        if _is_dsl_function(name, obj):
            sig, params = _signature(obj)
            out[name] = FunctionDoc(name, sig, inspect.getdoc(obj) or "", _kind(name, params))
    return out


def list_functions(namespace: dict | None = None) -> str:
    """One line per function: name, signature, first docstring line."""
    return "\n".join(f"- {d.name}{d.signature}: {d.summary}"
                     for d in function_docs(namespace).values())


def get_function_doc(name: str, namespace: dict | None = None) -> str:
    """Full documentation of one function; an unknown name suggests close matches."""
    docs = function_docs(namespace)
    if name in docs:
        return docs[name].render()
    close = difflib.get_close_matches(str(name), list(docs), n=3)
    return f"unknown function {name!r}" + (f"; did you mean {', '.join(close)}?" if close
                                           else "; call list_functions to see them all")


def categories(namespace: dict | None = None) -> list[str]:
    """The category names a program may use (from the DSL if it lists them, else av2)."""
    ns = dsl_namespace() if namespace is None else namespace
    cats = ns.get("CATEGORIES")
    if cats is None:
        try:
            from scenmine.dsl import CATEGORIES as cats
        except ImportError:
            from av2.datasets.sensor.constants import AnnotationCategories
            cats = [c.value for c in AnnotationCategories]
    cats = list(cats)
    return cats + [c for c in EXTRA_CATEGORIES if c not in cats]


NAMED_ONLY_AFTER = 24  # functions listed with a summary in the smallest reference


def reference_text(namespace: dict | None = None, prompt: str | None = None,
                   n_full: int | None = None) -> str:
    """Markdown reference of the whole DSL, grouped by kind.

    With ``n_full`` (and ``prompt``) only the ``n_full`` functions most relevant to the
    prompt are documented in full; the others get their signature and summary line.
    """
    docs = function_docs(namespace)
    ranked = rank_functions(prompt or "", docs)
    full = set(docs) if n_full is None else set(ranked[:n_full])
    # at the smallest size (n_full=0) the least relevant functions are named only
    named = set(ranked[NAMED_ONLY_AFTER:]) if n_full == 0 else set()
    titles = {"unary": "Unary functions (filter track candidates)",
              "relational": "Relational functions (track candidates vs related candidates)",
              "combinator": "Combinators and output"}
    parts = []
    for kind, title in titles.items():
        items = [d for d in docs.values() if d.kind == kind]
        if items:
            body = "\n\n".join(d.render() for d in items if d.name in full)
            short = "\n".join(d.render_short() for d in items
                              if d.name not in full and d.name not in named)
            names = [d.name for d in items if d.name in named]
            if names:
                short += ("\n" if short else "") + "- and " + ", ".join(names)
            if short:
                body = (body + "\n\nAlso (call get_function_doc or see the signature):\n"
                        if body else "") + short
            parts.append(f"## {title}\n\n" + body)
    parts.append("## Categories\n\n" + ", ".join(categories(namespace)))
    return "\n\n".join(parts)
