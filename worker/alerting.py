"""Delivering the alerts that are due, where the configuration says: on the workers when a broker is set,
else in this process. Every command that sends (`scan`, `alerts send`, `alerts retry`, `rules backtest
--alert`, the embedded round) comes through here, so none of them sends from the wrong place.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from newswatch.alerts.delivery import Delivery, deliver
from newswatch.alerts.outbox import due_alert_ids
from newswatch.storage.db import session_scope
from newswatch.worker.runtime import Runtime

LOGGER = logging.getLogger(__name__)

if TYPE_CHECKING:
    from newswatch.alerts.channels import Channel

DELIVER_TASK = "newswatch.deliver_alert"


def deliver_due(
    runtime: Runtime,
    *,
    ids: Sequence[int] | None = None,
    channels: Mapping[str, Channel] | None = None,
    wait: float = 60.0,
) -> list[Delivery]:
    """Deliver the given outbox rows (default: every row due now) and report each outcome.

    On the workers, waits up to `wait` seconds for them; an alert still on its way is reported `queued`.
    `channels` replaces the configured channels for an in-process delivery (`scan` shows console alerts
    itself).
    """
    if ids is None:
        with session_scope(runtime.settings.database_url) as session:
            ids = due_alert_ids(session)
    if runtime.settings.broker_url:
        return _on_workers(runtime, ids, wait)
    use = runtime.channels if channels is None else channels
    return [deliver(alert_id, settings=runtime.settings, channels=use) for alert_id in ids]


def _on_workers(runtime: Runtime, ids: Sequence[int], wait: float) -> list[Delivery]:
    results = [(alert_id, runtime.app.send_task(DELIVER_TASK, args=(alert_id,))) for alert_id in ids]
    deadline = time.monotonic() + wait
    outcomes = []
    for alert_id, result in results:
        try:
            outcome = result.get(timeout=max(0.1, deadline - time.monotonic()))
            outcomes.append(Delivery.from_json(outcome))
        except Exception as exc:  # noqa: BLE001 - a timeout or the task's own error, reported per alert
            outcomes.append(Delivery(alert_id, "queued", error=f"not confirmed by the workers yet: {exc}"))
        finally:
            result.forget()
    return outcomes


class AlertSender:
    """Sends each article's alerts in a thread while the round goes on, so that an alert waits for its own
    article only, not for the rest of the round (the embedded runner's counterpart of the alerts queue)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.deliveries: list[Delivery] = []
        self._ids: queue.Queue[int | None] = queue.Queue()
        self._thread = threading.Thread(target=self._send, name="newswatch-alerts", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def finish(self) -> None:
        """Send what is queued, then stop the thread."""
        self._ids.put(None)
        self._thread.join()

    def submit(self, ids: Sequence[int]) -> None:
        """Queue these outbox rows for sending now."""
        for alert_id in ids:
            self._ids.put(alert_id)

    def _send(self) -> None:
        while (alert_id := self._ids.get()) is not None:
            try:
                self.deliveries += deliver_due(self.runtime, ids=[alert_id])
            except Exception:  # noqa: BLE001 - the row stays due: the round's last sweep (or the next) sends it
                LOGGER.warning("alert %s not sent now; it stays due", alert_id, exc_info=True)


@contextmanager
def sending_alongside(runtime: Runtime) -> Iterator[AlertSender]:
    """An `AlertSender` running for the block; on exit it finishes what was queued."""
    sender = AlertSender(runtime)
    sender.start()
    try:
        yield sender
    finally:
        sender.finish()
