"""Compiled rule sets kept on disk between starts.

Compiling the example rules (some 2,000 lines: about 240 weighted terms and 26,000 spellings) takes 0.15-0.2 s
with the term cache warm (`term_cache`) on an idle machine, more on a busy one: every query parsed and checked,
every clause built, the automaton made; reading the compiled set (the automaton rebuilt from its words, see
`scan.TermIndex`) takes a third of that. A worker compiles at every start and after every edit of the rules file,
and so does each `newswatch scan` or `rules test`. The compiled set is a function of the rules text, of the
channel names its `alert:` lists are checked against, and of the rule engine's code, so it is kept in a file named
for their digest together with the Python version and the libraries whose objects it holds (pydantic,
pyahocorasick, simplemma): a changed file, channel list, engine or library is compiled again, never served stale.

One pickle file a rule set, in `rules/` of the cache folder (`lexicon.cache_dir`), written to a temporary name
then renamed; the newest `KEEP` files are kept. A file that cannot be read, or holds something else, is compiled
again with a warning, never fatal; so is one that another user owns, since reading a pickle runs code: only
files this user wrote into their own cache folder are read.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import sys
import threading
from collections.abc import Collection
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import ahocorasick
import pydantic
import simplemma

from newswatch.worker.rules.lexicon import cache_dir, source_digest, write_cache

LOGGER = logging.getLogger(__name__)

FORMAT = 1
"""Bump when what a file holds changes shape in a way the code digest cannot see."""
KEEP = 8
"""Compiled rule sets kept (a few rules files, or versions of one being edited)."""


def folder() -> Path:
    """Where compiled rule sets are kept: `rules/` of the cache folder the environment names now."""
    return cache_dir() / "rules"


def key(text: str, channels: Collection[str] | None) -> str:
    """The name of the file a rules text compiles to, with these channel names and this code."""
    digest = hashlib.sha256()
    for part in (_environment(), text, "\x00".join(sorted(channels)) if channels is not None else "\x01"):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00\x00")
    return digest.hexdigest()[:32]


def load(name: str) -> Any | None:
    """The rule set kept under `name`, or None (none kept, unreadable, or not this user's)."""
    wait()  # a set this process is still writing is read once it is whole
    path = folder() / f"{name}.pickle"
    try:
        if hasattr(os, "getuid") and path.stat().st_uid != os.getuid():
            LOGGER.warning("rules: compiled rules %s belong to another user, compiling again", path)
            return None
        with path.open("rb") as file:
            return pickle.load(file)
    except FileNotFoundError:
        return None
    except Exception as exc:  # a truncated or foreign file raises whatever its bytes lead pickle to
        LOGGER.warning("rules: unreadable compiled rules %s, compiling again: %s", path, exc)
        return None


def store(name: str, rule_set: object) -> None:
    """Keep a rule set for the next start, and only the newest `KEEP` of them.

    Written by a thread of its own while the caller goes on: pickling and writing the example rules takes a
    fifth of their compilation, which a start need not wait for. The process waits for the writing before it
    forks (a child must not inherit a half-done write's locks), before it reads a kept set, and before it exits
    (the thread is not a daemon). The rule set is not changed by matching, except for a cache that is not kept
    (`scan.TermIndex.__getstate__`), so it may be in use meanwhile."""
    writer = threading.Thread(target=_write, args=(folder(), name, rule_set), name="newswatch-keep-rules")
    with _WRITING_LOCK:
        _WRITING.append(writer)
    writer.start()


def wait() -> None:
    """Return once every rule set this process started writing is written (or failed to be)."""
    with _WRITING_LOCK:
        writers = list(_WRITING)
        _WRITING.clear()
    for writer in writers:
        writer.join()


def _write(place: Path, name: str, rule_set: object) -> None:
    write_cache(place / f"{name}.pickle", rule_set, "compiled rules", dump=partial(pickle.dump, protocol=5))
    try:
        kept = sorted(place.glob("*.pickle"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in kept[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError as exc:
        LOGGER.warning("rules: unable to prune compiled rules in %s: %s", place, exc)


_WRITING: list[threading.Thread] = []
_WRITING_LOCK = threading.Lock()
os.register_at_fork(before=wait)


@lru_cache(maxsize=1)
def _environment() -> str:
    """What a compiled set depends on besides its text: this format, Python, the libraries and the engine's
    code (every module of this package)."""
    library = Path(ahocorasick.__file__ or "")
    try:
        built = library.stat()
        automaton = f"{library.name}:{built.st_size}:{built.st_mtime_ns}"
    except OSError:
        automaton = library.name
    return "|".join(
        (
            str(FORMAT),
            sys.version,
            pydantic.VERSION,
            simplemma.__version__,
            automaton,
            source_digest(sorted(Path(__file__).parent.glob("*.py"))),
        )
    )
