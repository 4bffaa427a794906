"""How stored hits print: a table for people (rich when installed, else plain lines), JSON, JSON lines and CSV
for scripts, one hit in full, and hits per rule per day as a small chart.

Marks: the words a rule matched and the words searched for are bold (rich) or wrapped in `**` (plain).
Every format writes row by row, so a million hits print in the memory of one.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import IO, TYPE_CHECKING, Any

import click

from newswatch.storage.hit_queries import DayCount, HitRow
from newswatch.storage.search import SearchQuery, mark_spans

if TYPE_CHECKING:
    from rich.text import Text

CSV_COLUMNS = [
    "id", "date", "published", "rule", "severity", "score", "title", "source", "url",
    "matches", "snippet", "found", "rules_version", "article_id",
]  # fmt: skip
BARS = " ▁▂▃▄▅▆▇█"


def hit_json(row: HitRow) -> dict[str, Any]:
    """A stored hit with its article, for `--json`, `--jsonl` and `hits show --json`."""
    hit, article = row.hit, row.article
    return {
        "id": hit.id,
        "rule": hit.rule,
        "severity": hit.severity,
        "date": hit.article_date.isoformat() if hit.article_date else None,
        "created_at": hit.created_at.isoformat() if hit.created_at else None,
        "article": {
            "id": article.id,
            "title": article.title,
            "url": article.url,
            "source": article.source,
            "site_name": article.site_name,
            "domain": article.domain,
            "published": article.published_at.isoformat() if article.published_at else None,
        },
        "matches": matched_texts(row),
        "snippet": hit.snippet,
        "score": hit.score,
        "rules_version": hit.rules_version,
        "found": {"text": row.found.text, "marks": [list(m) for m in row.found.marks]} if row.found else None,
        "evidence": hit.evidence,
    }


def matched_texts(row: HitRow) -> list[str]:
    """The distinct texts the rule matched, in order of appearance."""
    return list(dict.fromkeys(str(m["text"]) for m in row.hit.evidence.get("matches", ())))


def write_json(rows: Iterable[HitRow], out: IO[str], *, more: int, next_cursor: str | None) -> int:
    """One JSON document, `{"hits": [...], "more": N, "next_cursor": ...}`, written hit by hit; returns how many."""
    count = 0
    out.write('{"hits": [')
    for count, row in enumerate(rows, 1):
        out.write(("," if count > 1 else "") + "\n" + json.dumps(hit_json(row), ensure_ascii=False))
    out.write(f'\n], "more": {more}, "next_cursor": {json.dumps(next_cursor)}}}\n')
    return count


def write_jsonl(rows: Iterable[HitRow], out: IO[str]) -> int:
    """One JSON object per hit, one per line; returns how many."""
    count = 0
    for row in rows:
        out.write(json.dumps(hit_json(row), ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(rows: Iterable[HitRow], out: IO[str]) -> int:
    """A header and one line per hit (`CSV_COLUMNS`), written as they come; returns how many."""
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for row in rows:
        count += 1
        hit, article = row.hit, row.article
        published = article.published_at.isoformat() if article.published_at else ""
        writer.writerow(
            [
                hit.id, hit.article_date.isoformat() if hit.article_date else "", published, hit.rule,
                hit.severity, hit.score, article.title, source_name(row), article.url or "",
                "; ".join(matched_texts(row)), hit.snippet, row.found.text if row.found else "",
                hit.rules_version, article.id,
            ]
        )  # fmt: skip
    return count


def source_name(row: HitRow) -> str:
    """Where the article came from, as a reader names it: the site, else the domain, else the file or URL."""
    article = row.article
    return article.site_name or article.domain or article.source


def print_table(rows: Iterable[HitRow], search: SearchQuery | None) -> int:
    """Hits for people: on a terminal with rich installed a table (date, rule, severity, title with the search
    words marked, source, matches), else a few plain lines each, which grep and less read well."""
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        return _print_plain(rows, search)
    console = Console()
    if not console.is_terminal:
        return _print_plain(rows, search)
    table = Table("date", "rule", "severity", "title", "source", "matches", show_lines=True)
    count = 0
    for row in rows:
        title = _rich(row.article.title, mark_spans(row.article.title, search) if search else [], "reverse")
        if row.found:
            title.append("\n")
            title.append_text(_rich(row.found.text, row.found.marks, "reverse", style="dim"))
        matches = _rich(", ".join(matched_texts(row)), [], "")
        matches.stylize("bold")
        table.add_row(_date(row), row.hit.rule, row.hit.severity, title, source_name(row), matches)
        count += 1
    if count:
        console.print(table)
    return count


def _print_plain(rows: Iterable[HitRow], search: SearchQuery | None) -> int:
    count = 0
    for row in rows:
        title = row.article.title
        title = _plain(title, mark_spans(title, search)) if search else title
        click.echo(f"{_date(row)}  {row.hit.rule}  {row.hit.severity}  {title}")
        matched = ", ".join(f"**{text}**" for text in matched_texts(row))
        click.echo(f"    {source_name(row)}  matches: {matched}")
        if row.found:
            click.echo(f"    {_plain(row.found.text, row.found.marks)}")
        count += 1
    return count


def print_hit_detail(row: HitRow) -> None:
    """One hit in full: title, source, publish date, link, rule and version, each match in its sentence."""
    hit, article = row.hit, row.article
    published = f"{article.published_at:%Y-%m-%d %H:%M} UTC" if article.published_at else "not given"
    fetched = f"{article.fetched_at:%Y-%m-%d %H:%M} UTC" if article.fetched_at else "?"
    click.echo(click.style(article.title, bold=True))
    click.echo(f"  source:     {source_name(row)}" + (f" ({article.domain})" if article.site_name else ""))
    click.echo(f"  published:  {published} (stored {fetched})")
    click.echo(f"  link:       {article.url or article.source}")
    click.echo(f"  rule:       {hit.rule} (severity {hit.severity}, score {hit.score:g}, rules {hit.rules_version})")
    click.echo(f"  matched:    {', '.join(matched_texts(row))}")
    for snippet in hit.evidence.get("snippets", ()):
        click.echo(f"  - {_plain(str(snippet['text']), snippet.get('marks', ()))}")


def print_stats(counts: list[DayCount], first: date, last: date) -> None:
    """Hits per rule per day, one bar a day scaled to the busiest day, then each rule's total and peak."""
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    per_rule: dict[str, dict[date, int]] = {}
    for count in counts:
        per_rule.setdefault(count.rule, {})[count.day] = count.hits
    if not per_rule:
        click.echo(f"no hits dated {first} to {last}")
        return
    peak = max(count.hits for count in counts)
    width = max(len(rule) for rule in per_rule)
    click.echo(f"hits per day, {first} to {last} (UTC, by publish date; one column a day, full = {peak})")
    for rule, by_day in sorted(per_rule.items()):
        bars = "".join(_bar(by_day.get(day, 0), peak) for day in days)
        total = sum(by_day.values())
        click.echo(f"{rule:<{width}}  {bars}  {_hits(total)}, at most {max(by_day.values())} a day")


