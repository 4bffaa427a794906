"""Local documents: read up to the size cap, gzip-compressed ones decompressed only up to it."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from newswatch.worker.errors import ExtractionError
from newswatch.worker.ingest.files import document_suffix, read_document

TEXT = b"Airstrikes hit the border crossing on Tuesday.\n" * 100


def test_a_plain_file_under_the_cap_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "report.txt"
    path.write_bytes(TEXT)
    assert read_document(path, max_bytes=len(TEXT)) == TEXT


def test_a_gzipped_file_is_decompressed(tmp_path: Path) -> None:
    path = tmp_path / "report.txt.gz"
    path.write_bytes(gzip.compress(TEXT))
    assert read_document(path, max_bytes=len(TEXT)) == TEXT


@pytest.mark.parametrize("name", ["big.txt", "big.txt.gz"])
def test_a_file_over_the_cap_is_refused_naming_the_file_and_the_cap(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(gzip.compress(TEXT) if name.endswith(".gz") else TEXT)
    with pytest.raises(ExtractionError) as caught:
        read_document(path, max_bytes=1000)
    assert str(path) in str(caught.value)
    assert "cap of 1000 bytes" in str(caught.value) and "NEWSWATCH_MAX_PAGE_BYTES" in str(caught.value)


def test_decompression_stops_at_the_cap(tmp_path: Path) -> None:
    # Cut short after its first megabyte: read to its end, it would be an error, not the cap.
    compressed = gzip.compress(bytes(20_000_000), compresslevel=1)
    path = tmp_path / "bomb.txt.gz"
    path.write_bytes(compressed[: len(compressed) // 2])
    with pytest.raises(ExtractionError, match="once decompressed"):
        read_document(path, max_bytes=1_000_000)
    with pytest.raises(ExtractionError, match="cut short"):
        read_document(path, max_bytes=30_000_000)


def test_a_broken_gzip_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "page.html.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00junkjunkjunk")
    with pytest.raises(ExtractionError, match=f"gzip.*{path}"):
        read_document(path, max_bytes=1000)


@pytest.mark.parametrize(
    ("name", "suffix"), [("page.html.gz", ".html"), ("notes.TXT.GZ", ".txt"), ("page.htm", ".htm"), ("x.gz", "")]
)
def test_a_compressed_document_is_the_kind_its_inner_suffix_says(name: str, suffix: str) -> None:
    assert document_suffix(Path(name)) == suffix
