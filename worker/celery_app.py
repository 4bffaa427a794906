"""The Celery application, built from settings when first asked for: Redis broker, three queues, and the
settings that keep tasks from being lost.

Queues: `poll` (I/O-bound feed polling; a threads pool is fine), `extract` (page fetch + trafilatura, which
is not thread-safe: run it in prefork processes), `alerts` (delivery). Beat uses celery-redbeat so two
beat processes never schedule everything twice. Tasks (worker.tasks) are `shared_task`s: they run on
whichever app the process built, and callers send them by name (`app.send_task`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger, worker_process_init

from newswatch.storage.db import dispose_engines
from newswatch.storage.errors import ConfigError
from newswatch.worker.config import Settings
from newswatch.worker.logs import use_json_formatters
from newswatch.worker.runtime import redis_py_url

if TYPE_CHECKING:
    import redis

QUEUES = ("poll", "extract", "alerts")

UNACKED = "unacked"
"""The Redis hash of messages handed to a worker and not yet acknowledged (kombu's Redis transport)."""

POLL_TICK = 5.0
"""Seconds between beat's looks for due feeds: a feed is polled within seconds of its due time."""

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "poll-due-feeds": {"task": "newswatch.poll_due", "schedule": POLL_TICK, "options": {"queue": "poll"}},
    "sweep-entries": {"task": "newswatch.sweep_entries", "schedule": 30.0, "options": {"queue": "poll"}},
    "deliver-due-alerts": {"task": "newswatch.deliver_due", "schedule": 30.0, "options": {"queue": "alerts"}},
}


def create_app(settings: Settings) -> Celery:
    """A Celery app for `settings.broker_url` (results on the same Redis, for `run --once` to wait on)."""
    broker = settings.broker_url
    if not broker:
        raise ConfigError("config: NEWSWATCH_BROKER_URL is not set (e.g. redis://127.0.0.1:6379/0)")
    if settings.task_time_limit >= settings.visibility_timeout:
        raise ConfigError(
            f"config: NEWSWATCH_TASK_TIME_LIMIT ({settings.task_time_limit}) must stay below "
            f"NEWSWATCH_VISIBILITY_TIMEOUT ({settings.visibility_timeout}), or a long task runs twice"
        )
    app = Celery("newswatch", broker=broker, backend=broker, include=["newswatch.worker.tasks"], set_as_current=True)
    # Redis redelivers unacked messages after the visibility timeout; every countdown, retry and time
    # limit must stay well under it or the task runs twice (celery#5935).
    transport = {"visibility_timeout": settings.visibility_timeout}
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,  # else a killed child's message is acked and lost (celery#6178)
        worker_prefetch_multiplier=1,
        task_soft_time_limit=settings.task_soft_time_limit,
        task_time_limit=settings.task_time_limit,
        broker_transport_options=transport,
        result_backend_transport_options=transport,
        broker_connection_retry_on_startup=True,
        result_expires=3600,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        timezone="UTC",
        task_default_queue="poll",
        task_routes={
            "newswatch.poll_feed": {"queue": "poll"},
            "newswatch.poll_due": {"queue": "poll"},
            "newswatch.sweep_entries": {"queue": "poll"},
            "newswatch.ingest_entry": {"queue": "extract"},
            "newswatch.deliver_alert": {"queue": "alerts"},
            "newswatch.deliver_due": {"queue": "alerts"},
        },
        worker_max_tasks_per_child=500,  # trafilatura's caches grow (trafilatura#216)
        beat_schedule=BEAT_SCHEDULE,
        beat_scheduler="redbeat.RedBeatScheduler",
        # redbeat's lock otherwise defaults to 25 minutes (redbeat#230): a standby beat takes over once the
        # active one's lock (renewed every loop) has expired, within lock timeout + one loop (25 s).
        beat_max_loop_interval=5,
        redbeat_redis_url=redis_py_url(broker),  # redbeat talks to Redis through redis-py
        redbeat_key_prefix="newswatch:redbeat:",
        redbeat_lock_timeout=20,
    )
    app.set_default()
    return app


def queue_lengths(client: redis.Redis) -> dict[str, int]:
    """Messages waiting in each queue, and under `unacked` those taken by a worker and not yet done.

    kombu keeps a queue as a Redis list named after it, and the taken messages in one hash.
    """
    lengths = {queue: int(client.llen(queue)) for queue in QUEUES}
    lengths[UNACKED] = int(client.hlen(UNACKED))
    return lengths


@after_setup_logger.connect
@after_setup_task_logger.connect
def _log_format(logger: logging.Logger, **_: Any) -> None:
    # Celery installs its own handlers in workers and beat; NEWSWATCH_LOG_FORMAT applies to them too.
    use_json_formatters(logger)


@worker_process_init.connect
def _fresh_engines_after_fork(**_: Any) -> None:
    # A forked child must not reuse the parent's database connections.
    dispose_engines()
