"""Reading a rules file: YAML to validated rule models, every mistake located as `file:line:column`.

An invalid rule is never dropped with a warning: the whole file is refused with the first mistake, so an
analyst never believes a rule is watching when it is not.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema, field_validator

from newswatch.worker.durations import parse_duration
from newswatch.worker.errors import RuleError
from newswatch.worker.rules.located import LineLoader, Located, locate
from newswatch.worker.rules.query import Node, QueryError, parse_query

TEXT_FIELDS: tuple[Literal["title", "text"], ...] = ("title", "text")

Severity = Literal["low", "medium", "high", "critical"]

DURATION_PATTERN = r"^\s*(?=[\d.]*[1-9])\d+(\.\d+)?\s*[smhdwSMHDW]?\s*$"
"""What `parse_duration` accepts, as a JSON Schema pattern (no flags there, hence both cases; above zero)."""

_SPELLINGS = 'A name and its spellings separated by |, e.g. "al-Tanf | Tanf". Lower-case entries are ordinary phrases.'
_Spellings = Annotated[str, Field(description=_SPELLINGS)]
_QuietWindow = Annotated[
    timedelta | None,  # as the validator reads it: a duration text, else pydantic's seconds
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": DURATION_PATTERN},
                {"type": "number", "exclusiveMinimum": 0},
                {"type": "null"},
            ]
        }
    ),
]


SurnameUse = Literal["always", "after-full-name", "never"]


class EntityMember(BaseModel):
    """One person or place with the ways news spells it; `name` is how hits report it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, description="How hits report this person or place.")
    aliases: list[str] = Field(
        default_factory=list, description="Other spellings news uses; each matches like the name."
    )
    surname: SurnameUse = Field(
        default="after-full-name",
        description="For a person: when the surname alone is a mention. always: a distinctive surname (spelt as "
        "in the name or an alias, not after a different given name); after-full-name: once the full name has "
        "appeared in the article; never.",
    )


class EntityList(BaseModel):
    """A named list used in queries as `@name`. Persons also match by surname after a full mention."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["person", "place", "organisation", "thing"] = Field(
        default="thing",
        description="person: a later surname-only mention counts once the full name has appeared.",
    )
    members: list[EntityMember | _Spellings] = Field(
        min_length=1, description="Each a `name` with `aliases`, or one line of spellings separated by |."
    )

    def resolved(self) -> list[EntityMember]:
        """Members written as `"A | B | C"` become a name with aliases."""
        result = []
        for member in self.members:
            if isinstance(member, EntityMember):
                result.append(member)
                continue
            names = [part.strip() for part in member.split("|") if part.strip()]
            if names:
                result.append(EntityMember(name=names[0], aliases=names[1:]))
        return result


class SourceFilter(BaseModel):
    """Which sites a rule watches, by domain; a domain also covers its subdomains."""

    model_config = ConfigDict(extra="forbid")

    include: list[str] = Field(default_factory=list, description="Only these domains (and their subdomains).")
    exclude: list[str] = Field(default_factory=list, description="Never these domains (and their subdomains).")


class WeightedTerm(BaseModel):
    """A query whose every mention adds `weight` to the rule's score (negative: subtracts)."""

    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, description="A query in the same language as a rule's `query`.")
    weight: float = Field(description="Added for each mention; negative weights count against the rule.")


class Examples(BaseModel):
    """Texts the rule must and must not match: `newswatch rules check` runs them on every edit."""

    model_config = ConfigDict(extra="forbid")

    match: list[str] = Field(default_factory=list, description="Texts the rule must match.")
    no_match: list[str] = Field(default_factory=list, description="Texts the rule must not match.")


class RuleModel(BaseModel):
    """One watch rule as written in the file."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"anyOf": [{"required": ["query"]}, {"required": ["terms", "threshold"]}]},
    )

    name: str = Field(
        min_length=1, pattern=r"^[\w][\w.-]*$", description="Unique in the file; shown in alerts and hits."
    )
    query: str | None = Field(
        default=None,
        min_length=1,
        description='Words, "phrases", AND, OR, NOT, ( ), NEAR/n, prefix*, title: text: source:domain lang:code, '
        "@entity-list. Checked on load: the query must parse and every @list must be defined under `entities`. "
        "Required unless the rule has weighted `terms`.",
    )
    terms: list[WeightedTerm] = Field(
        default_factory=list,
        description="Weighted queries: the rule holds when their mentions' weights reach `threshold`.",
    )
    threshold: float | None = Field(default=None, description="The score the weighted `terms` must reach.")
    examples: Examples = Field(default_factory=Examples, description="Regression texts for `rules check`.")
    description: str | None = Field(default=None, description="What the rule watches for, for readers of the file.")
    severity: Severity = Field(default="medium", description="How much a hit matters; shown with hits and alerts.")
    alert: list[str] = Field(default_factory=list, description="Channel names; empty: the default channels.")
    fields: list[Literal["title", "text"]] = Field(
        default=list(TEXT_FIELDS),  # pydantic copies a mutable default for each rule
        description="The parts of an article the rule looks in; `title:` and `text:` in the query narrow further.",
    )
    languages: list[str] = Field(
        default_factory=list,
        description="Language codes, e.g. en, ar (any case; en also covers en-GB); empty: every language.",
    )
    sources: SourceFilter = Field(default_factory=SourceFilter, description="Only or never these sites.")
    min_mentions: int = Field(default=1, ge=1, description="A hit needs at least this many mentions in the article.")
    enabled: bool = Field(default=True, description="false: the rule is kept in the file but not matched.")
    realert: _QuietWindow = Field(
        default=None,
        description="Quiet window after an alert: this rule's next alerts on a channel wait until it has passed, "
        "then go out together. A duration above zero, e.g. 90s, 15m, 6h, 7d, 1w; a bare number is seconds.",
    )

    @field_validator("realert", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        # A bare number is seconds, as in the schema; zero, negatives and booleans are refused like "0h".
        if isinstance(value, bool):
            raise ValueError(f"not a duration: {value!r} (use e.g. 90s, 15m, 2h, 7d)")
        return parse_duration(str(value)) if isinstance(value, (str, int, float)) else value

    @field_validator("languages")
    @classmethod
    def _lower(cls, value: list[str]) -> list[str]:
        return [v.lower() for v in value]


class RulesFile(BaseModel):
    """A whole rules file: entity lists and rules."""

    model_config = ConfigDict(extra="forbid")

    entities: dict[str, EntityList] = Field(
        default_factory=dict, description="Named lists of people, places or things, used in queries as @name."
    )
    rules: list[RuleModel] = Field(min_length=1, description="The watch rules; at least one.")


class ParsedRule(BaseModel):
    """A validated rule with its parsed query and weighted terms, and where it stands in its file."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    spec: RuleModel
    tree: Any  # worker.rules.query.Node, or None for a rule of weighted terms only
    weighted: tuple[tuple[Any, float], ...] = ()  # (query tree, weight)
    line: int = 1
    example_lines: dict[str, int] = {}
    """Where `examples.match` and `examples.no_match` stand in the file."""


