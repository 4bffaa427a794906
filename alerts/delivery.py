"""Delivering one outbox row: claim it, render it from its hit and article, send it, record the outcome.

The one retry policy lives here: a transient `AlertError` is retried with exponential backoff and jitter
(or after the channel's `Retry-After`), a permanent one or too many attempts marks the row failed.
Sending happens outside any transaction; only the claim and the outcome are written.

The window for a duplicate: a sender that crashes after the channel accepted the alert and before
`mark_sent` committed leaves the row `sending`; when its lease runs out, another sender sends it again.
That window is the time between the channel's reply and one small UPDATE (milliseconds).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select as sa_select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Session, col, select

from newswatch.alerts.channels import Channel
from newswatch.alerts.errors import AlertError
from newswatch.alerts.message import AlertMessage, Excerpt, SourceRef
from newswatch.alerts.outbox import (
    claim,
    defer,
    due_alert_ids,
    held_alert_ids,
    held_back,
    mark_failed,
    mark_retry,
    mark_sent,
    mark_unknown,
)
from newswatch.alerts.settings import DeliverySettings
from newswatch.storage.backoff import backoff_seconds
from newswatch.storage.db import session_scope
from newswatch.storage.models import Alert, Hit, StoredArticle, utcnow

LOGGER = logging.getLogger(__name__)


UNKNOWN_OUTCOME_RETRIES = 2
"""Sends that got no answer (a read timeout) before a row is marked `unknown`: each resend carries the same
idempotency key, so a receiver that did get the first drops the copies."""

DIGEST_PERIODS = {"hourly": timedelta(hours=1), "daily": timedelta(days=1)}
"""Channels in these modes collect alerts and send them as one digest at the end of each UTC period."""


@dataclass(frozen=True)
class Delivery:
    """The outcome of one attempt: `sent`, `retry` (in `retry_in` s), `deferred` (digest), `failed`, `skipped`."""

    alert_id: int
    outcome: str
    retry_in: float | None = None
    error: str | None = None
    batch: tuple[int, ...] = ()
    """Every row sent together with this one (a digest), this one included."""

    def to_json(self) -> dict[str, Any]:
        """For a task's result: the outcome travels back to whoever waits on it."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Delivery:
        return cls(**{**data, "batch": tuple(data.get("batch", ()))})


