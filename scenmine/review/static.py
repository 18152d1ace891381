"""Static review: offline checks of a scenario program against the DSL and its prompt.

Each finding has a stable ``code`` (used for metrics and for ``reviewer.autofix``), a message,
the program line and whether it was fixed. Fixes are minimal text edits at the AST node's
position, so the rest of the program keeps its formatting; a pass of fixes is kept only when
the result still passes the sandbox's static check.

Codes:

- ``rejected``: the program does not parse or fails the sandbox check (nothing else is checked)
- ``unknown-function``: a call to a name that is not a DSL function (fix: the closest name)
- ``unknown-argument``: a keyword the function does not take (fix: the closest parameter)
- ``missing-argument``: a required parameter not given (fix: ``log_dir``/``output_dir``/
  ``description`` when those names are meant)
- ``too-many-arguments``: more positional arguments than parameters
- ``invalid-value``: a category, direction, side, lane type or colour the DSL does not know
  (fix: the canonical spelling or the closest value)
- ``unused-result``: a DSL result computed and never used nor output
- ``no-output``: ``output_scenario`` is never called (fix: output the last unused result)
- ``referred-object``: the program's referred objects are not the prompt's first-mentioned
  object ("vehicle with a bicycle to its right" must refer vehicles)
- ``missing-road-constraint``: a road-user prompt whose program has no road, lane or
  drivable-area constraint (fix, when enabled: wrap the output in ``in_drivable_area``)
- ``threshold-range``: a threshold outside physical ranges (speeds, accelerations, distances,
  angles, counts), a minimum above its maximum, or an angle that looks like radians
"""
from __future__ import annotations

import ast
import math
import re
from dataclasses import asdict, dataclass, field

from scenmine.review.contract import (
    ARG_ALIASES,
    CATEGORIES,
    CATEGORY_SYNONYMS,
    CONCRETE,
    MIN_MAX,
    PROGRAM_NAMES,
    RANGES,
    RETURNS_RELATED,
    ROAD_FUNCTIONS,
    ROAD_USERS,
    VALUE_SYNONYMS,
    VALUES,
    WRAPPERS,
    Signature,
    closest,
    expand,
    number_value,
    prompt_subject,
    signatures,
)


class _Edits:
    """Byte-offset text edits on a program (AST columns are UTF-8 byte offsets)."""

    def __init__(self, source: str):
        self.data = source.encode()
        self.starts = [0]
        for line in self.data.splitlines(keepends=True):
            self.starts.append(self.starts[-1] + len(line))
        self.items: list[tuple[int, int, str]] = []

    def offset(self, lineno: int, col: int) -> int:
        return self.starts[lineno - 1] + col

    def replace(self, node: ast.AST, text: str, length: int | None = None) -> None:
        start = self.offset(node.lineno, node.col_offset)
        end = start + length if length is not None else self.offset(node.end_lineno,
                                                                     node.end_col_offset)
        self.items.append((start, end, text))

    def insert(self, offset: int, text: str) -> None:
        self.items.append((offset, offset, text))

    def apply(self) -> str:
        data, last = self.data, None
        for start, end, text in sorted(self.items, key=lambda e: (e[0], e[1]), reverse=True):
            if last is not None and end > last:
                continue  # overlapping edit: leave it to the next pass
            data = data[:start] + text.encode() + data[end:]
            last = start
        return data.decode()


@dataclass
class Finding:
    code: str
    message: str
    line: int | None = None
    severity: str = "error"   # error | warning
    fixable: bool = False
    fixed: bool = False
    fix: str | None = None    # what the fix does, in words

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        state = " [fixed]" if self.fixed else ""
        return f"{self.code}: {where}{self.message}{state}"


@dataclass
class StaticReview:
    """The outcome for one program: the (possibly fixed) program and every finding."""

    prompt: str
    original: str
    program: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.program != self.original

    @property
    def unresolved(self) -> list[Finding]:
        return [f for f in self.findings if not f.fixed]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.unresolved if f.severity == "error"]

    def summary(self) -> str:
        return "\n".join(str(f) for f in self.findings) or "no findings"


