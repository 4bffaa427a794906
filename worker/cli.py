"""The `newswatch` command: scan now, run on schedule, run Celery workers and beat, query stored hits.

Every error newswatch raises on purpose is printed as one line naming the file, line or URL, never as a
traceback; the exit status is non-zero when anything failed.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import click

from alerts import Channel
from alerts.message import AlertMessage
from storage.db import session_scope
from storage.hits import query_hits
from storage.models import Hit, StoredArticle, utcnow
from worker.config import get_settings
from worker.durations import Duration
from worker.embedded import RoundReport, deliver_due, run_forever, run_round
from worker.embedded import scan as scan_inputs
from worker.errors import NewswatchError
from worker.pipeline import Ingested
from worker.runtime import Runtime, get_runtime

LOGGER = logging.getLogger(__name__)


class _CLI(click.Group):
    """Turns newswatch's own errors into one clear line and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NewswatchError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)


@click.group(cls=_CLI)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def main(verbose: int) -> None:
    """newswatch: watch news feeds and pages for what matters to you."""
    level = [logging.ERROR, logging.INFO, logging.DEBUG][min(verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr, force=True)


def _runtime() -> Runtime:
    runtime = get_runtime()
    runtime.migrate()
    return runtime


class _ShownOnTerminal:
    """The console channel during `scan`: the scan report already printed these hits on the terminal."""

    name = "console"
    mode = "immediate"

    def send(self, messages: Sequence[AlertMessage]) -> None:
        return None


@main.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per article.")
def scan(inputs: tuple[str, ...], as_json: bool) -> None:
    """Ingest files, folders or URLs now and print each article's hits (new alerts are sent)."""
    runtime = _runtime()
    failed = 0
    for scanned in scan_inputs(runtime, inputs):
        if scanned.result is None:
            failed += 1
            click.echo(f"error: {scanned.error}", err=True)
            continue
        if as_json:
            click.echo(json.dumps(_ingested_json(scanned.source, scanned.result), ensure_ascii=False))
        else:
            _print_ingested(scanned.source, scanned.result)
    channels: dict[str, Channel] = {**runtime.channels, "console": _ShownOnTerminal()}
    for delivery in deliver_due(runtime, channels):
        if delivery.outcome in ("failed", "retry"):
            click.echo(f"alert {delivery.alert_id} {delivery.outcome}: {delivery.error}", err=True)
    if failed:
        sys.exit(1)


def _ingested_json(source: str, result: Ingested) -> dict[str, Any]:
    article = result.article
    return {
        "source": source,
        "article_id": result.article_id,
        "new": result.new,
        "title": article.title,
        "url": article.url,
        "site_name": article.site_name,
        "published": article.published.isoformat() if article.published else None,
        "language": article.language,
        "hits": [
            {
                "rule": hit.rule,
                "severity": hit.severity,
                "matches": list(dict.fromkeys(m.text for m in hit.matches)),
                "snippet": hit.snippet,
                "score": hit.score,
                "new": hit.rule in result.new_hits,
                "evidence": hit.to_dict(),
            }
            for hit in result.hits
        ],
    }


def _print_ingested(source: str, result: Ingested) -> None:
    click.echo(click.style(source, bold=True))
    click.echo(f"  title: {result.article.title}")
    if not result.hits:
        click.echo("  no rule matched")
    for hit in result.hits:
        matched = ", ".join(f'"{text}"' for text in dict.fromkeys(m.text for m in hit.matches))
        click.echo(f"  [{hit.rule}] {len(hit.matches)} mention(s), score {hit.score:.1f}: {matched}")
        for snippet in hit.snippets[:3]:
            click.echo(f"      {snippet.marked()}")
    click.echo()


@main.command()
@click.option("--once", is_flag=True, help="Poll every feed once, wait until it is processed, then exit.")
@click.option("--timeout", type=float, default=600.0, show_default=True,
              help="With a broker and --once: how long to wait for the workers, in seconds.")
def run(once: bool, timeout: float) -> None:
    """Poll the configured feeds on schedule (on the workers when NEWSWATCH_BROKER_URL is set)."""
    runtime = _runtime()
    if runtime.settings.broker_url:
        if not once:
            raise click.UsageError("with a broker, scheduling is `newswatch beat`'s job; use `run --once`")
        from worker.distributed import run_round_on_workers

        report = run_round_on_workers(runtime, timeout=timeout)
        _print_round(report)
        sys.exit(1 if report.errors else 0)
    if once:
        report = run_round(runtime, every_feed=True)
        _print_round(report)
        sys.exit(1 if report.errors else 0)
    run_forever(runtime, on_round=_print_round)


def _print_round(report: RoundReport) -> None:
    for polled in report.polled:
        click.echo(f"{polled.url}: {polled.outcome}, {len(polled.entries)} new entries")
    for result in report.ingested:
        rules = ", ".join(h.rule for h in result.hits) or "no hits"
        click.echo(f"  {result.article.title}: {rules}")
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    for error in report.errors:
        click.echo(f"error: {error}", err=True)


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("-Q", "--queues", default="poll,extract,alerts", show_default=True)
@click.option("-c", "--concurrency", type=int, default=None)
@click.option("-P", "--pool", default="prefork", show_default=True,
              help="prefork for extract (trafilatura is not thread-safe); threads is fine for poll and alerts.")
@click.pass_context
def worker(ctx: click.Context, queues: str, concurrency: int | None, pool: str) -> None:
    """Run Celery workers (needs NEWSWATCH_BROKER_URL); extra arguments go to `celery worker`."""
    runtime = _runtime()
    if not runtime.settings.broker_url:
        raise click.UsageError("set NEWSWATCH_BROKER_URL (e.g. redis://127.0.0.1:6379/0) to run workers")
    from worker.celery_app import app

    argv = ["worker", "-Q", queues, "-P", pool, "--loglevel", "INFO", *ctx.args]
    if concurrency:
        argv += ["-c", str(concurrency)]
    app.worker_main(argv)


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def beat(ctx: click.Context) -> None:
    """Run the schedule (one at a time is enforced by a Redis lock); needs NEWSWATCH_BROKER_URL."""
    runtime = _runtime()
    if not runtime.settings.broker_url:
        raise click.UsageError("set NEWSWATCH_BROKER_URL (e.g. redis://127.0.0.1:6379/0) to run beat")
    from worker.celery_app import app

    app.start(["beat", "--loglevel", "INFO", *ctx.args])


@main.command()
@click.option("--rule", default=None, help="Only this rule's hits.")
@click.option("--since", type=Duration(), default=None, help="Only hits stored in this period, e.g. 7d.")
@click.option("--limit", type=int, default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per hit.")
def hits(rule: str | None, since: timedelta | None, limit: int, as_json: bool) -> None:
    """Show stored hits, newest first."""
    runtime = _runtime()
    with session_scope(runtime.settings.database_url) as session:
        rows = query_hits(session, rule=rule, since=utcnow() - since if since else None, limit=limit)
    for hit, article in rows:
        if as_json:
            click.echo(json.dumps(_hit_json(hit, article), ensure_ascii=False))
        else:
            when = hit.created_at.strftime("%Y-%m-%d %H:%M") if hit.created_at else "?"
            click.echo(f"{when}  [{hit.rule}] {article.title}")
            click.echo(f"    {article.url or article.source}")
            click.echo(f"    {hit.snippet}")
    if not rows and not as_json:
        click.echo("no hits stored" + (f" for rule {rule!r}" if rule else ""))


def _hit_json(hit: Hit, article: StoredArticle) -> dict[str, Any]:
    return {
        "id": hit.id,
        "rule": hit.rule,
        "severity": hit.severity,
        "created_at": hit.created_at.isoformat() if hit.created_at else None,
        "article": {"id": article.id, "title": article.title, "url": article.url, "source": article.source,
                    "site_name": article.site_name,
                    "published": article.published_at.isoformat() if article.published_at else None},
        "matches": list(dict.fromkeys(m["text"] for m in hit.evidence.get("matches", ()))),
        "snippet": hit.snippet,
        "score": hit.score,
        "rules_version": hit.rules_version,
        "evidence": hit.evidence,
    }


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (every command also does this on start)."""
    settings = get_settings()
    from storage.schema import upgrade

    upgrade(settings.database_url)
    click.echo(f"database is up to date: {settings.database_url.split('@')[-1]}")


@db.command("revision")
@click.option("-m", "--message", required=True, help="What the migration changes.")
def db_revision(message: str) -> None:
    """Write a new migration from the models (for developers changing storage/models.py)."""
    from storage.schema import revision, upgrade

    settings = get_settings()
    upgrade(settings.database_url)
    revision(settings.database_url, message)


def _add_subcommands() -> None:
    from worker.cli_alerts import alerts
    from worker.cli_feeds import feeds
    from worker.cli_rules import rules

    main.add_command(feeds)
    main.add_command(rules)
    main.add_command(alerts)


_add_subcommands()
