"""Text normalisation for matching: words folded (case, diacritics, typographic apostrophes and dashes),
lemmatised ("airstrikes" -> "airstrike", "struck" -> "strike"), and for names reduced to a
transliteration skeleton (see `skeleton`). Rule terms are compiled from these forms (see `scan`).
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from functools import lru_cache

import simplemma

from newswatch.worker.rules import term_cache
from newswatch.worker.rules.lexicon import lend_to_simplemma

lend_to_simplemma()  # nothing is read yet: simplemma's first English lookup reads the cached dictionary

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
APOSTROPHE_CHARS = "’‘ʼ`´"
"""Characters written for an apostrophe, each read as "'"."""
_APOSTROPHES = str.maketrans(dict.fromkeys(APOSTROPHE_CHARS, "'"))
ARABIC_PARTICLES = frozenset({"al", "el", "ad", "ar", "as", "ash", "at", "az", "an", "ul", "ud", "ed", "es", "et"})
"""Article particles of transliterated Arabic names ("al-Muhandis", "el-Sisi", "ad-Dawla")."""


class Token:
    """One word of a text: where it stands in the original, its folded form and its lemma."""

    __slots__ = ("start", "end", "form", "lemma")

    def __init__(self, start: int, end: int, form: str, lemma: str) -> None:
        self.start = start
        self.end = end
        self.form = form
        self.lemma = lemma

    def __repr__(self) -> str:
        return f"Token({self.start}, {self.end}, {self.form!r}, {self.lemma!r})"


def fold(text: str) -> str:
    """Case, diacritics and apostrophe variants folded away (NFKD, combining marks dropped)."""
    text = text.translate(_APOSTROPHES)
    if not text.isascii():  # each character on its own: a few distinct ones, not every one of thousands
        text = text.translate({ord(ch): _without_marks(ch) for ch in set(text) if not ch.isascii()})
    return text.casefold()


@lru_cache(maxsize=10_000)
def _without_marks(ch: str) -> str:
    """A character's compatibility decomposition without its combining marks ("é" -> "e", "ﬁ" -> "fi")."""
    return "".join(part for part in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(part))


def tokenize(text: str, language: str = "en") -> list[Token]:
    """The words of `text` with offsets into `text` itself; hyphens and punctuation separate words."""
    tokens: list[Token] = []
    append = tokens.append
    for found in _WORD.finditer(text):
        form, lemma_form, trim = _word(found.group(), language)
        append(Token(found.start(), found.end() - trim, form, lemma_form))
    return tokens


@lru_cache(maxsize=200_000)
def _word(word: str, language: str) -> tuple[str, str, int]:
    """Folded form, lemma, and how many characters of a possessive "'s" to leave out of the span."""
    form = fold(word)
    trim = 0
    if form.endswith("'s"):  # possessive: "Soleimani's" is Soleimani
        form, trim = form[:-2], 2
    return form, lemma(form, language), trim


@lru_cache(maxsize=200_000)
def english_word(form: str) -> bool:
    """Whether a folded word is in the English dictionary: an ordinary word ("terrible", "ahmed"), not only
    a name."""
    return simplemma.is_known(form, lang="en")


@lru_cache(maxsize=200_000)
def lemma(form: str, language: str = "en") -> str:
    """The dictionary form of a folded word (cached: the vocabulary of news is small; English ones also on
    disk, see `term_cache`)."""
    if not form.isalpha():
        return form
    if language == "en":
        return term_cache.recall("lemma", form, _english_lemma)
    try:
        return fold(simplemma.lemmatize(form, lang=language))
    except ValueError:  # a language simplemma does not know
        return form


def _english_lemma(form: str) -> str:
    return fold(simplemma.lemmatize(form, lang="en"))


_DOUBLES = re.compile(r"(.)\1+")
_VOWELS = re.compile(r"[aeiouyw]")
_SOUNDS = [
    ("kh", "k"),
    ("gh", "k"),
    ("q", "k"),
    ("c", "k"),
    ("g", "k"),
    ("j", "j"),
    ("dh", "d"),
    ("th", "t"),
    ("sh", "s"),
    ("ph", "f"),
    ("z", "s"),
]


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


