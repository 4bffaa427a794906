"""simplemma's English dictionary and the inflection table built from it, kept on disk between starts.

Two costs every start paid before a single rule was compiled: simplemma decodes its English dictionary
(180,000 forms, 0.15 s) at the first lemma, and the inflection table (lemma -> every form mapping to it,
for "strike" -> strikes, striking, struck) folds each of those forms (over 0.5 s). Neither depends on the
rules, only on simplemma's version and on `fold`, so both are built once and kept in the user's cache
folder (`NEWSWATCH_CACHE_DIR`, else `$XDG_CACHE_HOME/newswatch`, else `~/.cache/newswatch`) as one marshal
file (the fastest loader of plain dicts of strings: about 70 ms for both) named for simplemma's version,
the table's format and the Python version (marshal's format may change between Python releases). The file
is written to a temporary name and renamed, so a reader never sees half of it; an unreadable or corrupt
cache is rebuilt, an unwritable one skipped, each with a warning, never fatal.

simplemma has no public way to hand it a dictionary for its module-level functions (`lemmatize`,
`is_known`, used across the rule engine): `lend_to_simplemma` wraps its shared factory's private cache so
that the first request for English is served from this file. If a simplemma release renames that cache,
the wrapper is not installed and simplemma decodes its own dictionary: slower, same results.
"""

from __future__ import annotations

import hashlib
import logging
import marshal
import os
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import simplemma
from simplemma.strategies.dictionaries import dictionary_factory

LOGGER = logging.getLogger(__name__)

TABLE_FORMAT = 1
"""Bump when the cached content changes for the same simplemma (e.g. `fold` folds differently)."""

Table = dict[str, tuple[str, ...]]
Forms = dict[bytes, bytes]
"""simplemma's dictionary as it holds it: UTF-8 form -> UTF-8 lemma."""


def cache_dir() -> Path:
    """Where newswatch keeps what it can rebuild: `NEWSWATCH_CACHE_DIR`, else the XDG cache folder."""
    configured = os.environ.get("NEWSWATCH_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "newswatch"


def cache_path() -> Path:
    """The cache file of this simplemma version, table format and Python."""
    python = f"py{sys.version_info.major}{sys.version_info.minor}"
    return cache_dir() / f"lexicon-en-simplemma{simplemma.__version__}-v{TABLE_FORMAT}-{python}.marshal"


def inflections() -> Table:
    """Lemma -> its folded English forms."""
    return _lexicon()[1]


def english_forms() -> Forms:
    """simplemma's English dictionary, from the cache when there is one."""
    return _lexicon()[0]


@lru_cache(maxsize=1)
def _lexicon() -> tuple[Forms, Table]:
    """Both parts, read from the cache, else built and cached (once per process)."""
    path = cache_path()
    found = _read(path)
    if found is None:
        found = _build()
        write_cache(path, found, "dictionary cache")
    return found


def _build() -> tuple[Forms, Table]:
    from newswatch.worker.rules.text import fold

    # A factory of its own: the shared one may be wrapped to read this very cache.
    english = dictionary_factory.DefaultDictionaryFactory().get_dictionary("en")
    forms: Forms = {}
    grouped: dict[str, list[str]] = defaultdict(list)
    for form, base in english.items():
        forms[form.encode()] = base.encode()
        grouped[fold(base)].append(fold(form))
    return forms, {base: tuple(dict.fromkeys(folded)) for base, folded in grouped.items()}


def source_digest(modules: Iterable[Path]) -> str:
    """A digest of the code a cache's content comes from, so that a changed module is never served an answer
    the old code gave (a module that cannot be read counts by its path)."""
    digest = hashlib.sha256()
    for module in modules:
        try:
            digest.update(module.read_bytes())
        except OSError:
            digest.update(str(module).encode())
    return digest.hexdigest()


def read_cache(path: Path, what: str) -> Any:
    """A marshal cache file's content; None when there is none or it cannot be read (then it is rebuilt)."""
    try:
        return marshal.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, EOFError, ValueError, TypeError) as exc:
        LOGGER.warning("rules: unreadable %s %s, rebuilding it: %s", what, path, exc)
        return None


def _read(path: Path) -> tuple[Forms, Table] | None:
    found = read_cache(path, "dictionary cache")
    if found is None:
        return None
    if not (
        isinstance(found, tuple)
        and len(found) == 2
        and isinstance(found[0], dict)
        and isinstance(found[1], dict)
        and found[0]
        and found[1]
    ):
        LOGGER.warning("rules: dictionary cache %s holds something else, rebuilding it", path)
        return None
    return found[0], found[1]


def write_cache(path: Path, content: Any, what: str, dump: Callable[[Any, Any], None] = marshal.dump) -> None:
    """Write a cache file (marshal unless `dump` says otherwise) whole or not at all (a temporary file renamed
    over it); a folder that cannot be written is only logged: the cache is `what`, built again at the next
    start."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                dump(content, file)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError as exc:
        LOGGER.warning("rules: unable to write the %s %s (built again at the next start): %s", what, path, exc)


def lend_to_simplemma() -> None:
    """Serve simplemma's shared English dictionary from the cache (see the module docstring). Reads
    nothing now: the file is read when simplemma first asks for English."""
    factory = dictionary_factory.DEFAULT_DICTIONARY_FACTORY
    original: Callable[[str], Mapping[str, str]] | None = getattr(factory, "_get_dictionary", None)
    wrapper = getattr(dictionary_factory, "MappingStrToByteString", None)
    if original is None or wrapper is None or getattr(original, "newswatch", False):
        return
    if getattr(original, "cache_info", None) is None or original.cache_info().currsize:  # type: ignore[attr-defined]
        return  # not simplemma 2.0's cache, or a dictionary already decoded: leave it be

    @lru_cache(maxsize=8)
    def get_dictionary(lang: str) -> Mapping[str, str]:
        if lang == "en":
            return wrapper(english_forms())  # type: ignore[no-any-return]
        return original(lang)

    get_dictionary.newswatch = True  # type: ignore[attr-defined]
    factory._get_dictionary = get_dictionary
