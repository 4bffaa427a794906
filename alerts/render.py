"""Rendering alerts as email text and HTML with Jinja2: HTML autoescaped, plain text in its own environment.

Article titles and snippets are untrusted: the HTML environment escapes them (a `<script>` in a title
arrives as text), and marks are applied after escaping each piece, never by string replacement.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from alerts.message import AlertMessage
from worker.rules import Snippet


def highlight(snippet: Snippet) -> Markup:
    """A snippet as HTML with each mention in <mark>, every piece escaped."""
    out, last = [], 0
    for start, end in snippet.marks:
        out += [escape(snippet.text[last:start]), Markup("<mark>"), escape(snippet.text[start:end]),
                Markup("</mark>")]
        last = end
    out.append(escape(snippet.text[last:]))
    return Markup("").join(out)


_HTML = Environment(loader=PackageLoader("alerts", "templates"), autoescape=select_autoescape(["html", "j2"]))
_HTML.filters["highlight"] = highlight
_TEXT = Environment(loader=PackageLoader("alerts", "templates"), autoescape=False, keep_trailing_newline=True)


def ordered(messages: Sequence[AlertMessage]) -> list[AlertMessage]:
    """A digest's messages grouped by rule (rules alphabetically), in arrival order within a rule."""
    return [m for _, group in groupby(sorted(messages, key=lambda m: m.rule), key=lambda m: m.rule) for m in group]


def subject(messages: Sequence[AlertMessage]) -> str:
    """`[newswatch] airstrikes: <title>` for one alert, `[newswatch] digest: N alerts (rules)` for several."""
    if len(messages) == 1:
        title = " ".join(messages[0].title.split())
        return f"[newswatch] {messages[0].rule}: {title}"[:250]
    rules = ", ".join(sorted({m.rule for m in messages}))
    return f"[newswatch] digest: {len(messages)} alerts ({rules})"[:250]


def render_html(messages: Sequence[AlertMessage]) -> str:
    return _HTML.get_template("alert.html.j2").render(messages=ordered(messages))


def render_text(messages: Sequence[AlertMessage]) -> str:
    return _TEXT.get_template("alert.txt.j2").render(messages=ordered(messages))
