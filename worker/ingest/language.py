"""The language of a text, for a rule's `languages` filter, where the document does not name its own (plain
text files, feed summaries, pages without `lang`).

py3langid (the detector trafilatura uses) is loaded on first use: its model takes about half a second to
load, and a call about a millisecond per few thousand characters. A text with too few letters to tell is of
unknown language, which a `languages` filter does not admit.
"""

from __future__ import annotations

MIN_LETTERS = 10
"""Fewer letters than this ("OK", a date, a figure) say nothing of a language."""
SAMPLE_CHARS = 10_000
"""The start of a long text tells its language as well as all of it."""


def detect_language(text: str) -> str | None:
    """The text's language code (ISO 639-1 where there is one: en, ar, ru), or None when it cannot be told."""
    sample = text[:SAMPLE_CHARS]
    if sum(char.isalpha() for char in sample) < MIN_LETTERS:
        return None
    import py3langid  # here: loading it costs start-up time where nothing needs it

    language, _ = py3langid.classify(sample)
    return str(language)
