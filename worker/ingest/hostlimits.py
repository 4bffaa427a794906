"""Per-host limits on outbound requests: at most N at once and M a minute to one host, for every process.

Celery's `rate_limit` is per worker (celery#5732), so the workers share their limits through Redis: one
Lua script per request decides atomically, on Redis's clock, whether a slot is free and the minute's
budget not spent. A slot is a member of a sorted set scored by when its lease ends, so a worker killed
mid-request frees its slot when the lease runs out (the fetch deadline plus a margin), not never. The
embedded runner has the same limits in-process (`LocalHostLimits`).

`LimitedTransport` applies them under the one HTTP client, to every request and redirect; the slot is
held until the response is closed. A request that cannot start within `wait` seconds fails with
`HostBusy`, which `fetch` reports as a transient error (tried again later, like a timeout).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Protocol

import httpx

if TYPE_CHECKING:
    import redis

POLL = 0.05
"""Seconds between two asks for a slot while every slot is taken."""
WINDOW = 60.0
"""The rate limit's window, in seconds."""

_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local at_once, per_minute, lease = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if at_once > 0 and redis.call('ZCARD', KEYS[1]) >= at_once then
  return -1
end
if per_minute > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 60000)
  if redis.call('ZCARD', KEYS[2]) >= per_minute then
    local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    return tonumber(oldest[2]) + 60000 - now + 1
  end
  redis.call('ZADD', KEYS[2], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[2], 60000)
end
if at_once > 0 then
  redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], lease)
end
return 0
"""


class HostBusy(httpx.TransportError):
    """No slot for the host within the wait: its limits are spent for now."""


class HostLimits(Protocol):
    """Slots per host: `try_acquire` returns 0 with a slot taken, else seconds to wait before asking again."""

    def try_acquire(self, host: str, token: str) -> float: ...

    def release(self, host: str, token: str) -> None: ...


class RedisHostLimits:
    """Limits shared by every process using the same Redis (keys `newswatch:host:*`)."""

    def __init__(self, client: redis.Redis, *, at_once: int | None, per_minute: int | None, lease: float) -> None:
        self.redis = client
        self.at_once, self.per_minute, self.lease_ms = at_once or 0, per_minute or 0, int(lease * 1000)
        self._script = client.register_script(_ACQUIRE)

    def try_acquire(self, host: str, token: str) -> float:
        keys = [f"newswatch:host:{host}:slots", f"newswatch:host:{host}:recent"]
        answer = int(self._script(keys=keys, args=[token, self.at_once, self.per_minute, self.lease_ms]))
        return 0.0 if answer == 0 else POLL if answer < 0 else answer / 1000

    def release(self, host: str, token: str) -> None:
        if self.at_once:
            self.redis.zrem(f"newswatch:host:{host}:slots", token)


class LocalHostLimits:
    """The same limits within one process (the embedded runner)."""

    def __init__(
        self, *, at_once: int | None, per_minute: int | None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.at_once, self.per_minute, self.clock = at_once, per_minute, clock
        self._busy: Counter[str] = Counter()
        self._recent: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def try_acquire(self, host: str, token: str) -> float:
        with self._lock:
            if self.at_once and self._busy[host] >= self.at_once:
                return POLL
            if self.per_minute:
                now = self.clock()
                recent = self._recent.setdefault(host, deque())
                while recent and recent[0] <= now - WINDOW:
                    recent.popleft()
                if len(recent) >= self.per_minute:
                    return recent[0] + WINDOW - now
                recent.append(now)
            self._busy[host] += 1
            return 0.0

    def release(self, host: str, token: str) -> None:
        with self._lock:
            self._busy[host] -= 1


class LimitedTransport(httpx.BaseTransport):
    """`inner`, taking a slot of the request's host first and giving it back when the response is closed."""

    def __init__(self, inner: httpx.BaseTransport, limits: HostLimits, *, wait: float) -> None:
        self.inner, self.limits, self.wait = inner, limits, wait

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host.lower()
        token = uuid.uuid4().hex
        self._acquire(host, token)
        try:
            response = self.inner.handle_request(request)
        except BaseException:
            self.limits.release(host, token)
            raise
        assert isinstance(response.stream, httpx.SyncByteStream)
        release = _once(lambda: self.limits.release(host, token))
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_Releasing(response.stream, release),
            extensions=response.extensions,
        )

    def _acquire(self, host: str, token: str) -> None:
        deadline = time.monotonic() + self.wait
        while (pause := self.limits.try_acquire(host, token)) > 0:
            if pause > deadline - time.monotonic():
                raise HostBusy(f"host {host} busy: its request limits are spent for now (NEWSWATCH_HOST_WAIT)")
            time.sleep(pause)

    def close(self) -> None:
        self.inner.close()


def _once(action: Callable[[], None]) -> Callable[[], None]:
    done = threading.Event()

    def run() -> None:
        if not done.is_set():
            done.set()
            action()

    return run


class _Releasing(httpx.SyncByteStream):
    def __init__(self, raw: httpx.SyncByteStream, release: Callable[[], None]) -> None:
        self.raw, self.release = raw, release

    def __iter__(self) -> Iterator[bytes]:
        yield from self.raw

    def close(self) -> None:
        try:
            self.raw.close()
        finally:
            self.release()
