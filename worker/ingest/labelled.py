"""Labelled texts for `newswatch rules eval`: one JSON object a line, read into articles.

    {"id": "a1", "title": "...", "text": "...", "labels": {"airstrikes": true, "commanders": false}}
    {"id": "a2", "path": "pages/report.html", "labels": {"border-crossings": true}, "split": "heldout"}

`text` is read as a plain text document (a one-line item is a document: its first sentence its title);
`path` names a document file, relative to the labelled file. A rule missing from `labels` is not scored
on that line. Mistakes name the file and line.
"""

from __future__ import annotations

import json
from pathlib import Path

from newswatch.worker.article import Article
from newswatch.worker.config import get_settings
from newswatch.worker.errors import ExtractionError, RuleError
from newswatch.worker.ingest.extract import extract_file
from newswatch.worker.ingest.plaintext import parse_text_document
from newswatch.worker.rules.evaluation import Labelled


def read_labelled(path: Path, *, split: str | None = None) -> list[Labelled]:
    """Every labelled text of the file (of one `split`, when given); a mistake is a `RuleError` at its line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise RuleError(f"cannot read labelled file: {exc.strerror}", file=str(path)) from None
    items = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise RuleError(f"not JSON: {exc.msg}", file=str(path), line=number, column=exc.colno) from None
        if not isinstance(data, dict) or not isinstance(data.get("labels"), dict):
            raise RuleError("expected an object with `labels` (rule name: true or false)", file=str(path), line=number)
        if split is not None and data.get("split", "dev") != split:
            continue
        labels = data["labels"]
        if not all(isinstance(value, bool) for value in labels.values()):
            raise RuleError("`labels` values must be true or false", file=str(path), line=number)
        items.append(Labelled(str(data.get("id", number)), _article(data, path, number), labels))
    return items


def to_article(text: str, *, source: str = "example", title: str | None = None) -> Article:
    """A text as the pipeline reads a plain text document; a given title replaces the first line's."""
    if title:
        return Article(source=source, title=title, text=text)
    return parse_text_document(text, source=source)


def _article(data: dict[str, object], path: Path, number: int) -> Article:
    raw_title = data.get("title")
    title = raw_title if isinstance(raw_title, str) else None
    if isinstance(data.get("text"), str):
        return to_article(str(data["text"]), source=f"{path}:{number}", title=title)
    if isinstance(data.get("path"), str):
        try:
            article = extract_file(path.parent / str(data["path"]), max_bytes=get_settings().max_page_bytes)
        except ExtractionError as exc:
            raise RuleError(str(exc), file=str(path), line=number) from None
        return Article(**{**article.__dict__, "title": title or article.title})
    raise RuleError("expected `text` or `path`", file=str(path), line=number)
