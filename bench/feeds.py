"""Real-world feeds through newswatch's own feed parsing: what it reads, warns about and refuses, and whether
the text it keeps is the text the feed holds.

    python bench/feeds.py --corpus ../shared/corpus/feeds

Every feed file under the folder (`.xml`, `.rss`, `.atom`, `.json`, gzipped too) is read with the file size
cap and parsed by `newswatch.worker.ingest.feeds.parse_feed`, as a polled feed is. A file whose header
comment names an HTTP header (`Header: Content-type: ...`, feedparser's test feeds) is parsed with that
content type. Expected outputs are not feeds: `*.serde.json` (feed-rs) and JSON under `output/` (rss-parser).

Counted: ok (no complaint), warning (readable, with the parser's complaint), error (not a feed), crash (a
bug). Checked where the corpus says what a feed holds:
- feedparser's `Expect: ... encoding == 'X'`: titles and summaries equal what feedparser reads when told the
  charset X; and `Expect: ... feed['title'] == '...'` (and the first entry's title or description);
- feed-rs's `*.serde.json`: the feed's title and its entries' titles.
Every kept text is also searched for the marks of a wrong charset (UTF-8 read as Windows-1252, "Ã©", "â€")
and of undecodable bytes (U+FFFD). The corpus is read by path and never copied into the project. Exits
non-zero on a crash or a difference not listed in `KNOWN` with its reason.
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import feedparser

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newswatch.worker.config import Settings  # noqa: E402
from newswatch.worker.errors import NewswatchError  # noqa: E402
from newswatch.worker.ingest.charset import decode  # noqa: E402
from newswatch.worker.ingest.feeds import ParsedFeed, parse_feed  # noqa: E402
from newswatch.worker.ingest.files import document_suffix, read_document  # noqa: E402
from newswatch.worker.ingest.markup import fragment_to_text  # noqa: E402

FEED_SUFFIXES = {".xml", ".rss", ".atom", ".json"}
_HEADER = re.compile(r"^Header:\s*Content-type:\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)
_EXPECT = re.compile(r"^\s*Expect:\s*(.+?)\s*$", re.MULTILINE)
_EXPECT_ENCODING = re.compile(r"encoding == '([^']+)'")
_EXPECT_VALUE = re.compile(
    r"(feed\['title'\]|entries\[0\]\['(?:title|description)'\]|entries\[0\]\.(?:title|summary)) == ('(?:[^'\\]|\\.)*')"
)
_MOJIBAKE = re.compile("Ã[\u0080-\u00bf]|â€|Ð[\u0080-\u00bf]|Ñ[\u0080-\u00bf]|ï»¿|\ufffd")
_LINE = re.compile(r"\(line \d+\)")
KNOWN = {  # where newswatch reads a feed differently from the corpus's expectation, on purpose
    "feedparser/encoding/bozo_linenoise.xml": "valid UTF-8 (’”) and one stray byte: feedparser reads the whole "
    "document as Windows-1252 (â€™â€...), newswatch keeps the UTF-8 and replaces the stray byte",
}


def feed_files(corpus: Path) -> list[Path]:
    """The feeds under `corpus`, expected outputs left out."""
    found = []
    for path in sorted(corpus.rglob("*")):
        if not path.is_file() or document_suffix(path) not in FEED_SUFFIXES or path.name.endswith(".serde.json"):
            continue
        if path.suffix == ".json" and "output" in path.parts:
            continue
        found.append(path)
    return found


def texts(feed: ParsedFeed) -> list[str]:
    """Every text newswatch keeps from a feed: its title, and each entry's title and summary."""
    return [feed.title or ""] + [text for entry in feed.entries for text in (entry.title, entry.summary)]


def reference(body: bytes, charset: str) -> list[str]:
    """The same texts as feedparser reads them when told the right charset."""
    headers = {"content-type": f"application/xml; charset={charset}"}
    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers)
    kept = [fragment_to_text(parsed.feed.get("title")) or ""]
    for raw in parsed.entries:
        summary = raw.get("summary") or (raw["content"][0].get("value", "") if raw.get("content") else "")
        kept += [fragment_to_text(raw.get("title")), fragment_to_text(summary)]
    return kept


