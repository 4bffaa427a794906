"""What a hit shows: every matched mention with offsets and the clause it satisfied, marked snippets, a score.

The first snippet is the sentence that carries the rule's meaning (chosen by the engine: where the query holds
in one sentence, the highest weighted score, the most distinct terms); the others follow in article order.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from newswatch.worker.rules.scan import Occurrence
from newswatch.worker.rules.text import Sentences

SNIPPET_CHARS = 300
ELLIPSIS = "… "
"""Marks where a long sentence was cut to fit a snippet."""
TITLE_WEIGHT = 3.0


@dataclass(frozen=True)
class Match:
    """One mention: `text` is `article.<field>[start:end]`, `term` the rule's wording, `clause` the query part."""

    term: str
    text: str
    field: str
    start: int
    end: int
    clause: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "term": self.term,
            "text": self.text,
            "field": self.field,
            "start": self.start,
            "end": self.end,
            "clause": self.clause,
        }


@dataclass(frozen=True)
class Snippet:
    """The sentence around one or more mentions, with the mentions' spans within it."""

    text: str
    marks: tuple[tuple[int, int], ...]

    def marked(self, open: str = "**", close: str = "**") -> str:
        """The snippet with each mention wrapped in `open`/`close`."""
        out, last = [], 0
        for start, end in self.marks:
            out += [self.text[last:start], open, self.text[start:end], close]
            last = end
        out.append(self.text[last:])
        return "".join(out)

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "marks": [list(mark) for mark in self.marks]}


@dataclass(frozen=True)
class RuleHit:
    """A rule matching an article, with everything needed to show why. The snippets are made when first
    shown or stored (`show` makes them): a rule set's hits on an article share their sentences and marks,
    and a hit that is only counted never needs them."""

    rule: str
    severity: str
    alert: tuple[str, ...]
    matches: tuple[Match, ...]
    rules_version: str
    show: Callable[[], tuple[Snippet, ...]] = field(repr=False, compare=False)

    @cached_property
    def snippets(self) -> tuple[Snippet, ...]:
        """One snippet per sentence with mentions, the one carrying the rule's meaning first."""
        return self.show()

    @cached_property
    def score(self) -> float:
        """Mentions, a title mention counting as three body mentions (see `score`)."""
        return score(self.matches)

    @property
    def snippet(self) -> str:
        """The first snippet's plain text: the sentence that carries the rule's meaning (the hit's summary)."""
        return self.snippets[0].text if self.snippets else ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "alert": list(self.alert),
            "matches": [m.to_dict() for m in self.matches],
            "snippets": [s.to_dict() for s in self.snippets],
            "score": self.score,
            "rules_version": self.rules_version,
        }


def matches(found: Sequence[tuple[Occurrence, str, str]]) -> tuple[Match, ...]:
    """The matches of a rule's occurrences (each with the rule's wording and the clause it satisfied): each
    span once, explained by the first clause it satisfied; title first, then in order; mentions inside a
    longer one dropped."""
    if len(found) == 1:  # one mention (a rare term, a name): nothing to order or drop
        ((occ, term, clause),) = found
        return (Match(term, occ.term, occ.field, occ.start, occ.end, clause),)
    unique: dict[tuple[str, int, int], Match] = {}
    for occ, term, clause in found:
        span = (occ.field, occ.start, occ.end)
        if span not in unique:
            unique[span] = Match(term, occ.term, occ.field, occ.start, occ.end, clause)
    return _outermost(sorted(unique.values(), key=lambda m: (m.field != "title", m.start, -m.end)))


def _outermost(matches: list[Match]) -> tuple[Match, ...]:
    """Drop mentions inside a longer one ("border crossing" within "Syrian-Iraqi border crossing")."""
    kept: list[Match] = []
    for match in matches:
        if kept and kept[-1].field == match.field and match.end <= kept[-1].end:
            continue
        kept.append(match)
    return tuple(kept)


