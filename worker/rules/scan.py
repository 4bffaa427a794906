"""Finding every term of a rule set in an article in one pass: an Aho-Corasick automaton over folded text.

Each term is compiled into its surface spellings once per rule-set version: case and diacritics folded,
every inflection the English lemma dictionary knows ("strike" -> strikes, striking, struck), and for phrases and
compounds the hyphen, space or nothing between parts ("air strike", "air-strike", "airstrike"). The
article is folded to a same-length string (offsets stay valid) and scanned by one automaton (pyahocorasick,
C code). pyahocorasick knows no word boundaries (#95): text and terms both have every non-alphanumeric
character turned into a space and terms are stored between spaces, so every hit is a whole word; a wider gap
between two words (two spaces, a tokenizer's "air - strike") is closed to one space first, its offsets mapped back
(`close_gaps`). Only capitalised words go through the transliteration-aware name matching (`text.skeleton`), which
no automaton can express. A name listed in several entity lists (a commander who is also an official) counts for
each of them.

One module on purpose (over 300 lines): the spelling table and the scan that reads it change together.
"""

from __future__ import annotations

import heapq
import itertools
import re
import unicodedata
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Any, NamedTuple

import ahocorasick

from newswatch.worker.rules import term_cache
from newswatch.worker.rules.lexicon import inflections
from newswatch.worker.rules.text import (
    APOSTROPHE_CHARS,
    ARABIC_PARTICLES,
    Sentences,
    Token,
    english_word,
    fold,
    lemma,
    skeleton,
    tokenize,
    without_other_stories,
)

MIN_SKELETON_LETTERS = 7
MIN_SKELETON_SOUNDS = 4
"""Names shorter than this (six letters or fewer: "Israel", "Attari"), or with fewer consonant sounds ("Qaim",
"Rabia"), must be spelt exactly, and so must a word to match a name in another spelling: their skeletons
collide with common words and other names ("came", "Rubio", "Other")."""
NATIONALITY_ENDINGS = ("i", "ian", "ani", "ese")
"""Endings that make a place's name the adjective of its people ("Israeli", "Ukrainian", "Pakistani",
"Sudanese"): another word, which a name in another spelling is not."""
MIN_LIKENESS = 0.6
"""How alike (difflib's ratio) a skeleton match must be spelt: transliterations score 0.75-0.9."""
MAX_LENGTH_DIFFERENCE = 2
"""Letters a name in another spelling may have more or fewer (a doubled letter, a vowel: "Qassem", "Yaarubiyah");
a word longer by a suffix is another name ("Harutyunyan" is not the crossing "Hairatan")."""
MAX_VARIANTS = 200
"""Spellings per term at most (inflections times separators); the commonest come first."""
_SEPARATORS = (" ", "-", "")
_CAPITALISED = re.compile(
    r"[A-Z\u00C0-\u00D6\u00D8-\u00DE\u0100-\u017F\u0391-\u03A9\u0410-\u042F](?<!\w.)[^\W_]*(?:['’][^\W_]+)*"
)
"""Words starting with a capital letter (Latin, Greek, Cyrillic); candidates are checked with isupper(). The
word boundary is checked by a lookbehind after the capital, not before it: a pattern that opens with a
character class lets the regex engine skip ahead to candidates in C, several times faster."""
_WORD_REST = re.compile(r"[^\W_]*")
"""Letters and digits from a position on: exactly the characters `str.isalnum` admits."""
_NEXT_WORD = re.compile(r"[\s\-‐‑–—]*([^\W_]+(?:['’][^\W_]+)*)")
_DASH_CHARS = {c: "-" for c in "‐‑‒–—―"} | dict.fromkeys(APOSTROPHE_CHARS, "'")


class Occurrence(NamedTuple):
    """Where a term was found: field, character offsets into it, and which sentence of the field (0-based)
    holds its start. A tuple: an article has hundreds, made in the scan's inner loop."""

    field: str
    start: int
    end: int
    term: str
    sentence: int


