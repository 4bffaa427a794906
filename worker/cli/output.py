"""How commands print: the report of a scan or a round, alerts, JSON. One place for every format but stored hits'
(their table, exports and chart are in hit_output.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # the pipeline's types only: `status` and `hits` print JSON without loading the pipeline
    from newswatch.alerts.delivery import Delivery
    from newswatch.worker.pipeline import Ingested
    from newswatch.worker.report import RoundReport


def echo_json(data: Any) -> None:
    """One JSON object on one line (for `--json`)."""
    click.echo(json.dumps(data, ensure_ascii=False))


def ingested_json(source: str, result: Ingested) -> dict[str, Any]:
    """A scanned document with its hits and their evidence."""
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


def print_ingested(source: str, result: Ingested) -> None:
    """A scanned document: its title, and each hit with its mentions and marked sentences."""
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


def print_round(report: RoundReport) -> None:
    """A polling round, the same whichever runner did it: feeds, articles, problems, then one total line."""
    for polled in report.polled:
        found = f" (a page; read the feed it names: {polled.discovered})" if polled.discovered else ""
        click.echo(f"{polled.url}: {polled.outcome}, {polled.new_entries} new entries{found}")
    for article in report.articles:
        click.echo(f"  {article.title}: {', '.join(article.hits) or 'no hits'}")
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    for error in report.errors:
        click.echo(f"error: {error}", err=True)
    print_deliveries(report.deliveries, only_problems=True)
    for pending in report.pending:
        click.echo(f"pending: {pending}", err=True)
    click.echo(report.totals())


@dataclass
class RunProgress:
    """What `newswatch run` prints between rounds: a round's report when it did something, then when the
    next feed is due; an idle round only when that time changed (at the start, or after a feed was added)."""

    shown: datetime | None = None
    started: bool = False

    def __call__(self, report: RoundReport, upcoming: datetime | None) -> None:
        idle = report.is_idle()
        if idle and self.started and upcoming == self.shown:
            return
        if not idle:
            print_round(report)
        line = next_poll_line(upcoming, datetime.now(UTC))
        click.echo(f"no feed due; {line}" if idle and upcoming is not None else line)
        self.shown, self.started = upcoming, True


def next_poll_line(upcoming: datetime | None, now: datetime) -> str:
    """`next poll at 14:05:00 (in 4m)`, in local time, with the date when it is not today."""
    if upcoming is None:
        return "no feeds to poll; add one with `newswatch feeds add URL`"
    local = upcoming.astimezone()
    shown = f"{local:%H:%M:%S}" if local.date() == now.astimezone().date() else f"{local:%Y-%m-%d %H:%M:%S}"
    return f"next poll at {shown} ({_from_now(upcoming - now)})"


def _from_now(wait: timedelta) -> str:
    seconds = round(wait.total_seconds())
    if seconds <= 0:
        return "due now"
    if seconds < 60:
        return f"in {seconds}s"
    hours, minutes = divmod(round(seconds / 60), 60)
    days, hours = divmod(hours, 24)
    parts = [f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if n][:2]
    return "in " + " ".join(parts)


def print_deliveries(deliveries: list[Delivery], *, only_problems: bool = False) -> None:
    """One line per alert delivered (or only those that did not go out)."""
    for delivery in deliveries:
        problem = delivery.outcome in ("failed", "retry", "queued")
        if problem or not only_problems:
            detail = f" ({delivery.error})" if delivery.error else ""
            click.echo(f"alert {delivery.alert_id}: {delivery.outcome}{detail}", err=problem and only_problems)
