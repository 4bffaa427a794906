"""Polling many feeds at once, bounded overall and per host (the embedded runner's round).

A feed that never answers costs its poll the whole timeout: polled one after another, N dead feeds cost a
round N timeouts. Here up to `limit` polls run at once in threads (a poll waits on the network and parses
with feedparser; trafilatura, which is not thread-safe, is not involved), at most `per_host` of them to one
host, so a site with many feeds is not fetched all at once. Each outcome is handed back as its poll ends,
and a finished poll makes room for the next one at once, while the caller works on what came back.
"""

from __future__ import annotations

import queue
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Generic, TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")
R = TypeVar("R")


def host_of(url: str) -> str:
    """The host a URL's requests go to, in lower case (the unit of politeness)."""
    return (urlsplit(url).hostname or "").lower()


def poll_at_once(
    items: Sequence[T], poll: Callable[[T], R], *, host: Callable[[T], str], limit: int, per_host: int
) -> Iterator[tuple[T, R]]:
    """Run `poll` on every item in threads, `limit` at once and `per_host` at once per host; yield each
    item with its outcome as it ends. `poll` reports failures in its outcome: an exception it lets through
    is re-raised here, after the polls already running have ended."""
    if not items:
        return
    rounds = _Bounded(items, poll, host=host, limit=limit, per_host=per_host)
    with ThreadPoolExecutor(max_workers=limit, thread_name_prefix="newswatch-poll") as pool:
        rounds.pool = pool
        try:
            rounds.start_more()
            for _ in items:
                item, future = rounds.finished.get()
                yield item, future.result()
        finally:
            rounds.stop()


class _Bounded(Generic[T, R]):
    """The items waiting per host and the counts running; a poll that ends starts the next that may run."""

    def __init__(
        self, items: Sequence[T], poll: Callable[[T], R], *, host: Callable[[T], str], limit: int, per_host: int
    ) -> None:
        self.poll, self.limit, self.per_host = poll, limit, per_host
        self.waiting: dict[str, deque[T]] = {}
        for item in items:
            self.waiting.setdefault(host(item), deque()).append(item)
        self.busy: Counter[str] = Counter()
        self.finished: queue.Queue[tuple[T, Future[R]]] = queue.Queue()
        self.lock = threading.RLock()  # a poll that ended before its callback was added calls back at once
        self.stopped = False
        self.pool: ThreadPoolExecutor | None = None

    def start_more(self) -> None:
        with self.lock:
            while not self.stopped and sum(self.busy.values()) < self.limit:
                name = next((h for h in self.waiting if self.busy[h] < self.per_host), None)
                if name is None:
                    return
                item = self.waiting[name].popleft()
                if not self.waiting[name]:
                    del self.waiting[name]
                self.busy[name] += 1
                assert self.pool is not None
                self.pool.submit(self.poll, item).add_done_callback(partial(self._ended, item, name))

    def _ended(self, item: T, name: str, future: Future[R]) -> None:
        with self.lock:
            self.busy[name] -= 1
        self.finished.put((item, future))
        self.start_more()

    def stop(self) -> None:
        with self.lock:
            self.stopped = True
