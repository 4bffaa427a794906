"""Extraction in processes beside the embedded round: pages are extracted on every core while one thread stores.

trafilatura is not thread-safe (trafilatura#840) and holds the GIL while it works: in one process, pages are
extracted one at a time, and the threads that store, fetch and send alerts wait their turn. With
NEWSWATCH_EXTRACT_PROCESSES above 1, the embedded runner hands the pure step (a fetched page in, an
`Article` and its story fingerprint out: `pipeline.extract_entry`, and for `newswatch scan`
`pipeline.extract_input`) to an `ExtractionPool` of that many processes, and stores the articles in feed
(or input) order in its own thread, as with one process: the store stays in one place, and an entry is
marked done only in the transaction that stores its article and hits.

Each process takes one job at a time, so what happens to a job is its own: a process that dies (a crash in
a C library, the out-of-memory killer) or overruns the timeout (trafilatura has no timeout of its own,
trafilatura#704; the process is killed) fails that job alone, with an `ExtractionError` naming the page, and
a fresh process takes its place. The runner records that error on the entry, and the sweep hands the entry
on again later, as after any other failure.

Processes are forked by multiprocessing's fork server, which has imported the pipeline once: forking the
runner itself, whose threads may hold locks at that moment, could leave a child stuck. Each process loads
the language detector once, when it starts, and ignores Ctrl-C (the runner stops it). As with any start
method but `fork`, a script of its own that runs the pipeline must guard its entry point with
`if __name__ == "__main__":` (a process starts by importing the script's module).
"""

from __future__ import annotations

import logging
import pickle
import queue
import signal
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import suppress
from dataclasses import dataclass
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkServerContext, ForkServerProcess
from typing import Any, Generic, TypeVar

from newswatch.worker.errors import ExtractionError

LOGGER = logging.getLogger(__name__)

R = TypeVar("R")

PRELOAD = ["newswatch.worker.pipeline"]
"""Imported once by the fork server, so that each process starts with them (and the job functions) loaded."""
STOP_WAIT = 5.0
"""Seconds a process is given to exit when the pool closes, before it is killed."""


@dataclass
class _Job(Generic[R]):
    future: Future[R]
    call: Callable[[], R]
    source: str


class ExtractionPool:
    """`processes` extraction processes, each running one job at a time; started on first use.

    `submit` is thread-safe and returns at once. A job whose process dies or takes longer than `timeout`
    seconds fails with an `ExtractionError`; an exception the job raises is raised by its future as it
    was (as an `ExtractionError` naming it if it cannot be sent between processes).
    """

    def __init__(self, processes: int, *, timeout: float) -> None:
        self.processes = processes
        self.timeout = timeout
        self._jobs: queue.SimpleQueue[_Job[Any] | None] = queue.SimpleQueue()
        self._slots: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, job: Callable[[], R], *, source: str) -> Future[R]:
        """Run `job` (picklable: a module-level function, or a `functools.partial` of one) in a process;
        `source` names its page in errors."""
        future: Future[R] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("extract: the extraction pool is closed")
            if not self._slots:
                self._start()
            self._jobs.put(_Job(future, job, source))
        return future

    def close(self) -> None:
        """Stop the processes; jobs not yet started are cancelled."""
        with self._lock:
            self._closed = True
            slots = list(self._slots)
        for _ in slots:
            self._jobs.put(None)
        for slot in slots:
            slot.join()

    def _start(self) -> None:
        context = get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        level = logging.getLogger().getEffectiveLevel()
        for number in range(self.processes):
            slot = threading.Thread(
                target=self._run_slot, args=(context, level), name=f"newswatch-extract-{number}", daemon=True
            )
            slot.start()
            self._slots.append(slot)

    def _run_slot(self, context: ForkServerContext, level: int) -> None:
        """One slot: a thread that hands its process one job at a time and replaces it when it is lost."""
        worker: _Worker | None = None
        try:
            while (job := self._jobs.get()) is not None:
                if self._closed:
                    job.future.cancel()
                    continue
                if not job.future.set_running_or_notify_cancel():
                    continue
                try:
                    worker = worker if worker is not None and worker.alive else _Worker(context, level)
                    job.future.set_result(worker.run(job.call, timeout=self.timeout, source=job.source))
                except _Lost as lost:
                    worker = None
                    LOGGER.error("%s", lost.error)
                    job.future.set_exception(lost.error)
                except BaseException as exc:  # noqa: BLE001 - the job's own error, raised by its future
                    job.future.set_exception(exc)
        finally:
            if worker is not None:
                worker.stop()


class _Lost(Exception):
    """The process running a job died, or was killed for overrunning; `error` is the job's."""

    def __init__(self, error: ExtractionError) -> None:
        super().__init__(str(error))
        self.error = error


class _Worker:
    """One extraction process and the pipe its jobs and results go through."""

    def __init__(self, context: ForkServerContext, level: int) -> None:
        self.connection, theirs = context.Pipe()
        self.process: ForkServerProcess = context.Process(
            target=_serve_jobs, args=(theirs, level), name="newswatch-extract", daemon=True
        )
        self.process.start()
        theirs.close()

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def run(self, job: Callable[[], R], *, timeout: float, source: str) -> R:
        """The job's result, run in the process; raises the job's exception, or `_Lost`."""
        try:
            self.connection.send(job)
            ready = wait([self.connection, self.process.sentinel], timeout)
            reply = self.connection.recv() if self.connection in ready else None
        except (EOFError, OSError):  # the process died before or while it answered
            reply, ready = None, [self.process.sentinel]
        if reply is None:
            if ready:
                message = f"extract: the extraction process died ({self._ending()}): {source}"
            else:
                message = f"extract: no article after {timeout:g}s, extraction stopped: {source}"
            self._end()
            raise _Lost(ExtractionError(message, source=source))
        outcome, value = reply
        if outcome == "ok":
            return value
        if outcome == "raised":
            raise value
        raise ExtractionError(f"extract: {value}: {source}", source=source)

    def stop(self) -> None:
        """Ask the process to exit; kill it if it does not in time."""
        with suppress(OSError):
            self.connection.send(None)
        self.process.join(STOP_WAIT)
        self._end()

    def _end(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.connection.close()

    def _ending(self) -> str:
        """How the process ended: its exit code or the signal that killed it."""
        self.process.join(STOP_WAIT)
        code = self.process.exitcode
        if code is not None and code < 0:
            return f"killed by signal {signal.Signals(-code).name}"
        return f"exit code {code}"


def _serve_jobs(connection: Connection, level: int) -> None:
    """The process's loop: run each job received and send back ("ok", result), ("raised", exception), or
    ("failed", what it was) for an exception that cannot be sent."""
    from newswatch.worker.ingest.language import preload_detector
    from newswatch.worker.logs import configure_logging

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    configure_logging(level)
    preload_detector()
    while True:
        try:
            job = connection.recv()
        except EOFError:
            return
        if job is None:
            return
        try:
            reply: tuple[str, Any] = ("ok", job())
        except BaseException as exc:  # noqa: BLE001 - sent back to be raised in the runner
            reply = _failure(exc)
        connection.send(reply)


def _failure(exc: BaseException) -> tuple[str, Any]:
    """A job's exception as the runner can receive it, with its traceback in a note; one that does not survive
    pickling (its constructor takes other arguments than its message) as its type and message."""
    exc.add_note("".join(traceback.format_exception(exc)).rstrip())
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001 - any failure to pickle or unpickle
        return ("failed", f"{type(exc).__name__}: {exc}")
    return ("raised", exc)
