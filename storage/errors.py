"""The root of newswatch's errors, here because storage is the layer every other one builds on.

    NewswatchError                   storage/errors.py
     +-- ConfigError                 a setting is missing or invalid (storage/errors.py)
     +-- StorageError                the database cannot be reached or used (storage/errors.py)
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
