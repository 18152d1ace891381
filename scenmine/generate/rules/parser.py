"""English scenario description -> object-phrase tree (tokenise, then recursive descent).

Grammar (after articles are dropped)::

    phrase   := pre* CATEGORY post*          (CATEGORY may be missing at the top level)
    pre      := QUANTITY | ORDINAL | COLOUR | [not] MOTION
    post     := [not] (MOTION | MAP | SPEED) | [not] RELATION phrase
              | (with | without) phrase [PRONOUN-RELATION] | within N UNIT of phrase

The first object mentioned is the referred object; later modifiers attach to the nearest
phrase that can take them (the ego vehicle, a single object, takes none as an object).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from scenmine.generate.rules import lexicon as L


class ParseError(ValueError):
    """The description could not be understood; the message says which part."""


@dataclass
class Phrase:
    """An object phrase: category, quantity, unary modifiers and relations to other phrases."""

    categories: tuple
    name: str
    quantity: int | None = None
    ordinal: int | None = None    # "the second car in front of ...": n-th in a direction
    modifiers: list = field(default_factory=list)  # [(Modifier, negate)]
    relations: list = field(default_factory=list)  # [RelUse]

    @property
    def is_ego(self) -> bool:
        return self.categories == L.EGO


@dataclass
class RelUse:
    """``self`` takes part in ``relation`` as A (``self_is_a``) or B, with ``other``."""

    relation: L.Relation
    other: Phrase
    self_is_a: bool
    negate: bool = False
    params: dict = field(default_factory=dict)


@dataclass
class Token:
    text: str
    senses: dict  # kind -> value


def normalise(text: str) -> list[str]:
    """Lower-case ASCII words; units folded (m/s -> mps); articles dropped."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = text.lower().replace("m/s", " mps ").replace("km/h", " kph ").replace("'", "")
    text = re.sub(r"(\d+(?:\.\d+)?)\s*(m|ft|mph|mps|kph|kmh)\b", r"\1 \2", text)
    words = re.findall(r"\d+(?:\.\d+)?|[a-z]+", text)
    return [w for w in words if w not in L.ARTICLES]


_TABLE: dict[str, dict] = {}


def _add(kind: str, table) -> None:
    for phrase, value in (table.items() if isinstance(table, dict) else ((p, True) for p in table)):
        _TABLE.setdefault(phrase, {})[kind] = value


_add("category", L.CATEGORIES)
_add("quantity", L.QUANTITIES)
_add("ordinal", L.ORDINALS)
_add("color", L.COLORS)
_add("motion", L.MOTIONS)
_add("map", L.MAP_CONTEXT)
_add("relation", L.RELATIONS)
_add("negation", L.NEGATIONS)
_add("number", L.NUMBERS)
_add("speed_min", L.SPEED_MIN)
_add("speed_max", L.SPEED_MAX)
_add("speed_unit", L.SPEED_UNITS)
_add("distance_unit", L.DISTANCE_UNITS)
_add("with", {"with": False, "has": False, "having": False, "without": True})
_add("within", {"within": True})
_MAX_WORDS = max(len(p.split()) for p in _TABLE)


def tokenise(text: str) -> list[Token]:
    """Greedy longest-phrase matching; raises ParseError listing the unknown words."""
    words, tokens, unknown, i = normalise(text), [], [], 0
    while i < len(words):
        for n in range(min(_MAX_WORDS, len(words) - i), 0, -1):
            phrase = " ".join(words[i:i + n])
            if phrase in _TABLE:
                tokens.append(Token(phrase, dict(_TABLE[phrase])))
                i += n
                break
        else:
            w = words[i]
            if re.fullmatch(r"\d+(?:\.\d+)?", w):
                tokens.append(Token(w, {"number": float(w)}))
            elif w not in L.STOPWORDS:
                unknown.append(w)
            i += 1
    if unknown:
        raise ParseError(f"unknown words {' '.join(repr(w) for w in unknown)}")
    if not tokens:
        if not text.strip():
            raise ParseError("empty description")
        raise ParseError("no recognisable words" if words else "no English words in description")
    return tokens