def read_rules(text: str, *, file: str) -> tuple[str, dict[str, EntityList], list[ParsedRule]]:
    """Validate a rules document; returns (version, entity lists, rules) or raises `RuleError`."""
    version = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    try:
        data = yaml.load(text, Loader=LineLoader)  # noqa: S506 - a SafeLoader subclass
    except RuleError as exc:
        raise RuleError(exc.reason, file=file, line=exc.line, column=exc.column) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        context = ""
        if exc.context and exc.context_mark:
            context = f" ({exc.context} that starts at line {exc.context_mark.line + 1})"
        raise RuleError(f"invalid YAML: {exc.problem}{context}", file=file, line=line, column=column) from None
    if not isinstance(data, Located):
        raise RuleError("expected a mapping with a `rules:` list", file=file, line=1, column=1)
    try:
        parsed = RulesFile.model_validate(data)
    except ValidationError as exc:
        raise locate(exc, data, file) from None
    rules = []
    names: set[str] = set()
    raw_rules = data.get("rules") or []
    for index, rule in enumerate(parsed.rules):
        raw = raw_rules[index]
        if rule.name in names:
            line, column, _ = raw.value_at.get("name", (*raw.where, None))
            raise RuleError(f"duplicate rule name {rule.name!r}", file=file, line=line, column=column)
        names.add(rule.name)
        if rule.query is None and not rule.terms:
            raise RuleError(f"{rule.name}: a rule needs a `query` or weighted `terms`", file=file, line=raw.where[0])
        if rule.terms and rule.threshold is None:
            line, column, _ = raw.value_at.get("terms", (*raw.where, None))
            raise RuleError(f"{rule.name}: weighted `terms` need a `threshold`", file=file, line=line, column=column)
        tree = _parse(rule.query, raw, file) if rule.query is not None else None
        if tree is not None:
            _check_entities(tree, parsed.entities, raw, file)
        weighted = []
        for term, raw_term in zip(rule.terms, raw.get("terms") or [], strict=False):
            term_tree = _parse(term.query, raw_term, file)
            _check_entities(term_tree, parsed.entities, raw_term, file)
            weighted.append((term_tree, term.weight))
        raw_examples = raw.get("examples")
        example_lines = (
            {kind: at[0] for kind, at in raw_examples.value_at.items()} if isinstance(raw_examples, Located) else {}
        )
        rules.append(
            ParsedRule(
                spec=rule,
                tree=tree,
                weighted=tuple(weighted),
                line=raw.where[0],
                example_lines=example_lines,
            )
        )
    return version, parsed.entities, rules


def read_rules_file(path: Path) -> tuple[str, dict[str, EntityList], list[ParsedRule]]:
    """`read_rules` on a file; an unreadable file is a `RuleError` naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleError(f"cannot read rules file: {exc.strerror}", file=str(path)) from None
    except UnicodeDecodeError as exc:
        raise RuleError(f"rules file is not UTF-8 text ({exc.reason})", file=str(path)) from None
    return read_rules(text, file=str(path))


def _parse(query: str, raw: Located, file: str) -> Node:
    try:
        return parse_query(query)
    except QueryError as exc:
        line, column, style = raw.value_at.get("query", (*raw.where, None))
        if style in (None, "") and "\n" not in query:
            column += exc.column  # a plain one-line scalar: the query starts at the value's column
        elif style in ("'", '"') and "\n" not in query:
            column += exc.column + 1
        raise RuleError(f"query: {exc.message}", file=file, line=line, column=column) from None


def _check_entities(tree: Node, entities: dict[str, EntityList], raw: Located, file: str) -> None:
    from newswatch.worker.rules.query import And, Entity, Near, Not, Or

    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, Entity) and node.name not in entities:
            line, column, _ = raw.value_at.get("query", (*raw.where, None))
            known = ", ".join(f"@{name}" for name in entities) or "none defined"
            raise RuleError(
                f"query: unknown entity list @{node.name} (known: {known})", file=file, line=line, column=column
            )
        if isinstance(node, (And, Or)):
            stack.extend(node.items)
        elif isinstance(node, Not):
            stack.append(node.item)
        elif isinstance(node, Near):
            stack += [node.left, node.right]