def stats_json(counts: list[DayCount]) -> dict[str, Any]:
    """The per-day counts for scripts: `{"rules": {rule: {day: hits}}}`."""
    rules: dict[str, dict[str, int]] = {}
    for count in counts:
        rules.setdefault(count.rule, {})[count.day.isoformat()] = count.hits
    return {"rules": rules}


def _hits(count: int) -> str:
    return f"{count} hit" if count == 1 else f"{count} hits"


def _bar(hits: int, peak: int) -> str:
    if not hits:
        return "·"
    return BARS[max(1, round(hits / peak * (len(BARS) - 1)))]


def _date(row: HitRow) -> str:
    return f"{row.hit.article_date:%Y-%m-%d %H:%M}" if row.hit.article_date else "?"


def _plain(value: str, marks: Iterable[Sequence[int]]) -> str:
    """`value` with each marked span wrapped in `**`."""
    out, last = [], 0
    for start, end in marks:
        out += [value[last:start], "**", value[start:end], "**"]
        last = end
    return "".join([*out, value[last:]])


def _rich(value: str, marks: Iterable[Sequence[int]], mark_style: str, style: str = "") -> Text:
    from rich.text import Text

    text = Text(value, style=style)
    for start, end in marks:
        text.stylize(mark_style, start, end)
    return text