class Parser:
    """Recursive descent over tokens; ``parse()`` returns the referred Phrase."""

    def __init__(self, tokens: list[Token]):
        self.toks, self.i = tokens, 0

    def peek(self, offset: int = 0) -> Token | None:
        j = self.i + offset
        return self.toks[j] if j < len(self.toks) else None

    def has(self, kind: str, offset: int = 0) -> bool:
        tok = self.peek(offset)
        return tok is not None and kind in tok.senses

    def take(self) -> Token:
        self.i += 1
        return self.toks[self.i - 1]

    def parse(self) -> Phrase:
        phrase = self.phrase(top=True)
        if self.peek() is not None:
            raise ParseError(f"did not understand {self.rest()!r}")
        return phrase

    def rest(self) -> str:
        return " ".join(t.text for t in self.toks[self.i:])

    def starts_phrase(self) -> bool:
        j = 0
        while self.has("quantity", j) or self.has("color", j) or self.has("motion", j) \
                or self.has("negation", j) or self.has("ordinal", j):
            j += 1
        return self.has("category", j)

    def phrase(self, top: bool = False, in_with: bool = False) -> Phrase | None:
        start, quantity, ordinal, mods, negate = self.i, None, None, [], False
        while True:  # pre-modifiers
            if self.has("quantity") and not self.has("category"):
                quantity = self.take().senses["quantity"]
            elif self.has("ordinal"):
                ordinal = self.take().senses["ordinal"]
            elif self.has("color"):
                color = self.take().senses["color"]
                mods.append((L.Modifier(color, (L.f("is_color", color=color),)), False))
            elif self.has("negation") and self.has("motion", 1):
                self.take()
                negate = True
            elif self.has("motion") and not self.has("category"):
                mods.append((self.take().senses["motion"], negate))
                negate = False
            else:
                break
        if self.has("category"):
            cats, name = self.take().senses["category"]
        elif top:
            cats = (mods[0][0].default_category if mods else "ANY",)
            name = L.CATEGORIES.get(cats[0].lower(), (None, "objects"))[1]
        else:
            self.i = start
            return None
        phrase = Phrase(cats, name, quantity, ordinal, mods)
        if top or not phrase.is_ego:
            self.post_modifiers(phrase, in_with)
        return phrase

    def post_modifiers(self, phrase: Phrase, in_with: bool) -> None:
        while (tok := self.peek()) is not None:
            negate = False
            if "negation" in tok.senses:
                self.take()
                negate, tok = True, self.peek()
                if tok is None:
                    raise ParseError("'not' at the end of the description")
            s = tok.senses
            if "relation" in s and s["relation"][1] == "pronoun":
                if in_with and not negate:
                    return
                raise ParseError(f"{tok.text!r} without an object it could refer to")
            if "relation" in s and (self.has_object_after() or "motion" not in s):
                if in_with and not self.has_object_after():
                    return  # "with a bicycle behind": the relation belongs to the with-clause
                self.take()
                self.relation(phrase, *s["relation"], negate=negate, text=tok.text)
            elif "motion" in s or "map" in s:
                mods = self.take().senses
                mod = mods.get("motion") or mods.get("map")
                phrase.modifiers.append((mod, negate))
            elif "speed_min" in s or "speed_max" in s:
                phrase.modifiers.append((self.speed(), negate))
            elif "with" in s:
                self.take()
                self.with_clause(phrase, negate != s["with"])
            elif "within" in s:
                self.take()
                self.within(phrase, negate)
            else:
                if negate:
                    raise ParseError(f"did not understand 'not {self.rest()}'")
                return

    def has_object_after(self) -> bool:
        self.i += 1
        try:
            return self.starts_phrase()
        finally:
            self.i -= 1

    def relation(self, phrase: Phrase, rel: L.Relation, voice: str, negate: bool, text: str,
                 params: dict | None = None) -> None:
        other = self.phrase()
        if other is None:
            raise ParseError(f"expected an object after {text!r}")
        phrase.relations.append(RelUse(rel, other, voice == "active", negate, params or {}))

    def with_clause(self, phrase: Phrase, negate: bool) -> None:
        other = self.phrase(in_with=True)
        if other is None:
            raise ParseError(f"expected an object after 'with', got {self.rest()!r}")
        rel = L.NEAR
        if self.has("relation") and not self.has_object_after():
            rel = self.take().senses["relation"][0]
        # "X with Y <rel>" means "Y <rel> X": the other phrase is A.
        phrase.relations.append(RelUse(rel, other, False, negate))

    def number(self) -> float:
        if not self.has("number"):
            raise ParseError(f"expected a number, got {self.rest()!r}")
        return float(self.take().senses["number"])

    def speed(self) -> L.Modifier:
        tok = self.take()
        value = self.number()
        if not self.has("speed_unit"):
            raise ParseError(f"expected a speed unit after {tok.text} {value:g}")
        mps = round(value * self.take().senses["speed_unit"], 3)
        if "speed_min" in tok.senses:
            return L.Modifier("fast", (L.f("has_velocity", min_velocity=mps),))
        return L.Modifier("slow", (L.f("has_velocity", min_velocity=0, max_velocity=mps),))

    def within(self, phrase: Phrase, negate: bool) -> None:
        value = self.number()
        if not self.has("distance_unit"):
            raise ParseError(f"expected a distance unit after 'within {value:g}'")
        metres = round(value * self.take().senses["distance_unit"], 3)
        self.relation(phrase, L.NEAR, "active", negate, "within",
                      params={"distance_thresh": metres})


def parse(text: str) -> Phrase:
    """Parse a description into its referred Phrase; raises ParseError."""
    return Parser(tokenise(text)).parse()
