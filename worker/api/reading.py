"""What the API routes and the web page both read: a page of hits as `newswatch hits` reads it, the configured
rules, and the state the app keeps (settings, the rules file's cache).

A rule filter naming a rule of the rules file that has no hits yet is no mistake (an empty page), as on the
command line; any other unknown name is a 422 listing the known ones, stored and configured.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import Request

from newswatch.storage.db import session_scope
from newswatch.storage.errors import QueryError, UnknownRuleError
from newswatch.storage.hit_queries import (
    DayCount,
    HitFilters,
    HitPage,
    count_hits,
    find_hits,
    hits_per_day,
    known_rules,
)
from newswatch.worker.api.access import Access
from newswatch.worker.api.params import invalid
from newswatch.worker.cli.hits import MORE_COUNTED
from newswatch.worker.config import Settings
from newswatch.worker.errors import RuleError
from newswatch.worker.rules import RuleCache, RuleSet

LOGGER = logging.getLogger(__name__)


@dataclass
class AppState:
    """What one app keeps between requests."""

    settings: Settings
    access: Access
    rule_cache: RuleCache

    @property
    def database_url(self) -> str:
        return self.settings.database_url

    def rules(self) -> RuleSet:
        """The rules file as it is now; after an edit with mistakes, the last good version (as the workers do)."""
        try:
            return self.rule_cache.get()
        except RuleError as exc:
            if self.rule_cache.current is None:
                raise
            LOGGER.error("%s; showing rule set %s", exc, self.rule_cache.current.version)
            return self.rule_cache.current

    def rule_names(self) -> list[str]:
        """The rules of the rules file; none when it cannot be read (a query of what is stored goes on)."""
        try:
            return [rule.name for rule in self.rules().rules]
        except RuleError:
            return []


def app_state(request: Request) -> AppState:
    """The state of the app serving `request` (a FastAPI dependency)."""
    state: AppState = request.app.state.newswatch
    return state


def read_hits(state: AppState, filters: HitFilters, *, limit: int, cursor: str | None) -> tuple[HitPage, int]:
    """One page of hits and how many more there are (counted up to `MORE_COUNTED`), as `newswatch hits` reads
    them; a mistake in the filters or the cursor is a 422 naming the parameter."""
    try:
        with session_scope(state.database_url) as session:
            page = find_hits(session, filters, limit=limit, cursor=cursor)
            more = count_hits(session, filters, cursor=page.next_cursor, at_most=MORE_COUNTED) if page.has_more else 0
    except UnknownRuleError as exc:
        refuse_unknown_rule(state, exc)
        return HitPage([], None), 0
    except QueryError as exc:
        raise invalid("cursor", str(exc), cursor) from None
    return page, more


def read_stats(state: AppState, filters: HitFilters) -> list[DayCount]:
    """Hits per rule per day, as `newswatch stats` reads them; an unknown rule as in `read_hits`."""
    try:
        with session_scope(state.database_url) as session:
            return hits_per_day(session, filters)
    except UnknownRuleError as exc:
        refuse_unknown_rule(state, exc)
        return []


def refuse_unknown_rule(state: AppState, exc: UnknownRuleError) -> None:
    """Nothing for a rule of the rules file without hits yet; a 422 listing the known rules for any other."""
    configured = state.rule_names()
    if any(name.casefold() == exc.rule.strip().casefold() for name in configured):
        return
    known = ", ".join(sorted(set(exc.known) | set(configured))) or "none"
    raise invalid("rule", f"unknown rule {exc.rule!r}; known rules: {known}", exc.rule) from None


def rule_choices(state: AppState) -> list[str]:
    """Every rule name a filter may take: the rules file's and those with stored hits."""
    with session_scope(state.database_url) as session:
        stored = known_rules(session)
    return sorted(set(stored) | set(state.rule_names()))


def next_link(request: Request, cursor: str | None) -> str | None:
    """The path and query of the page after `request`'s: the same parameters with `cursor`; None without one."""
    if cursor is None:
        return None
    kept = [(key, value) for key, value in request.query_params.multi_items() if key != "cursor"]
    return f"{request.url.path}?{urlencode([*kept, ('cursor', cursor)])}"
