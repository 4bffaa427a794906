"""Reading a rules file: YAML to validated rule models, every mistake located as `file:line:column`.

An invalid rule is never dropped with a warning: the whole file is refused, with every mistake in it, so
an analyst never believes a rule is watching when it is not. Beyond the schema, `checks.py` checks each
rule's queries, languages and channels.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from contextlib import suppress
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema, field_validator, model_validator

from newswatch.worker.durations import parse_duration
from newswatch.worker.errors import RuleError, RulesFileError
from newswatch.worker.rules.checks import CheckedRules, check_rules_as_written
from newswatch.worker.rules.located import Located, locate_all, read_located

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
    scope: Literal["article", "sentence"] = Field(
        default="article",
        description="Where a negative weight counts: against the whole article's score (the default), or, with "
        "`sentence`, only against what its own sentence scored, never below zero there.",
    )

    @model_validator(mode="after")
    def _sentence_scope_is_negative(self) -> WeightedTerm:
        if self.scope == "sentence" and self.weight >= 0:
            raise ValueError("`scope: sentence` is for a negative weight (it cancels what its sentence scored)")
        return self


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
        description='Words, "phrases", =as-written, AND, OR, NOT, ( ), NEAR/n, PRE/n, prefix*, title: text: '
        "source:domain lang:code, @entity-list. Checked on load: the query must parse and every @list must be "
        "defined under `entities`. Required unless the rule has weighted `terms`.",
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
    weighted: tuple[tuple[Any, float, bool], ...] = ()  # (query tree, weight, counted only in its own sentence)
    line: int = 1
    example_lines: dict[str, int] = {}
    """Where `examples.match` and `examples.no_match` stand in the file."""


def rules_version(text: str) -> str:
    """The version of a rules text: a digest of its content, as hits record it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def check_rules(text: str, *, file: str, channels: Collection[str] | None = None) -> CheckedRules:
    """Every mistake of a rules document, located; `channels` are the configured channel names (None: rules
    may name any)."""
    version = rules_version(text)
    try:
        data, mistakes = read_located(text, file=file)
    except RuleError as exc:
        return CheckedRules(version, {}, [], [exc])
    entities, models = _valid_parts(data)
    try:
        RulesFile.model_validate(data)
    except ValidationError as exc:
        mistakes += locate_all(exc, data, file)
    raw_entities = data.get("entities")
    checks, rule_mistakes = check_rules_as_written(
        data.get("rules"),
        file=file,
        lists=list(raw_entities) if isinstance(raw_entities, dict) else [],
        channels=channels,
    )
    rules = []
    for index, raw, check in checks:
        model = models[index]
        if model is None or not check.lists <= entities.keys():
            continue  # a list it names has a mistake of its own, reported there
        raw_examples = raw.get("examples")
        rules.append(
            ParsedRule(
                spec=model,
                tree=check.tree,
                weighted=tuple(
                    (tree, term.weight, term.scope == "sentence")
                    for tree, term in zip(check.terms, model.terms, strict=True)
                ),
                line=raw.where[0],
                example_lines=(
                    {kind: at[0] for kind, at in raw_examples.value_at.items()}
                    if isinstance(raw_examples, Located)
                    else {}
                ),
            )
        )
    unique = {str(mistake): mistake for mistake in mistakes + rule_mistakes}.values()
    return CheckedRules(version, entities, rules, sorted(unique, key=lambda m: (m.line or 0, m.column or 0)))


def read_rules(
    text: str, *, file: str, channels: Collection[str] | None = None
) -> tuple[str, dict[str, EntityList], list[ParsedRule]]:
    """Validate a rules document; returns (version, entity lists, rules) or raises `RulesFileError` listing
    every mistake."""
    checked = check_rules(text, file=file, channels=channels)
    if checked.mistakes:
        raise RulesFileError(checked.mistakes)
    return checked.version, checked.entities, checked.rules


def read_rules_text(path: Path) -> str:
    """The text of a rules file; an unreadable one is a `RuleError` naming it."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleError(f"cannot read rules file: {exc.strerror}", file=str(path)) from None
    except UnicodeDecodeError as exc:
        raise RuleError(f"rules file is not UTF-8 text ({exc.reason})", file=str(path)) from None


def _valid_parts(data: Located) -> tuple[dict[str, EntityList], list[RuleModel | None]]:
    """The entity lists and rules that validate on their own (None for a rule that does not), so that the
    rest of a file with a mistake is still checked."""
    entities: dict[str, EntityList] = {}
    raw_entities, raw_rules = data.get("entities"), data.get("rules")
    for name, raw in raw_entities.items() if isinstance(raw_entities, dict) else ():
        with suppress(ValidationError):
            entities[name] = EntityList.model_validate(raw)
    models: list[RuleModel | None] = []
    for raw in raw_rules if isinstance(raw_rules, list) else ():
        try:
            models.append(RuleModel.model_validate(raw))
        except ValidationError:
            models.append(None)
    return entities, models
