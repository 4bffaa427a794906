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
        # Title and text in composed form (NFC, as the web writes them): in decomposed text an accent is a character
        # of its own, which would split "Öncüpınar" into three words for the rules. Stored and matched alike.
        for name in ("title", "text"):
            value = getattr(self, name)
            if not unicodedata.is_normalized("NFC", value):
                object.__setattr__(self, name, unicodedata.normalize("NFC", value))
