"""What a rule must satisfy beyond the schema, each mistake located as `file:line:column`.

Checked on the rule as written (its YAML values), so that a rule with a schema mistake still has its
queries checked and one run reports every mistake in the file:
- it has a `query` or weighted `terms`, and `terms` come with a `threshold`;
- every query parses, and every `@list` it names is defined under `entities`;
- every query can match: a hit needs a mention, and NOT, `source:` and `lang:` find none (see `finds_mentions`),
  so `NOT x` alone, or an AND of negations, would never match an article (a rule with weighted `terms` takes
  its mentions from them, and its `query` may be such a filter);
- its `languages` are ISO 639-1 codes (as `lang:` in a query is, by the parser);
- its `alert` channels exist, when the configured channel names are given.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from newswatch.worker.errors import RuleError
from newswatch.worker.rules import term_cache
from newswatch.worker.rules.languages import is_language_code, unknown_language
from newswatch.worker.rules.located import Located, LocatedList
from newswatch.worker.rules.query import (
    And,
    Entity,
    Near,
    Node,
    Not,
    Or,
    QueryError,
    Words,
    parse_query,
    tree_data,
    tree_from_data,
)

if TYPE_CHECKING:
    from newswatch.worker.rules.loader import EntityList, ParsedRule


@dataclass(frozen=True)
class CheckedRules:
    """A rules file checked: its version, its valid entity lists and rules, and every mistake in it."""

    version: str
    entities: dict[str, EntityList]
    rules: list[ParsedRule]
    """The rules without a mistake (all of them when there is none), for `rules check` to run their examples."""
    mistakes: list[RuleError]
    """In file order."""


@dataclass
class RuleCheck:
    """One rule's parsed queries, the entity lists they name, and its mistakes."""

    tree: Node | None = None
    terms: list[Node | None] = field(default_factory=list)
    """Each weighted term's query, parsed (None where it has a mistake)."""
    lists: set[str] = field(default_factory=set)
    mistakes: list[RuleError] = field(default_factory=list)


def check_rule(raw: Located, *, file: str, lists: Collection[str], channels: Collection[str] | None) -> RuleCheck:
    """Check one rule as written; `lists` are the entity lists the file defines, `channels` the configured
    channel names (None: not checked)."""
    check = RuleCheck()
    name = raw.get("name")
    label = f"{name}: " if isinstance(name, str) else ""
    query, terms = raw.get("query"), raw.get("terms")
    if query is None and not terms:
        check.mistakes.append(
            RuleError(f"{label}a rule needs a `query` or weighted `terms`", file=file, line=raw.where[0])
        )
    if terms and raw.get("threshold") is None:
        line, column = _value_at(raw, "terms")
        check.mistakes.append(
            RuleError(f"{label}weighted `terms` need a `threshold`", file=file, line=line, column=column)
        )
    if isinstance(query, str) and query:
        check.tree = _query(check, raw, file=file, lists=lists, needs_mentions=not terms)
    for term in terms if isinstance(terms, list) else ():
        has_query = isinstance(term, Located) and isinstance(term.get("query"), str) and term["query"]
        check.terms.append(_query(check, term, file=file, lists=lists, needs_mentions=True) if has_query else None)
    for code, (line, column) in _texts(raw, "languages"):
        if not is_language_code(code):
            check.mistakes.append(
                RuleError(f"languages: {unknown_language(code)}", file=file, line=line, column=column)
            )
    for channel, (line, column) in _texts(raw, "alert"):
        if channels is not None and channel not in channels:
            known = ", ".join(sorted(channels)) or "none"
            check.mistakes.append(
                RuleError(
                    f"alert: no channel named {channel!r} (configured: {known})", file=file, line=line, column=column
                )
            )
    return check


def check_rules_as_written(
    raw_rules: Any, *, file: str, lists: Collection[str], channels: Collection[str] | None
) -> tuple[list[tuple[int, Located, RuleCheck]], list[RuleError]]:
    """Check every rule of a file, and that their names are unique: (index, values, check) of each rule
    without a mistake, and the mistakes."""
    clean, mistakes, names = [], [], set()
    for index, raw in enumerate(raw_rules if isinstance(raw_rules, list) else []):
        if not isinstance(raw, Located):
            continue  # the schema reports it
        check = check_rule(raw, file=file, lists=lists, channels=channels)
        mistakes += check.mistakes
        name = raw.get("name")
        if isinstance(name, str) and name in names:
            line, column = _value_at(raw, "name")
            mistakes.append(RuleError(f"duplicate rule name {name!r}", file=file, line=line, column=column))
        elif not check.mistakes:
            clean.append((index, raw, check))
        names.add(name)
    return clean, mistakes


