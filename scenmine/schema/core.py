"""The machinery behind the config schemas: declare a key once, check a composed config in one pass.

A group's schema is a dataclass whose fields are the group's keys: the annotation gives the
type (``int``, ``float``, ``str``, ``bool``, ``X | None``, ``Literal[...]``, ``list[X]``,
``dict[str, X]``, a nested schema dataclass, ``Any``) and ``key(...)`` the range and a one-line
description. Defaults are not repeated here: they live in the group's YAML files (conf/), the one
place a value is set. ``check(cfg)`` walks the composed config and raises ``ConfigError`` with one
line naming the key, the value and what is allowed.
"""
from __future__ import annotations

import difflib
import types
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException


class ConfigError(ValueError):
    """A configuration problem, found before any work starts; the message names the key."""


def key(doc: str = "", *, ge: float | None = None, gt: float | None = None,
        le: float | None = None, lt: float | None = None, optional: bool = False,
        group: str | None = None) -> Any:
    """Declare a config key: ``doc`` says what it does; ``ge/gt/le/lt`` bound a number;
    ``optional`` lets an option leave the key out; ``group`` validates a node as that group."""
    return field(metadata={"doc": doc, "ge": ge, "gt": gt, "le": le, "lt": lt,
                           "optional": optional, "group": group})


@dataclass(frozen=True)
class Group:
    """A config group's schemas, one per option, told apart by the ``discriminator`` key
    (``name``, or ``_target_`` for an instantiated class). An unknown discriminator value is
    refused unless ``open`` (then only the keys are unchecked: e.g. a user's own ``_target_``)."""

    discriminator: str | None
    options: dict[str | None, type]
    open: bool = False

    @classmethod
    def single(cls, schema: type) -> Group:
        """A group whose every option shares one schema (e.g. execute, generate)."""
        return cls(None, {None: schema})

    def schema_for(self, node: dict, path: str) -> type | None:
        if self.discriminator is None:
            return self.options[None]
        value = node.get(self.discriminator)
        if value in self.options:
            return self.options[value]
        if self.open:
            return None
        raise ConfigError(f"{path}.{self.discriminator}={value!r} is not allowed: expected one of "
                          f"{', '.join(map(str, self.options))}")


def _describe(tp, meta: dict | None = None) -> str:
    """What a value of type ``tp`` (with bounds ``meta``) must be, in words."""
    meta = meta or {}
    origin, args = get_origin(tp), get_args(tp)
    if origin in (Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        text = " or ".join(_describe(a, meta) for a in inner)
        return f"{text} or null" if len(inner) < len(args) else text
    if origin is Literal:
        return "one of " + ", ".join(str(a) for a in args)
    if tp in (int, float):
        word = "an integer" if tp is int else "a number"
        bounds = [f"{op} {meta[k]:g}" for k, op in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))
                  if meta.get(k) is not None]
        return f"{word} {' and '.join(bounds)}" if bounds else word
    if tp is bool:
        return "true or false"
    if tp is str:
        return "a string"
    if origin in (list, tuple):
        return f"a list of {_describe(args[0]) if args else 'values'}"
    if origin is dict or tp is dict:
        return "a mapping"
    if is_dataclass(tp):
        return "a mapping"
    return "a value"


def _fail(path: str, value, tp, meta=None):
    raise ConfigError(f"{path}={value!r} is not allowed: expected {_describe(tp, meta)}")


