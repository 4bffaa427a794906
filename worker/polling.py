"""Polling many feeds at once, and fetching the next pages ahead, bounded overall and per host (the embedded
runner's round).

A feed that never answers costs its poll the whole timeout: polled one after another, N dead feeds cost a
round N timeouts. Here up to `limit` polls run at once in threads (a poll waits on the network and parses
with feedparser; trafilatura, which is not thread-safe, is not involved), at most `per_host` of them to one
host, so a site with many feeds is not fetched all at once. Each outcome is handed back as its poll ends,
and a finished poll makes room for the next one at once, while the caller works on what came back.

Pages are the same story: fetched one at a time, each costs the round its whole wait on the network. A
`FetchAhead` hands its items back in the order they were put, and meanwhile runs the jobs of the next
`limit` items not yet taken in threads (again at most `per_host` at once to one host), so the caller
extracts and stores one article while the next pages arrive.
"""

from __future__ import annotations

import queue
import threading
from collections import Counter, deque
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
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
) -> Generator[tuple[T, R], None, None]:
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


@dataclass
class _Slot(Generic[T, R]):
    item: T
    job: Callable[[], R] | None
    host: str
    future: Future[R] | None = None


class FetchAhead(Generic[T, R]):
    """Items in the order they are put, each handed back with its job's future (None: an item without a
    job, a marker). The jobs of the next `window` items not yet taken (default `limit`) are started, in
    threads, at most `limit` running at once and `per_host` at once per host; the window only counts items
    with a job, so markers cost no fetching ahead. A window wider than `limit` keeps finished jobs' items
    ahead (pages being extracted in other processes) without more requests at once. Thread-safe: items may
    be put from other threads while the caller iterates; `end` says no more will come."""

    def __init__(self, *, limit: int, per_host: int, window: int | None = None) -> None:
        self.limit, self.per_host = limit, per_host
        self.window = max(limit, window or limit)
        self._slots: deque[_Slot[T, R]] = deque()
        self._busy: Counter[str] = Counter()
        self._changed = threading.Condition(threading.RLock())  # a job that ends at once calls back at once
        self._ended = False
        self._error: BaseException | None = None
        self._stopped = False
        self._pool = ThreadPoolExecutor(max_workers=limit, thread_name_prefix="newswatch-fetch")

    @property
    def stopped(self) -> bool:
        """Whether the caller stopped taking items (`close`): whoever puts them may stop too."""
        return self._stopped

    def put(self, item: T, job: Callable[[], R] | None = None, *, host: str = "") -> None:
        """Add `item` at the end; its `job` (fetching from `host`) runs once the item is near enough."""
        with self._changed:
            self._slots.append(_Slot(item, job, host))
            self._start_more()
            self._changed.notify_all()

    def end(self, error: BaseException | None = None) -> None:
        """No more items; with `error`, iterating raises it after the items put before."""
        with self._changed:
            self._ended, self._error = True, error
            self._changed.notify_all()

    def __iter__(self) -> Iterator[tuple[T, Future[R] | None]]:
        while True:
            with self._changed:
                while not self._ready():
                    if not self._slots and self._ended:
                        if self._error is not None:
                            raise self._error
                        return
                    self._changed.wait()
                slot = self._slots.popleft()
                self._start_more()  # the window moved on by one
            yield slot.item, slot.future

    def close(self) -> None:
        """Start no more jobs and wait for those running to end."""
        with self._changed:
            self._stopped = True
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _ready(self) -> bool:
        return bool(self._slots) and (self._slots[0].job is None or self._slots[0].future is not None)

    def _start_more(self) -> None:
        with self._changed:
            window = 0
            for slot in self._slots:
                if slot.job is None:
                    continue
                window += 1
                if window > self.window or self._stopped or self._busy.total() >= self.limit:
                    return
                if slot.future is None and self._busy[slot.host] < self.per_host:
                    self._busy[slot.host] += 1
                    slot.future = self._pool.submit(slot.job)
                    slot.future.add_done_callback(partial(self._ended_job, slot.host))

    def _ended_job(self, host: str, _: Future[R]) -> None:
        with self._changed:
            self._busy[host] -= 1
            self._start_more()
            self._changed.notify_all()
