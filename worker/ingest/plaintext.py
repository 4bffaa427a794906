"""Plain text documents (copied pages, wire texts, exports) as articles: first real line is the title, site
furniture is dropped. A document of one paragraph (a wire excerpt, a pasted feed description, a transcript)
is a document too: its first sentence is its title and the whole paragraph its text. Markup and entities in
a pasted description are decoded first.

Copied web pages carry navigation ("Skip to main content") and subscription pitches ("Start your PRO
membership today.") that would otherwise be matched and stored as if they were news. A line is furniture
only when it is short AND matches one of the patterns below, so a real sentence that merely mentions a
subscription stays. Paragraphs are kept verbatim: hit offsets point into this text.
"""

from __future__ import annotations

import re

from newswatch.worker.article import Article
from newswatch.worker.ingest.language import detect_language
from newswatch.worker.ingest.markup import fragment_to_text, has_markup
from newswatch.worker.rules.text import sentence_bounds

MAX_FURNITURE_WORDS = 25

_FURNITURE = [
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        # Navigation and page chrome.
        r"^(skip to|jump to) (the )?(main )?(content|navigation|menu|search)\b",
        r"^(menu|search|home|close|back to top|sign in|log ?in|log out|register|subscribe|share|print|email"
        r"|advertisement|sponsored|related( articles| stories)?|read more|more from .{0,40})\W*$",
        r"^share (this|on)\b",
        r"^follow us( on)?\b",
        # Cookie banners.
        r"\b(we|this (web)?site) uses? cookies\b",
        r"^(accept|reject|manage) (all )?cookies\b",
        # Subscription and membership pitches.
        r"^(start|begin|unlock|get) your .{0,40}\b(membership|subscription|trial|access)\b",
        r"\bfree trial\b",
        r"\b(subscribe|sign up|register) (now|today|for free)\b",
        r"\bsign up for (our|the) .{0,40}newsletters?\b",
        r"\baccess (to )?exclusive\b",
        r"\balready (a )?(subscriber|member)\b",
        r"^join .{0,80}\b(pro|premium|membership|members|insiders?|today)\b",
        r"^(become|upgrade to) (a )?.{0,30}\b(member|subscriber|premium|pro)\b",
    )
]


def is_furniture(line: str) -> bool:
    """Whether a line is site furniture rather than article text."""
    stripped = line.strip()
    if not stripped or len(stripped.split()) > MAX_FURNITURE_WORDS:
        return False
    return any(pattern.search(stripped) for pattern in _FURNITURE)


def parse_text_document(text: str, *, source: str) -> Article:
    """Title from the first real line; body from the rest, furniture dropped, paragraphs kept; the language
    detected (a text file does not name it).

    Empty title and text: nothing to read (an empty file, or only furniture).
    """
    if has_markup(text):
        text = fragment_to_text(text)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept = [line.rstrip() for line in lines if not is_furniture(line)]
    title_index = next((i for i, line in enumerate(kept) if line.strip()), None)
    if title_index is None:
        return Article(source=source, title="", text="")
    title = kept[title_index].strip()
    body: list[str] = []
    for line in kept[title_index + 1 :]:
        if line.strip() or (body and body[-1]):
            body.append(line)
    while body and not body[-1].strip():
        body.pop()
    # Paragraphs separated by one blank line, whatever the source used.
    paragraphs = "\n".join(body)
    paragraphs = re.sub(r"\n\s*\n+", "\n\n", paragraphs).strip()
    if not paragraphs:  # one paragraph only: its first sentence names it, all of it is the text
        return Article(source=source, title=first_sentence(title), text=title, language=detect_language(title))
    return Article(source=source, title=title, text=paragraphs, language=detect_language(f"{title}\n{paragraphs}"))


def first_sentence(paragraph: str, limit: int = 200) -> str:
    """The paragraph's first sentence (cut at a word near `limit` characters); the paragraph if it is one."""
    _, stops = sentence_bounds(paragraph)
    sentence = paragraph[: stops[0]].strip() if stops else paragraph.strip()
    if len(sentence) <= limit:
        return sentence
    return sentence[:limit].rsplit(" ", 1)[0] + "…"