# ----------------------------------------------------------------------------- the checker
class _Checker:
    def __init__(self, prompt: str, program: str, sigs: dict[str, Signature], autofix: set):
        self.prompt, self.program, self.sigs, self.autofix = prompt, program, sigs, autofix
        self.findings: list[Finding] = []
        self.edits = _Edits(program)

    def add(self, code: str, message: str, node: ast.AST | None = None, severity: str = "error",
            fix: str | None = None, edit=None) -> None:
        fixable = edit is not None
        finding = Finding(code, message, getattr(node, "lineno", None), severity, fixable,
                          fix=fix if fixable else None)
        if fixable and code in self.autofix:
            edit()
            finding.fixed = True
        self.findings.append(finding)

    # -- entry ---------------------------------------------------------------------------
    def run(self) -> None:
        from scenmine.execute.sandbox import ProgramRejected, check_program
        try:
            tree = check_program(self.program)
        except ProgramRejected as exc:
            self.add("rejected", str(exc))
            return
        self.tree = tree
        self.local_names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        self.local_names |= {n.id for n in ast.walk(tree)
                             if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        self.local_names |= {a.arg for a in ast.walk(tree) if isinstance(a, ast.arg)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                self.check_call(node)
        self.check_dataflow(tree)

    # -- calls ---------------------------------------------------------------------------
    def dsl_name(self, func: ast.AST) -> str | None:
        """The DSL function a call runs: ``f(...)``, ``scenario_not(f)(...)``."""
        if isinstance(func, ast.Name):
            return func.id if func.id in self.sigs else None
        if isinstance(func, ast.Call) and isinstance(func.func, ast.Name) and \
                func.func.id in WRAPPERS and func.args and isinstance(func.args[0], ast.Name):
            return func.args[0].id if func.args[0].id in self.sigs else None
        return None

    def check_call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id not in self.sigs:
            if func.id not in PROGRAM_NAMES and func.id not in self.local_names:
                self.unknown_function(func)
            return
        if isinstance(func, ast.Name) and func.id in WRAPPERS:
            target = node.args[0] if node.args else None
            if isinstance(target, ast.Name) and target.id not in self.sigs and \
                    target.id not in self.local_names:
                self.unknown_function(target)
            if len(node.args) != 1 or node.keywords:
                self.add("too-many-arguments", f"{func.id} takes one function, e.g. "
                         f"{func.id}(has_velocity)(candidates, log_dir, ...)", node)
            return
        name = self.dsl_name(func)
        if name is None:
            return
        sig = self.sigs[name]
        given = list(sig.params[:len(node.args)])
        if any(isinstance(a, ast.Starred) for a in node.args) or \
                any(k.arg is None for k in node.keywords):
            return  # *args / **kwargs: cannot tell statically
        if len(node.args) > len(sig.params):
            self.add("too-many-arguments", f"{name} takes at most {len(sig.params)} positional "
                     f"arguments ({', '.join(sig.params)}), got {len(node.args)}", node)
        used = set(given) | {k.arg for k in node.keywords}
        for kw in node.keywords:
            if kw.arg in sig.params or sig.var_keyword:
                continue
            options = [p for p in sig.params if p not in used]
            best = next((a for a in ARG_ALIASES.get(kw.arg.lower(), ()) if a in options),
                        None) or closest(kw.arg, options, 0.6)
            hint = f"; did you mean {best!r}?" if best else f" (parameters: {', '.join(sig.params)})"
            self.add("unknown-argument", f"{name} has no parameter {kw.arg!r}{hint}", kw,
                     fix=f"rename to {best}" if best else None,
                     edit=(lambda kw=kw, best=best: self.edits.replace(kw, best, len(kw.arg)))
                     if best else None)
            if best:
                used.add(best)
        missing = [p for p in sig.params if p in sig.required and p not in used]
        for p in missing:
            fixable = p in ("log_dir", "output_dir", "description") and not any(
                isinstance(a, ast.Name) and a.id == p for a in node.args)
            end = self.edits.offset(node.end_lineno, node.end_col_offset) - 1
            sep = ", " if node.args or node.keywords else ""
            self.add("missing-argument", f"{name} needs {p!r}", node,
                     fix=f"pass {p}={p}",
                     edit=(lambda end=end, sep=sep, p=p: self.edits.insert(end, f"{sep}{p}={p}"))
                     if fixable else None)
        values = dict(zip(given, node.args))
        values.update({k.arg: k.value for k in node.keywords if k.arg})
        for param, value in values.items():
            self.check_value(name, param, value)
        self.check_thresholds(name, values)

    def unknown_function(self, node: ast.Name) -> None:
        best = closest(node.id, self.sigs)
        hint = f"; did you mean {best!r}?" if best else ""
        self.add("unknown-function", f"{node.id!r} is not a DSL function{hint}", node,
                 fix=f"rename to {best}" if best else None,
                 edit=(lambda: self.edits.replace(node, best)) if best else None)

    # -- values --------------------------------------------------------------------------
    def check_value(self, func: str, param: str, node: ast.AST) -> None:
        allowed = VALUES.get((func, param))
        if allowed is None or not isinstance(node, ast.Constant):
            return
        value = node.value
        if value in allowed or (value is None and None in allowed):
            return
        if not isinstance(value, str):
            self.add("invalid-value", f"{func}: {param}={value!r} is not one of "
                     f"{[a for a in allowed if a is not None]}", node)
            return
        best = self.canonical(param, value, allowed)
        shown = [a for a in allowed if a is not None]
        if param == "category":
            shown = "an AV2 category (e.g. 'VEHICLE', 'PEDESTRIAN', 'BICYCLE') or 'ANY'"
        hint = f"; did you mean {best!r}?" if best is not _NOTHING else ""
        what = shown if param == "category" else f"one of {shown}"
        found = best is not _NOTHING
        self.add("invalid-value", f"{func}: {param}={value!r} is not {what}{hint}", node,
                 fix=f"use {best!r}" if found else None,
                 edit=(lambda: self.edits.replace(node, repr(best))) if found else None)

    @staticmethod
    def canonical(param: str, value: str, allowed) -> object:
        key = value.strip()
        options = [a for a in allowed if a is not None]
        upper = [a for a in options if a.isupper()]
        norm = re.sub(r"[\s\-]+", "_", key).upper() if upper else key.lower().replace(" ", "_")
        if param == "category":
            norm = CATEGORY_SYNONYMS.get(norm, norm)
        syn = VALUE_SYNONYMS.get(param, {})
        if norm in syn or key.lower() in syn:
            target = syn.get(norm, syn.get(key.lower()))
            if target in allowed:
                return target
        if norm in options:
            return norm
        cutoff = 0.8 if param == "category" else 0.7
        best = closest(norm, options, cutoff)
        return best if best is not None else _NOTHING

    def check_thresholds(self, func: str, values: dict) -> None:
        nums = {p: number_value(v) for p, v in values.items()}
        for param, value in nums.items():
            rng = RANGES.get(param)
            if rng is None or value is None or math.isinf(value):
                continue
            low, high, unit, note = rng
            node = values[param]
            if not low <= value <= high:
                self.add("threshold-range", f"{func}: {param}={value:g} {unit} is outside the "
                         f"physical range [{low:g}, {high:g}]" + (f" ({note})" if note else ""),
                         node, severity="warning")
            elif unit == "degrees" and value and any(abs(value - math.pi / k) < 0.01
                                                     for k in range(1, 9)):
                self.add("threshold-range", f"{func}: {param}={value:g} looks like radians; "
                         "angles are in degrees", node, severity="warning")
        for low_p, high_p in MIN_MAX:
            lo, hi = nums.get(low_p), nums.get(high_p)
            if lo is not None and hi is not None and lo > hi:
                self.add("threshold-range", f"{func}: {low_p}={lo:g} is above "
                         f"{high_p}={hi:g}, so nothing can match", values[low_p])

    # -- data flow -----------------------------------------------------------------------
    def check_dataflow(self, tree: ast.Module) -> None:
        body = tree.body
        loads = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)
                 and isinstance(n.ctx, ast.Load)}
        outputs = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
                   and isinstance(n.func, ast.Name) and n.func.id == "output_scenario"]
        dsl_vars: list[tuple[str, ast.stmt]] = []
        for stmt in body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and \
                    isinstance(stmt.targets[0], ast.Name) and self.is_dsl_expr(stmt.value):
                dsl_vars.append((stmt.targets[0].id, stmt))
            elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and \
                    self.is_dsl_expr(stmt.value) and not (isinstance(stmt.value.func, ast.Name)
                                                          and stmt.value.func.id == "output_scenario"):
                self.add("unused-result", "the result of this call is discarded; assign it "
                         "and use it (or remove it)", stmt)
        unused = []
        last_def = {}
        for name, stmt in dsl_vars:
            last_def[name] = stmt
        for name, stmt in dsl_vars:
            later_loads = any(isinstance(n, ast.Name) and n.id == name and
                              isinstance(n.ctx, ast.Load) and n.lineno > stmt.lineno
                              for n in ast.walk(tree))
            if not later_loads and name in loads and last_def[name] is not stmt:
                later_loads = True  # reassigned and used in between (x = f(x))
            if not later_loads:
                unused.append((name, stmt))
        if not outputs:
            target = unused[-1][0] if unused else None
            end = len(self.edits.data)
            text = ("" if self.program.endswith("\n") else "\n") + \
                f"output_scenario({target}, description, log_dir, output_dir)\n"
            self.add("no-output", "the program never calls output_scenario(result, description, "
                     "log_dir, output_dir)" + (f"; output {target}?" if target else ""), None,
                     fix=f"output {target}" if target else None,
                     edit=(lambda: self.edits.insert(end, text)) if target else None)
            unused = unused[:-1] if target else unused
        for name, stmt in unused:
            self.add("unused-result", f"{name!r} is computed but never used nor output", stmt,
                     severity="warning")
        if outputs and outputs[-1].args:
            self.check_referred(outputs[-1], tree)

    def is_dsl_expr(self, node: ast.AST) -> bool:
        return isinstance(node, ast.Call) and (self.dsl_name(node.func) is not None or (
            isinstance(node.func, ast.Name) and node.func.id in self.sigs))

    # -- referred object and road constraint ------------------------------------------------
    def categories_of(self, node: ast.AST, env: dict) -> frozenset | None:
        if isinstance(node, ast.Name):
            return env.get(node.id)
        if not isinstance(node, ast.Call):
            return None
        func = node.func
        wrapper = func.func.id if isinstance(func, ast.Call) and \
            isinstance(func.func, ast.Name) else None
        name = self.dsl_name(func) if wrapper else (func.id if isinstance(func, ast.Name)
                                                   else None)
        if name is None:
            return None
        sig = self.sigs.get(name)
        args = dict(zip(sig.params if sig else (), node.args))
        args.update({k.arg: k.value for k in node.keywords if k.arg})
        if name in ("get_objects_of_category", "is_category"):
            cat = args.get("category")
            if isinstance(cat, ast.Constant) and isinstance(cat.value, str) and \
                    cat.value in CATEGORIES:
                return expand([cat.value])
            return None
        if name in ("scenario_and", "scenario_or"):
            items = args.get("scenario_dicts")
            if not isinstance(items, (ast.List, ast.Tuple)):
                return None
            sets = [self.categories_of(e, env) for e in items.elts]
            if name == "scenario_or":
                return None if any(s is None for s in sets) else frozenset().union(*sets)
            known = [s for s in sets if s is not None]
            return frozenset.intersection(*known) if known else None
        referred = "track_candidates"
        if (name in RETURNS_RELATED) != (wrapper == "reverse_relationship"):
            referred = "related_candidates"
        if referred not in args:
            return None
        return self.categories_of(args[referred], env)

    def check_referred(self, output: ast.Call, tree: ast.Module) -> None:
        env: dict[str, frozenset | None] = {}
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and \
                    isinstance(stmt.targets[0], ast.Name):
                env[stmt.targets[0].id] = self.categories_of(stmt.value, env)
        cats = self.categories_of(output.args[0], env)
        subject = prompt_subject(self.prompt)
        if cats is not None and subject is not None and cats != CONCRETE \
                and not cats & subject[1]:
            shown = ", ".join(sorted(cats)) if len(cats) <= 4 else f"{len(cats)} categories"
            self.add("referred-object", f"the program refers {shown}, but the prompt's first-"
                     f"mentioned object is {subject[0]!r}: the referred object must be the "
                     "output's top-level key (use the relation from that object's side, "
                     "reverse_relationship or get_objects_in_relative_direction)", output)
        road_user = (cats is not None and cats - {"EGO_VEHICLE"} and
                     cats - {"EGO_VEHICLE"} <= ROAD_USERS) or (
            cats is None and subject is not None and subject[1] <= ROAD_USERS)
        calls = {self.dsl_name(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
        if road_user and not calls & ROAD_FUNCTIONS:
            arg = output.args[0]
            src = ast.get_source_segment(self.program, arg)
            self.add("missing-road-constraint", "a road-user prompt without any road or "
                     "drivable-area constraint: parked cars off the road would match; consider "
                     "in_drivable_area or on_road", output, severity="warning",
                     fix="output in_drivable_area(result, log_dir)",
                     edit=(lambda: self.edits.replace(arg, f"in_drivable_area({src}, log_dir)"))
                     if src else None)


_NOTHING = object()
DEFAULT_AUTOFIX = ("unknown-function", "unknown-argument", "missing-argument", "invalid-value",
                   "no-output")
ALL_CODES = ("rejected", "unknown-function", "unknown-argument", "missing-argument",
             "too-many-arguments", "invalid-value", "unused-result", "no-output",
             "referred-object", "missing-road-constraint", "threshold-range")


def review(prompt: str, program: str, autofix=DEFAULT_AUTOFIX, namespace: dict | None = None,
           max_passes: int = 3) -> StaticReview:
    """Check ``program`` against the DSL and ``prompt``; apply the fixes named in ``autofix``
    (codes, or True for every fixable code) until none applies."""
    from scenmine.execute.sandbox import ProgramRejected, check_program

    codes = set(ALL_CODES) if autofix is True else set(autofix or ())
    sigs = signatures(namespace)
    current, fixed = program, []
    for _ in range(max_passes):
        checker = _Checker(prompt, current, sigs, codes)
        checker.run()
        applied = [f for f in checker.findings if f.fixed]
        if not applied:
            break
        candidate = checker.edits.apply()
        try:
            check_program(candidate)
        except ProgramRejected:
            break  # a fix that breaks the program is not a fix
        if candidate == current:
            break
        fixed.extend(applied)
        current = candidate
    final = _Checker(prompt, current, sigs, set())
    final.run()
    return StaticReview(prompt, program, current, fixed + final.findings)
