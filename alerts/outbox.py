"""The alert outbox: rows written with their hit, claimed by one sender at a time, marked with the outcome.

Life of a row: `pending` -> (claimed) `sending` -> `sent`; on a transient error back to `pending` with a
later `next_attempt_at`; on a permanent error or after too many attempts `failed`; after a few sends that
got no answer (the receiver may or may not have the alert) `unknown`. A claim is a conditional UPDATE that
only one sender can win; a claim whose lease ran out (its sender crashed) can be won again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, update
from sqlmodel import Session, col, select

from newswatch.storage.db import insert_ignore
from newswatch.storage.models import Alert, utcnow

LEASE = timedelta(minutes=5)
"""How long a claimed row stays with its sender before another may take it over."""
_UNSYNCED = {"synchronize_session": False}
"""For the outbox's UPDATEs: the session's loaded rows are not brought in line with them (the ORM would evaluate or
fetch the rows each statement touched, a third of a claim's and a mark's CPU); whoever reads a row afterwards
reads it again (`claim`'s SELECT)."""


def enqueue_alerts(
    session: Session,
    *,
    hit_id: int,
    rule: str,
    story_key: str,
    channels: Iterable[str],
    quiet: timedelta | None = None,
) -> list[int]:
    """Queue one alert per channel; a (rule, story, channel) already queued is not queued again.

    With a `quiet` window, an alert that follows an earlier one of the same rule and channel within the
    window waits until the window has passed (and then goes out with the others that waited).
    """
    now = utcnow()
    ids = []
    for channel in dict.fromkeys(channels):
        due = now
        if quiet is not None:
            previous = session.exec(
                select(Alert.created_at)
                .where(Alert.rule == rule, Alert.channel == channel, col(Alert.created_at) > now - quiet)
                .order_by(col(Alert.created_at))
                .limit(1)
            ).first()
            if previous is not None:
                due = previous + quiet
        new_id = insert_ignore(
            session,
            Alert,
            {
                "hit_id": hit_id,
                "rule": rule,
                "story_key": story_key,
                "channel": channel,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": due,
                "created_at": now,
            },
        )
        if new_id is not None:
            ids.append(new_id)
    return ids


def enqueue_notice(session: Session, *, kind: str, key: str, text: str, channels: Iterable[str]) -> list[int]:
    """Queue a notice of newswatch itself (no hit: `kind` stands for the rule) on each channel, once per `key`;
    it is delivered, retried and listed like any alert."""
    now = utcnow()
    ids = []
    for channel in dict.fromkeys(channels):
        values = {
            "hit_id": None,
            "rule": kind,
            "story_key": key,
            "channel": channel,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "notice": text,
        }
        new_id = insert_ignore(session, Alert, values)
        if new_id is not None:
            ids.append(new_id)
    return ids


def claim(session: Session, alert_id: int, now: datetime | None = None) -> Alert | None:
    """Take the row for sending if it is due and nobody holds it; None when someone else has it or it is done."""
    now = now or utcnow()
    due = and_(
        col(Alert.status) == "pending", or_(col(Alert.next_attempt_at).is_(None), col(Alert.next_attempt_at) <= now)
    )
    abandoned = and_(col(Alert.status) == "sending", col(Alert.lease_until) < now)
    result = session.execute(
        update(Alert)
        .where(col(Alert.id) == alert_id, or_(due, abandoned))
        .values(status="sending", lease_until=now + LEASE, attempts=col(Alert.attempts) + 1)
        .execution_options(**_UNSYNCED)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.get_one(Alert, alert_id, populate_existing=True)  # one SELECT, as updated, even if loaded before


def mark_sent(session: Session, alert_id: int) -> None:
    """The channel accepted the alert."""
    _finish(session, alert_id, status="sent", sent_at=utcnow(), last_error=None)


def mark_retry(session: Session, alert_id: int, *, error: str, at: datetime, unknown_outcome: bool = False) -> None:
    """A transient failure: try again at `at` (counting it when the last send got no answer)."""
    extra = {"unknown_outcomes": col(Alert.unknown_outcomes) + 1} if unknown_outcome else {}
    _finish(session, alert_id, status="pending", next_attempt_at=at, last_error=error, **extra)


def mark_unknown(session: Session, alert_id: int, *, error: str) -> None:
    """Sent, but no answer came, too often: the receiver may have it; `alerts retry` sends it again."""
    _finish(session, alert_id, status="unknown", last_error=error, unknown_outcomes=col(Alert.unknown_outcomes) + 1)


def defer(session: Session, alert_id: int, *, at: datetime) -> None:
    """Hold a claimed row back until `at` (a digest period's end) without counting an attempt."""
    session.execute(
        update(Alert)
        .where(col(Alert.id) == alert_id)
        .values(status="pending", next_attempt_at=at, lease_until=None, attempts=col(Alert.attempts) - 1)
        .execution_options(**_UNSYNCED)
    )


def mark_failed(session: Session, alert_id: int, *, error: str) -> None:
    """A permanent failure (or attempts exhausted): stop retrying and show it."""
    _finish(session, alert_id, status="failed", last_error=error)


def _finish(session: Session, alert_id: int, **values: object) -> None:
    statement = update(Alert).where(col(Alert.id) == alert_id).values(lease_until=None, **values)
    session.execute(statement.execution_options(**_UNSYNCED))


def due_alert_ids(
    session: Session, now: datetime | None = None, *, channel: str | None = None, limit: int = 500
) -> list[int]:
    """Rows a sender should try now (optionally of one channel): pending and due, or abandoned by a crash."""
    now = now or utcnow()
    query = select(Alert.id).where(
        or_(
            and_(
                col(Alert.status) == "pending",
                or_(col(Alert.next_attempt_at).is_(None), col(Alert.next_attempt_at) <= now),
            ),
            and_(col(Alert.status) == "sending", col(Alert.lease_until) < now),
        )
    )
    if channel is not None:
        query = query.where(Alert.channel == channel)
    query = query.order_by(col(Alert.id)).limit(limit)
    return [alert_id for alert_id in session.exec(query) if alert_id is not None]


def held_back(alert: Alert) -> bool:
    """Whether a rule's quiet window made this row wait (first attempt, due later than it was queued)."""
    return (
        alert.attempts <= 1
        and alert.created_at is not None
        and alert.next_attempt_at is not None
        and alert.next_attempt_at - alert.created_at > timedelta(seconds=1)
    )


def held_alert_ids(session: Session, *, channel: str, rule: str, now: datetime | None = None) -> list[int]:
    """Due rows of one rule and channel that a quiet window held back: they go out together."""
    now = now or utcnow()
    query = select(Alert).where(
        col(Alert.status) == "pending", Alert.channel == channel, Alert.rule == rule, col(Alert.next_attempt_at) <= now
    )
    return [row.id for row in session.exec(query.order_by(col(Alert.id))) if row.id is not None and held_back(row)]


def list_alerts(session: Session, *, status: str | None = None, limit: int = 100) -> list[Alert]:
    """Outbox rows, newest first, optionally of one status."""
    query = select(Alert)
    if status is not None:
        query = query.where(Alert.status == status)
    return list(session.exec(query.order_by(col(Alert.id).desc()).limit(limit)))


def requeue_failed(session: Session, alert_ids: Iterable[int] | None = None) -> list[int]:
    """Put failed and unknown rows back to pending with fresh attempts (after the user fixed the channel);
    returns their ids.

    A requeued row is due as of when it was queued, so it goes out as the single alert it was, not with
    the rows a quiet window held back.
    """
    query = select(Alert.id).where(col(Alert.status).in_(["failed", "unknown"]))
    if alert_ids is not None:
        query = query.where(col(Alert.id).in_(list(alert_ids)))
    ids = [alert_id for alert_id in session.exec(query) if alert_id is not None]
    if ids:
        values = {"status": "pending", "attempts": 0, "unknown_outcomes": 0, "next_attempt_at": col(Alert.created_at)}
        session.execute(update(Alert).where(col(Alert.id).in_(ids)).values(**values))
    return ids