ABBREVIATED = frozenset(
    {
        *("Mr", "Mrs", "Ms", "Dr", "Prof", "Rev", "St", "Jr", "Sr", "No", "Mt", "Ft"),
        *("Gen", "Lt", "Col", "Maj", "Capt", "Sgt", "Cpl", "Adm", "Brig", "Cmdr", "Gov", "Sen", "Rep"),
        *("Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec"),
        *("vs", "etc", "approx"),
    }
)
"""Words whose period ends no sentence: titles and ranks ("Maj. Gen. Soleimani"), months ("Sept. 12"), "No. 10"
and a few lower-case abbreviations; so do "e.g.", "i.e." and a single capital letter (an initial, "J. Smith",
or a dotted initialism, "U.S.", "U.N."). A closed list: a short capitalised word before a period is as often a
name that ends its sentence ("in Gaza.", "left Iraq.")."""
_DOTTED = ("e.g", "i.e")
_LAST_WORD = re.compile(r"(?<!\w)\w{1,6}\Z")
"""The word before a period, if it is a whole word of at most six characters (the longest abbreviation)."""
_WORD_CHARACTER = re.compile(r"\w").match
_SENTENCE_END = re.compile(r"[.!?…\n](?:(?<=\n)\n*|[\"'”’)\]]*\s+)")
"""Final punctuation (with closing quotes or brackets) before a space, or line breaks."""
_SENTENCE_MARKS = ".!?…\n"
"""The characters a sentence end starts with: found by `str.find`, many times faster than a regex scan."""


def sentence_bounds(text: str) -> tuple[list[int], list[int]]:
    """Where sentences start and where they stop (after their final punctuation); a line break ends one too."""
    starts, stops = [0], []
    end = 0
    for at in _positions(text, _SENTENCE_MARKS):
        if at < end:
            continue  # part of the previous sentence end (a line break after a period)
        found = _SENTENCE_END.match(text, at)
        if found is None:
            continue
        end = found.end()
        if text[at] == "." and _abbreviation(text, at):
            continue
        stops.append(at if text[at] == "\n" else at + 1)
        starts.append(end)
    return starts, stops


def _abbreviation(text: str, period: int) -> bool:
    """Whether the period at `period` closes an abbreviation (see `ABBREVIATED`)."""
    word = _LAST_WORD.search(text, max(0, period - 7), period)
    if word is None:
        return False
    found = word.group()
    if found in ABBREVIATED or (len(found) == 1 and "A" <= found <= "Z"):
        return True
    start = word.start() - 2  # "e.g": the word found is "g"
    return text[start:period] in _DOTTED and (start == 0 or _WORD_CHARACTER(text, start - 1) is None)


def _positions(text: str, marks: str) -> list[int]:
    """Every offset of any of `marks` in `text`, in order."""
    found = []
    for mark in marks:
        at = text.find(mark)
        while at != -1:
            found.append(at)
            at = text.find(mark, at + 1)
    found.sort()
    return found


_OTHER_STORY = re.compile(
    r"^[ \t]*(?:read more|read also|also read|see also|also see|related(?: stories| articles| coverage| content| news"
    r"| links| reading)?|more on this(?: story)?|further reading|you may also like|recommended(?: stories| reading)?)"
    r"[ \t]*[:»›|>][^\n]*",
    re.IGNORECASE | re.MULTILINE,
)
_FEED_FOOTER = re.compile(r"The post [^\n]{1,300}? appeared first on [^\n]*")
"""The line a WordPress feed ends each item's description with, naming the item's own headline again."""


def without_other_stories(text: str) -> str:
    """`text` with every line that links to another story ("Read more: ...", "Related: ...", as pages and feed
    items carry them, and extraction keeps some) blanked out, offsets unchanged: another story's headline is
    not this article's news ("Read more: Coalition air strikes hit refineries" under a rail strike report). So
    is a feed's footer ("The post ... appeared first on ..."): the headline once more, out of its context."""
    for pattern in (_OTHER_STORY, _FEED_FOOTER):
        if pattern.search(text) is not None:
            text = pattern.sub(lambda found: " " * len(found.group()), text)
    return text


class Sentences:
    """Sentence bounds of an article's fields, found once per field and shared by the scan (each occurrence
    knows its sentence), by NEAR and weighted terms, and by the snippets of every hit."""

    def __init__(self, fields: dict[str, str]) -> None:
        self.fields = fields
        self._bounds: dict[str, tuple[list[int], list[int]]] = {}

    def bounds(self, field: str) -> tuple[list[int], list[int]]:
        """Starts and stops of the field's sentences (see `sentence_bounds`)."""
        found = self._bounds.get(field)
        if found is None:
            found = self._bounds[field] = sentence_bounds(self.fields[field])
        return found

    def number(self, field: str, offset: int) -> int:
        """Which sentence of the field (0-based) holds the character at `offset`."""
        return bisect.bisect_right(self.bounds(field)[0], offset) - 1
