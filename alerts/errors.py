"""The one error a channel raises; `alerts.delivery` alone decides what happens next (see storage.errors)."""

from __future__ import annotations

from newswatch.storage.errors import NewswatchError


class AlertError(NewswatchError):
    """A channel failed to deliver; `permanent` stops retries, `retry_after` (seconds) sets the next try.

    `unknown_outcome`: the alert was sent but no answer came (a read timeout): the receiver may have it.
    Such an alert is retried a few times with the same idempotency key, then marked `unknown`, not `failed`.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        unknown_outcome: bool = False,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after
        self.unknown_outcome = unknown_outcome
