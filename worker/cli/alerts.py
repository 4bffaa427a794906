"""`newswatch alerts`: see the outbox, retry failed alerts, send due ones, and test a channel."""

from __future__ import annotations

import sys

import click


@click.group()
def alerts() -> None:
    """Alert channels and the outbox."""


@alerts.command("list")
@click.option("--status", type=click.Choice(["pending", "sending", "sent", "failed", "unknown"]), default=None)
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def alerts_list(status: str | None, limit: int, as_json: bool) -> None:
    """Show outbox rows, newest first, with attempts and the last error."""
    from newswatch.alerts.outbox import list_alerts
    from newswatch.storage.db import session_scope
    from newswatch.worker.cli.output import echo_json
    from newswatch.worker.runtime import migrated_runtime

    runtime = migrated_runtime()
    with session_scope(runtime.settings.database_url) as session:
        rows = list_alerts(session, status=status, limit=limit)
    for row in rows:
        data = {
            "id": row.id,
            "rule": row.rule,
            "channel": row.channel,
            "status": row.status,
            "attempts": row.attempts,
            "last_error": row.last_error,
            "story": row.story_key,
            "next_attempt_at": row.next_attempt_at.isoformat() if row.next_attempt_at else None,
            "sent_at": row.sent_at.isoformat() if row.sent_at else None,
        }
        if as_json:
            echo_json(data)
        else:
            click.echo(
                f"{row.id:>5}  {row.status:<8} {row.channel:<12} [{row.rule}] story {row.story_key}, "
                f"{row.attempts} attempt(s)" + (f": {row.last_error}" if row.last_error else "")
            )
    if not rows and not as_json:
        click.echo("no alerts" + (f" with status {status}" if status else ""))


@alerts.command("retry")
@click.argument("alert_ids", nargs=-1, type=int)
def alerts_retry(alert_ids: tuple[int, ...]) -> None:
    """Put failed and unknown-outcome alerts (all, or the ids given) back and send them now."""
    from newswatch.alerts.outbox import requeue_failed
    from newswatch.storage.db import session_scope
    from newswatch.worker.alerting import deliver_due
    from newswatch.worker.cli.output import print_deliveries
    from newswatch.worker.runtime import migrated_runtime

    runtime = migrated_runtime()
    runtime.channels  # noqa: B018 - a misconfigured channel stops here, before anything is requeued
    runtime.check_broker()
    with session_scope(runtime.settings.database_url) as session:
        ids = requeue_failed(session, alert_ids or None)
    missing = sorted(set(alert_ids) - set(ids))
    if missing:
        click.echo(f"not failed (or no such alert): {', '.join(map(str, missing))}", err=True)
    click.echo(f"requeued {len(ids)} alert(s)")
    deliveries = deliver_due(runtime)
    print_deliveries(deliveries)
    sys.exit(1 if missing or any(d.outcome == "failed" for d in deliveries) else 0)


@alerts.command("send")
def alerts_send() -> None:
    """Deliver every alert that is due now (the embedded runner and the workers do this on their own)."""
    from newswatch.worker.alerting import deliver_due
    from newswatch.worker.cli.output import print_deliveries
    from newswatch.worker.runtime import migrated_runtime

    runtime = migrated_runtime()
    runtime.check_broker()
    deliveries = deliver_due(runtime)
    print_deliveries(deliveries)
    if not deliveries:
        click.echo("no alerts due")
    sys.exit(1 if any(d.outcome == "failed" for d in deliveries) else 0)


@alerts.command("test")
@click.argument("channel")
def alerts_test(channel: str) -> None:
    """Send a sample alert through CHANNEL to check its configuration."""
    from newswatch.alerts.errors import AlertError
    from newswatch.alerts.message import AlertMessage, Excerpt
    from newswatch.storage.models import utcnow
    from newswatch.worker.runtime import get_runtime

    channels = get_runtime().channels
    if channel not in channels:
        known = ", ".join(sorted(channels)) or "none"
        raise click.ClickException(f"no channel named {channel!r} (configured: {known})")
    text = "A US airstrike on a position held by the Syrian army in Tanf drew a line near the border."
    start = text.index("airstrike")
    sample = AlertMessage(
        key=f"test/{utcnow().isoformat()}/{channel}",
        rule="sample-rule",
        severity="info",
        title="newswatch test alert",
        url=None,
        source="newswatch",
        published=utcnow(),
        snippets=(Excerpt(text=text, marks=((start, start + len("airstrike")),)),),
        matched=("airstrike",),
    )
    try:
        channels[channel].send([sample])
    except AlertError as exc:
        raise click.ClickException(f"{channel}: {exc}") from exc
    click.echo(f"sent a test alert through {channel}")


COMMANDS = [alerts]
