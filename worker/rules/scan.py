"""Finding every term of a rule set in an article in one pass: an Aho-Corasick automaton over folded text.

Each term is compiled into its surface spellings once per rule-set version: case and diacritics folded,
every inflection the English lemma dictionary knows ("strike" -> strikes, striking, struck), and for phrases and
compounds the hyphen, space or nothing between parts ("air strike", "air-strike", "airstrike"). The
article is folded to a same-length string (offsets stay valid) and scanned by one automaton (pyahocorasick,
C code). pyahocorasick knows no word boundaries (#95): text and terms both have every non-alphanumeric
character turned into a space and terms are stored between spaces, so every hit is a whole word. Only
capitalised words go through the transliteration-aware name matching (`text.skeleton`), which no
automaton can express.

One module on purpose (over 300 lines): the spelling table and the scan that reads it change together.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

import ahocorasick
import simplemma

from newswatch.worker.rules.text import ARABIC_PARTICLES, fold, lemma, skeleton, tokenize

MIN_SKELETON_LETTERS = 6
MIN_SKELETON_SOUNDS = 4
"""Names shorter than this, or with fewer consonant sounds ("Qaim", "Rabia"), must be spelt exactly: their
skeletons collide with common words and other names ("came", "Rubio")."""
MAX_VARIANTS = 200
"""Spellings per term at most (inflections times separators); the commonest come first."""
_SEPARATORS = (" ", "-", "")
_CAPITALISED = re.compile(
    r"\b[A-Z\u00C0-\u00D6\u00D8-\u00DE\u0100-\u017F\u0391-\u03A9\u0410-\u042F][^\W_]*(?:['’][^\W_]+)*"
)
"""Words starting with a capital letter (Latin, Greek, Cyrillic); candidates are checked with isupper()."""
_NEXT_WORD = re.compile(r"[\s\-‐‑–—]*([^\W_]+(?:['’][^\W_]+)*)")
_DASH_CHARS = {c: "-" for c in "‐‑‒–—―"} | {c: "'" for c in "’‘ʼ´"}


@dataclass(frozen=True)
class Occurrence:
    """Where a term was found: field and character offsets into it."""

    field: str
    start: int
    end: int
    term: str


@dataclass(frozen=True)
class Alias:
    """One spelling of an entity member, matched by skeleton where the article capitalises it."""

    list_name: str
    member: str
    keys: tuple[str, ...]  # skeletons of the non-particle tokens
    forms: tuple[str, ...]  # folded forms of the same tokens


@dataclass
class ArticleTerms:
    """Every term occurrence in one article."""

    fields: dict[str, str]
    words: dict[str, list[Occurrence]] = field(default_factory=lambda: defaultdict(list))
    prefixes: dict[str, list[Occurrence]] = field(default_factory=lambda: defaultdict(list))
    entities: dict[str, list[tuple[Occurrence, str]]] = field(default_factory=lambda: defaultdict(list))
    surnames: dict[str, list[Occurrence]] = field(default_factory=lambda: defaultdict(list))
    """Skeleton -> capitalised words that may be a person's surname-only mention."""


@lru_cache(maxsize=1)
def _inflections() -> dict[str, tuple[str, ...]]:
    """Lemma -> every English form the lemma dictionary maps to it (built once per process)."""
    from simplemma.strategies.dictionaries import DefaultDictionaryFactory

    table: dict[str, list[str]] = defaultdict(list)
    for form, base in DefaultDictionaryFactory().get_dictionary("en").items():
        table[fold(str(base))].append(fold(str(form)))
    return {base: tuple(dict.fromkeys(forms)) for base, forms in table.items()}


def preload() -> None:
    """Build the inflection table now (seconds of CPU, more on a busy machine). A worker does this before it
    forks: its prefork children inherit the table instead of each building it inside its first task, where a
    soft time limit shorter than that would interrupt it, and throw it away, on every task."""
    _inflections()


def _forms(word: str) -> list[str]:
    """A folded word and every inflection of its lemma, the word itself first."""
    base = lemma(word)
    return list(dict.fromkeys([word, base, *_inflections().get(base, ())]))


