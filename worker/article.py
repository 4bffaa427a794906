"""The article: what every input (feed entry, web page, text file) becomes before it is matched and stored."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Article:
    """One extracted document; `title` and `text` are the two fields watch rules search."""

    source: str
    """Where it came from as the user named it: the URL fetched or the file path read."""
    title: str
    text: str
    url: str | None = None
    """The article's own URL (after redirects), if it has one; files have none."""
    author: str | None = None
    published: datetime | None = None
    site_name: str | None = None
    language: str | None = None
    domain: str | None = None
    """The site's host name without `www.`, for `source:` rules."""

    def __post_init__(self) -> None:
        # Title and text in composed form (NFC, as the web writes them), without invisible break hints: in
        # decomposed text an accent is a character of its own, and a soft hyphen or zero-width space sits inside a
        # word ("Solei\u00admani"); either would split a name into pieces for the rules. Stored and matched alike.
        for name in ("title", "text"):
            value = original = getattr(self, name)
            if not value.isascii():
                if any(mark in value for mark in _INVISIBLE):
                    value = value.translate(_WITHOUT_INVISIBLE)
                if not unicodedata.is_normalized("NFC", value):
                    value = unicodedata.normalize("NFC", value)
                if value is not original:
                    object.__setattr__(self, name, value)


_INVISIBLE = "\u00ad\u200b\u2060\ufeff"
"""Soft hyphen, zero-width space, word joiner and zero-width no-break space: break hints, not text."""
_WITHOUT_INVISIBLE = dict.fromkeys(map(ord, _INVISIBLE))