@dataclass(frozen=True)
class Alias:
    """One spelling of an entity member, matched by skeleton where the article capitalises it; one written in
    capitals (an acronym: "US", "UAE") only where the article writes it so ("us" is a pronoun)."""

    list_name: str
    member: str
    keys: tuple[str, ...]  # skeletons of the non-particle tokens
    forms: tuple[str, ...]  # folded forms of the same tokens
    capitals: bool = False


@dataclass
class ArticleTerms:
    """Every term occurrence in one article."""

    fields: dict[str, str]
    sentences: Sentences = field(init=False)
    words: dict[str, list[Occurrence]] = field(default_factory=lambda: defaultdict(list))
    prefixes: dict[str, list[Occurrence]] = field(default_factory=lambda: defaultdict(list))
    entities: dict[str, list[tuple[Occurrence, str]]] = field(default_factory=lambda: defaultdict(list))
    surnames: dict[str, list[Occurrence]] = field(default_factory=lambda: defaultdict(list))
    """Skeleton -> capitalised words that may be a person's surname-only mention."""

    def __post_init__(self) -> None:
        self.sentences = Sentences(self.fields)


_Names = dict[tuple[int, int], dict[str, str]]
"""Name matches of one field: span -> entity list -> member."""
_Capitalised = tuple[str, str, tuple[Alias, ...]]
"""What a capitalised word may begin: its folded form, its skeleton if a surname has it, names it begins."""
_UNSEEN: _Capitalised = ("", "", ())


def preload() -> None:
    """Load the inflection table now (from its disk cache, or built: seconds of CPU on a busy machine). A
    worker does this before it forks: its prefork children inherit the table instead of each loading it
    inside its first task, where a soft time limit shorter than that would interrupt it on every task."""
    inflections()


def _forms(word: str) -> list[str]:
    """A folded word and every inflection of its lemma, the word itself first."""
    base = lemma(word)
    return list(dict.fromkeys([word, base, *(f for f in inflections().get(base, ()) if _inflection(f, base))]))


def _inflection(form: str, base: str) -> bool:
    """Whether a form the dictionary gives for a lemma is a word of its own, not a contraction ("'re"), an
    abbreviation ("dr" for drive, "sta" for station) or a run of consonants ("strm"): those match other words
    ("Dr." is no drive)."""
    return (
        form.isalpha()
        and any(vowel in form for vowel in "aeiouy")
        and not (base.startswith(form) and len(form) <= len(base) - 2)
    )