def word_variants(text: str) -> list[str]:
    """Every surface spelling a word or phrase term matches, folded."""
    words = [t.form for t in tokenize(text)]
    if not words:
        return []
    if len(words) == 1:
        variants = _forms(words[0]) + _compound_splits(words[0])
    else:
        heads = [[w, lemma(w)] for w in words[:-1]]
        options = [list(dict.fromkeys(h)) for h in heads] + [_forms(words[-1])]
        variants = []
        for choice in itertools.product(*options):
            for separator in _SEPARATORS:
                variants.append(separator.join(choice))
                if len(variants) >= MAX_VARIANTS:
                    break
    return list(dict.fromkeys(variants))[:MAX_VARIANTS]


def _compound_splits(word: str) -> list[str]:
    """ "airstrike" is also written "air strike" and "air-strike" (with the last part inflected)."""
    result = []
    for cut in range(3, len(word) - 2):
        left, right = word[:cut], word[cut:]
        if simplemma.is_known(left, lang="en") and simplemma.is_known(right, lang="en") and len(right) >= 3:
            result += [left + sep + form for form in _forms(right) for sep in (" ", "-")]
    return result


def name_variants(alias: str) -> list[str]:
    """Exact spellings of a name: particles joined by hyphen, space, nothing, or left out."""
    words = [t.form for t in tokenize(alias)]
    pieces: list[list[str]] = []
    for index, word in enumerate(words):
        if word in ARABIC_PARTICLES and index + 1 < len(words):
            pieces.append([word + "-", word + " ", word, ""])
        else:
            pieces.append([word + (" " if index + 1 < len(words) else "")])
    variants = ["".join(choice).strip() for choice in itertools.product(*pieces)]
    return list(dict.fromkeys(v for v in variants if v))[:MAX_VARIANTS]


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
        for ch in {ch for ch in set(text) if not ch.isascii()}:
            text = text.replace(ch, _space_or_fold(ch))
    if text.isascii():  # bytes.translate is a C table lookup per character
        return f" {text.encode('ascii').translate(_ASCII_TABLE).decode('ascii')} "
    return f" {text.translate(_ASCII_SPACES).lower()} "


def scan_spelling(spelling: str) -> str:
    """A term spelling as stored in the automaton (see `scan_text`)."""
    return " ".join(re.sub(r"[^\w]|_", " ", spelling).split())


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
        self._entries: dict[str, list[tuple[str, str]]] = defaultdict(list)  # spelling -> (kind, ident)
        self.entity_words: dict[str, list[tuple[str, str]]] = defaultdict(list)  # word key -> (list, member)
        self.aliases: dict[str, list[Alias]] = defaultdict(list)  # skeleton of the first word -> aliases
        self.surname_keys: set[str] = set()

    def add_word(self, key: str, text: str) -> None:
        for spelling in word_variants(text):
            self._entries[spelling].append(("word", key))

    def add_prefix(self, text: str) -> None:
        spelling = " ".join(t.form for t in tokenize(text))
        self._entries[spelling].append(("prefix", text))

    def add_name(self, list_name: str, member: str, alias: str) -> None:
        tokens = [t for t in tokenize(alias) if t.form not in ARABIC_PARTICLES]
        if not tokens:
            return
        entry = Alias(list_name, member, tuple(skeleton(t.form) for t in tokens), tuple(t.form for t in tokens))
        self.aliases[entry.keys[0]].append(entry)
        for spelling in name_variants(alias):
            self._entries[spelling].append(("name", f"{list_name}\x00{member}"))

    def build(self) -> None:
        for spellings in self.aliases.values():
            spellings.sort(key=lambda alias: -len(alias.keys))
        stored: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for spelling, entries in self._entries.items():
            key = scan_spelling(spelling)
            if key:
                # Whole terms are stored between spaces, prefixes with the leading space only.
                for kind, ident in entries:
                    stored[f" {key}" if kind == "prefix" else f" {key} "].append((kind, ident))
        for key, found in stored.items():
            self._automaton.add_word(key, (len(key), tuple(dict.fromkeys(found))))
        if stored:
            self._automaton.make_automaton()

    def scan(self, terms: ArticleTerms, name: str, text: str) -> None:
        """Record every term occurrence in one field of an article."""
        if not self._entries:
            return
        padded = scan_text(text)
        names: dict[tuple[int, int], tuple[str, str]] = {}
        for last, (length, entries) in self._automaton.iter(padded):
            # The stored key has a leading space (and a trailing one unless a prefix); the padding adds one
            # character before the text, so text offsets are padded offsets minus one.
            start = last - length + 1
            for kind, ident in entries:
                if kind == "prefix":
                    stop = last + 1
                    while padded[stop].isalnum():
                        stop += 1
                    terms.prefixes[ident].append(Occurrence(name, start, stop - 1, text[start : stop - 1]))
                elif kind == "word":
                    terms.words[ident].append(Occurrence(name, start, last - 1, text[start : last - 1]))
                else:
                    list_name, member = ident.split("\x00")
                    names[(start, last - 1)] = (list_name, member)
        if self.aliases:
            self._scan_names(terms, name, text, names)
        for (start, end), (list_name, member) in _outermost(names):
            terms.entities[list_name].append((Occurrence(name, start, end, text[start:end]), member))

    def _scan_names(
        self, terms: ArticleTerms, name: str, text: str, names: dict[tuple[int, int], tuple[str, str]]
    ) -> None:
        """Capitalised words: transliteration-aware name matches and possible surname-only mentions."""
        aliases, surname_keys = self.aliases, self.surname_keys
        for found in _CAPITALISED.finditer(text):
            form, sound = _name_key(found.group())
            if not sound or (sound not in aliases and sound not in surname_keys):
                continue
            start, end = found.start(), found.start() + len(form)
            if sound in surname_keys:
                terms.surnames[sound].append(Occurrence(name, start, end, text[start:end]))
            for alias in aliases.get(sound, ()):  # longest spelling first
                stop = _alias_end(alias, text, start, form)
                if stop is not None:
                    first = _particle_start(text, start)
                    names.setdefault((first, stop), (alias.list_name, alias.member))
                    break


