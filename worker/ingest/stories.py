"""Stories, not copies: a MinHash fingerprint of an article's text, to find earlier near-copies of it.

Syndicated and lightly edited copies of one story share most of their word 3-shingles; their MinHash
signatures agree in about that share of positions (the Jaccard similarity estimate). A new article whose
signature agrees with an earlier one's in at least `SAME_STORY` of positions belongs to that story.
Candidates are found by locality-sensitive hashing: the signature is cut into `BANDS` bands, and only
articles sharing a whole band are compared (two texts at similarity 0.5 share a band with probability
about 0.65, at 0.8 about 1.0; different stories almost never).

Hashing is the cost of a fingerprint, so each word is hashed once (BLAKE2b, 64 bits; a word seen before
is looked up), a shingle's hash is combined from its words' with integer arithmetic, and the `NUM_PERM`
hash functions are derived from it arithmetically (multiply-shift, the standard MinHash trick), all in
numpy. Nothing depends on the process (no `hash()`, whose strings are salted per process), so every process
and release computes the same fingerprint for the same text. The fingerprint is `NUM_PERM` little-endian
32-bit values; fingerprints of another layout (the 64-bit values of the SHA-1 MinHash stored before
migration 0006 re-fingerprinted recent articles) are never similar to one of these.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from newswatch.worker.rules.text import fold

NUM_PERM = 64
BANDS = 16
ROWS = NUM_PERM // BANDS
SHINGLE = 3
SAME_STORY = 0.5
"""Jaccard similarity of word 3-shingles above which two texts are one story (copies score 0.7-1.0,
different stories on the same topic below 0.1)."""
SIGNATURE = np.dtype("<u4")
"""A fingerprint's values as stored: little-endian 32-bit, the same bytes on every machine."""
_WORD_HASH = np.dtype("<u8")
_WORD = re.compile(r"\w+")
_BLOCK = 4096
"""Shingles hashed at once: bounds the NUM_PERM-wide scratch of a long text to a few megabytes."""
_MASK = (1 << 64) - 1
_SEED = 0x6E657773  # any fixed value: the hash functions must be the same in every process
_SHIFT = np.uint64(32)
_COMBINE = np.uint64(0x9E3779B97F4A7C15)  # odd: a shingle's hash is a polynomial in its words' hashes


def story_fingerprint(text: str) -> bytes:
    """The MinHash signature of the text's word 3-shingles (words folded: case, diacritics), as bytes."""
    # fold() maps each character on its own and no whitespace to a word character, so the words of the
    # folded text are the words of its folded whitespace-separated tokens, and those repeat: each is
    # folded and hashed once.
    words = np.frombuffer(b"".join(map(_token_hashes, text.split())), dtype=_WORD_HASH)
    if not len(words):
        return np.full(NUM_PERM, np.iinfo(SIGNATURE).max, dtype=SIGNATURE).tobytes()
    multipliers, offsets = _hash_functions()
    lowest = np.full(NUM_PERM, np.iinfo(np.uint64).max, dtype=np.uint64)
    for shingles in _shingle_hashes(words):
        # a*x+b (mod 2^64), one (a, b) per hash function: each shingle hashed NUM_PERM ways at once.
        hashed = np.multiply(shingles[:, None], multipliers)
        hashed += offsets
        np.minimum(lowest, hashed.min(axis=0), out=lowest)
    # A hash function's value is the high half of a*x+b, and the least high half is that of the least a*x+b.
    return (lowest >> _SHIFT).astype(SIGNATURE).tobytes()


@lru_cache(maxsize=1 << 16)  # the tokens of news repeat (77% found on 181 pages); about 30 MB when full
def _token_hashes(token: str) -> bytes:
    """The 64-bit hashes of the words of one whitespace-separated token, folded ("U.S." -> u, s), packed."""
    return b"".join(hashlib.blake2b(word.encode(), digest_size=8).digest() for word in _WORD.findall(fold(token)))


def _shingle_hashes(words: npt.NDArray[np.uint64]) -> Iterator[npt.NDArray[np.uint64]]:
    """The hashes of the word `SHINGLE`-grams (one of all words for a shorter text), in blocks."""
    width = min(SHINGLE, len(words))
    windows = np.lib.stride_tricks.sliding_window_view(words, width)
    for start in range(0, len(windows), _BLOCK):
        block = windows[start : start + _BLOCK]
        combined = block[:, 0].copy()
        for column in range(1, width):
            combined *= _COMBINE
            combined += block[:, column]
        yield _mix(combined)


def _mix(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """SplitMix64's finaliser, in place: every input bit moves every output bit."""
    values ^= values >> np.uint64(30)
    values *= np.uint64(0xBF58476D1CE4E5B9)
    values ^= values >> np.uint64(27)
    values *= np.uint64(0x94D049BB133111EB)
    values ^= values >> np.uint64(31)
    return values


@lru_cache(maxsize=1)
def _hash_functions() -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """The NUM_PERM (multiplier, offset) pairs: odd multipliers, drawn by SplitMix64 from a fixed seed."""
    draws = _splitmix64(_SEED)
    pairs = [(next(draws) | 1, next(draws)) for _ in range(NUM_PERM)]
    return np.array([a for a, _ in pairs], dtype=np.uint64), np.array([b for _, b in pairs], dtype=np.uint64)


def _splitmix64(state: int) -> Iterator[int]:
    """SplitMix64 (Steele, Lea, Flood 2014): a reproducible stream of well-mixed 64-bit integers."""
    while True:
        state = (state + 0x9E3779B97F4A7C15) & _MASK
        value = state
        value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
        yield value ^ (value >> 31)


def band_keys(fingerprint: bytes) -> list[str]:
    """The fingerprint's LSH bands as short keys: articles sharing one are candidates for the same story."""
    values = np.frombuffer(fingerprint, dtype=SIGNATURE)
    return [
        f"{band}:{hashlib.blake2b(values[band * ROWS : (band + 1) * ROWS].tobytes(), digest_size=8).hexdigest()}"
        for band in range(BANDS)
    ]


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of the two texts' shingle sets (0 for fingerprints of another layout)."""
    if len(a) != NUM_PERM * SIGNATURE.itemsize or len(b) != len(a):
        return 0.0
    left, right = np.frombuffer(a, dtype=SIGNATURE), np.frombuffer(b, dtype=SIGNATURE)
    return float(np.count_nonzero(left == right)) / NUM_PERM


def find_story(fingerprint: bytes, candidates: Iterable[tuple[int, bytes]]) -> int | None:
    """The story id of the most similar earlier article, if any is similar enough."""
    best, best_score = None, SAME_STORY
    for story_id, other in candidates:
        score = similarity(fingerprint, other)
        if score >= best_score:
            best, best_score = story_id, score
    return best
