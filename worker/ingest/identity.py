"""What makes two arrivals the same article: a canonical URL and a hash of the normalised content."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import urlsplit

from courlan import normalize_url

_SPACE = re.compile(r"\s+")


def canonical_url(url: str) -> str:
    """The dedup key of a URL: lower-cased host, no tracking parameters, no fragment.

    courlan also drops some real parameters, so the original URL is kept beside this key, never replaced.
    """
    try:
        return normalize_url(url, strict=True, trailing_slash=False)
    except (ValueError, TypeError):
        return url.split("#", 1)[0]


def content_hash(title: str, text: str) -> str:
    """A hash of title and text insensitive to whitespace and Unicode form, so re-fetches compare equal."""
    normalised = unicodedata.normalize("NFKC", f"{title}\n{text}")
    normalised = _SPACE.sub(" ", normalised).strip().casefold()
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def site_domain(url: str | None) -> str | None:
    """The host of a URL without `www.`, the value `source:` rules compare against."""
    if not url:
        return None
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.") or None