@lru_cache(maxsize=100_000)
def _name_key(word: str) -> tuple[str, str]:
    """Folded form and skeleton of a capitalised word; no skeleton for particles and lower-case words."""
    if not word[0].isupper():
        return word, ""
    form = fold(word)
    if form.endswith("'s"):
        form = form[:-2]
    return form, "" if form in ARABIC_PARTICLES else skeleton(form)


def _alias_end(alias: Alias, text: str, start: int, form: str) -> int | None:
    """End offset when the alias's words follow from `start` (particles skipped, capitalised, same sound)."""
    position = start + len(form)
    for index, (key, expected) in enumerate(zip(alias.keys, alias.forms, strict=True)):
        if index == 0:
            word = form
        else:
            while True:
                found = _NEXT_WORD.match(text, position)
                if found is None:
                    return None
                word, position = fold(found.group(1)), found.end()
                if word not in ARABIC_PARTICLES:
                    break
            if word.endswith("'s"):
                word, position = word[:-2], position - 2
            capitalised = text[found.start(1)].isupper()
            if word != expected and not (capitalised and fuzzy_ok(word) and skeleton(word) == key):
                return None
        if index == 0 and form != expected and not fuzzy_ok(form):
            return None
    return position


def fuzzy_ok(form: str) -> bool:
    """Whether a word is long enough to be matched by its skeleton rather than exactly."""
    return len(form) >= MIN_SKELETON_LETTERS and len(skeleton(form)) >= MIN_SKELETON_SOUNDS


def _particle_start(text: str, start: int) -> int:
    """Include a particle written before a name ("al-Muhandis") in its span."""
    before = text[max(0, start - 4) : start]
    # Hyphenated particles ("ad-Dawla") always; a separate word only for al/el, since "at" or "as" before
    # a name is usually English.
    found = re.search(r"(?i)\b(?:(?:al|el|ad|ar|as|ash|at|az|an|ul|ud)-|(?:al|el)\s)$", before)
    return start - len(found.group()) if found else start


def _outermost(names: dict[tuple[int, int], tuple[str, str]]) -> list[tuple[tuple[int, int], tuple[str, str]]]:
    """Name matches not inside a longer one ("Soleimani" within "Qasem Soleimani")."""
    kept: list[tuple[tuple[int, int], tuple[str, str]]] = []
    for span, value in sorted(names.items(), key=lambda item: (item[0][0], -item[0][1])):
        if kept and span[1] <= kept[-1][0][1]:
            continue
        kept.append((span, value))
    return kept
