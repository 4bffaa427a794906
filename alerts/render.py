"""Rendering alerts as email text and HTML with Jinja2: HTML autoescaped, plain text in its own environment.

Article titles and snippets are untrusted: the HTML environment escapes them (a `<script>` in a title
arrives as text), and marks are applied after escaping each piece, never by string replacement.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from newswatch.alerts.message import AlertMessage, Excerpt


def highlight(excerpt: Excerpt) -> Markup:
    """An excerpt as HTML with each mention in <mark>, every piece escaped."""
    return Markup("").join(
        Markup("<mark>%s</mark>") % piece if mark else escape(piece) for piece, mark in excerpt.pieces()
    )


_HTML = Environment(loader=PackageLoader("newswatch.alerts", "templates"), autoescape=select_autoescape(["html", "j2"]))
_HTML.filters["highlight"] = highlight
_TEXT = Environment(loader=PackageLoader("newswatch.alerts", "templates"), autoescape=False, keep_trailing_newline=True)


def ordered(messages: Sequence[AlertMessage]) -> list[AlertMessage]:
    """A digest's messages grouped by rule (rules alphabetically), in arrival order within a rule."""
    return [m for _, group in groupby(sorted(messages, key=lambda m: m.rule), key=lambda m: m.rule) for m in group]


def render_html(messages: Sequence[AlertMessage]) -> str:
    """The HTML body of an alert or a digest (email)."""
    return _HTML.get_template("alert.html.j2").render(messages=ordered(messages))


def render_text(messages: Sequence[AlertMessage]) -> str:
    """The plain-text body of an alert or a digest (email, apprise)."""
    return _TEXT.get_template("alert.txt.j2").render(messages=ordered(messages))
