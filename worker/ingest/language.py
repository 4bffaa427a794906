"""The language of a text, for a rule's `languages` filter, where the document does not name its own (plain
text files, feed summaries, pages without `lang`).

py3langid (the detector trafilatura uses) is loaded on first use, once per process: its model takes about
half a second to load (a worker loads it before forking, see `preload_detector`), and a call about a
millisecond per few thousand characters. It runs only where no language is declared: a page's metadata or
`lang`, or its feed's `language` / `xml:lang`, win (see `declared_language`). A text with too few letters to
tell is of unknown language, which a `languages` filter does not admit.
"""

from __future__ import annotations

import re

MIN_LETTERS = 10
"""Fewer letters than this ("OK", a date, a figure) say nothing of a language."""
SAMPLE_CHARS = 2_000
"""The start of a long text tells its language as well as all of it (a few hundred words), at a fifth of the cost."""
_LETTER = re.compile(r"[^\W\d_]")
_LANGUAGE_TAG = re.compile(r"[a-zA-Z]{2,3}(?:[-_][a-zA-Z0-9]{1,8})*")


def declared_language(tag: object) -> str | None:
    """A declared language tag as articles carry it ("en-GB" -> "en-gb", "FR" -> "fr"); None for junk."""
    found = _LANGUAGE_TAG.fullmatch(tag.strip()) if isinstance(tag, str) else None
    return found.group().lower().replace("_", "-") if found else None


def preload_detector() -> None:
    """Load the detector's model now, so that prefork children inherit it instead of each loading it."""
    import py3langid

    py3langid.classify("")


def detect_language(text: str) -> str | None:
    """The text's language code (ISO 639-1 where there is one: en, ar, ru), or None when it cannot be told."""
    sample = text[:SAMPLE_CHARS]
    if len(_LETTER.findall(sample, 0, 400)) < MIN_LETTERS and len(_LETTER.findall(sample)) < MIN_LETTERS:
        return None
    import py3langid  # here: loading it costs start-up time where nothing needs it

    language, _ = py3langid.classify(sample)
    return str(language)