def expectations(path: Path, body: bytes, feed: ParsedFeed) -> tuple[int, list[str]]:
    """How many things the corpus says the feed holds, and where the feed differs from them."""
    checks, problems = 0, []
    for expect in _EXPECT.findall(head(body)):
        charset = _EXPECT_ENCODING.search(expect)
        if charset:
            checks += 1
            if texts(feed) != reference(body, charset.group(1)):
                problems.append(f"differs from feedparser told {charset.group(1)}: {texts(feed)[:3]}")
        value = _EXPECT_VALUE.search(expect)
        if value:
            checks += 1
            field, wanted = value.group(1), fragment_to_text(ast.literal_eval(value.group(2)))
            got = _field(feed, field)
            if got != wanted:
                problems.append(f"{field}: {got!r}, expected {wanted!r}")
    serde = path.with_name(path.name.rsplit(".", 1)[0] + ".serde.json")
    if serde.exists():
        checks += 1
        problems += _against_serde(feed, json.loads(serde.read_text(encoding="utf-8")))
    return checks, problems


def head(body: bytes) -> str:
    """The start of a file as text, where feedparser's test feeds say what they are (UTF-16 ones too)."""
    return decode(body[:4096]).text


def _field(feed: ParsedFeed, field: str) -> str | None:
    if field.startswith("feed"):
        return feed.title or ""
    if not feed.entries:
        return None
    entry = feed.entries[0]
    return entry.title if "title" in field else entry.summary


def _against_serde(feed: ParsedFeed, expected: dict[str, Any]) -> list[str]:
    def words(value: str | None) -> str:
        return " ".join(fragment_to_text(value).split())

    problems = []
    title = (expected.get("title") or {}).get("content")
    if title and words(title) != words(feed.title):
        problems.append(f"feed title {feed.title!r}, expected {title!r}")
    wanted = [words((e.get("title") or {}).get("content")) for e in expected.get("entries", [])]
    got = [words(e.title) for e in feed.entries]
    if any(wanted) and wanted != got:
        differing = next(((g, w) for g, w in zip(got, wanted, strict=False) if g != w), (len(got), len(wanted)))
        problems.append(f"entry titles differ: {differing[0]!r}, expected {differing[1]!r}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="a folder of feeds, e.g. ../shared/corpus/feeds")
    args = parser.parse_args()
    settings = Settings()
    outcomes: Counter[str] = Counter()
    reasons: dict[str, dict[str, list[str]]] = {"warning": defaultdict(list), "error": defaultdict(list)}
    mismatches: list[str] = []
    known: list[str] = []
    checked = 0
    mojibake: list[str] = []
    crashes: list[str] = []
    files = feed_files(args.corpus)
    for path in files:
        name = str(path.relative_to(args.corpus))
        try:
            body = read_document(path, max_bytes=settings.max_feed_bytes)
            header = _HEADER.search(head(body))
            content_type = header.group(1) if header else None
            feed = parse_feed(body, url=path.resolve().as_uri(), content_type=content_type)
        except NewswatchError as exc:
            outcomes["error"] += 1
            reason = str(exc).rsplit(": file://", 1)[0].rsplit(f": {path}", 1)[0]
            reasons["error"][reason].append(name)
            continue
        except Exception as exc:  # a crash is what this script exists to find: note it, go on
            outcomes["crash"] += 1
            crashes.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        if feed.error:
            outcomes["warning"] += 1
            reasons["warning"][_LINE.sub("(line …)", feed.error)].append(name)
        else:
            outcomes["ok"] += 1
        checks, problems = expectations(path, body, feed)
        checked += 1 if checks else 0
        if problems and name in KNOWN:
            known.append(f"{name}: {KNOWN[name]}")
        else:
            mismatches += [f"{name}: {problem}" for problem in problems]
        marked = [text for text in texts(feed) if _MOJIBAKE.search(text)]
        if marked:
            mojibake.append(f"{name}: {marked[0][:80]!r}")
    print(f"{len(files)} feeds under {args.corpus}")
    print(", ".join(f"{kind} {outcomes[kind]}" for kind in ("ok", "warning", "error", "crash")))
    for kind in ("warning", "error"):
        for reason, names in sorted(reasons[kind].items(), key=lambda item: (-len(item[1]), item[0])):
            shown = ", ".join(names[:2]) + (f" and {len(names) - 2} more" if len(names) > 2 else "")
            print(f"  {kind} x{len(names)}: {reason}  [{shown}]")
    print(f"expected output: {checked} feeds checked, {len(mismatches)} differences, {len(known)} known and meant")
    for line in mismatches + crashes:
        print(f"  {line}")
    for line in known:
        print(f"  meant: {line}")
    print(f"marks of a wrong charset or undecodable bytes: {len(mojibake)} feeds")
    for line in mojibake:
        print(f"  {line}")
    sys.exit(1 if crashes or mismatches else 0)


if __name__ == "__main__":
    main()
