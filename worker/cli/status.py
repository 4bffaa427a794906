"""`newswatch status`: is it working? Feeds and their polls, the work waiting, the queues and the workers.

From the database: each feed's last poll, last error, next poll and whether it is paused; entries pending
and failed; alerts pending and failed. With a broker (NEWSWATCH_BROKER_URL): each queue's length in Redis
and the workers that answer a ping within `--timeout` seconds (none answering is reported, not an error:
`status` is what you run when something seems wrong).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

ENTRY_STATES = ("pending", "failed", "done")
ALERT_STATES = ("pending", "sending", "sent", "failed")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@click.option(
    "--timeout",
    type=float,
    default=1.0,
    show_default=True,
    help="With a broker: seconds to wait for the workers to answer a ping.",
)
def status(as_json: bool, timeout: float) -> None:
    """What is happening: feeds and their polls, entries and alerts waiting, queue lengths, workers seen."""
    from newswatch.worker.cli.output import echo_json
    from newswatch.worker.runtime import migrated_runtime

    runtime = migrated_runtime()
    report = _database_status(runtime.settings.database_url)
    report["queues"] = report["workers"] = None
    if runtime.settings.broker_url:
        from newswatch.worker.celery_app import queue_lengths

        runtime.check_broker()
        report["queues"] = queue_lengths(runtime.redis)
        answers = runtime.app.control.ping(timeout=timeout)
        report["workers"] = sorted(name for answer in answers for name in answer)
    if as_json:
        echo_json(report)
        return
    _print_report(report)


def _database_status(database_url: str) -> dict[str, Any]:
    """Feeds, entries and alerts as the database has them."""
    from newswatch.storage.db import connection_scope
    from newswatch.storage.overview import alert_counts, entry_counts, feed_rows

    with connection_scope(database_url) as connection:
        feeds = feed_rows(connection)
        by_feed = entry_counts(connection)
        alerts = alert_counts(connection)
    entries = dict.fromkeys(ENTRY_STATES, 0)
    for (_, state), count in by_feed.items():
        entries[state] = entries.get(state, 0) + count
    return {
        "feeds": [
            {
                "id": feed.id,
                "url": feed.url,
                "enabled": feed.enabled,
                "paused": feed.paused_at is not None,
                "last_poll": _when(feed.last_polled_at),
                "next_poll": _when(feed.next_poll_at),
                "last_error": feed.last_error,
                "failures": feed.error_count,
                "pending": by_feed.get((feed.id, "pending"), 0),
                "failed": by_feed.get((feed.id, "failed"), 0),
            }
            for feed in feeds
        ],
        "entries": entries,
        "alerts": {state: alerts.get(state, 0) for state in ALERT_STATES},
    }


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment is not None else None


def _print_report(report: dict[str, Any]) -> None:
    for feed in report["feeds"]:
        state = "paused" if feed["paused"] else "enabled" if feed["enabled"] else "disabled"
        click.echo(
            f"feed {feed['id']:>4}  {state:<8}  last poll {feed['last_poll'] or 'never'}  "
            f"next {feed['next_poll'] or '-'}  {feed['url']}"
            + (f"\n           {feed['failures']} failure(s): {feed['last_error']}" if feed["last_error"] else "")
        )
    if not report["feeds"]:
        click.echo("no feeds (newswatch feeds add URL)")
    for part in ("entries", "alerts"):
        click.echo(f"{part:<8} " + ", ".join(f"{count} {state}" for state, count in report[part].items()))
    if report["queues"] is None:
        click.echo("queues   none: no broker (NEWSWATCH_BROKER_URL), everything runs embedded")
        return
    click.echo("queues   " + ", ".join(f"{queue} {length}" for queue, length in report["queues"].items()))
    workers = report["workers"]
    click.echo(f"workers  {', '.join(workers)}" if workers else "workers  none answered a ping")


COMMANDS = [status]
