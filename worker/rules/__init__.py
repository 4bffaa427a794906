"""Watch rules: the file format, the query language, and matching with evidence.

A rules file (YAML, schema in `schema.json`) has optional `entities:` (named lists of people or places
with their spellings, used in queries as `@name`) and `rules:`, each with a `name` and a `query` in the
language of `query.py` (words, "phrases", AND, OR, NOT, parentheses, NEAR/n, PRE/n, prefix*, title:, text:,
source:, lang:). Matching semantics are stated in `engine.py`. A rule set is compiled once per version
(content hash of the file) and kept on disk for the next start (`compiled_cache`); `RuleCache` re-reads an
edited file without a restart.
"""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from newswatch.worker.article import Article
from newswatch.worker.errors import RuleError
from newswatch.worker.rules import compiled_cache
from newswatch.worker.rules.engine import (
    ArticleContext,
    CompiledRules,
    evaluate,
    hits,
    partial_matches,
    to_hit,
)
from newswatch.worker.rules.evidence import Match, RuleHit, Snippet
from newswatch.worker.rules.loader import (
    EntityList,
    ParsedRule,
    RuleModel,
    read_rules,
    read_rules_text,
    rules_version,
)

__all__ = [
    "Explanation",
    "Match",
    "RuleCache",
    "RuleError",
    "RuleHit",
    "RuleSet",
    "Snippet",
    "load_rules",
    "parse_rules",
]

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class Explanation:
    """Why a rule did or did not match an article: its hit, or the first clause that failed."""

    rule: str
    hit: RuleHit | None
    failed: str | None
    partial: tuple[str, ...] = ()
    """For a rule that did not match: which of its terms occurred (the nearest it came)."""


class RuleSet:
    """A compiled, versioned set of rules."""

    def __init__(self, version: str, entities: dict[str, EntityList], rules: list[ParsedRule], source: str) -> None:
        self.version = version
        self.source = source
        self.entities = entities
        self.rules: tuple[RuleModel, ...] = tuple(rule.spec for rule in rules)
        self.parsed: tuple[ParsedRule, ...] = tuple(rules)
        self._enabled = [rule for rule in rules if rule.spec.enabled]
        self._compiled = CompiledRules(self._enabled, entities)
        self._by_name = {rule.name: rule for rule in self.rules}

    def rule(self, name: str) -> RuleModel | None:
        """A rule's settings by name."""
        return self._by_name.get(name)

    def match(self, article: Article) -> list[RuleHit]:
        """The hits of every enabled rule on `article`; only rules whose terms occur are evaluated."""
        return hits(ArticleContext(self._compiled, article), self.version)

    def explain(self, article: Article) -> list[Explanation]:
        """Every enabled rule's outcome on `article`, matched or not, for `newswatch rules test`."""
        context = ArticleContext(self._compiled, article)
        result = []
        for plan in self._compiled.plans:
            outcome = evaluate(context, plan)
            if outcome.matches is not None:
                result.append(Explanation(plan.name, to_hit(context, outcome, self.version), None))
                continue
            partial = tuple(partial_matches(context, plan))
            result.append(Explanation(plan.name, None, outcome.failed, partial))
        return result


def parse_rules(text: str, *, file: str) -> RuleSet:
    """A rule set from the text of a rules file named `file` (for error messages)."""
    with _collector_paused():
        version, entities, rules = read_rules(text, file=file)
        return RuleSet(version, entities, rules, file)


def load_rules(path: Path, *, channels: Collection[str] | None = None) -> RuleSet:
    """A rule set from a rules file; raises `RuleError` naming file, line and column of every mistake.
    `channels`: the configured channel names, which rules' `alert` lists must name (None: not checked). The
    compiled set of a text compiled before (with the same channels and code) is read from the cache folder
    (see `compiled_cache`)."""
    return _rule_set(read_rules_text(path), path, channels)


def _rule_set(text: str, path: Path, channels: Collection[str] | None) -> RuleSet:
    """The rule set of a rules file's text: the one kept for it, else compiled (and kept)."""
    name = compiled_cache.key(text, channels)
    with _collector_paused():
        kept = compiled_cache.load(name)
        if isinstance(kept, RuleSet):
            kept.source = str(path)
            return kept
        version, entities, rules = read_rules(text, file=str(path), channels=channels)
        rule_set = RuleSet(version, entities, rules, str(path))
    compiled_cache.store(name, rule_set)
    return rule_set


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while a rule set is compiled or read back: that makes a few hundred
    thousand objects and frees none of them, and each full collection on the way walks all of them again (a
    third of the compile time). Reference counting frees what it can meanwhile. The collector is left as it
    was found. The first rule set of a process (its start) is then frozen (`gc.freeze`): the collector never
    walks those objects again, neither in the pass over the youngest objects that is due now nor in a worker's
    later full collections (and a worker's children, forked after it, share their pages instead of copying
    them as the collector touches them). A later rule set (an edited file) gets that pass instead: freezing at
    every edit would keep for good whatever cyclic garbage the process had not collected yet."""
    global _started
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
            if _started:
                gc.collect(0)
            else:
                gc.freeze()
            _started = True


_started = False
"""Whether this process has compiled or read back a rule set (see `_collector_paused`)."""


class RuleCache:
    """The current rule set of a file, re-read when the file changes (no worker restart needed)."""

    def __init__(self, path: Path, *, channels: Collection[str] | None = None) -> None:
        self.path = path
        self.channels = channels
        self.current: RuleSet | None = None
        self._stamp: tuple[int, int] | None = None

    def get(self) -> RuleSet:
        """The rule set for the file as it is now; an invalid edit raises `RuleError` (`current` is kept)."""
        try:
            stat = os.stat(self.path)
        except OSError as exc:
            raise RuleError(f"cannot read rules file: {exc.strerror}", file=str(self.path)) from None
        stamp = (stat.st_mtime_ns, stat.st_size)
        if self.current is not None and stamp == self._stamp:
            return self.current
        text = read_rules_text(self.path)
        if self.current is None or rules_version(text) != self.current.version:  # touched, not edited: kept
            rule_set = _rule_set(text, self.path, self.channels)
            if self.current is not None:
                LOGGER.info("rules: %s changed, now version %s", self.path, rule_set.version)
            self.current = rule_set
        self._stamp = stamp
        return self.current
