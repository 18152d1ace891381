"""Phrase tree -> RefAV-style program text (one assignment per DSL call, shared sub-results)."""
from __future__ import annotations

import math
import re

from scenmine.generate.rules import lexicon as L
from scenmine.generate.rules.parser import ParseError, Phrase, RelUse

# Filters that look at a whole track run first, on the full category, so that later
# filters cannot shorten the history they see; colours last.
_RANK = {"stationary": 0, "moving": 0, "turning": 1, "changing_lanes": 1, "accelerating": 1,
         "has_velocity": 1, "has_lateral_acceleration": 1, "is_color": 3}


NTH_OF = "has_objects_in_relative_direction"  # relations an ordinal can count along


def _rank(modifier: L.Modifier) -> int:
    step = modifier.steps[0]
    func = step.chains[0][0].func if isinstance(step, L.Or) else step.func
    return _RANK.get(func, 2)


def _combine(modifiers: list) -> list:
    """Replace modifier pairs listed in lexicon.COMBINATIONS by their joint meaning."""
    out = list(modifiers)
    for pair, joint in L.COMBINATIONS.items():
        hits = [m for m in out if m[0].label in pair and not m[1]]
        if {m[0].label for m in hits} == pair:
            out = [m for m in out if m not in hits] + [(joint, False)]
    return out


def _literal(value) -> str:
    if isinstance(value, float):
        if math.isinf(value):
            return "np.inf" if value > 0 else "-np.inf"
        return repr(int(value)) if value.is_integer() and abs(value) >= 1 else repr(value)
    return repr(value)


class Emitter:
    """Builds the program; identical expressions are assigned once and reused."""

    def __init__(self, thresholds: dict):
        self.thresholds = thresholds
        self.lines: list[str] = []
        self.by_expr: dict[str, str] = {}
        self.names: set[str] = set()

    def resolve(self, value):
        return self.thresholds[value.name] if isinstance(value, L.T) else value

    def args(self, params) -> str:
        items = [(k, self.resolve(v)) for k, v in params]
        return "".join(f", {k}={_literal(v)}" for k, v in items if v is not None)

    def assign(self, expr: str, hint: str) -> str:
        if expr in self.by_expr:
            return self.by_expr[expr]
        name = re.sub(r"_+", "_", re.sub(r"\W", "_", hint)).strip("_") or "objects"
        name = name if len(name) <= 40 else name[:40].rstrip("_")
        base, n = name, 2
        while name in self.names:
            name, n = f"{base}_{n}", n + 1
        self.names.add(name)
        self.by_expr[expr] = name
        self.lines.append(f"{name} = {expr}")
        return name

    # ---- unary -----------------------------------------------------------------
    def call(self, step: L.F, var: str, negate: bool = False) -> str:
        negate = negate != step.negate
        if step.func == "moving":  # style chosen by the moving_min_velocity threshold
            v = self.thresholds["moving_min_velocity"]
            step = (L.f("stationary", negate=True) if v is None
                    else L.f("has_velocity", min_velocity=v))
            negate = negate != step.negate
        func = f"scenario_not({step.func})" if negate else step.func
        return f"{func}({var}, log_dir{self.args(step.params)})"

    def steps(self, var: str, steps: tuple, label: str, base: str, negate: bool = False) -> str:
        if negate and (len(steps) != 1 or isinstance(steps[0], L.Or)):
            raise ParseError(f"cannot negate '{label.replace('_', ' ')}'")
        for i, step in enumerate(steps):
            if i < len(steps) - 1:  # intermediate steps are named after their function
                label_i = step.func.replace("at_", "") if isinstance(step, L.F) else label
            else:
                label_i = label
            if isinstance(step, L.Or):
                parts = [self.steps(var, chain, chain[0].func, base) for chain in step.chains]
                expr = f"scenario_or([{', '.join(parts)}])"
            else:
                expr = self.call(step, var, negate)
            var = self.assign(expr, f"{'not_' if negate else ''}{label_i}_{base}")
        return var

    # ---- phrases -----------------------------------------------------------------
    def phrase(self, p: Phrase) -> str:
        cats = [f"get_objects_of_category(log_dir, category={c!r})" for c in p.categories]
        expr = cats[0] if len(cats) == 1 else f"scenario_or([{', '.join(cats)}])"
        base = var = self.assign(expr, p.name)
        for mod, negate in sorted(_combine(p.modifiers), key=lambda m: _rank(m[0])):
            var = self.steps(var, mod.steps, mod.label, p.name, negate)
        if p.ordinal is not None and not any(u.relation.func == NTH_OF for u in p.relations):
            raise ParseError("an ordinal ('second', 'third') needs a direction such as "
                             "'in front of' or 'behind'")
        results = [self.relation(p, var, base, use) for use in p.relations]
        if len(results) > 1:
            return self.assign(f"scenario_and([{', '.join(results)}])", f"{p.name}_all")
        return results[0] if results else var

    def relation(self, p: Phrase, var: str, base: str, use: RelUse) -> str:
        """The relation call; a filtered referred object is related on its whole tracks
        (motion-based relations smooth over the timestamps they are given), then intersected."""
        r, other = use.relation, use.other
        other_var = self.phrase(other)
        a, b = ((p, var), (other, other_var)) if use.self_is_a else ((other, other_var), (p, var))
        first, second = (a, b) if r.first == "A" else (b, a)
        if r.symmetric and (first[0] is p) == ((p.quantity or 1) > 1):
            first, second = second, first  # "group of pedestrians near X": count the group
        and_with = None
        if first[0] is p and var != base:
            first, and_with = (p, base), var
        if r.first_filter is not None:
            first = (first[0], self.steps(first[1], (r.first_filter,), "moving", first[0].name))
        params = dict(r.params)
        if r is L.NEAR and set(other.categories) <= L.SMALL_OBJECTS:
            params["distance_thresh"] = L.T("near_small_object_distance")
        params.update(use.params)
        if r.qparam and (second[0].quantity or 1) > 1:
            params[r.qparam] = second[0].quantity
        nth = p.ordinal is not None and r.func == NTH_OF and first[0] is not p
        if nth:  # "the second car in front of X": X's n-th object in that direction
            params.pop(r.qparam, None)
            params.pop("within_distance", None)  # the atom's own 50 m reach, for long queues
            params["n"] = p.ordinal
        args = f"({first[1]}, {second[1]}, log_dir{self.args(params.items())})"
        if first[0] is p:
            func = f"scenario_not({r.func})" if use.negate else r.func
        elif use.negate:
            raise ParseError(f"cannot negate '{r.label.replace('_', ' ')}' for this object")
        elif nth:
            func = "nth_object_in_direction"
        else:
            func = r.reverse_func or f"reverse_relationship({r.func})"
        neg = "not_" if use.negate else ""
        hint = f"{p.name}_{neg}{r.label}_{other.name}" if use.self_is_a else \
            f"{p.name}_{neg}with_{other.name}_{r.label}"
        result = self.assign(func + args, hint)
        if and_with is not None:
            result = self.assign(f"scenario_and([{result}, {and_with}])", f"{and_with}_{r.label}")
        return result


def program(description: str, referred: Phrase, thresholds: dict) -> str:
    """The complete program text for a parsed description."""
    em = Emitter(thresholds)
    result = em.phrase(referred)
    body = "\n".join(em.lines)
    return (f"description = {description!r}\n{body}\n"
            f"output_scenario({result}, description, log_dir, output_dir)\n")
