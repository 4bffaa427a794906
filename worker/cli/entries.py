"""`newswatch entries`: the work between a poll and a stored article, and what waits (`newswatch status` counts it)."""

from __future__ import annotations

import sys

import click


@click.group()
def entries() -> None:
    """Feed entries not stored yet: pending (the sweep hands them on) or failed (too many attempts)."""


@entries.command("list")
@click.option("--status", type=click.Choice(["pending", "failed", "done"]), default="failed", show_default=True)
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def entries_list(status: str, limit: int, as_json: bool) -> None:
    """Show entry rows of one state with their attempts and last error."""
    from sqlmodel import col, select

    from newswatch.storage.db import session_scope
    from newswatch.storage.models import Entry
    from newswatch.worker.cli.output import echo_json
    from newswatch.worker.runtime import migrated_runtime

    with session_scope(migrated_runtime().settings.database_url) as session:
        query = select(Entry).where(Entry.status == status).order_by(col(Entry.id).desc()).limit(limit)
        rows = list(session.exec(query))
    for row in rows:
        link = row.data.get("url") or row.data.get("title") or row.entry_key
        if as_json:
            echo_json(
                {
                    "id": row.id,
                    "feed_id": row.feed_id,
                    "status": row.status,
                    "attempts": row.attempts,
                    "last_error": row.last_error,
                    "link": link,
                }
            )
        else:
            click.echo(
                f"{row.id:>6}  {row.status:<8} {row.attempts} attempt(s)  {link}"
                + (f"\n        {row.last_error}" if row.last_error else "")
            )
    if not rows and not as_json:
        click.echo(f"no {status} entries")


@entries.command("retry")
@click.argument("entry_ids", nargs=-1, type=int)
@click.option(
    "--timeout",
    type=float,
    default=600.0,
    show_default=True,
    help="With a broker: how long to wait for the workers, in seconds.",
)
def entries_retry(entry_ids: tuple[int, ...], timeout: float) -> None:
    """Put failed entries (all, or the ids given) back and ingest them now (on the workers with a broker)."""
    from newswatch.storage.db import session_scope
    from newswatch.storage.entries import requeue_failed_entries
    from newswatch.worker.cli.output import print_round
    from newswatch.worker.runtime import migrated_runtime

    runtime = migrated_runtime()
    runtime.channels  # noqa: B018 - a misconfigured channel stops here, before anything is requeued
    runtime.check_broker()
    with session_scope(runtime.settings.database_url) as session:
        ids = requeue_failed_entries(session, entry_ids or None)
    missing = sorted(set(entry_ids) - set(ids))
    if missing:
        click.echo(f"not failed (or no such entry): {', '.join(map(str, missing))}", err=True)
    click.echo(f"requeued {len(ids)} entries")
    if runtime.settings.broker_url:
        from newswatch.worker.distributed import ingest_on_workers

        report = ingest_on_workers(runtime, ids, timeout=timeout)
    else:
        from newswatch.worker.embedded import ingest_entries

        report = ingest_entries(runtime, ids)
    print_round(report)
    sys.exit(1 if report.errors or report.pending or missing else 0)


COMMANDS = [entries]
