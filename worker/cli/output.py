"""How commands print: the report of a scan or a round, hits as text or JSON. One place for every format."""

from __future__ import annotations

import json
from typing import Any

import click

from newswatch.alerts.delivery import Delivery
from newswatch.storage.models import Hit, StoredArticle
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
        click.echo(f"{polled.url}: {polled.outcome}, {polled.new_entries} new entries")
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


def print_deliveries(deliveries: list[Delivery], *, only_problems: bool = False) -> None:
    """One line per alert delivered (or only those that did not go out)."""
    for delivery in deliveries:
        problem = delivery.outcome in ("failed", "retry", "queued")
        if problem or not only_problems:
            detail = f" ({delivery.error})" if delivery.error else ""
            click.echo(f"alert {delivery.alert_id}: {delivery.outcome}{detail}", err=problem and only_problems)


def hit_json(hit: Hit, article: StoredArticle) -> dict[str, Any]:
    """A stored hit with its article, for `hits --json`."""
    return {
        "id": hit.id,
        "rule": hit.rule,
        "severity": hit.severity,
        "created_at": hit.created_at.isoformat() if hit.created_at else None,
        "article": {
            "id": article.id,
            "title": article.title,
            "url": article.url,
            "source": article.source,
            "site_name": article.site_name,
            "published": article.published_at.isoformat() if article.published_at else None,
        },
        "matches": list(dict.fromkeys(m["text"] for m in hit.evidence.get("matches", ()))),
        "snippet": hit.snippet,
        "score": hit.score,
        "rules_version": hit.rules_version,
        "evidence": hit.evidence,
    }


def print_hit(hit: Hit, article: StoredArticle) -> None:
    """A stored hit in three lines: when and which rule, where, and the sentence."""
    when = hit.created_at.strftime("%Y-%m-%d %H:%M") if hit.created_at else "?"
    click.echo(f"{when}  [{hit.rule}] {article.title}")
    click.echo(f"    {article.url or article.source}")
    click.echo(f"    {hit.snippet}")
