"""Local documents as bytes, with the size cap pages have (`NEWSWATCH_MAX_PAGE_BYTES`), gzip-compressed
ones (`page.html.gz`) decompressed on the way.

No file is read whole past the cap: a plain file stops being read one byte after it, and a compressed one
stops being decompressed there, so a small archive of a huge text costs no more memory than the cap.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

from newswatch.worker.errors import ExtractionError

GZIP_MAGIC = b"\x1f\x8b"


def read_document(path: Path, *, max_bytes: int) -> bytes:
    """The file's bytes, decompressed when it is gzip; `ExtractionError` naming the file and the cap past it."""
    try:
        with path.open("rb") as raw:
            compressed = raw.read(2) == GZIP_MAGIC
            raw.seek(0)
            stream = gzip.GzipFile(fileobj=raw) if compressed else raw
            body = stream.read(max_bytes + 1)
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise ExtractionError(f"extract: not a readable gzip file ({exc}): {path}", source=str(path)) from exc
    except EOFError as exc:
        raise ExtractionError(f"extract: gzip file cut short: {path}", source=str(path)) from exc
    except OSError as exc:
        raise ExtractionError(f"extract: cannot read {path}: {exc.strerror or exc}", source=str(path)) from exc
    if len(body) > max_bytes:
        unpacked = " once decompressed" if compressed else ""
        raise ExtractionError(
            f"extract: file over the cap of {max_bytes} bytes{unpacked} (NEWSWATCH_MAX_PAGE_BYTES): {path}",
            source=str(path),
        )
    return body


def document_suffix(path: Path) -> str:
    """The suffix that says what kind of document a file is: `.html` for `page.html.gz`, lowercased."""
    suffix = path.suffix.lower()
    return Path(path.stem).suffix.lower() if suffix == ".gz" else suffix
