"""The root of newswatch's errors, here because storage is the layer every other one builds on.

    NewswatchError                   storage/errors.py
     +-- ConfigError                 a setting is missing or invalid (storage/errors.py)
     +-- StorageError                the database cannot be reached or used (storage/errors.py)
     +-- QueryError                  a query's parameters cannot be answered (storage/errors.py)
     |    +-- UnknownRuleError       a rule filter names no rule with stored hits (storage/errors.py)
     +-- AlertError                  a channel could not deliver an alert (alerts/errors.py)
     +-- FetchError                  a URL could not be fetched (worker/errors.py)
     +-- FeedError                   a feed or feed list could not be read at all (worker/errors.py)
     +-- ExtractionError             a page or file held no article text (worker/errors.py)
     +-- RuleError                   a watch-rules file has a mistake (worker/errors.py)

Messages are lowercase, start with the component, and carry the identifying value (URL, file, line,
setting), never a secret such as a webhook URL or a password. The CLI prints any of them as one line.
"""

from __future__ import annotations


class NewswatchError(Exception):
    """Base class: the CLI prints these as one line instead of a traceback."""


class ConfigError(NewswatchError):
    """A setting is missing or invalid."""


class StorageError(NewswatchError):
    """The database cannot be reached, opened or migrated."""


class QueryError(NewswatchError):
    """A query's parameters cannot be answered: a cursor that is not one, a hit id that is not stored."""


class UnknownRuleError(QueryError):
    """A rule filter names no rule with stored hits; `known` lists those that have some."""

    def __init__(self, rule: str, known: list[str]) -> None:
        self.rule = rule
        self.known = known
        listed = ", ".join(known) if known else "none yet"
        super().__init__(f"hits: no stored hits for rule {rule!r}; rules with hits: {listed}")
