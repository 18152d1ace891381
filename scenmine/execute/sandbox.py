"""Static checks and the allowlisted surface for untrusted scenario programs.

A program may only assign, call, compare, index, loop with ``for`` over finite iterables,
build literals and comprehensions, and define small helper functions. It may not import,
touch dunder or private attributes, assign or delete attributes, use ``while`` (unbounded
loops), ``global``, ``try``, ``with``, ``del``, or call anything that reaches files,
processes or the interpreter. Beyond the static check every attribute a program reads goes
through ``read_attribute``: only the attributes listed for the types the DSL hands out
(``READABLE``) can be read. Programs get values, never capabilities: ``log_dir`` is an
opaque handle (scenmine.dsl.context.LogHandle), numpy and math are frozen namespaces of
vetted functions. The OS layer under all this is scenmine.execute.confine.
"""
from __future__ import annotations

import ast
import builtins
import math
from types import MappingProxyType
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


# attributes a program may read, by the type of the object (anything else is refused)
_NUMBER = frozenset({"real", "imag", "conjugate", "is_integer", "bit_length"})
_SEQUENCE = frozenset({"count", "index"})
_STR = frozenset({
    "capitalize", "casefold", "center", "count", "endswith", "find", "index", "isalnum",
    "isalpha", "isdigit", "islower", "isnumeric", "isspace", "isupper", "join", "ljust",
    "lower", "lstrip", "partition", "removeprefix", "removesuffix", "replace", "rfind",
    "rindex", "rjust", "rpartition", "rsplit", "rstrip", "split", "splitlines", "startswith",
    "strip", "swapcase", "title", "upper", "zfill"})  # no format / format_map: they read attributes
_LIST = _SEQUENCE | {"append", "clear", "copy", "extend", "insert", "pop", "remove", "reverse",
                     "sort"}
_SET = frozenset({"copy", "difference", "intersection", "isdisjoint", "issubset", "issuperset",
                  "symmetric_difference", "union"})
_MUTABLE_SET = _SET | {"add", "clear", "difference_update", "discard", "intersection_update",
                       "pop", "remove", "symmetric_difference_update", "update"}
_DICT = frozenset({"clear", "copy", "get", "items", "keys", "pop", "popitem", "setdefault",
                   "update", "values"})
# ndarray: data attributes and methods that copy or compute. Not: resize (frees the buffer
# under live views), view / getfield / setfield (reinterpret memory, e.g. as objects), base,
# data, ctypes, dump(s), tofile, setflags, byteswap, __array_interface__...
ARRAY_ATTRIBUTES = frozenset({
    "T", "all", "any", "argmax", "argmin", "argsort", "astype", "clip", "copy", "cumprod",
    "cumsum", "diagonal", "dot", "dtype", "fill", "flatten", "imag", "item", "itemsize",
    "max", "mean", "min", "nbytes", "ndim", "nonzero", "prod", "ravel", "real", "repeat",
    "reshape", "round", "searchsorted", "shape", "size", "sort", "squeeze", "std", "sum",
    "swapaxes", "take", "tolist", "trace", "transpose", "var"})
DTYPE_ATTRIBUTES = frozenset({"kind", "name", "itemsize"})
READABLE: dict[type, frozenset[str]] = {
    bool: _NUMBER, int: _NUMBER, float: _NUMBER, complex: _NUMBER, str: _STR,
    tuple: _SEQUENCE, list: _LIST, dict: _DICT, set: _MUTABLE_SET, frozenset: _SET,
}


class Namespace:
    """A frozen module-like namespace (``np``, ``math``): its names can be read, not set."""

    __slots__ = ("_names",)

    def __init__(self, **names):
        object.__setattr__(self, "_names", MappingProxyType(names))

    def __getattr__(self, name):
        try:
            return self._names[name]
        except KeyError:
            raise AttributeError(f"{name!r} is not available to programs") from None

    def __setattr__(self, name, value):
        raise AttributeError("namespaces are read-only")

    def __delattr__(self, name):
        raise AttributeError("namespaces are read-only")


def read_attribute(obj, name: str):
    """``obj.name`` if programs may read it (READABLE, array attributes, namespaces)."""
    cls = type(obj)
    if cls is Namespace:
        return getattr(obj, name)
    allowed = READABLE.get(cls)
    if allowed is None:
        if isinstance(obj, (np.ndarray, np.generic)):
            allowed = ARRAY_ATTRIBUTES
        elif isinstance(obj, np.dtype):
            allowed = DTYPE_ATTRIBUTES
    if allowed is None or name not in allowed:
        raise AttributeError(f"attribute {name!r} of {cls.__name__} is not available to programs")
    return getattr(obj, name)


READ_ATTRIBUTE = "_read_attribute_"  # the name programs cannot spell (leading underscore)


class _GuardAttributes(ast.NodeTransformer):
    """Rewrite every attribute read ``x.a`` into ``_read_attribute_(x, 'a')``."""

    def visit_Attribute(self, node: ast.Attribute):
        self.generic_visit(node)
        call = ast.Call(func=ast.Name(READ_ATTRIBUTE, ast.Load()),
                        args=[node.value, ast.Constant(node.attr)], keywords=[])
        return ast.copy_location(call, node)


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
        if isinstance(node, ast.Attribute):
            if node.attr.startswith("_") or node.attr in FORBIDDEN_ATTRIBUTES:
                _reject(node, f"attribute {node.attr!r} is not allowed")
            if not isinstance(node.ctx, ast.Load):
                _reject(node, f"assigning or deleting attribute {node.attr!r} is not allowed")
        if isinstance(node, (ast.FunctionDef, ast.arg)):
            name = node.name if isinstance(node, ast.FunctionDef) else node.arg
            if name.startswith("_"):
                _reject(node, f"name {name!r} is not allowed")
            if isinstance(node, ast.FunctionDef) and node.decorator_list:
                _reject(node, "decorators are not allowed")
    return tree


def compile_program(code: str):
    """Check ``code`` and compile it with every attribute read guarded (ProgramRejected)."""
    tree = _GuardAttributes().visit(check_program(code))
    return compile(ast.fix_missing_locations(tree), "<program>", "exec")


def safe_numpy() -> Namespace:
    """The subset of numpy a program may use (array math only, no I/O)."""
    return Namespace(**{name: getattr(np, name) for name in NUMPY_NAMES},
                     linalg=Namespace(norm=np.linalg.norm))


SAFE_MATH = Namespace(pi=math.pi, inf=math.inf, sqrt=math.sqrt, cos=math.cos, sin=math.sin,
                      atan2=math.atan2, radians=math.radians, degrees=math.degrees)
SAFE_NUMPY = safe_numpy()


def program_globals(dsl_namespace: dict, log_dir, description: str = "", output=print) -> dict:
    """Fresh globals for one program run: DSL names, an opaque handle of the log, frozen
    numpy/math namespaces, harmless builtins, and the attribute guard. ``output`` is the
    program's ``print``."""
    from scenmine.dsl.context import LogHandle, OutputHandle

    safe = {name: getattr(builtins, name) for name in SAFE_BUILTINS}
    safe["print"] = output
    handle = log_dir if isinstance(log_dir, LogHandle) else LogHandle(log_dir)
    return {
        "__builtins__": safe, **dsl_namespace, "log_dir": handle, "output_dir": OutputHandle(),
        "description": description, "np": SAFE_NUMPY, "Literal": Literal, "math": SAFE_MATH,
        READ_ATTRIBUTE: read_attribute,
    }
