"""YAML with positions: every mapping remembers the line and column of itself and of each value, so that a
mistake in a rules file is reported as `file:line:column`."""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import ValidationError

from newswatch.worker.errors import RuleError


class Located(dict[str, Any]):
    """A YAML mapping that remembers where it and each of its values stand (1-based line, column)."""

    where: tuple[int, int] = (1, 1)
    value_at: dict[str, tuple[int, int, str | None]]


class LineLoader(yaml.SafeLoader):
    """SafeLoader whose mappings are `Located`."""


def _construct_mapping(loader: LineLoader, node: yaml.MappingNode) -> Located:
    loader.flatten_mapping(node)
    mapping = Located()
    mapping.where = (node.start_mark.line + 1, node.start_mark.column + 1)
    mapping.value_at = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            raise RuleError(
                "keys must be text", file="", line=key_node.start_mark.line + 1, column=key_node.start_mark.column + 1
            )
        if key in mapping:
            raise RuleError(
                f"duplicate key {key!r}",
                file="",
                line=key_node.start_mark.line + 1,
                column=key_node.start_mark.column + 1,
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
        style = value_node.style if isinstance(value_node, yaml.ScalarNode) else None
        mapping.value_at[key] = (value_node.start_mark.line + 1, value_node.start_mark.column + 1, style)
    return mapping


LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def locate(exc: ValidationError, data: Located, file: str) -> RuleError:
    """The first validation error, at the line of the value it is about."""
    error = exc.errors()[0]
    node: Any = data
    line, column = data.where
    path = []
    for part in error["loc"]:
        path.append(str(part))
        if isinstance(node, Located) and isinstance(part, str):
            if part in node.value_at:
                line, column, _ = node.value_at[part]
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            if isinstance(node, Located):
                line, column = node.where
        else:
            break
    field = ".".join(p for p in path if not p.startswith(("str", "EntityMember")))
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = f"unknown key {path[-1]!r}"
    elif error["type"] == "missing":
        message = f"missing required key {path[-1]!r}"
    return RuleError(f"{field}: {message}" if field else message, file=file, line=line, column=column)
