"""Get a scenario program out of a messy model answer (fences, prose, tags, imports)."""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass

FENCE = re.compile(r"```[ \t]*([\w+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
TAGS = re.compile(r"<(program|code|python)>\s*(.*?)\s*</\1>", re.DOTALL | re.IGNORECASE)
CODE_START = re.compile(r"^\s*(description\s*=|[A-Za-z_]\w*\s*=\s*\w+\(|output_scenario\(|"
                        r"def \w+\(|#)")
HARMLESS_IMPORTS = ("numpy", "pathlib", "typing", "refAV", "refav", "scenmine")


@dataclass
class Extraction:
    program: str | None
    error: str | None = None  # "no code in answer: ..." or "cannot parse: ..."


def _candidates(text: str) -> list[str]:
    blocks = [body for lang, body in FENCE.findall(text)
              if lang.lower() in ("", "python", "py", "python3")]
    blocks += [body for _, body in TAGS.findall(text)]
    if blocks:
        return blocks
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if CODE_START.match(ln)), None)
    if start is None:
        return []
    tail = lines[start:]
    for end in range(len(tail), 0, -1):  # drop trailing prose until it parses
        chunk = "\n".join(tail[:end])
        if _parses(chunk):
            return [chunk]
    return ["\n".join(tail)]


def called_names(program: str) -> set[str]:
    """The plain names a program calls (``f(...)``, not ``x.f(...)``)."""
    return {n.func.id for n in ast.walk(ast.parse(program))
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
        return True
    except SyntaxError:
        return False


def _strip_imports(code: str) -> str:
    """Drop top-level imports of numpy/pathlib/typing/the DSL (already in scope)."""
    out = []
    for ln in code.splitlines():
        m = re.match(r"^(?:from\s+([\w.]+)\s+import|import\s+([\w.]+))", ln)
        if m and (m.group(1) or m.group(2)).split(".")[0] in HARMLESS_IMPORTS:
            continue
        out.append(ln)
    return "\n".join(out)


def _ensure_output(code: str) -> str:
    """Append output_scenario(...) for a program whose last statement assigns a result."""
    if "output_scenario" in code:
        return code
    tree = ast.parse(code)
    last = tree.body[-1] if tree.body else None
    if isinstance(last, ast.Assign) and len(last.targets) == 1 and \
            isinstance(last.targets[0], ast.Name) and last.targets[0].id != "description":
        return code.rstrip() + (f"\noutput_scenario({last.targets[0].id}, description, "
                                "log_dir, output_dir)\n")
    return code


def _looks_like_program(code: str) -> bool:
    return bool(re.search(r"\b[a-z_]+\(", code)) and ("log_dir" in code or
                                                     "output_scenario" in code)


def extract_program(text: str | None) -> Extraction:
    """The best program in ``text``: the last block calling output_scenario, else the
    last block that parses and calls DSL functions."""
    if not text or not text.strip():
        return Extraction(None, "no code in answer: (empty answer)")
    cands = [c.strip("\n") for c in _candidates(text) if c.strip()]
    cands = [_strip_imports(c) for c in cands if _looks_like_program(c)]
    if not cands:
        return Extraction(None, f"no code in answer: {_snippet(text)}")
    ranked = ([c for c in cands if "output_scenario" in c and _parses(c)] or
              [c for c in cands if _parses(c)])
    if not ranked:
        code = cands[-1]
        try:
            ast.parse(code)
        except SyntaxError as exc:
            return Extraction(code.strip() + "\n",
                              f"cannot parse: {exc.msg} (line {exc.lineno}): {exc.text!r}")
    code = ranked[-1]
    return Extraction(_ensure_output(code).strip() + "\n")


def _snippet(text: str, n: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= n else flat[:n] + "..."