def _check_value(path: str, value, tp, meta: dict, groups: dict[str, Group]):
    """Check one value against its type and bounds; returns it (numbers given for str become str)."""
    if meta.get("group"):
        if not isinstance(value, dict):
            _fail(path, value, dict)
        check_group(path, value, groups[meta["group"]], groups)
        return value
    origin, args = get_origin(tp), get_args(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        for candidate in inner:
            try:
                return _check_value(path, value, candidate, meta, groups)
            except ConfigError as exc:
                if is_dataclass(candidate) or meta.get("group") or "is not a known key" in str(exc):
                    raise  # an error inside a nested node names its own key
        _fail(path, value, tp, meta)
    if origin is Literal:
        if value not in args or isinstance(value, bool) != any(isinstance(a, bool) for a in args if a == value):
            _fail(path, value, tp)
        return value
    if tp is bool:
        if not isinstance(value, bool):
            _fail(path, value, tp)
        return value
    if tp in (int, float):
        if isinstance(value, bool) or not isinstance(value, int if tp is int else (int, float)):
            _fail(path, value, tp, meta)
        for name, ok in (("ge", lambda b: value >= b), ("gt", lambda b: value > b),
                         ("le", lambda b: value <= b), ("lt", lambda b: value < b)):
            if meta.get(name) is not None and not ok(meta[name]):
                _fail(path, value, tp, meta)
        return value
    if tp is str:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            _fail(path, value, tp)
        return str(value)
    if origin in (list, tuple) or tp in (list, tuple):
        if not isinstance(value, (list, tuple)):
            _fail(path, value, tp)
        item = args[0] if args else Any
        return [_check_value(f"{path}[{i}]", v, item, {}, groups) for i, v in enumerate(value)]
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            _fail(path, value, tp)
        item = args[1] if len(args) == 2 else Any
        return {k: _check_value(f"{path}.{k}", v, item, {}, groups) for k, v in value.items()}
    if is_dataclass(tp):
        if not isinstance(value, dict):
            _fail(path, value, tp)
        check_node(path, value, tp, groups)
        return value
    raise TypeError(f"schema of {path}: unsupported annotation {tp!r}")


def declared(schema: type) -> dict[str, tuple[Any, dict]]:
    """The keys a schema declares: name -> (type, metadata)."""
    hints = get_type_hints(schema, include_extras=False)
    return {f.name: (hints[f.name], dict(f.metadata)) for f in fields(schema)}


def check_node(path: str, node: dict, schema: type, groups: dict[str, Group]) -> None:
    """Every key of ``node`` declared by ``schema``, each value of its type, every required key present."""
    keys = declared(schema)
    for name, value in node.items():
        if name not in keys:
            where = f"{path}.{name}" if path else name
            close = difflib.get_close_matches(str(name), list(keys), n=1)
            hint = f"did you mean {path + '.' if path else ''}{close[0]}?" if close else \
                f"known keys: {', '.join(sorted(keys))}"
            raise ConfigError(f"{where} is not a known key ({hint})")
        tp, meta = keys[name]
        node[name] = _check_value(f"{path}.{name}" if path else name, value, tp, meta, groups)
    for name, (_, meta) in keys.items():
        if name not in node and not meta.get("optional"):
            where = f"{path}.{name}" if path else name
            raise ConfigError(f"{where} is missing: the option's YAML file must set it "
                              f"({meta.get('doc') or 'see scenmine/schema'})")


def check_group(path: str, node: dict, group: Group, groups: dict[str, Group]) -> None:
    schema = group.schema_for(node, path)
    if schema is not None:
        check_node(path, node, schema, groups)


def plain(cfg) -> dict:
    """The composed config as plain containers, interpolations resolved; one line on failure."""
    missing = sorted(OmegaConf.missing_keys(cfg)) if isinstance(cfg, DictConfig) else []
    if missing:
        raise ConfigError(f"no value for {missing[0]}: give it on the command line, e.g. {missing[0]}=..."
                          + (f" (also unset: {', '.join(missing[1:])})" if missing[1:] else ""))
    if not isinstance(cfg, (DictConfig, ListConfig)):
        return dict(cfg)
    try:
        return OmegaConf.to_container(cfg, resolve=True)
    except OmegaConfBaseException as exc:
        full_key = getattr(exc, "full_key", None)
        reason = str(exc).splitlines()[0]
        raise ConfigError(f"{full_key or 'config'}: {reason}") from None
