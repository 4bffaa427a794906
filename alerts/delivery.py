"""Delivering one outbox row: claim it, render it from its hit and article, send it, record the outcome.

The one retry policy lives here: a transient `AlertError` is retried with exponential backoff and jitter
(or after the channel's `Retry-After`), a permanent one or too many attempts marks the row failed.
Sending happens outside any transaction; only the claim and the outcome are written.

The window for a duplicate: a sender that crashes after the channel accepted the alert and before
`mark_sent` committed leaves the row `sending`; when its lease runs out, another sender sends it again.
That window is the time between the channel's reply and one small UPDATE (milliseconds).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, col, select
from worker.rules import Snippet

from alerts import Channel
from alerts.message import AlertMessage, SourceRef
from alerts.outbox import claim, mark_failed, mark_retry, mark_sent
from storage.db import session_scope
from storage.models import Alert, Hit, StoredArticle, utcnow
from worker.backoff import backoff_seconds
from worker.config import Settings
from worker.errors import AlertError

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """The outcome of one attempt: `sent`, `retry` (in `retry_in` seconds), `failed` or `skipped`."""

    alert_id: int
    outcome: str
    retry_in: float | None = None
    error: str | None = None


def deliver(alert_id: int, *, settings: Settings, channels: Mapping[str, Channel]) -> Delivery:
    """Try to deliver one alert; safe to call twice or from two workers (only one claim wins)."""
    with session_scope(settings.database_url) as session:
        alert = claim(session, alert_id)
        if alert is None:
            return Delivery(alert_id, "skipped")
        if alert.attempts > settings.alert_max_attempts:
            error = f"alerts: gave up after {alert.attempts - 1} attempts: {alert.last_error or 'no error recorded'}"
            mark_failed(session, alert_id, error=error)
            return Delivery(alert_id, "failed", error=error)
        message = build_message(session, alert)
        channel_name, attempts = alert.channel, alert.attempts
    channel = channels.get(channel_name)
    try:
        if channel is None:
            raise AlertError(f"alerts: no channel named {channel_name!r} is configured", permanent=True)
        channel.send([message])
    except AlertError as exc:
        return _record_failure(settings, alert_id, attempts, exc)
    with session_scope(settings.database_url) as session:
        mark_sent(session, alert_id)
    return Delivery(alert_id, "sent")


def _record_failure(settings: Settings, alert_id: int, attempts: int, exc: AlertError) -> Delivery:
    error = str(exc)
    with session_scope(settings.database_url) as session:
        if exc.permanent or attempts >= settings.alert_max_attempts:
            LOGGER.error("alert %s failed for good: %s", alert_id, error)
            mark_failed(session, alert_id, error=error)
            return Delivery(alert_id, "failed", error=error)
        delay = exc.retry_after if exc.retry_after is not None else backoff_seconds(attempts - 1)
        LOGGER.warning("alert %s will be retried in %.0fs: %s", alert_id, delay, error)
        mark_retry(session, alert_id, error=error, at=utcnow() + timedelta(seconds=delay))
    return Delivery(alert_id, "retry", retry_in=delay, error=error)


def build_message(session: Session, alert: Alert) -> AlertMessage:
    """The channel-neutral alert: rule, article, evidence, and the other sites that carried the story."""
    hit = session.get_one(Hit, alert.hit_id)
    article = session.get_one(StoredArticle, hit.article_id)
    evidence = hit.evidence
    snippets = tuple(
        Snippet(text=s["text"], marks=tuple((int(a), int(b)) for a, b in s.get("marks", ())))
        for s in evidence.get("snippets", ())
    )
    matched = tuple(dict.fromkeys(m["text"] for m in evidence.get("matches", ())))
    others: tuple[SourceRef, ...] = ()
    if article.story_id is not None:
        siblings = session.exec(
            select(StoredArticle).where(StoredArticle.story_id == article.story_id, col(StoredArticle.id) != article.id)
        )
        others = tuple(SourceRef(url=s.url, site=s.site_name or s.domain, title=s.title) for s in siblings)
    return AlertMessage(
        key=f"{alert.rule}/{alert.story_key}/{alert.channel}",
        rule=alert.rule,
        severity=hit.severity,
        title=article.title,
        url=article.url,
        source=article.site_name or article.domain or article.source,
        published=article.published_at,
        snippets=snippets,
        matched=matched,
        other_sources=others,
    )
