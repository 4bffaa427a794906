"""Feed lists in OPML: nested categories flattened, mistakes located, and a round trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from newswatch.worker.errors import FeedError
from newswatch.worker.ingest.opml import OpmlFeed, read_opml, write_opml

ROOT = Path(__file__).resolve().parents[3]


def test_the_example_feed_list_reads_with_its_categories_flattened() -> None:
    feeds = read_opml(ROOT / "seeds" / "feeds.opml")
    assert len(feeds) == 5
    assert all(f.url.startswith("https://") for f in feeds)
    assert "Al-Monitor" in {f.title for f in feeds}


def test_bad_xml_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "feeds.opml"
    path.write_text(
        '<?xml version="1.0"?>\n<opml version="2.0">\n<body>\n<outline xmlUrl="http://a/x">\n</body></opml>'
    )
    with pytest.raises(FeedError, match=r"line \d+") as caught:
        read_opml(path)
    assert str(path) in str(caught.value)


def test_a_non_http_feed_url_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "feeds.opml"
    path.write_text('<opml version="2.0"><body>\n\n<outline text="x" xmlUrl="javascript:alert(1)"/></body></opml>')
    with pytest.raises(FeedError, match="at line 3"):
        read_opml(path)


def test_written_opml_reads_back(tmp_path: Path) -> None:
    feeds = [OpmlFeed("http://127.0.0.1/a.xml", 'Desk "A" & <B>'), OpmlFeed("http://127.0.0.1/b.xml", None)]
    path = tmp_path / "out.opml"
    path.write_text(write_opml(feeds))
    assert read_opml(path) == [feeds[0], OpmlFeed("http://127.0.0.1/b.xml", "http://127.0.0.1/b.xml")]