class Evidence:
    """What a set of matches shows on one article: its sentences and their snippets. Rules with
    the same matches (one term in many rules) share one."""

    def __init__(self, matches: tuple[Match, ...], sentences: Sentences) -> None:
        self.matches = matches
        self.places: dict[tuple[str, int], set[str]] = {}
        """The sentences (field, number) with matches, title first, then in order, with their terms."""
        for match in matches:
            self.places.setdefault((match.field, sentences.number(match.field, match.start)), set()).add(match.term)
        places = self.places
        self.lead = max(places, key=lambda place: len(places[place])) if len(places) > 1 else None
        """The sentence with most distinct terms (the first of equals), None if there is one sentence: the lead
        of a rule with no scores whose query holds wherever one of its terms is."""
        self._sentences = sentences
        self._snippets: dict[tuple[str, int] | None, tuple[Snippet, ...]] = {}

    def snippets(self, lead: tuple[str, int] | None) -> tuple[Snippet, ...]:
        """The snippets with the sentence `lead` first (see `snippets`)."""
        found = self._snippets.get(lead)
        if found is None:
            found = self._snippets[lead] = snippets(self.matches, self._sentences, lead)
        return found


def score(matches: Iterable[Match]) -> float:
    """Mentions, a title mention counting as three body mentions."""
    return sum(TITLE_WEIGHT if m.field == "title" else 1.0 for m in matches)


def snippets(
    matches: Iterable[Match], sentences: Sentences, lead: tuple[str, int] | None = None
) -> tuple[Snippet, ...]:
    """One snippet per sentence holding mentions, each mention marked: the sentence `lead` (field, number)
    first, the others in order."""
    fields = sentences.fields
    by_sentence: dict[tuple[str, int, int, bool, bool], list[tuple[int, int]]] = {}
    leading = None
    for match in matches:
        field, start, end = match.field, match.start, match.end
        bounds = sentences.bounds(field)
        place = (field, *_sentence(fields[field], bounds, start, end))
        spans = by_sentence.get(place)
        if spans is None:
            spans = by_sentence[place] = []
            if leading is None and lead == (field, bisect.bisect_right(bounds[0], start) - 1):
                leading = place
        spans.append((start, end))
    order = list(by_sentence)
    if leading is not None:
        order.remove(leading)
        order.insert(0, leading)
    result = []
    for place in order:
        field, start, end, cut_before, cut_after = place
        sentence = fields[field][start:end]
        shift = start + len(sentence) - len(sentence.lstrip()) - (len(ELLIPSIS) if cut_before else 0)
        body = (ELLIPSIS if cut_before else "") + sentence.strip() + (ELLIPSIS.strip() if cut_after else "")
        spans = by_sentence[place]
        marks = ((spans[0][0] - shift, spans[0][1] - shift),) if len(spans) == 1 else _merge(sorted(spans), shift)
        result.append(Snippet(body, marks))
    return tuple(result)


def _sentence(text: str, bounds: tuple[list[int], list[int]], start: int, end: int) -> tuple[int, int, bool, bool]:
    """The sentence around [start, end), at most about SNIPPET_CHARS long, cut at word boundaries;
    with whether it was cut before and after."""
    starts, stops = bounds
    index = bisect.bisect_right(starts, start) - 1
    left = starts[index] if index >= 0 else 0
    after = bisect.bisect_left(stops, end)
    right = stops[after] if after < len(stops) else len(text)
    room = max(0, SNIPPET_CHARS - (end - start)) // 2
    cut_before = cut_after = False
    if start - left > room:
        left, cut_before = text.rfind(" ", left, start - room) + 1 or start - room, True
    if right - end > room:
        cut = text.find(" ", end + room, right)
        right, cut_after = (cut, True) if cut != -1 else (right, False)
    return left, right, cut_before, cut_after


def _merge(spans: Iterable[tuple[int, int]], shift: int) -> tuple[tuple[int, int], ...]:
    """Sorted spans, moved back by `shift`, overlapping ones joined."""
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        start, end = start - shift, end - shift
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)
