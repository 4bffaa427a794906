"""Extraction processes: a job runs in another process and its result or its own exception comes back; a process
that crashes or overruns fails its job alone, with an error naming the page, and the next job gets a fresh
process. The jobs are real functions of the standard library and of the extraction step (`os.abort` is a
crash as a C library's would be)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from newswatch.worker.errors import ExtractionError
from newswatch.worker.extracting import ExtractionPool
from newswatch.worker.ingest.extract import extract_page

PAGE = (Path(__file__).resolve().parents[1] / "fixtures" / "pipeline" / "article-tanf.html").read_bytes()
URL = "https://news.example.org/tanf"


@pytest.fixture
def pool() -> Iterator[ExtractionPool]:
    extraction = ExtractionPool(2, timeout=60)
    yield extraction
    extraction.close()


def test_a_page_is_extracted_in_another_process_as_it_is_in_this_one(pool: ExtractionPool) -> None:
    there = pool.submit(partial(extract_page, PAGE, url=URL, content_type="text/html"), source=URL).result()

    assert there == extract_page(PAGE, url=URL, content_type="text/html")
    assert pool.submit(os.getpid, source="pid").result() != os.getpid()


def test_a_job_s_own_exception_is_raised_as_it_was_with_the_process_s_traceback(pool: ExtractionPool) -> None:
    with pytest.raises(ValueError, match="invalid literal for int") as raised:
        pool.submit(partial(int, "seven"), source=URL).result()

    assert any("Traceback" in note for note in raised.value.__notes__)


def test_an_error_that_cannot_cross_processes_is_an_extraction_error_naming_it_and_the_page(
    pool: ExtractionPool,
) -> None:
    binary = partial(extract_page, b"\x00\x01 binary", url=URL, content_type=None)  # ExtractionError: keyword args

    with pytest.raises(ExtractionError, match=r"ExtractionError: extract: binary content .*: https://news"):
        pool.submit(binary, source=URL).result()


def test_a_process_that_crashes_fails_its_own_job_only(pool: ExtractionPool) -> None:
    beside = pool.submit(partial(time.sleep, 1), source="beside")  # in the other process meanwhile
    crashed = pool.submit(os.abort, source=URL)

    with pytest.raises(ExtractionError) as raised:
        crashed.result()

    assert str(raised.value) == f"extract: the extraction process died (killed by signal SIGABRT): {URL}"
    assert raised.value.source == URL
    assert beside.result() is None


def test_a_crashed_process_is_replaced_for_the_next_job() -> None:
    pool = ExtractionPool(1, timeout=60)
    try:
        before = pool.submit(os.getpid, source="pid").result()
        with pytest.raises(ExtractionError):
            pool.submit(os.abort, source=URL).result()
        after = pool.submit(os.getpid, source="pid").result()
    finally:
        pool.close()

    assert after != before


def test_a_job_over_the_timeout_is_stopped_and_the_next_one_runs() -> None:
    pool = ExtractionPool(1, timeout=2)
    try:
        started = pool.submit(os.getpid, source="pid").result()  # the process is up: the timeout is the job's
        with pytest.raises(ExtractionError) as raised:
            pool.submit(partial(time.sleep, 60), source=URL).result()
        after = pool.submit(os.getpid, source="pid").result()
    finally:
        pool.close()

    assert str(raised.value) == f"extract: no article after 2s, extraction stopped: {URL}"
    assert after != started


def test_jobs_not_started_when_the_pool_closes_are_cancelled_and_no_more_are_taken() -> None:
    pool = ExtractionPool(1, timeout=60)
    running = pool.submit(partial(time.sleep, 1), source="running")
    waiting = pool.submit(os.getpid, source="waiting")
    deadline = time.monotonic() + 30
    while not running.running() and not running.done() and time.monotonic() < deadline:
        time.sleep(0.01)  # until its slot took it

    pool.close()

    assert running.result() is None and waiting.cancelled()
    with pytest.raises(RuntimeError, match="closed"):
        pool.submit(os.getpid, source="late")
