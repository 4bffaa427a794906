"""YAML with positions: every mapping remembers the line and column of itself and of each value, and every
list those of its items, so that a mistake in a rules file is reported as `file:line:column`.

Mistakes the YAML itself allows (a duplicate key, a key that is not text) are collected on the loader
rather than raised, and every validation error is located, so that a file's mistakes are reported together.

The document is read by libyaml (PyYAML's C parser, about 15 times faster than its pure-Python one on the
example rules) where PyYAML was built with it; its nodes carry the same marks (line, column in characters).
A document libyaml refuses is read again by the pure-Python parser, whose messages are the ones reported
(and which reads it when libyaml is absent), so that a mistake is worded the same with or without libyaml.
"""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import ValidationError

from newswatch.worker.errors import RuleError


class Located(dict[str, Any]):
    """A YAML mapping that remembers where it and each of its values stand (1-based line, column)."""

    where: tuple[int, int] = (1, 1)
    value_at: dict[str, tuple[int, int, str | None]]


class LocatedList(list[Any]):
    """A YAML sequence that remembers where each of its items stands (1-based line, column)."""

    item_at: list[tuple[int, int]]


class LineLoader(yaml.SafeLoader):
    """SafeLoader whose mappings are `Located`; `mistakes` collects the duplicate and non-text keys of `file`."""

    def __init__(self, stream: str, *, file: str) -> None:
        super().__init__(stream)
        self.file = file
        self.mistakes: list[RuleError] = []


_CLoader: type[yaml.CSafeLoader] | None = yaml.CSafeLoader if getattr(yaml, "__with_libyaml__", False) else None


if _CLoader is not None:

    class CLineLoader(_CLoader):  # type: ignore[valid-type,misc]
        """`LineLoader` on libyaml's parser."""

        def __init__(self, stream: str, *, file: str) -> None:
            super().__init__(stream)
            self.file = file
            self.mistakes: list[RuleError] = []

    LOADERS: tuple[type[Any], ...] = (CLineLoader, LineLoader)
else:
    LOADERS = (LineLoader,)
"""The loaders `read_located` tries in turn: libyaml's when PyYAML has it, then the pure-Python one."""


def _construct_mapping(loader: LineLoader, node: yaml.MappingNode) -> Located:
    loader.flatten_mapping(node)
    mapping = Located()
    mapping.where = (node.start_mark.line + 1, node.start_mark.column + 1)
    mapping.value_at = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line, column = key_node.start_mark.line + 1, key_node.start_mark.column + 1
        if not isinstance(key, str) or key in mapping:  # the first value of a duplicate key stays
            problem = "keys must be text" if not isinstance(key, str) else f"duplicate key {key!r}"
            loader.mistakes.append(RuleError(problem, file=loader.file, line=line, column=column))
            continue
        mapping[key] = loader.construct_object(value_node, deep=True)
        # A plain scalar's style is None in PyYAML's parser and "" in libyaml's.
        style = (value_node.style or None) if isinstance(value_node, yaml.ScalarNode) else None
        mapping.value_at[key] = (value_node.start_mark.line + 1, value_node.start_mark.column + 1, style)
    return mapping


def _construct_sequence(loader: LineLoader, node: yaml.SequenceNode) -> LocatedList:
    items = LocatedList(loader.construct_object(child, deep=True) for child in node.value)
    items.item_at = [(child.start_mark.line + 1, child.start_mark.column + 1) for child in node.value]
    return items


for _loader in LOADERS:
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


_UNION_BRANCHES = ("str", "EntityMember")
"""How pydantic tags the branches of `members: list[EntityMember | str]` in an error's location."""


def locate_all(exc: ValidationError, data: Located, file: str) -> list[RuleError]:
    """Every validation error, each at the line of the value it is about."""
    return [_locate(error, data, file) for error in exc.errors() if _meant(error)]


def _meant(error: Any) -> bool:
    # pydantic reports a bad union member once per branch; keep the branch the value was written for: a
    # mapping was meant as a member with a name (not a line of spellings), anything else as text.
    branch = next((part for part in error["loc"] if part in _UNION_BRANCHES), None)
    if branch == "str":
        return not isinstance(error["input"], dict)
    return branch is None or error["type"] != "model_type"


def _locate(error: Any, data: Located, file: str) -> RuleError:
    node: Any = data
    line, column = data.where
    path = []
    for part in error["loc"]:
        if part in _UNION_BRANCHES:
            continue  # a tag of pydantic's, not a key of the file
        path.append(str(part))
        if isinstance(node, Located) and isinstance(part, str):
            if part in node.value_at:
                line, column, _ = node.value_at[part]
            node = node.get(part)
        elif isinstance(node, LocatedList) and isinstance(part, int) and part < len(node):
            line, column = node.item_at[part]
            node = node[part]
        else:
            break
    field = ".".join(path)
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = f"unknown key {path[-1]!r}"
    elif error["type"] == "missing":
        message = f"missing required key {path[-1]!r}"
    return RuleError(f"{field}: {message}" if field else message, file=file, line=line, column=column)


def read_located(text: str, *, file: str) -> tuple[Located, list[RuleError]]:
    """The YAML document as `Located` mappings, and the key mistakes found on the way; a `RuleError` when it
    is no YAML at all, or no mapping."""
    data: Any = None
    for number, loader_class in enumerate(LOADERS, start=1):
        loader = loader_class(text, file=file)
        try:
            data = loader.get_single_data()
            break
        except (yaml.YAMLError, UnicodeEncodeError) as exc:
            # libyaml's refusal (or a text it cannot encode) is read again by the pure-Python parser.
            if number < len(LOADERS):
                continue
            if not isinstance(exc, yaml.MarkedYAMLError):
                raise
            mark = exc.problem_mark
            line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
            context = ""
            if exc.context and exc.context_mark:
                context = f" ({exc.context} that starts at line {exc.context_mark.line + 1})"
            raise RuleError(f"invalid YAML: {exc.problem}{context}", file=file, line=line, column=column) from None
        finally:
            loader.dispose()
    if not isinstance(data, Located):
        raise RuleError("expected a mapping with a `rules:` list", file=file, line=1, column=1)
    return data, loader.mistakes
