"""The errors of ingest and rules, under the root every layer shares (tree in `storage.errors`).

    NewswatchError     (storage/errors.py)
     +-- FetchError        a URL could not be fetched (timeout, status, size cap, refused address, binary body)
     +-- FeedError         a feed or feed list could not be read at all
     +-- ExtractionError   a page or file held no article text
     +-- RuleError         a watch-rules file has a mistake (file:line:column)
          +-- RulesFileError   every mistake of a rules file, one a line

Messages are lowercase, start with the component, and carry the identifying value (URL, file, line).
"""

from __future__ import annotations

from collections.abc import Sequence

from newswatch.storage.errors import NewswatchError


class FetchError(NewswatchError):
    """A URL could not be fetched; `transient` errors are worth retrying later, not before `retry_after`
    seconds when the site said so (a 429 or 503 with `Retry-After`)."""

    def __init__(self, message: str, *, url: str, transient: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.transient = transient
        self.retry_after = retry_after


class FeedError(NewswatchError):
    """A feed or an OPML file could not be read at all (a merely malformed feed is not an error)."""

    def __init__(self, message: str, *, source: str) -> None:
        super().__init__(message)
        self.source = source


class ExtractionError(NewswatchError):
    """A fetched page or a file yielded no article text."""

    def __init__(self, message: str, *, source: str) -> None:
        super().__init__(message)
        self.source = source


class RuleError(NewswatchError):
    """A mistake in a rules file, located as `file:line:column`."""

    def __init__(self, message: str, *, file: str, line: int | None = None, column: int | None = None) -> None:
        self.file = file
        self.line = line
        self.column = column
        self.reason = message
        super().__init__(f"{self.location}: {message}")

    @property
    def location(self) -> str:
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


class RulesFileError(RuleError):
    """Every mistake of a rules file, in file order: located at the first, printed one a line, so that one
    run of `newswatch rules check` (or a refused reload) shows all there is to fix."""

    def __init__(self, mistakes: Sequence[RuleError]) -> None:
        first = mistakes[0]
        super().__init__(first.reason, file=first.file, line=first.line, column=first.column)
        self.mistakes = tuple(mistakes)

    def __str__(self) -> str:
        return "\n".join(str(mistake) for mistake in self.mistakes)
