"""Text normalisation for matching: tokens with their original character offsets, folded and lemmatised.

Both rule terms and article text go through `tokenize`, so they compare equal exactly when an analyst would
call them the same word: case, diacritics and typographic variants (curly apostrophes, dashes) are
folded, and every token also carries its lemma ("airstrikes" -> "airstrike", "struck" -> "strike").
Entity names additionally get a transliteration skeleton (see `skeleton`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import simplemma

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'"})
ARABIC_PARTICLES = frozenset({"al", "el", "ad", "ar", "as", "ash", "at", "az", "an", "ul", "ud", "ed", "es", "et"})
"""Article particles of transliterated Arabic names ("al-Muhandis", "el-Sisi", "ad-Dawla")."""


@dataclass(frozen=True)
class Token:
    """One word of a text: where it stands in the original, its folded form and its lemma."""

    start: int
    end: int
    form: str
    lemma: str


def fold(text: str) -> str:
    """Case, diacritics and apostrophe variants folded away (NFKD, combining marks dropped)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.casefold()


def tokenize(text: str, language: str = "en") -> list[Token]:
    """The words of `text` with offsets into `text` itself; hyphens and punctuation separate words."""
    tokens = []
    for found in _WORD.finditer(text):
        form = fold(found.group())
        end = found.end()
        if form.endswith("'s"):  # possessive: "Soleimani's" is Soleimani
            form, end = form[:-2], end - 2
        tokens.append(Token(found.start(), end, form, lemma(form, language)))
    return tokens


@lru_cache(maxsize=200_000)
def lemma(form: str, language: str = "en") -> str:
    """The dictionary form of a folded word (cached: the vocabulary of news is small)."""
    if not form.isalpha():
        return form
    try:
        return fold(simplemma.lemmatize(form, lang=language))
    except ValueError:  # a language simplemma does not know
        return form


_DOUBLES = re.compile(r"(.)\1+")
_VOWELS = re.compile(r"[aeiouyw]")
_SOUNDS = [("kh", "k"), ("gh", "k"), ("q", "k"), ("c", "k"), ("g", "k"), ("j", "j"), ("dh", "d"),
           ("th", "t"), ("sh", "s"), ("ph", "f"), ("z", "s")]


@lru_cache(maxsize=100_000)
def skeleton(form: str) -> str:
    """A transliteration-tolerant key for a name: Qasem, Qassem, Ghasem -> "ksm"; Soleimani, Suleimani,
    Sulaimani -> "slmn"; Muhandis, Mohandes -> "mhnds". Vowels, doubled letters and common consonant
    spellings of the same Arabic or Persian sound compare equal; the first letter is kept as a consonant.
    """
    word = form.replace("'", "")
    for spelling, sound in _SOUNDS:
        word = word.replace(spelling, sound)
    word = _DOUBLES.sub(r"\1", word)
    if not word:
        return word
    head, tail = word[0], _VOWELS.sub("", word[1:])
    if head in "aeiouyw":
        head = "a"
    return _DOUBLES.sub(r"\1", head + tail)
