"""Config schemas: every key of every group, with its type, allowed values and range.

One module per group; each ends with ``SCHEMA = Group(...)`` mapping the group's options (told
apart by ``name``, or ``_target_``) to a dataclass. ``check(cfg)`` runs before any work
(scenmine.config.check_config) and refuses a typo in a key, a wrong type or an out-of-range value
with one line. Defaults are not here: the YAML files in conf/ hold them. The report tool's own
primary config (conf/report.yaml) has its schema in report.py, checked by scenmine.report.

Adding a key: set its default in the group's YAML file (conf/<group>/<option>.yaml) and declare it
in the option's dataclass here, e.g. in scenmine/schema/generate.py::

    tools: list[str] = key("tools the agent may call")
    augment: int = key("paraphrases per prompt", ge=0)

Adding an option: a dataclass (subclass the closest one) and an entry in the module's ``SCHEMA``.
Adding a group: a module with ``SCHEMA`` and one line in ``GROUPS`` below.
"""
from __future__ import annotations

import difflib

from . import dataset, execute, generate, llm, review, screening, tracks, tune, verify, view, vlm
from .core import ConfigError, Group, check_group, check_node, declared, key, plain
from .root import Root

GROUPS: dict[str, Group] = {
    "dataset": dataset.SCHEMA,
    "llm": llm.SCHEMA,
    "generate": generate.SCHEMA,
    "prompts": generate.PROMPTS,
    "screening": screening.SCHEMA,
    "reviewer": review.SCHEMA,
    "execute": execute.SCHEMA,
    "vlm": vlm.SCHEMA,
    "verifier": verify.SCHEMA,
    "tune": tune.SCHEMA,
    "tracks": tracks.SCHEMA,
    "view": view.SCHEMA,
}
OUTSIDE = ("hydra",)  # present when a test composes with return_hydra_config=True


def dotted_keys(schema: type, prefix: str) -> list[str]:
    """Every key path a schema declares, nested ones included."""
    from dataclasses import is_dataclass
    out = []
    for name, (tp, _) in declared(schema).items():
        out.append(f"{prefix}.{name}")
        if is_dataclass(tp):
            out += dotted_keys(tp, f"{prefix}.{name}")
    return out


def unknown_key_message(path: str) -> str:
    """One line for a key no option of its group declares, with the closest declared one."""
    group = path.split(".", 1)[0]
    schemas = GROUPS[group].options.values() if group in GROUPS else [Root]
    known = sorted({k for s in schemas for k in dotted_keys(s, group if group in GROUPS else "")})
    known = [k.lstrip(".") for k in known]
    close = difflib.get_close_matches(path, known, n=1)
    return f"{path} is not a known key" + (f" (did you mean {close[0]}?)" if close else "")


def check(cfg) -> None:
    """Refuse the composed config ``cfg`` on the first key that breaks its schema (ConfigError)."""
    data = plain(cfg)
    for name in list(data):
        if name in GROUPS:
            check_group(name, data.pop(name), GROUPS[name], GROUPS)
        elif name in OUTSIDE:
            data.pop(name)
    check_node("", data, Root, GROUPS)


__all__ = ["GROUPS", "ConfigError", "Group", "check", "key"]
