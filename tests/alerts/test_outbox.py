"""The outbox: one alert per (rule, story, channel), one sender per row, and retries only when due."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from newswatch.alerts.outbox import (
    claim,
    due_alert_ids,
    enqueue_alerts,
    list_alerts,
    mark_failed,
    mark_retry,
    mark_sent,
    requeue_failed,
)
from newswatch.storage.db import session_scope
from newswatch.storage.models import Alert, Hit, StoredArticle, utcnow
from newswatch.storage.schema import upgrade


def _hit(url: str) -> int:
    upgrade(url)
    with session_scope(url) as session:
        article = StoredArticle(content_hash="h1", source="seed.txt", title="T", text="body")
        session.add(article)
        session.flush()
        assert article.id is not None
        hit = Hit(article_id=article.id, rule="airstrikes", rules_version="v1", snippet="s", evidence={})
        session.add(hit)
        session.flush()
        assert hit.id is not None
        return hit.id


def test_an_alert_is_queued_once_per_rule_story_and_channel(database_url: str) -> None:
    hit_id = _hit(database_url)
    with session_scope(database_url) as session:
        first = enqueue_alerts(session, hit_id=hit_id, rule="airstrikes", story_key="1", channels=["console", "slack"])
    with session_scope(database_url) as session:
        again = enqueue_alerts(session, hit_id=hit_id, rule="airstrikes", story_key="1", channels=["slack", "email"])
    assert len(first) == 2
    assert len(again) == 1
    with session_scope(database_url) as session:
        assert sorted(a.channel for a in list_alerts(session)) == ["console", "email", "slack"]


def test_only_one_of_many_racing_senders_claims_a_row(database_url: str) -> None:
    hit_id = _hit(database_url)
    with session_scope(database_url) as session:
        (alert_id,) = enqueue_alerts(session, hit_id=hit_id, rule="airstrikes", story_key="1", channels=["slack"])

    def try_claim(_: int) -> bool:
        with session_scope(database_url) as session:
            return claim(session, alert_id) is not None

    with ThreadPoolExecutor(max_workers=6) as pool:
        wins = list(pool.map(try_claim, range(12)))
    assert sum(wins) == 1


def test_a_sent_row_is_never_claimed_again(database_url: str) -> None:
    hit_id = _hit(database_url)
    with session_scope(database_url) as session:
        (alert_id,) = enqueue_alerts(session, hit_id=hit_id, rule="airstrikes", story_key="1", channels=["slack"])
        assert claim(session, alert_id) is not None
        mark_sent(session, alert_id)
    with session_scope(database_url) as session:
        assert claim(session, alert_id, now=utcnow() + timedelta(days=1)) is None
        assert due_alert_ids(session, now=utcnow() + timedelta(days=1)) == []


def test_a_retry_waits_for_its_time(database_url: str) -> None:
    hit_id = _hit(database_url)
    with session_scope(database_url) as session:
        (alert_id,) = enqueue_alerts(session, hit_id=hit_id, rule="airstrikes", story_key="1", channels=["slack"])
        claim(session, alert_id)
        mark_retry(session, alert_id, error="slack: status 500", at=utcnow() + timedelta(minutes=5))
    with session_scope(database_url) as session:
        assert claim(session, alert_id) is None
        assert due_alert_ids(session) == []
        later = utcnow() + timedelta(minutes=6)
        assert due_alert_ids(session, now=later) == [alert_id]
        claimed = claim(session, alert_id, now=later)
        assert claimed is not None and claimed.attempts == 2


def test_a_row_abandoned_by_a_crashed_sender_is_claimed_after_its_lease(database_url: str) -> None:
    hit_id = _hit(database_url)
    with session_scope(database_url) as session:
        (alert_id,) = enqueue_alerts(session, hit_id=hit_id, rule="airstrikes", story_key="1", channels=["slack"])
        assert claim(session, alert_id) is not None
    with session_scope(database_url) as session:
        assert claim(session, alert_id) is None
        assert claim(session, alert_id, now=utcnow() + timedelta(minutes=10)) is not None


def test_failed_rows_can_be_requeued(database_url: str) -> None:
    hit_id = _hit(database_url)
    with session_scope(database_url) as session:
        (alert_id,) = enqueue_alerts(session, hit_id=hit_id, rule="airstrikes", story_key="1", channels=["email"])
        claim(session, alert_id)
        mark_failed(session, alert_id, error="email: recipient refused")
    with session_scope(database_url) as session:
        assert [a.status for a in list_alerts(session, status="failed")] == ["failed"]
        assert requeue_failed(session) == [alert_id]
    with session_scope(database_url) as session:
        row = session.get_one(Alert, alert_id)
        assert (row.status, row.attempts) == ("pending", 0)
