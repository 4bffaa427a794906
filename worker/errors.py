"""Every error newswatch raises on purpose, in one hierarchy.

    NewswatchError
     +-- FetchError        a URL could not be fetched (timeout, status, size cap, binary body)
     +-- FeedError         a feed or feed list could not be read at all
     +-- ExtractionError   a page or file held no article text
     +-- RuleError         a watch-rules file has a mistake (file:line:column)
     +-- AlertError        a channel could not deliver an alert (permanent or not)
     +-- ConfigError       a setting is missing or invalid

Messages are lowercase, start with the component, and carry the identifying value (URL, file, line),
never a secret such as a webhook URL.
"""

from __future__ import annotations


class NewswatchError(Exception):
    """Base class: the CLI prints these as one line instead of a traceback."""


class FetchError(NewswatchError):
    """A URL could not be fetched; `transient` errors are worth retrying later."""

    def __init__(self, message: str, *, url: str, transient: bool = False) -> None:
        super().__init__(message)
        self.url = url
        self.transient = transient


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


class AlertError(NewswatchError):
    """A channel failed to deliver; `permanent` stops retries, `retry_after` (seconds) sets the next try."""

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class ConfigError(NewswatchError):
    """A setting is missing or invalid."""
