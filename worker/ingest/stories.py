"""Stories, not copies: a MinHash fingerprint of an article's text, to find earlier near-copies of it.

Syndicated and lightly edited copies of one story share most of their word 3-shingles; their MinHash
signatures agree in about that share of positions (the Jaccard similarity estimate). A new article whose
signature agrees with an earlier one's in at least `SAME_STORY` of positions belongs to that story.
Candidates are found by locality-sensitive hashing: the signature is cut into `BANDS` bands, and only
articles sharing a whole band are compared (two texts at similarity 0.5 share a band with probability
about 0.65, at 0.8 about 1.0; different stories almost never).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from functools import lru_cache

import numpy as np
from datasketch import MinHash

from newswatch.worker.rules.text import fold

NUM_PERM = 64
BANDS = 16
ROWS = NUM_PERM // BANDS
SHINGLE = 3
SAME_STORY = 0.5
"""Jaccard similarity of word 3-shingles above which two texts are one story (copies score 0.7-1.0,
different stories on the same topic below 0.1)."""
_WORD = re.compile(r"\w+")


def story_fingerprint(text: str) -> bytes:
    """The MinHash signature of the text's word shingles, as bytes for storage."""
    words = _WORD.findall(fold(text))
    shingles = {" ".join(words[i : i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))}
    signature = _empty_signature().copy()
    signature.update_batch([s.encode("utf-8") for s in shingles if s])
    return np.asarray(signature.hashvalues, dtype=np.uint64).tobytes()


@lru_cache(maxsize=1)
def _empty_signature() -> MinHash:
    """A signature of nothing, copied for each text: building one draws its permutations anew (a tenth of
    the cost of a fingerprint), and a copy keeps the same ones."""
    return MinHash(num_perm=NUM_PERM, seed=1)


def band_keys(fingerprint: bytes) -> list[str]:
    """The fingerprint's LSH bands as short keys: articles sharing one are candidates for the same story."""
    values = np.frombuffer(fingerprint, dtype=np.uint64)
    return [
        f"{band}:{hashlib.blake2b(values[band * ROWS : (band + 1) * ROWS].tobytes(), digest_size=8).hexdigest()}"
        for band in range(BANDS)
    ]


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of the two texts' shingle sets."""
    left, right = np.frombuffer(a, dtype=np.uint64), np.frombuffer(b, dtype=np.uint64)
    if left.shape != right.shape:
        return 0.0
    return float(np.count_nonzero(left == right)) / len(left)


def find_story(fingerprint: bytes, candidates: Iterable[tuple[int, bytes]]) -> int | None:
    """The story id of the most similar earlier article, if any is similar enough."""
    best, best_score = None, SAME_STORY
    for story_id, other in candidates:
        score = similarity(fingerprint, other)
        if score >= best_score:
            best, best_score = story_id, score
    return best