def period_end(created: datetime, mode: str) -> datetime:
    """The end of the digest period `created` falls in: the next full UTC hour or midnight."""
    period = DIGEST_PERIODS[mode]
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((created - epoch) // period + 1) * period


def deliver(alert_id: int, *, settings: DeliverySettings, channels: Mapping[str, Channel]) -> Delivery:
    """Try to deliver one alert, together with the others due on its channel: all of them for a digest
    channel; for an alert a rule's quiet window held back, the others it held back too.

    Safe to call twice or from two workers: only one claim on a row wins.
    """
    with session_scope(settings.database_url) as session:
        alert = claim(session, alert_id)
        if alert is None:
            return Delivery(alert_id, "skipped")
        if alert.attempts > settings.alert_max_attempts:
            error = f"alerts: gave up after {alert.attempts - 1} attempts: {alert.last_error or 'no error recorded'}"
            mark_failed(session, alert_id, error=error)
            return Delivery(alert_id, "failed", error=error)
        channel = channels.get(alert.channel)
        batch = [alert]
        if channel is not None and channel.mode in DIGEST_PERIODS:
            due_at = period_end(alert.created_at or utcnow(), channel.mode)
            if utcnow() < due_at:
                defer(session, alert_id, at=due_at)
                return Delivery(alert_id, "deferred", retry_in=(due_at - utcnow()).total_seconds())
        if channel is not None and channel.mode in DIGEST_PERIODS:
            others = due_alert_ids(session, channel=alert.channel)
        elif channel is not None and held_back(alert):
            others = held_alert_ids(session, channel=alert.channel, rule=alert.rule)
        else:
            others = []
        claimed = (claim(session, other) for other in others if other != alert_id)
        batch += [other for other in claimed if other is not None]
        messages = [alert_message(session, row) for row in batch]
        attempts = {row.id: row.attempts for row in batch if row.id is not None}
    ids = tuple(attempts)
    try:
        if channel is None:
            raise AlertError(f"alerts: no channel named {alert.channel!r} is configured", permanent=True)
        channel.send(messages)
    except AlertError as exc:
        outcomes = [_record_failure(settings, row_id, tries, exc) for row_id, tries in attempts.items()]
        return dataclasses.replace(outcomes[0], batch=ids)
    try:
        return record_sent(alert_id, ids, settings=settings)
    except (OperationalError, InterfaceError) as exc:
        raise SentNotRecorded(alert_id, ids) from exc


class SentNotRecorded(Exception):
    """The channel accepted the alerts, but the database was away when their `sent` was to be written.

    The sender is alive and knows the outcome: it must retry `record_sent`, not the delivery. A new delivery
    would find the rows claimed and skip them, and once their lease ran out they would go out a second time.
    """

    def __init__(self, alert_id: int, batch: tuple[int, ...]) -> None:
        super().__init__(f"alerts: {list(batch)} sent, but not yet recorded as sent")
        self.alert_id = alert_id
        self.batch = batch


def record_sent(alert_id: int, batch: tuple[int, ...], *, settings: DeliverySettings) -> Delivery:
    """Record that the channel accepted these rows (idempotent: what `deliver` does after a send)."""
    with session_scope(settings.database_url) as session:
        for row_id in batch:
            mark_sent(session, row_id)
    return Delivery(alert_id, "sent", batch=batch)


def _record_failure(settings: DeliverySettings, alert_id: int, attempts: int, exc: AlertError) -> Delivery:
    error = str(exc)
    with session_scope(settings.database_url) as session:
        if exc.unknown_outcome:
            unknown = session.exec(select(Alert.unknown_outcomes).where(Alert.id == alert_id)).one()
            if unknown >= UNKNOWN_OUTCOME_RETRIES or attempts >= settings.alert_max_attempts:
                LOGGER.error("alert %s: outcome unknown after %d sends: %s", alert_id, unknown + 1, error)
                mark_unknown(session, alert_id, error=error)
                return Delivery(alert_id, "unknown", error=error)
        elif exc.permanent or attempts >= settings.alert_max_attempts:
            LOGGER.error("alert %s failed for good: %s", alert_id, error)
            mark_failed(session, alert_id, error=error)
            return Delivery(alert_id, "failed", error=error)
        delay = exc.retry_after
        if delay is None:
            delay = backoff_seconds(attempts - 1, base=settings.alert_retry_base)
        LOGGER.warning("alert %s will be retried in %.0fs: %s", alert_id, delay, error)
        mark_retry(
            session, alert_id, error=error, at=utcnow() + timedelta(seconds=delay), unknown_outcome=exc.unknown_outcome
        )
    return Delivery(alert_id, "retry", retry_in=delay, error=error)


def alert_message(session: Session, alert: Alert) -> AlertMessage:
    """The channel-neutral alert: rule, article, evidence, and the other sites that carried the story (or a
    notice of newswatch itself, which has no hit)."""
    if alert.hit_id is None:
        return AlertMessage(
            key=f"{alert.rule}/{alert.story_key}/{alert.channel}",
            rule=alert.rule,
            severity="notice",
            title=alert.notice or alert.rule,
            url=None,
            source="newswatch",
            published=alert.created_at,
            snippets=(),
            matched=(),
        )
    # The columns an alert shows, not whole rows: an article's row holds its text and fingerprint too.
    row = session.execute(
        sa_select(
            col(Hit.severity),
            col(Hit.evidence),
            *_ARTICLE_COLUMNS,
            col(StoredArticle.source),
            col(StoredArticle.published_at),
        )
        .join(StoredArticle, col(StoredArticle.id) == col(Hit.article_id))
        .where(col(Hit.id) == alert.hit_id)
    ).one()
    evidence = row.evidence
    snippets = tuple(Excerpt.from_dict(s) for s in evidence.get("snippets", ()))
    matched = tuple(dict.fromkeys(m["text"] for m in evidence.get("matches", ())))
    others: tuple[SourceRef, ...] = ()
    if row.story_id is not None:
        siblings = session.execute(
            sa_select(*_ARTICLE_COLUMNS).where(
                col(StoredArticle.story_id) == row.story_id, col(StoredArticle.id) != row.id
            )
        )
        others = tuple(SourceRef(url=s.url, site=s.site_name or s.domain, title=s.title) for s in siblings)
    return AlertMessage(
        key=f"{alert.rule}/{alert.story_key}/{alert.channel}",
        rule=alert.rule,
        severity=row.severity,
        title=row.title,
        url=row.url,
        source=row.site_name or row.domain or row.source,
        published=row.published_at,
        snippets=snippets,
        matched=matched,
        other_sources=others,
    )


_ARTICLE_COLUMNS = (
    col(StoredArticle.id),
    col(StoredArticle.story_id),
    col(StoredArticle.title),
    col(StoredArticle.url),
    col(StoredArticle.site_name),
    col(StoredArticle.domain),
)