def finds_mentions(node: Node) -> bool:
    """Whether a clause, when it holds, can yield a mention (as `engine.py` evaluates it): words, phrases and
    lists do; NOT, `source:` and `lang:` hold without one; an AND needs one part that does, a NEAR both sides."""
    if isinstance(node, (Words, Entity)):
        return True
    if isinstance(node, Near):
        return finds_mentions(node.left) and finds_mentions(node.right)
    if isinstance(node, And):
        return _can_hold(node) and any(finds_mentions(item) for item in node.items)
    if isinstance(node, Or):
        return any(finds_mentions(item) for item in node.items)
    return False


def _can_hold(node: Node) -> bool:
    if isinstance(node, Near):
        return finds_mentions(node)
    if isinstance(node, And):
        return all(_can_hold(item) for item in node.items)
    if isinstance(node, Or):
        return any(_can_hold(item) for item in node.items)
    return True


def _query(check: RuleCheck, raw: Located, *, file: str, lists: Collection[str], needs_mentions: bool) -> Node | None:
    """Parse the `query` of `raw` (a rule or a weighted term), recording its mistakes on `check`."""
    query: str = raw["query"]
    try:
        tree = _parsed(query)
    except QueryError as exc:
        line, column = _query_at(raw, query, exc.column)
        check.mistakes.append(RuleError(f"query: {exc.message}", file=file, line=line, column=column))
        return None
    named = _entity_names(tree)
    check.lists |= named
    for name in sorted(named - set(lists)):
        found = re.search(rf"@{re.escape(name)}(?![\w-])", query)
        line, column = _query_at(raw, query, found.start() if found else 0)
        known = ", ".join(f"@{n}" for n in lists) or "none defined"
        check.mistakes.append(
            RuleError(f"query: unknown entity list @{name} (known: {known})", file=file, line=line, column=column)
        )
    if needs_mentions and not finds_mentions(tree):
        line, column = _query_at(raw, query, 0)
        check.mistakes.append(
            RuleError(
                "query: can never match: a hit needs a word, phrase or @list found outside NOT, source: and lang: "
                "(and on both sides of a NEAR)",
                file=file,
                line=line,
                column=column,
            )
        )
    return tree


def _parsed(query: str) -> Node:
    """The tree of a rules file's query, remembered across starts (`term_cache`): an edited rules file has
    most of its queries as they were, and reading a tree back takes a third of parsing it again."""
    return tree_from_data(term_cache.recall("query", query, lambda text: tree_data(parse_query(text))))


def _entity_names(tree: Node) -> set[str]:
    names, stack = set(), [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, Entity):
            names.add(node.name)
        elif isinstance(node, (And, Or)):
            stack.extend(node.items)
        elif isinstance(node, Not):
            stack.append(node.item)
        elif isinstance(node, Near):
            stack += [node.left, node.right]
    return names


def _query_at(raw: Located, query: str, offset: int) -> tuple[int, int]:
    """File line and column of character `offset` of a query; the value's start for a multi-line one."""
    line, column, style = raw.value_at.get("query", (*raw.where, None))
    if "\n" not in query:
        if style in (None, ""):
            column += offset  # a plain scalar: the query starts at the value's column
        elif style in ("'", '"'):
            column += offset + 1
    return line, column


def _value_at(raw: Located, key: str) -> tuple[int, int]:
    line, column, _ = raw.value_at.get(key, (*raw.where, None))
    return line, column


def _texts(raw: Located, key: str) -> list[tuple[str, tuple[int, int]]]:
    """The text items of a list value, each with its line and column."""
    items = raw.get(key)
    if not isinstance(items, LocatedList):
        return []
    return [(item, at) for item, at in zip(items, items.item_at, strict=True) if isinstance(item, str)]
