"""HTML fragments (feed titles and summaries, pasted descriptions) to plain text, before matching and storing.

Feeds carry markup and entities in their text (`<p>`, `&#039;`, `&amp;`, sometimes escaped twice); rules match
and offsets point into the plain text this returns, which is also what is stored.
"""

from __future__ import annotations

import html
import re

_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"[ \t\r\f\v]+")
_MARKUP = re.compile(r"<(?:p|br|div|span|a|b|i|em|strong|img|ul|ol|li|h\d)\b[^>]*>|&(?:#\d+|#x[0-9a-f]+|[a-z]+);", re.I)
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-f]+|[a-z]+);", re.I)


def has_markup(text: str) -> bool:
    """Whether a text carries HTML tags or character references (a feed description, pasted as it came)."""
    return bool(_MARKUP.search(text))


def fragment_to_text(value: str | None) -> str:
    """Tags dropped (paragraph and line breaks kept as new lines), entities decoded, whitespace folded."""
    if not value:
        return ""
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>", "\n", value)
    text = html.unescape(_TAG.sub(" ", text))
    if _ENTITY.search(text):  # escaped twice (`&amp;#039;`): one more round
        text = html.unescape(text)
    lines = (_SPACE.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)
