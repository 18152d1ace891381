"""Mechanical repairs of recurring DSL misuse, tried before the model is asked again.

Each rule rewrites the program's syntax tree; a repair is kept only if the repaired program
then passes the same checks (the session re-runs them). Rules:

* ``scenario_and(x)`` / ``scenario_or(a, b)``: the scenarios wrapped into one list;
* ``scenario_and(a, f)(a, log_dir)``: functions among the items are called with the outer
  call's arguments, and the outer call is dropped;
* ``reverse_relationship(unary)(tracks, related, log_dir, **kw)``: ``unary(related, log_dir,
  **kw)`` (a unary function has no relation to reverse);
* an undefined name close to an assigned variable or a DSL function is renamed to it.
"""
from __future__ import annotations

import ast
import builtins
import difflib
import inspect

COMBINE = ("scenario_and", "scenario_or")
PROGRAM_NAMES = ("log_dir", "output_dir", "description")


def _is_name(node, names) -> bool:
    return isinstance(node, ast.Name) and node.id in names


def _takes_related(func) -> bool:
    try:
        return "related_candidates" in inspect.signature(func).parameters
    except (TypeError, ValueError):
        return True


class _Fixer(ast.NodeTransformer):
    def __init__(self, namespace: dict):
        self.ns = namespace
        self.functions = {k for k, v in namespace.items() if callable(v)}
        self.changed = False

    def visit_Call(self, node: ast.Call):
        self.generic_visit(node)
        inner = node.func
        # scenario_and(a, f)(args) -> scenario_and([a, f(args)])
        if isinstance(inner, ast.Call) and _is_name(inner.func, COMBINE):
            items = _items(inner)
            items = [ast.Call(func=i, args=list(node.args), keywords=list(node.keywords))
                     if _is_name(i, self.functions) else i for i in items]
            self.changed = True
            return ast.Call(func=inner.func, args=[ast.List(elts=items, ctx=ast.Load())],
                            keywords=[])
        # reverse_relationship(unary)(tracks, related, log_dir, ...) -> unary(related, ...)
        if isinstance(inner, ast.Call) and _is_name(inner.func, ("reverse_relationship",)) \
                and inner.args and _is_name(inner.args[0], self.functions) \
                and not _takes_related(self.ns[inner.args[0].id]) and len(node.args) >= 2:
            self.changed = True
            return ast.Call(func=inner.args[0], args=list(node.args[1:]),
                            keywords=list(node.keywords))
        # scenario_and(x) / scenario_and(a, b) -> scenario_and([x]) / scenario_and([a, b])
        if _is_name(node.func, COMBINE) and not node.keywords and \
                not (len(node.args) == 1 and isinstance(node.args[0], (ast.List, ast.Tuple,
                                                                       ast.ListComp))):
            if node.args:
                self.changed = True
                return ast.Call(func=node.func, args=[ast.List(elts=list(node.args),
                                                               ctx=ast.Load())], keywords=[])
        return node


def _items(call: ast.Call) -> list:
    if len(call.args) == 1 and isinstance(call.args[0], (ast.List, ast.Tuple)):
        return list(call.args[0].elts)
    return list(call.args)


def _rename_undefined(tree: ast.Module, namespace: dict) -> bool:
    assigned: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            assigned.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.Lambda)):
            args = node.args
            assigned.update(a.arg for a in args.args + args.kwonlyargs)
        elif isinstance(node, ast.comprehension):
            for n in ast.walk(node.target):
                if isinstance(n, ast.Name):
                    assigned.add(n.id)
    known = assigned | set(namespace) | set(PROGRAM_NAMES) | set(dir(builtins))
    changed = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and \
                node.id not in known:
            close = difflib.get_close_matches(node.id, sorted(assigned) +
                                              sorted(k for k in namespace if k[0] != "_"),
                                              n=1, cutoff=0.6)
            if close:
                node.id, changed = close[0], True
    return changed


def repair(program: str, namespace: dict) -> str | None:
    """The program with the known misuses rewritten, or None when no rule applies."""
    try:
        tree = ast.parse(program)
    except SyntaxError:
        return None
    renamed = _rename_undefined(tree, namespace)
    fixer = _Fixer(namespace)
    tree = fixer.visit(tree)
    if not (renamed or fixer.changed):
        return None
    ast.fix_missing_locations(tree)
    out = ast.unparse(tree).strip() + "\n"
    return out if out.strip() != program.strip() else None
