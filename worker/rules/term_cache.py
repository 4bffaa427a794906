"""What compiling a rule's terms learns from the English dictionary, kept on disk between starts.

Compiling the example rules spent most of its time on the words of their terms, not on the rules: each
query word lemmatised by simplemma, and each word or phrase spelt out in every inflection and separator
(`scan.word_variants`: "pushed back" -> "pushing back", "pushes-back", ...). Those answers are functions of
the word alone (given simplemma's dictionary and `fold`), so they are remembered per word, not per rules
file: an edited rules file, or another one, reuses every term it shares with the last. Five tables:
`lemma` (folded word -> lemma, which `text.tokenize` reads), `key` (term as written -> its term key,
`anchors.text_key`), `known` (folded term -> whether the dictionary knows it, for `anchors`), `keys` (term as
written -> the keys the automaton stores its spellings under) and `query` (a rules file's query as written ->
its clause tree as plain data, `query.tree_data`: parsing the example rules' 430 queries takes three times as
long as reading their trees back). When every
term of a rules file is in them, compiling it reads neither simplemma's dictionary nor the inflection table
(`lexicon`): they are loaded when first needed (a worker loads them before it forks, `scan.preload`).

The tables are kept in memory for the process and on disk next to the dictionary cache (`lexicon.cache_dir`)
as one marshal file named for simplemma's version, the inflection table's format and the Python version, as
`lexicon` does. Inside, a header names the same versions, this file's `FORMAT` and a digest of the code the
answers come from (`CODE`: the modules that fold, lemmatise and spell terms and parse queries), so that a
changed spelling rule can never be served a stale answer: a file whose header differs is rebuilt. The file is
written after each compilation that learnt something, to a temporary name then renamed; an unreadable or
corrupt file is rebuilt, an unwritable folder skipped, each with a warning, never fatal. Entries of other rules
files are kept while the file holds at most `LIMIT` entries; past that, it is written (and the memory pruned)
with only the entries the process used, the current rules' terms, so that after a huge generated rule set or a
test run the next start reads no more than it needs.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import simplemma

from newswatch.worker.rules.lexicon import TABLE_FORMAT, cache_dir, read_cache, source_digest, write_cache

LOGGER = logging.getLogger(__name__)

FORMAT = 3
"""Bump when the file's layout changes (a change to the code in `CODE` needs no bump: it is in the header)."""
KINDS = ("lemma", "key", "known", "keys", "query")
CODE = (
    "newswatch.worker.rules.text",
    "newswatch.worker.rules.scan",
    "newswatch.worker.rules.anchors",
    "newswatch.worker.rules.lexicon",
    "newswatch.worker.rules.query",
)
"""The modules whose code the answers depend on: folding and lemmas, spellings, the inflection table, the
query grammar."""
LIMIT = 25_000
"""Entries the file holds at most unless one process uses more (the example rules use about 10,000, a file of
0.9 MB read in about 10 ms: a limit below that would have each start prune and rewrite the file)."""

T = TypeVar("T")
Tables = dict[str, dict[str, Any]]


def cache_path() -> Path:
    """The cache file of this simplemma version, inflection table format and Python."""
    python = f"py{sys.version_info.major}{sys.version_info.minor}"
    return cache_dir() / f"terms-en-simplemma{simplemma.__version__}-v{TABLE_FORMAT}-{python}.marshal"


def header() -> tuple[str, int, str, int, str]:
    """What a cache file must open with to be read: its format, the versions and the code it was made by."""
    modules = []
    for name in CODE:
        spec = importlib.util.find_spec(name)
        modules.append(Path(spec.origin if spec is not None and spec.origin else name))
    return ("newswatch-terms", FORMAT, simplemma.__version__, TABLE_FORMAT, source_digest(modules)[:16])


class TermCache:
    """The tables of one cache file: read at the first question, written back by `save`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tables: Tables | None = None
        self._header: tuple[str, int, str, int, str] | None = None
        self._used: dict[str, set[str]] = {kind: set() for kind in KINDS}
        self._learnt = False

    def recall(self, kind: str, key: str, compute: Callable[[str], T]) -> T:
        """The remembered answer for `key`, else `compute(key)`, remembered."""
        tables = self._tables if self._tables is not None else self._load()
        table = tables[kind]
        self._used[kind].add(key)
        try:
            found: T = table[key]
        except KeyError:
            found = table[key] = compute(key)
            self._learnt = True
        return found

    def save(self) -> None:
        """Write the tables if anything was learnt since they were read or last written; past `LIMIT`
        entries, only those this process used (here and in the file: see the module docstring)."""
        if self._tables is None or self._header is None:
            return
        total = sum(map(len, self._tables.values()))
        if not self._learnt and (total <= LIMIT or sum(map(len, self._used.values())) >= total):
            return
        self._learnt = False
        tables = {kind: dict(table) for kind, table in self._tables.items()}  # copies: other threads may add
        if total > LIMIT:
            used = {kind: set(keys) for kind, keys in self._used.items()}
            tables = {kind: {key: table[key] for key in used[kind] if key in table} for kind, table in tables.items()}
            self._tables = tables
        write_cache(self.path, (self._header, tables), "term cache")

    def _load(self) -> Tables:
        self._header = header()
        found = _read(self.path, self._header)
        self._tables = found if found is not None else {kind: {} for kind in KINDS}
        return self._tables


@lru_cache(maxsize=1)
def _cache() -> TermCache:
    """This process's cache, at the path the environment names when first asked."""
    return TermCache(cache_path())


def recall(kind: str, key: str, compute: Callable[[str], T]) -> T:
    """The answer to a question about a word or term (`kind` one of `KINDS`), remembered across starts."""
    return _cache().recall(kind, key, compute)


def save() -> None:
    """Keep what this process has learnt for the next start (called after a rule set is compiled)."""
    _cache().save()


def _read(path: Path, expected: tuple[str, int, str, int, str]) -> Tables | None:
    found = read_cache(path, "term cache")
    if found is None:
        return None
    if not (isinstance(found, tuple) and len(found) == 2 and isinstance(found[1], dict)):
        LOGGER.warning("rules: term cache %s holds something else, rebuilding it", path)
        return None
    if found[0] != expected:
        LOGGER.info("rules: term cache %s is from another version or code, rebuilding it", path)
        return None
    tables = found[1]
    if sorted(tables) != sorted(KINDS) or not all(isinstance(table, dict) for table in tables.values()):
        LOGGER.warning("rules: term cache %s holds something else, rebuilding it", path)
        return None
    return tables
