"""Static checks and the restricted namespace for untrusted scenario programs.

A program may only assign, call, compare, index, loop with ``for`` over finite iterables,
build literals and comprehensions, and define small helper functions. It may not import,
touch dunder or private attributes, use ``while`` (unbounded loops), ``global``, ``try``,
``with``, ``del``, or call anything that reaches files, processes or the interpreter. The
same process-level limits (time, memory) are enforced by the runner.
"""
from __future__ import annotations

import ast
import builtins
import math
import types
from pathlib import Path
from typing import Literal

import numpy as np

MAX_PROGRAM_CHARS = 20_000

FORBIDDEN_NAMES = frozenset({
    "exec", "eval", "compile", "open", "input", "breakpoint", "help", "globals", "locals",
    "vars", "dir", "getattr", "setattr", "delattr", "hasattr", "__import__", "memoryview",
    "object", "type", "super", "classmethod", "staticmethod", "property", "exit", "quit",
    "copyright", "credits", "license", "id", "bytearray", "bytes",
})
FORBIDDEN_ATTRIBUTES = frozenset({
    # files and processes reachable from Path / numpy / str
    "open", "read_text", "read_bytes", "write_text", "write_bytes", "unlink", "rmdir", "mkdir",
    "touch", "rename", "replace", "chmod", "symlink_to", "hardlink_to", "iterdir", "glob",
    "rglob", "walk", "system", "popen", "load", "save", "savez", "savetxt", "loadtxt",
    "fromfile", "tofile", "genfromtxt", "memmap", "ctypes", "ctypeslib", "lib", "format",
    "format_map", "f2py", "testing", "distutils", "gi_frame", "f_globals", "f_locals",
    "tb_frame", "cr_frame", "func_globals", "mro",
})
ALLOWED_NODES = (
    ast.Module, ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Name, ast.Load,
    ast.Store, ast.Constant, ast.Call, ast.keyword, ast.Attribute, ast.Subscript, ast.Slice,
    ast.List, ast.Tuple, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp,
    ast.GeneratorExp, ast.comprehension, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare,
    ast.IfExp, ast.If, ast.For, ast.Break, ast.Continue, ast.Pass, ast.FunctionDef,
    ast.arguments, ast.arg, ast.Return, ast.Lambda, ast.Starred, ast.JoinedStr,
    ast.FormattedValue, ast.operator, ast.unaryop, ast.boolop, ast.cmpop, ast.expr_context,
    ast.Assert,
)
SAFE_BUILTINS = (
    "abs", "all", "any", "bool", "dict", "enumerate", "filter", "float", "frozenset", "int",
    "isinstance", "len", "list", "map", "max", "min", "print", "range", "reversed", "round",
    "set", "sorted", "str", "sum", "tuple", "zip", "True", "False", "None", "ValueError",
    "KeyError", "TypeError", "Exception",
)
NUMPY_NAMES = (
    "abs", "all", "any", "arange", "arccos", "arcsin", "arctan", "arctan2", "argmax", "argmin",
    "argsort", "array", "asarray", "ceil", "clip", "concatenate", "cos", "cumsum", "deg2rad",
    "degrees", "diff", "dot", "e", "exp", "float32", "float64", "floor", "full", "hypot", "inf",
    "int32", "int64", "intersect1d", "isclose", "isfinite", "isin", "isnan", "linspace", "log",
    "max", "maximum", "mean", "median", "min", "minimum", "nan", "nanmax", "nanmean", "nanmin",
    "ones", "pi", "rad2deg", "radians", "round", "sign", "sin", "sort", "sqrt", "square", "std",
    "sum", "tan", "union1d", "unique", "where", "zeros",
)


class ProgramRejected(ValueError):
    """A program failed the static check; the message says which construct and where."""


def _reject(node: ast.AST, what: str) -> None:
    raise ProgramRejected(f"line {getattr(node, 'lineno', '?')}: {what}")


def check_program(code: str) -> ast.Module:
    """Parse and check ``code``; return its AST or raise ProgramRejected."""
    if not isinstance(code, str) or not code.strip():
        raise ProgramRejected("empty program")
    if len(code) > MAX_PROGRAM_CHARS:
        raise ProgramRejected(f"program longer than {MAX_PROGRAM_CHARS} characters")
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        raise ProgramRejected(f"line {exc.lineno}: syntax error: {exc.msg}") from None
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            _reject(node, "imports are not allowed")
        if isinstance(node, ast.While):
            _reject(node, "while loops are not allowed (unbounded loop)")
        if not isinstance(node, ALLOWED_NODES):
            _reject(node, f"{type(node).__name__} is not allowed")
        if isinstance(node, ast.Name) and (node.id.startswith("_") or node.id in FORBIDDEN_NAMES):
            _reject(node, f"name {node.id!r} is not allowed")
        if isinstance(node, ast.Attribute) and (
                node.attr.startswith("_") or node.attr in FORBIDDEN_ATTRIBUTES):
            _reject(node, f"attribute {node.attr!r} is not allowed")
        if isinstance(node, (ast.FunctionDef, ast.arg)):
            name = node.name if isinstance(node, ast.FunctionDef) else node.arg
            if name.startswith("_"):
                _reject(node, f"name {name!r} is not allowed")
            if isinstance(node, ast.FunctionDef) and node.decorator_list:
                _reject(node, "decorators are not allowed")
    return tree


def safe_numpy() -> types.SimpleNamespace:
    """The subset of numpy a program may use (array math only, no I/O)."""
    return types.SimpleNamespace(**{name: getattr(np, name) for name in NUMPY_NAMES},
                                 linalg=types.SimpleNamespace(norm=np.linalg.norm))


def program_globals(dsl_namespace: dict, log_dir: Path, output_dir: Path,
                    description: str = "") -> dict:
    """Globals for one program run: DSL names, the log, and harmless builtins only."""
    safe = {name: getattr(builtins, name) for name in SAFE_BUILTINS}
    return {
        "__builtins__": safe, **dsl_namespace, "log_dir": Path(log_dir),
        "output_dir": Path(output_dir), "description": description, "np": safe_numpy(),
        "Path": Path, "Literal": Literal, "math": types.SimpleNamespace(
            pi=math.pi, inf=math.inf, sqrt=math.sqrt, cos=math.cos, sin=math.sin,
            atan2=math.atan2, radians=math.radians, degrees=math.degrees),
    }
