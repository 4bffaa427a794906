"""`newswatch scan`'s pipeline: files, folders and URLs ingested now, in the order given, each read ahead.

The documents are read ahead as a round's pages are (worker.embedded.fetching_ahead): URLs fetched in
threads, documents extracted in the extraction processes (worker.extracting, NEWSWATCH_EXTRACT_PROCESSES) or,
with one, in the storing thread; each is stored here, in turn, with its hits and alerts, through the same
`pipeline.ingest` the rounds and the tasks use. A document's error comes back from its extraction process as
its message (`pipeline.extract_input`), so it reads the same whatever ran it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from typing import TypeAlias

from newswatch.storage.errors import NewswatchError
from newswatch.worker import pipeline
from newswatch.worker.embedded import extracting, fetching_ahead
from newswatch.worker.ingest.inputs import expand_inputs, fetch_input
from newswatch.worker.polling import FetchAhead, host_of
from newswatch.worker.rules import RuleSet
from newswatch.worker.runtime import Runtime

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class Scanned:
    """One scan input: what was stored, or the error that stopped it."""

    source: str
    result: pipeline.Ingested | None = None
    error: str | None = None


def scan(runtime: Runtime, inputs: Iterable[str]) -> Iterator[Scanned]:
    """Ingest files, folders and URLs now, one result per document, in the order given; alerts are queued in
    the outbox.

    An input that cannot be read (a path that does not exist, a file without text, an extraction process
    lost) is one error result, and the inputs after it are scanned all the same."""
    rules = runtime.rules()
    reading: ScanAhead
    with fetching_ahead(runtime) as reading:
        for given in inputs:
            try:
                items = list(expand_inputs([given]))
            except (NewswatchError, OSError) as exc:
                reading.put(Scanned(given, error=str(exc)))
                continue
            for item in items:
                reading.put(item, partial(_read_input, runtime, item), host=host_of(item))
        reading.end()
        for document, read in reading:
            yield document if isinstance(document, Scanned) else _scan_one(runtime, document, read, rules)


ScanAhead: TypeAlias = FetchAhead[str | Scanned, Callable[[], pipeline.Extracted | str]]
"""What a scan reads ahead in order: each document, with how to get its article or its error; an input that
could not be expanded, as its error result."""


def _read_input(runtime: Runtime, item: str) -> Callable[[], pipeline.Extracted | str]:
    """One scan input's page fetched, if it is a URL (in a fetching thread), handed on to be extracted."""
    page = fetch_input(item, settings=runtime.settings, client=runtime.client)
    read = partial(pipeline.extract_input, item, page=page, max_bytes=runtime.settings.max_page_bytes)
    return extracting(runtime, read, source=item)


def _scan_one(
    runtime: Runtime, item: str, read: Future[Callable[[], pipeline.Extracted | str]] | None, rules: RuleSet
) -> Scanned:
    """One document, read (fetched, extracted) ahead, stored with its hits and alerts; or its error."""
    assert read is not None
    try:
        extracted = read.result()()
        if isinstance(extracted, str):
            return Scanned(item, error=extracted)
        ingested = pipeline.ingest(
            extracted.article,
            rules=rules,
            settings=runtime.settings,
            default_channels=runtime.default_channels,
            fingerprint=extracted.fingerprint,
        )
    except (NewswatchError, OSError) as exc:
        LOGGER.debug("scan failed on %s", item, exc_info=True)
        return Scanned(item, error=str(exc))
    return Scanned(item, ingested)
