"""People in entity lists: when a person's surname alone is a mention of a listed member.

The member says (`surname:` in the rules file): `after-full-name` (the default: once the full name has
appeared, title first, then text), `always` (a distinctive surname, spelt as one of the member's spellings,
unless a different given name stands before it: "Hassan Soleimani" is another man), or `never`. A surname
joined by a hyphen to the next word names a thing after the person ("the Soleimani-class corvette").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from newswatch.worker.rules.loader import EntityMember
from newswatch.worker.rules.scan import ArticleTerms, Occurrence, fuzzy_ok
from newswatch.worker.rules.text import ARABIC_PARTICLES, english_word, fold, skeleton, tokenize

RANKS = frozenset(
    {
        "general",
        "gen",
        "maj",
        "major",
        "lt",
        "lieutenant",
        "brig",
        "brigadier",
        "col",
        "colonel",
        "commander",
        "cmdr",
        "capt",
        "captain",
        "sardar",
        "hajj",
        "haj",
        "mr",
        "dr",
        "sheikh",
        "sayyed",
        "sayed",
        "martyr",
    }
)
"""Words before a surname that name a rank or title, not another person ("Maj. Gen. Soleimani")."""
GIVEN_NAMES = frozenset(
    {
        *("mohammed", "mohammad", "mohamed", "mohamad", "muhammad", "muhammed", "ahmed", "ahmad", "ali", "amir"),
        *("mehdi", "karim", "hamza", "samir", "malik", "abdul", "sara", "iman", "mina", "sina", "said"),
        *("john", "james", "david", "michael", "george", "joseph", "daniel", "paul", "peter", "robert", "thomas"),
        "william",
    }
)
"""Given names that the English word list also holds as words: before a surname they are another man's given
name ("Ahmed al-Mohandes", "Mohammad Soleimani", "Said Soleimani"), not an ordinary capitalised word of a headline.
Only capitalised: "Pompeo said Soleimani was plotting" is the verb."""
VERB_NAMES = frozenset({"said"})
"""Given names that are also verbs a headline puts before a name: capitalised in title case ("Trump Said Soleimani
Was Plotting"), where the next word is capitalised too."""
_TITLE_CASE_NEXT = re.compile(r"(?:['’]s)?\s+[A-Z]")
_WORD_BEFORE = re.compile(r"([^\W\d_][\w'’]*)\.?[\s\-]+$")
_FIELD_ORDER = {"title": 0, "text": 1}


@lru_cache(maxsize=10_000)
def surname(member: str) -> tuple[str, str]:
    """Folded form and skeleton of a person's last name."""
    last = tokenize(member)[-1]
    return last.form, skeleton(last.form)


@dataclass(frozen=True)
class Person:
    """A person list's member as the surname rules need it: its surname spellings and given names."""

    name: str
    use: str
    spellings: frozenset[str]
    given: frozenset[str]
    given_keys: frozenset[str]
    """Skeletons of the given names of two sounds or more: his given name in another spelling."""

    @classmethod
    def of(cls, member: EntityMember) -> Person:
        last, key = surname(member.name)
        spellings, given = {last}, set()
        for alias in [member.name, *member.aliases]:
            words = [t.form for t in tokenize(alias) if t.form not in ARABIC_PARTICLES]
            if words and skeleton(words[-1]) == key:  # an alias of the same surname, spelt otherwise
                spellings.add(words[-1])
                given.update(words[:-1])
        keys = {skeleton(name) for name in given}
        return cls(
            member.name,
            member.surname,
            frozenset(spellings),
            frozenset(given),
            frozenset(key for key in keys if len(key) >= 2),
        )

    def spelt_as(self, form: str) -> bool:
        """One of the member's spellings, or one differing by a doubled or changed vowel ("Solaimani"), but
        not a look-alike word of another length or ending ("Suleiman", "Sulaimaniyah")."""
        if form in self.spellings:
            return True
        return fuzzy_ok(form) and any(
            abs(len(form) - len(known)) <= 1 and form[-1] == known[-1] and skeleton(form) == skeleton(known)
            for known in self.spellings
        )

    def other_given_name(self, text: str, start: int, end: int) -> bool:
        """Whether a capitalised name that is not this person's stands just before the surname (`start` to `end`:
        "Hassan Soleimani"); a rank, a title, a possessive or an ordinary capitalised word ("Yesterday") is not
        one, nor a verb that is also a name in a headline written in title case ("Pompeo Said Soleimani Was
        ..."). A particle between them is looked past: "Ahmed al-Mohandes" is another man."""
        while True:
            found = _WORD_BEFORE.search(text, max(0, start - 30), start)
            if found is None:
                return False
            word = fold(found.group(1))
            if word not in ARABIC_PARTICLES:
                break
            start = found.start()
        if not found.group(1)[:1].isupper():
            return False
        if word.endswith(("'s", "'")) or word in RANKS or word in self.given:
            return False
        if skeleton(word) in self.given_keys:
            return False  # his given name in another spelling ("Qassim", "Kassem" for "Qasem")
        if word in VERB_NAMES and _TITLE_CASE_NEXT.match(text, end):
            return False
        return word in GIVEN_NAMES or not english_word(word)


def surname_mentions(
    persons: list[Person], terms: ArticleTerms, full: list[tuple[Occurrence, str]]
) -> list[tuple[Occurrence, str]]:
    """Surname-only mentions of a list's persons, as each allows; `full` holds the list's full-name mentions."""
    firsts: dict[str, Occurrence] = {}
    for occ, member in full:
        firsts.setdefault(member, occ)
    extra = []
    for person in persons:
        if person.use == "never" or (person.use == "after-full-name" and person.name not in firsts):
            continue
        first = firsts.get(person.name)
        last, key = surname(person.name)
        for occ in terms.surnames.get(key, ()):
            if any(o.field == occ.field and o.start <= occ.start < o.end for o, _ in full):
                continue  # part of a full mention
            spelt = fold(occ.term).removesuffix("'s")
            text = terms.fields[occ.field]
            if _names_a_thing(text, occ.end):
                continue
            if person.use == "always":
                if person.spelt_as(spelt) and not person.other_given_name(text, occ.start, occ.end):
                    extra.append((occ, person.name))
            elif first is not None and _before(first, occ) and (spelt == last or fuzzy_ok(spelt)):
                extra.append((occ, person.name))
    return extra


_COMPOUND = re.compile(r"-([^\W\d_]+)")


_THING_WORDS = frozenset({"class", "style", "type", "era", "model"})
"""Second parts of a compound that name a thing after the person, whatever their case."""


def _names_a_thing(text: str, end: int) -> bool:
    """A hyphen compound names a thing after the person ("the Soleimani-class corvette"), unless its second
    part says what he did ("Soleimani-led", "Soleimani-backed") or is another name ("a Soleimani-Muhandis memorial
    week": two men; in a title-case headline "Soleimani-Class" is still a thing)."""
    found = _COMPOUND.match(text, end)
    if found is None:
        return False
    second = found.group(1)
    word = second.lower()
    if second[0].isupper() and word not in _THING_WORDS:
        return False
    return not word.endswith("ed")


def _before(first: Occurrence, later: Occurrence) -> bool:
    """Whether `first` comes before `later` in the article (the title before the text)."""
    return (_FIELD_ORDER[first.field], first.start) < (_FIELD_ORDER[later.field], later.start)
