"""Tool calls however a model writes them: native calls, or text forms in the answer.

Text forms seen from real models (../shared/real_model_transcripts):

* a fenced block (```json, ```tool_call or bare) holding ``{"name": ..., "arguments": {...}}``
  (also ``"parameters"``, or a list of such objects);
* ``<tool_call>{...}</tool_call>`` tags (Hermes/Qwen templates);
* ``functions.NAME:`` followed by a JSON object (or nothing);
* tool names with stray punctuation or case (``Submit``, ```submit```, ``submit()``).

Every parsed call is validated against the tool schemas: an unknown tool, a DSL function
called as if it were a tool, missing required arguments, arguments that are not JSON, or a
placeholder program become a call with ``error`` set (the agent answers it with the error).
"""
from __future__ import annotations

import json
import re

from .backends.base import ToolCall

FENCE = re.compile(r"```[ \t]*([\w-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
TAG = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|\Z)", re.DOTALL | re.IGNORECASE)
FUNCTIONS = re.compile(r"(?:^|\n)\s*`?functions?\.([A-Za-z_][\w]*)`?\s*:?[ \t]*", re.IGNORECASE)
NAME_FIELD = re.compile(r'"name"\s*:\s*"([^"]+)"')
PLACEHOLDER = re.compile(r"^\s*<[^<>\n]{1,60}>\s*$|^\s*(\.\.\.|program|your program here)\s*$",
                         re.IGNORECASE)
TEXT_FENCE_LANGS = ("json", "tool_call", "tool", "function", "")


def normalize_name(name: str) -> str:
    """``'`Functions.Submit()`'`` -> ``'submit'``."""
    name = str(name).strip().strip("`'\" ").lower()
    name = re.sub(r"^(functions?|tools?)[.:]", "", name)
    name = re.sub(r"\(.*\)?$", "", name)
    return re.sub(r"[^a-z0-9_]", "", name)


def _objects(text: str) -> list:
    """JSON values that decode from the start of ``text`` (one, or a list of several)."""
    text = text.strip()
    if not text:
        return []
    try:
        value, _ = json.JSONDecoder().raw_decode(text)
    except ValueError:
        return [text]  # kept as raw text: the caller reports it as invalid JSON
    return value if isinstance(value, list) else [value]


def _from_object(obj, index: int) -> ToolCall | None:
    if isinstance(obj, str):  # not valid JSON: a call only if a name can be read from it
        m = NAME_FIELD.search(obj)
        if not m:
            return None
        return ToolCall(f"text_{index}", m.group(1), {}, "the call is not valid JSON (string "
                        "values such as a program must be quoted JSON strings)")
    if not isinstance(obj, dict) or "name" not in obj:
        return None
    args = obj.get("arguments", obj.get("parameters", obj.get("args", {})))
    call = ToolCall.parse(f"text_{index}", str(obj["name"]), args if args is not None else {})
    return call


def parse_text_calls(text: str | None) -> list[ToolCall]:
    """Every tool call written as text in ``text`` (unvalidated; see :func:`validate`)."""
    if not text:
        return []
    calls: list[ToolCall] = []
    for body in TAG.findall(text):
        calls += [c for c in (_from_object(o, len(calls) + i) for i, o in
                              enumerate(_objects(body))) if c]
    if not calls:
        for lang, body in FENCE.findall(text):
            if lang.lower() in TEXT_FENCE_LANGS:
                calls += [c for c in (_from_object(o, len(calls) + i) for i, o in
                                      enumerate(_objects(body))) if c]
    if not calls:
        stripped = text.strip()
        if stripped.startswith("{") and '"name"' in stripped:
            calls += [c for c in (_from_object(o, i) for i, o in
                                  enumerate(_objects(stripped))) if c]
    if not calls:
        for m in FUNCTIONS.finditer(text):
            rest = text[m.end():]
            objs = _objects(rest) if rest.lstrip().startswith(("{", "[")) else [{}]
            obj = objs[0] if objs else {}
            if isinstance(obj, str):
                calls.append(ToolCall(f"text_{len(calls)}", m.group(1), {},
                                      "the arguments are not valid JSON"))
            else:
                calls.append(ToolCall.parse(f"text_{len(calls)}", m.group(1),
                                            obj if isinstance(obj, dict) else {}))
    return calls


def validate(call: ToolCall, tools: list[dict], dsl_names=()) -> ToolCall:
    """The call with a canonical tool name, or with ``error`` saying what is wrong."""
    by_name = {t["name"]: t for t in tools}
    name = call.name if call.name in by_name else normalize_name(call.name)
    if name not in by_name:
        if call.name in dsl_names or name in dsl_names:
            call.error = (f"{call.name} is a DSL function, not a tool: write a program that "
                          f"calls it and hand it in with submit(program)")
        else:
            call.error = (f"unknown tool {call.name!r}; the tools are "
                          f"{', '.join(by_name)}")
        return call
    call.name = name
    if call.error:
        return call
    schema = by_name[name].get("parameters") or {}
    missing = [p for p in schema.get("required", []) if p not in call.arguments]
    if missing:
        call.error = f"{name} needs the argument(s) {', '.join(missing)}"
    elif name in ("submit", "dry_run") and PLACEHOLDER.match(str(call.arguments["program"])):
        call.error = (f"{name} got the placeholder {call.arguments['program']!r} instead of "
                      "a program: put the complete program text in the program argument")
    return call


def tool_calls(resp, tools: list[dict], mode: str = "auto", dsl_names=()) -> list[ToolCall]:
    """The answer's calls: native ones (``native``/``auto``), else text forms
    (``text``/``auto``), each validated."""
    calls = list(resp.tool_calls) if mode in ("native", "auto") else []
    if not calls and mode in ("text", "auto"):
        calls = parse_text_calls(resp.text)
    return [validate(c, tools, dsl_names) for c in calls]


def describe_tools(tools: list[dict]) -> str:
    """The tools for a prompt that asks for text-form calls (``generate.tools=text``)."""
    lines = []
    for t in tools:
        props = (t.get("parameters") or {}).get("properties") or {}
        lines.append(f"- {t['name']}({', '.join(props)}): {t.get('description', '')}")
    return "\n".join(lines)
