"""`newswatch hits` (filter, page, export), `hits show ID` and `newswatch stats`: the stored hits, read through
the one query every front end shares (storage.hit_queries).

A page ends with a line on stderr saying how many more hits there are and the `--cursor` that shows them.
`--limit 0` means every hit, streamed in batches in constant memory (for `--csv`, `--jsonl` and `--json`
exports); there is then no page to continue from.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import click

from newswatch.storage.errors import NewswatchError, UnknownRuleError
from newswatch.worker.cli.params import TimeBound

if TYPE_CHECKING:
    from newswatch.storage.hit_queries import HitRow  # storage loads SQLAlchemy: not for `newswatch --help`

DEFAULT_LIMIT = 50
MORE_COUNTED = 10_000
"""Counting how many more hits there are stops here ("at least 10,000 more"): an exact count can cost seconds."""


@click.group(invoke_without_command=True)
@click.option("--rule", default=None, help="Only this rule's hits (any case).")
@click.option("--since", type=TimeBound(), default=None, help="Dated at or after: 7d (back from now) or a date.")
@click.option("--until", type=TimeBound(end_of_day=True), default=None, help="Dated before: 1d or a date (inclusive).")
@click.option("--source", default=None, help="The article's domain (and subdomains), site name, or feed id/URL/title.")
@click.option("--severity", multiple=True, help="Only these severities (repeat, or separate with commas).")
@click.option("--search", default=None, help='Full text over titles and texts: words and "phrases", all of them.')
@click.option("--limit", type=click.IntRange(min=0), default=DEFAULT_LIMIT, show_default=True, help="0: every hit.")
@click.option("--cursor", default=None, help="Continue after the page that printed this cursor.")
@click.option(
    "--json", "fmt", flag_value="json", help='One JSON document: {"hits": [...], "more" (up to 10,000), "next_cursor"}.'
)
@click.option("--jsonl", "fmt", flag_value="jsonl", help="One JSON object per hit, one per line.")
@click.option("--csv", "fmt", flag_value="csv", help="CSV with a header line.")
@click.pass_context
def hits(
    ctx: click.Context,
    rule: str | None,
    since: datetime | None,
    until: datetime | None,
    source: str | None,
    severity: tuple[str, ...],
    search: str | None,
    limit: int,
    cursor: str | None,
    fmt: str | None,
) -> None:
    """Show stored hits, newest first (dated by the article's publish date, else when it was stored)."""
    if ctx.invoked_subcommand is not None:
        return
    from newswatch.storage.db import session_scope
    from newswatch.storage.hit_queries import HitFilters, count_hits, find_hits, iter_hits, known_rules
    from newswatch.storage.search import parse_search
    from newswatch.worker.cli import hit_output

    severities = tuple(s.strip() for value in severity for s in value.split(",") if s.strip())
    filters = HitFilters(rule=rule, since=since, until=until, source=source, severity=severities, search=search)
    url = _database_url()
    more, next_cursor = 0, None
    try:
        query = parse_search(search) if search else None
        if limit == 0:
            rows: Iterable[HitRow] = _started(iter_hits(url, filters, cursor=cursor))
        else:
            with session_scope(url) as session:
                page = find_hits(session, filters, limit=limit, cursor=cursor)
                more = (
                    count_hits(session, filters, cursor=page.next_cursor, at_most=MORE_COUNTED) if page.has_more else 0
                )
            rows, next_cursor = page.rows, page.next_cursor
    except UnknownRuleError as exc:
        _unknown_rule(exc)
        return
    if fmt == "json":
        shown = hit_output.write_json(rows, sys.stdout, more=more, next_cursor=next_cursor)
    elif fmt == "jsonl":
        shown = hit_output.write_jsonl(rows, sys.stdout)
    elif fmt == "csv":
        shown = hit_output.write_csv(rows, sys.stdout)
    else:
        shown = hit_output.print_table(rows, query)
    if next_cursor is not None:
        counted = f"{more}" if more < MORE_COUNTED else f"at least {MORE_COUNTED:,}"
        click.echo(f"{shown} shown, {counted} more: add --cursor {next_cursor} for the next page", err=True)
    elif not shown:
        with session_scope(url) as session:
            stored = bool(known_rules(session))
        click.echo("no hits match these filters" if stored else "no hits stored", err=True)


@hits.command("show", short_help="One hit in full, each match in its sentence.")
@click.argument("hit_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="The hit as one JSON object, evidence included.")
def show(hit_id: int, as_json: bool) -> None:
    """One hit: title, source, dates, link, rule and version, and each match in its sentence."""
    from newswatch.storage.db import session_scope
    from newswatch.storage.hit_queries import get_hit
    from newswatch.worker.cli.hit_output import hit_json, print_hit_detail
    from newswatch.worker.cli.output import echo_json

    with session_scope(_database_url()) as session:
        row = get_hit(session, hit_id)
    if as_json:
        echo_json(hit_json(row))
    else:
        print_hit_detail(row)


@click.command()
@click.option("--since", type=TimeBound(), default="30d", show_default=True, help="From: 30d or a date.")
@click.option("--until", type=TimeBound(end_of_day=True), default=None, help="Up to: a date (inclusive).")
@click.option("--rule", default=None, help="Only this rule (any case).")
@click.option("--json", "as_json", is_flag=True, help='{"rules": {rule: {day: hits}}} for scripts.')
def stats(since: datetime, until: datetime | None, rule: str | None, as_json: bool) -> None:
    """Hits per rule per day, as a small chart."""
    from newswatch.storage.db import session_scope
    from newswatch.storage.hit_queries import HitFilters, hits_per_day
    from newswatch.worker.cli.hit_output import print_stats, stats_json
    from newswatch.worker.cli.output import echo_json

    try:
        with session_scope(_database_url()) as session:
            counts = hits_per_day(session, HitFilters(rule=rule, since=since, until=until))
    except UnknownRuleError as exc:
        _unknown_rule(exc)
        return
    if as_json:
        echo_json(stats_json(counts))
    else:
        last = (until - timedelta(microseconds=1)) if until else datetime.now(UTC)
        print_stats(counts, since.date(), last.date())


def _database_url() -> str:
    from newswatch.worker.runtime import migrated_runtime

    return migrated_runtime().settings.database_url


def _started(rows: Iterator[HitRow]) -> Iterator[HitRow]:
    """The rows, with the first one read now: a query error surfaces before anything is printed."""
    first = next(rows, None)
    if first is None:
        return iter(())
    return _chain(first, rows)


def _chain(first: HitRow, rest: Iterator[HitRow]) -> Iterator[HitRow]:
    yield first
    yield from rest


def _unknown_rule(exc: UnknownRuleError) -> None:
    """A rule of the rules file without hits yet is no mistake; any other name is, and the known ones are listed."""
    from newswatch.worker.runtime import get_runtime

    try:
        configured = [spec.name for spec in get_runtime().rules().rules]
    except NewswatchError:  # a broken rules file does not stop a query of what is stored
        configured = []
    if any(name.casefold() == exc.rule.strip().casefold() for name in configured):
        click.echo(f"no hits stored for rule {exc.rule!r} yet", err=True)
        return
    known = ", ".join(sorted(set(exc.known) | set(configured))) or "none"
    click.echo(f"error: hits: unknown rule {exc.rule!r}; known rules: {known}", err=True)
    sys.exit(1)


COMMANDS = [hits, stats]