def word_variants(text: str, *, inflect: bool = True) -> list[str]:
    """Every surface spelling a word or phrase term matches, folded: each word in each of its inflections
    ("pushed back" is also "pushing back", "pushes back"), a phrase's words joined by a space, a hyphen or (two
    words) nothing; a possessive first as the scan reads it, its "s" a word of its own ("no man's land" is "no
    man s land"). Past `MAX_VARIANTS`, the spellings closest to the term's own are kept (see `_commonest`).
    Without `inflect` (a term written `=`), each word only as written, apart as written: no compound split and no
    two words joined ("crossed border", "crossed-border"; the phrase "break through" is not "breakthrough")."""
    tokens = tokenize(text)
    if not tokens:
        return []
    options = [_spellings(text, token, inflect=inflect) for token in tokens]
    if len(tokens) == 1:
        variants = options[0] + (_compound_splits(tokens[0].form) if inflect else [])
    else:
        # Two words are written as one ("airstrike"); three or more are not ("crossbordertrucks").
        separators = _SEPARATORS if len(tokens) == 2 and inflect else _SEPARATORS[:-1]
        variants = [
            separator.join(choice)
            for choice in _commonest(options, -(-MAX_VARIANTS // len(_SEPARATORS)))
            for separator in separators
        ]
    return list(dict.fromkeys(variants))[:MAX_VARIANTS]


def _spellings(text: str, token: Token, *, inflect: bool) -> list[str]:
    """A word of a term in each of its inflections (or as written); a possessive ("man's", whose token leaves
    the "'s" out) first as the scan reads it: the word, then "s" as a word."""
    forms = _forms(token.form) if inflect else [token.form]
    if fold(text[token.end : token.end + 2]) == "'s":
        return list(dict.fromkeys([f"{token.form} s", *forms]))
    return forms


def _commonest(options: list[list[str]], count: int) -> list[tuple[str, ...]]:
    """At most `count` choices of one form per word, fewest steps from the term's own spelling first (each
    word's forms in order: as written, its lemma, the other inflections), ties in order."""
    first = (0,) * len(options)
    waiting, seen = [(0, first)], {first}
    chosen: list[tuple[str, ...]] = []
    while waiting and len(chosen) < count:
        steps, indexes = heapq.heappop(waiting)
        chosen.append(tuple(forms[index] for forms, index in zip(options, indexes, strict=True)))
        for position, index in enumerate(indexes):
            if index + 1 < len(options[position]):
                following = (*indexes[:position], index + 1, *indexes[position + 1 :])
                if following not in seen:
                    seen.add(following)
                    heapq.heappush(waiting, (steps + 1, following))
    return chosen


def _compound_splits(word: str) -> list[str]:
    """ "airstrike" is also written "air strike" and "air-strike" (with the last part inflected)."""
    result = []
    for cut in range(3, len(word) - 2):
        left, right = word[:cut], word[cut:]
        if english_word(left) and english_word(right) and len(right) >= 3:
            result += [left + sep + form for form in _forms(right) for sep in (" ", "-")]
    return result


def name_variants(alias: str) -> list[str]:
    """Exact spellings of a name: particles joined by hyphen, space, nothing, or left out; and a name of several
    words written as one, as a hashtag writes it ("#BabAlHawa", "#QasemSoleimani")."""
    words = [t.form for t in tokenize(alias)]
    pieces: list[list[str]] = []
    for index, word in enumerate(words):
        if word in ARABIC_PARTICLES and index + 1 < len(words):
            pieces.append([word + "-", word + " ", word, ""])
        else:
            pieces.append([word + (" " if index + 1 < len(words) else "")])
    variants = ["".join(choice).strip() for choice in itertools.product(*pieces)]
    if len(words) > 1:
        variants.append("".join(words))
    return list(dict.fromkeys(v for v in variants if v))[:MAX_VARIANTS]


_ASCII_BYTES = bytes(range(128))
_ASCII_SPACES = {code: " " for code in range(128) if not chr(code).isalnum()}
_ASCII_TABLE = bytes(
    ord(" ") if not chr(code).isalnum() else ord(chr(code).lower()) for code in range(256) if code < 128
) + bytes(range(128, 256))


def scan_text(text: str) -> str:
    """The text as the automaton reads it: folded, every non-alphanumeric character a space, padded with
    one space on each side. One character stays one character, so offsets map back by subtracting one.
    Terms are stored the same way between spaces, so every automaton hit starts and ends on word bounds.
    """
    if not text.isascii():
        for ch in _non_ascii(text):
            text = text.replace(ch, _space_or_fold(ch))
    if text.isascii():  # bytes.translate is a C table lookup per character
        return f" {text.encode('ascii').translate(_ASCII_TABLE).decode('ascii')} "
    return f" {text.translate(_ASCII_SPACES).lower()} "


def _non_ascii(text: str) -> set[str]:
    """The distinct characters of `text` that are not ASCII: the UTF-8 with every ASCII byte deleted (in C, faster
    than a regular expression or a loop over the characters)."""
    return set(text.encode("utf-8", "surrogatepass").translate(None, _ASCII_BYTES).decode("utf-8", "surrogatepass"))


def close_gaps(text: str, padded: str) -> tuple[str, list[int]] | None:
    """`padded` (`scan_text` of `text`) with each wide gap between two words made one space, and where each of its
    characters stands in `padded`; None when the text has no such gap (most texts: nothing to do).

    A wide gap is several spaces, a line break with spaces around it, or a hyphen with spaces around it: the
    text of a tokenizer ("air - strikes", "cross - border") or of a careless copy ("air  strike"); so is the
    apostrophe that ends a plural possessive, with the space after it ("novices' chase" is the phrase "novices
    chase", as a term with it is stored). Terms are
    stored with one space between their words, so without this no phrase would be found across such a gap.
    A blank line (a paragraph's end), two hyphens (a dash) and other punctuation still part words.
    """
    gaps = _wide_gaps(text)
    if not gaps:
        return None
    pieces: list[str] = []
    back: list[int] = []  # in padded offsets: text offset + 1
    kept = 0
    for start, end in gaps:
        pieces.append(padded[kept : start + 2])
        back.extend(range(kept, start + 2))
        kept = end + 1
    pieces.append(padded[kept:])
    back.extend(range(kept, len(padded)))
    return "".join(pieces), back


def _wide_gaps(text: str) -> list[tuple[int, int]]:
    """The wide gaps of a text, in order: found from its runs of two or more spacing characters (searched in C),
    not by a regular expression stepping through every character."""
    view = text  # one character for each of the text's: spacing and hyphens a space, anything else a letter
    if not view.isascii():
        for ch in _non_ascii(text):
            view = view.replace(ch, " " if ch.isspace() or ch in _HYPHENS else "'" if ch in APOSTROPHE_CHARS else "x")
    if "'" in view:
        view = _PLURAL_POSSESSIVE.sub(" ", view)
    # A blank line is never a wide gap: out of the way first, as it is in every text with paragraphs.
    spacing = view.encode("ascii").replace(b"\n\n", b"xx").translate(_ASCII_SPACING)
    spans = []
    at = spacing.find(b"  ")
    while at != -1:
        end = at + 2
        while at > 0 and spacing[at - 1] == _SPACE:
            at -= 1
        while end < len(spacing) and spacing[end] == _SPACE:
            end += 1
        if _wide_gap(text, at, end):
            spans.append((at, end))
        at = spacing.find(b"  ", end)
    return spans


def _wide_gap(text: str, start: int, end: int) -> bool:
    """Whether a run of spacing between `start` and `end` stands between two words and parts no more than one
    space would."""
    gap = text[start:end]
    return (
        start > 0
        and end < len(text)
        and text[start - 1].isalnum()
        and text[end].isalnum()
        and gap.count("\n") <= 1
        and sum(gap.count(hyphen) for hyphen in _HYPHENS) <= 1
    )


_HYPHENS = "-\u2010\u2011"
_PLURAL_POSSESSIVE = re.compile(r"(?<=[sS])'(?=\s)")
"""The apostrophe of a plural possessive ("novices' chase", "the pilots’ base"): a word's end, as a space is."""
_ASCII_SPACING = bytes.maketrans(b"\t\n\r\f\v-", b"      ")
"""ASCII spacing and the hyphen as spaces: a wide gap is then a run of two or more spaces."""
_SPACE = ord(" ")


def scan_spelling(spelling: str) -> str:
    """A term spelling as stored in the automaton (see `scan_text`)."""
    return _NOT_WORD.sub(" ", spelling).strip(" ")


_NOT_WORD = re.compile(r"[\W_]+")
"""Runs of what `scan_text` turns into spaces (a run is one space there once the spelling is stored)."""


def term_keys(text: str, *, exact: bool = False) -> tuple[str, ...]:
    """The automaton keys of a word or phrase term: each of its spellings (`word_variants`; with `exact`, only as
    written) as the automaton stores it (`scan_spelling`, between spaces), each key once ("air strike" and
    "air-strike" are one); remembered across starts (see `term_cache`)."""
    if exact:
        return _term_keys(text, inflect=False)
    return term_cache.recall("keys", text, _term_keys)


def _term_keys(text: str, *, inflect: bool = True) -> tuple[str, ...]:
    keys = (scan_spelling(spelling) for spelling in word_variants(text, inflect=inflect))
    return tuple(dict.fromkeys(f" {key} " for key in keys if key))


@lru_cache(maxsize=10_000)
def _space_or_fold(ch: str) -> str:
    folded = _fold_char(ch)
    return folded if folded.isalnum() else " "


@lru_cache(maxsize=10_000)
def _fold_char(ch: str) -> str:
    if ch in _DASH_CHARS:
        return _DASH_CHARS[ch]
    folded = unicodedata.normalize("NFKD", ch)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).casefold()
    return folded if len(folded) == 1 else ch.lower() if len(ch.lower()) == 1 else ch


class TermIndex:
    """The automaton over every spelling of every term of a rule set, plus the name index."""

    def __init__(self) -> None:
        self._automaton = ahocorasick.Automaton()
        self._stored: dict[str, dict[tuple[str, str], None]] = {}
        """Automaton key -> what it stands for, each once, in order: (kind, ident), kind word, prefix or name."""
        self._words: set[tuple[str, str]] = set()  # (term key, text) added already
        self.entity_words: dict[str, list[tuple[str, str]]] = defaultdict(list)  # word key -> (list, member)
        self.aliases: dict[str, list[Alias]] = defaultdict(list)  # skeleton of the first word -> aliases
        self.surname_keys: set[str] = set()
        self._capitalised: dict[str, _Capitalised | None] = {}
        """Capitalised word -> what it may begin here (a surname, names), else None."""
        self._items: list[tuple[str, tuple[Any, ...]]] = []
        """What the automaton holds, key and value (set by `build`): a kept rule set's copy of it (see
        `__getstate__`); none, and the scan finds nothing."""

    def add_word(self, key: str, text: str, *, exact: bool = False) -> None:
        if (key, text) in self._words:
            return  # the same term written again: its keys are there already
        self._words.add((key, text))
        entry, stored = ("word", key), self._stored
        for whole in term_keys(text, exact=exact):
            found = stored.get(whole)
            if found is None:
                stored[whole] = {entry: None}
            else:
                found[entry] = None

    def add_prefix(self, text: str) -> None:
        key = scan_spelling(" ".join(t.form for t in tokenize(text)))
        if key:  # a prefix is stored with the leading space only: the word it begins goes on
            self._stored.setdefault(f" {key}", {})[("prefix", text)] = None

    def add_name(self, list_name: str, member: str, alias: str) -> None:
        tokens = [t for t in tokenize(alias) if t.form not in ARABIC_PARTICLES]
        if not tokens:
            return
        capitals = alias.isupper()
        keys, forms = tuple(skeleton(t.form) for t in tokens), tuple(t.form for t in tokens)
        entry = Alias(list_name, member, keys, forms, capitals)
        self.aliases[entry.keys[0]].append(entry)
        ident = ("name", f"{list_name}\x00{member}\x00{'A' if capitals else ''}")
        for spelling in name_variants(alias):
            key = scan_spelling(spelling)
            if key:
                self._stored.setdefault(f" {key} ", {})[ident] = None

    def __getstate__(self) -> dict[str, object]:
        """A kept rule set (`compiled_cache`) holds the automaton's words and values, not the automaton: pyahocorasick's
        own pickling has reference-count bugs (pyahocorasick#219: each dump leaks its whole size), and rebuilding
        the automaton from its words takes a few milliseconds."""
        state = self.__dict__.copy()
        state["_automaton"] = state.pop("_items")
        state["_capitalised"] = {}  # a cache that matching fills
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        words = state.pop("_automaton")
        assert isinstance(words, list)
        self.__dict__.update(state)
        self._make_automaton(words)

    def _make_automaton(self, items: list[tuple[str, tuple[Any, ...]]]) -> None:
        self._items, self._automaton = items, ahocorasick.Automaton()
        for key, value in items:
            self._automaton.add_word(key, value)
        if items:
            self._automaton.make_automaton()

    def build(self) -> None:
        for spellings in self.aliases.values():
            spellings.sort(key=lambda alias: -len(alias.keys))
        items: list[tuple[str, tuple[Any, ...]]] = []
        for key, found in self._stored.items():
            if len(found) == 1:
                ((kind, ident),) = found
                if kind == "word":  # most keys: the spellings of one word term
                    items.append((key, (len(key), (ident,), (), ())))
                    continue
            words = tuple(ident for kind, ident in found if kind == "word")
            prefixes = tuple(ident for kind, ident in found if kind == "prefix")
            names = tuple(
                (list_name, member, bool(capitals))
                for kind, ident in found
                if kind == "name"
                for list_name, member, capitals in [ident.split("\x00")]
            )
            items.append((key, (len(key), words, prefixes, names)))
        self._make_automaton(items)
        # The table the automaton was made from is not read by a scan: let it go (memory, and a kept compiled
        # set's size, `compiled_cache`).
        self._stored, self._words = {}, set()

    def scan(self, terms: ArticleTerms, name: str, text: str) -> None:
        """Record every term occurrence in one field of an article."""
        if not self._items:
            return
        text = without_other_stories(text)
        padded = scan_text(text)
        closed = close_gaps(text, padded)
        back = None
        if closed is not None:
            padded, back = closed
        starts = terms.sentences.bounds(name)[0]
        words, prefixes = terms.words, terms.prefixes
        names: _Names = defaultdict(dict)
        new, occurrence_type = tuple.__new__, Occurrence  # an Occurrence without its Python-level __new__
        # The sentence of the last hit, by its bounds: hits come in the order they end, so most fall in the same
        # sentence as the one before, found again only when a hit starts outside it.
        count, sentence, low, high = len(starts), -1, 0, -1
        for last, (length, word_keys, prefix_keys, name_keys) in self._automaton.iter(padded):
            # The stored key has a leading space (and a trailing one unless a prefix); the padding adds one
            # character before the text, so text offsets are padded offsets minus one (after `back` has mapped
            # them past the gaps it closed).
            if back is None:
                start, end = last - length + 1, last - 1
            else:
                start, end = back[last - length + 2] - 1, back[last] - 1
            if not low <= start < high:
                sentence = bisect_right(starts, start) - 1
                low, high = starts[sentence], starts[sentence + 1] if sentence + 1 < count else len(text) + 1
            if word_keys:
                occurrence = new(occurrence_type, (name, start, end, text[start:end], sentence))
                for key in word_keys:
                    words[key].append(occurrence)
            if prefix_keys:
                rest = _WORD_REST.match(padded, last + 1)  # the rest of the word the prefix begins
                stop = rest.end() if rest else last + 1
                stop = stop - 1 if back is None else back[stop] - 1
                occurrence = Occurrence(name, start, stop, text[start:stop], sentence)
                for key in prefix_keys:
                    prefixes[key].append(occurrence)
            if name_keys:
                for list_name, member, capitals in name_keys:
                    if not capitals or text[start:end].isupper():
                        names[(start, end)][list_name] = member
        if self.aliases:
            self._scan_names(terms, name, text, names)
        for (start, end), list_name, member in _outermost(names):
            occurrence = Occurrence(name, start, end, text[start:end], bisect_right(starts, start) - 1)
            terms.entities[list_name].append((occurrence, member))

    def _scan_names(self, terms: ArticleTerms, name: str, text: str, names: _Names) -> None:
        """Capitalised words: transliteration-aware name matches and possible surname-only mentions."""
        starts = terms.sentences.bounds(name)[0]
        if len(self._capitalised) > 100_000:  # the vocabulary of news is small; a flood of odd words is not
            self._capitalised.clear()
        known = self._capitalised
        for found in _CAPITALISED.finditer(text):
            word = found.group()
            candidate = known.get(word, _UNSEEN)
            if candidate is _UNSEEN:
                candidate = known[word] = self._candidate(word)
            if candidate is None:
                continue
            form, surname, aliases = candidate
            start = found.start()
            if surname:
                sentence = bisect_right(starts, start) - 1
                end = start + len(form)
                terms.surnames[surname].append(Occurrence(name, start, end, text[start:end], sentence))
            matched: set[str] = set()  # lists with a name here: the longest spelling of each counts
            for alias in aliases:
                if alias.list_name in matched:
                    continue
                stop = _alias_end(alias, text, start + len(form))
                if stop is not None and (not alias.capitals or text[start:stop].isupper()):
                    names[(_particle_start(text, start), stop)].setdefault(alias.list_name, alias.member)
                    matched.add(alias.list_name)

    def _candidate(self, word: str) -> _Capitalised | None:
        """What a capitalised word may begin: a surname (its skeleton) and the names whose first word it is
        (spelt so, or long enough to be matched by its skeleton), longest first; None: nothing."""
        form, sound = _name_key(word)
        if not sound:
            return None
        aliases = tuple(a for a in self.aliases.get(sound, ()) if form == a.forms[0] or alike(form, a.forms[0]))
        surname = sound if sound in self.surname_keys else ""
        return (form, surname, aliases) if surname or aliases else None


@lru_cache(maxsize=100_000)
def _name_key(word: str) -> tuple[str, str]:
    """Folded form and skeleton of a capitalised word; no skeleton for particles and lower-case words."""
    if not word[0].isupper():
        return word, ""
    form = fold(word)
    if form.endswith("'s"):
        form = form[:-2]
    return form, "" if form in ARABIC_PARTICLES else skeleton(form)


def _alias_end(alias: Alias, text: str, position: int) -> int | None:
    """End offset when the alias's other words follow its first, which ends at `position` (particles skipped,
    capitalised, same sound)."""
    for index in range(1, len(alias.keys)):
        while True:
            found = _NEXT_WORD.match(text, position)
            if found is None:
                return None
            word, position = _fold_word(found.group(1)), found.end()
            if word not in ARABIC_PARTICLES:
                break
        if word.endswith("'s"):
            word, position = word[:-2], position - 2
        if word != alias.forms[index] and not (
            text[found.start(1)].isupper() and skeleton(word) == alias.keys[index] and alike(word, alias.forms[index])
        ):
            return None
    return position


_fold_word = lru_cache(maxsize=100_000)(fold)


def fuzzy_ok(form: str) -> bool:
    """Whether a word is long enough to be matched by its skeleton rather than exactly."""
    return len(form) >= MIN_SKELETON_LETTERS and len(skeleton(form)) >= MIN_SKELETON_SOUNDS


def alike(form: str, known: str) -> bool:
    """Whether a word with a name's skeleton is that name in another spelling ("Suleimani", "Yaroubiya"),
    not another word that only shares its consonants ("Kasongo" and the crossing "Kuznica") or is longer by a
    suffix ("Harutyunyan" and "Hairatan"), the adjective made from it ("Pakistani") or an English word
    capitalised in a headline ("Terrible" and "Turaibil"); both long enough to tell (see
    `MIN_SKELETON_LETTERS`)."""
    return (
        fuzzy_ok(form)
        and fuzzy_ok(known)
        and not _nationality(form, known)
        and abs(len(form) - len(known)) <= MAX_LENGTH_DIFFERENCE
        and SequenceMatcher(None, form, known).ratio() >= MIN_LIKENESS
        and not english_word(form)
    )


def _nationality(form: str, name: str) -> bool:
    """Whether a word is the adjective (or the plural noun) of the people of a place: the name, or the name
    without its final vowels ("Ukrain-e"), with one of `NATIONALITY_ENDINGS`."""
    word = form.removesuffix("s")
    return any(word == stem + ending for stem in {name, name.rstrip("aeiouy")} for ending in NATIONALITY_ENDINGS)


def _particle_start(text: str, start: int) -> int:
    """Include a particle written before a name ("al-Muhandis") in its span."""
    before = text[max(0, start - 4) : start]
    # Hyphenated particles ("ad-Dawla") always; a separate word only for al/el, since "at" or "as" before
    # a name is usually English.
    found = re.search(r"(?i)\b(?:(?:al|el|ad|ar|as|ash|at|az|an|ul|ud)-|(?:al|el)\s)$", before)
    return start - len(found.group()) if found else start


def _outermost(names: _Names) -> list[tuple[tuple[int, int], str, str]]:
    """Name matches (span, list, member) not inside a longer one ("Soleimani" within "Qasem Soleimani"). A
    longer span of another list hides a shorter one only when it names someone else: a person listed in two
    lists, spelt more fully in one of them, still counts for the other."""
    found = [(span, list_name, member) for span, lists in names.items() for list_name, member in lists.items()]
    found.sort(key=lambda item: (item[0][0], -item[0][1]))
    kept: list[tuple[tuple[int, int], str, str]] = []
    around: list[tuple[tuple[int, int], str, str]] = []  # earlier matches that may still hold this one
    for span, list_name, member in found:
        around = [item for item in around if item[0][1] > span[0]]
        if not any(
            span[1] <= outer[1] and outer != span and (other == list_name or who != member)
            for outer, other, who in around
        ):
            kept.append((span, list_name, member))
        around.append((span, list_name, member))
    return kept
