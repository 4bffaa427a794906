"""`newswatch feeds`: add, list, remove, import and export the feeds to poll."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import click

from newswatch.storage.db import session_scope
from newswatch.storage.entries import entry_counts
from newswatch.storage.feeds import add_feed, find_feed, list_feeds, remove_feed
from newswatch.worker.cli.params import Duration
from newswatch.worker.ingest.opml import OpmlFeed, read_opml, write_opml
from newswatch.worker.runtime import get_runtime, migrated_runtime


def _database_url() -> str:
    return migrated_runtime().settings.database_url


MIN_INTERVAL = 60
"""Seconds: polling a feed more often than this is unkind to its site and rarely finds anything new."""


def _interval(interval: timedelta | None) -> int:
    seconds = interval.total_seconds() if interval else get_runtime().settings.default_interval
    if seconds < MIN_INTERVAL:
        raise click.BadParameter(
            f"{seconds:g}s is too often: poll a feed at most once a minute (e.g. 1m, 15m)", param_hint="--interval"
        )
    return int(seconds)


@click.group()
def feeds() -> None:
    """The feeds newswatch polls."""


@feeds.command("add")
@click.argument("url")
@click.option("--interval", type=Duration(), default=None, help="How often to poll, e.g. 15m (default 15m).")
@click.option("--title", default=None)
def feeds_add(url: str, interval: timedelta | None, title: str | None) -> None:
    """Add a feed URL (RSS, Atom or JSON Feed)."""
    if not url.lower().startswith(("http://", "https://")):
        raise click.BadParameter(f"not an http(s) URL: {url}", param_hint="URL")
    with session_scope(_database_url()) as session:
        feed, new = add_feed(session, url, interval_seconds=_interval(interval), title=title)
        click.echo(f"{'added' if new else 'updated'} feed {feed.id}: {url} every {feed.interval_seconds // 60} min")


@feeds.command("list")
@click.option("--json", "as_json", is_flag=True)
def feeds_list(as_json: bool) -> None:
    """Show every feed with its last poll and error, and its entries still pending or failed."""
    with session_scope(_database_url()) as session:
        rows = list_feeds(session)
        counts = entry_counts(session)
    for feed in rows:
        pending, failed = counts.get((feed.id or 0, "pending"), 0), counts.get((feed.id or 0, "failed"), 0)
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "id": feed.id,
                        "url": feed.url,
                        "title": feed.title,
                        "interval_seconds": feed.interval_seconds,
                        "enabled": feed.enabled,
                        "last_status": feed.last_status,
                        "last_error": feed.last_error,
                        "last_polled_at": feed.last_polled_at.isoformat() if feed.last_polled_at else None,
                        "entries_pending": pending,
                        "entries_failed": failed,
                    }
                )
            )
            continue
        polled = feed.last_polled_at.strftime("%Y-%m-%d %H:%M") if feed.last_polled_at else "never"
        click.echo(
            f"{feed.id:>4}  {feed.url}  every {feed.interval_seconds // 60} min, last poll {polled}"
            + (f", status {feed.last_status}" if feed.last_status else "")
            + (f", {pending} entries pending" if pending else "")
            + (f", {failed} entries failed (newswatch entries retry)" if failed else "")
        )
        if feed.last_error:
            click.echo(f"      last error: {feed.last_error}")
    if not rows and not as_json:
        click.echo("no feeds; add one with `newswatch feeds add URL` or `newswatch feeds import FILE.opml`")


@feeds.command("remove")
@click.argument("url_or_id")
def feeds_remove(url_or_id: str) -> None:
    """Stop polling a feed (its stored articles and hits stay)."""
    with session_scope(_database_url()) as session:
        feed = find_feed(session, url_or_id)
        if feed is None:
            raise click.ClickException(f"no feed {url_or_id!r}; see `newswatch feeds list`")
        remove_feed(session, feed)
    click.echo(f"removed feed {url_or_id}")


@feeds.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--interval", type=Duration(), default=None, help="Poll interval for the imported feeds.")
def feeds_import(path: Path, interval: timedelta | None) -> None:
    """Add every feed of an OPML file (nested categories included)."""
    entries = read_opml(path)
    added = 0
    with session_scope(_database_url()) as session:
        for entry in entries:
            _, new = add_feed(session, entry.url, interval_seconds=_interval(interval), title=entry.title)
            added += new
    click.echo(f"imported {len(entries)} feeds from {path} ({added} new)")


@feeds.command("export")
def feeds_export() -> None:
    """Print the feed list as OPML, for feed readers and other newswatch installs."""
    with session_scope(_database_url()) as session:
        rows = list_feeds(session)
    click.echo(write_opml([OpmlFeed(url=f.url, title=f.title) for f in rows]), nl=False)


COMMANDS = [feeds]
