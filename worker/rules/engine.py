"""Matching a compiled rule set against an article.

Semantics, in evaluation order:
1. A rule applies to an article only if it is enabled, its `languages` (if any) include the article's
   language, and its `sources` filter admits the article's domain (a domain also covers its subdomains).
2. Terms are found once per article for the whole rule set (see `scan`): case, diacritics, hyphens and
   inflections do not matter, so "air strike", "air-strike", "airstrike" and "airstrikes" are one term. A
   line linking to another story ("Read more: ...") is not read, nor a feed's footer ("The post ... appeared
   first on ...") (`text.without_other_stories`).
3. Only rules whose anchor terms occur (terms they cannot hold without) or that have no required term at
   all are evaluated: AND needs every part, OR any, NOT none, NEAR/n both sides in one sentence with at
   most n words between them (NEAR/n/any: in one field, across sentences), PRE/n the same with a mention
   of the left side before one of the right side.
4. Entity members match transliteration-aware (see `text.skeleton`, particles like al- skipped, names
   only where the article capitalises them); a name counts for every list that has it. A place written as an
   actor's patron ("Iran-backed", "US-led") is no mention of it. A person's surname
   alone counts as the member says (`surname:`, see `persons`).
5. A rule with weighted `terms` adds each term's weight for every sentence that mentions it (negative
   weights subtract) and holds when the sum reaches its `threshold` (and its `query`, if it has one, holds).
   A negative term with `scope: sentence` takes off at most what its own sentence scored (positive terms
   first, then the negative ones in the file's order): it cancels that sentence's terms, never another's.
   A sentence whose score a negative term brought to zero or below shows no evidence: its mentions are not
   the hit's ("no intention of entering Syrian territory").
6. A rule hits when it holds and it has at least `min_mentions` mentions. Its first snippet is the sentence
   that carries its meaning: the one where its query holds on its own (a NEAR or AND pair together), then
   the one with the highest weighted score, then the one with most distinct matched terms; ties go to the
   earliest, title first.

Work that rules share is done once per article: the scan, the sentence bounds (each occurrence knows its
sentence), the result of every clause written more than once (a list of countries in three weighted
terms, a phrase in many rules), and the matches and snippets of rules with the same mentions (a term in
many rules). A weighted term with a part none of whose terms occurs is not evaluated at all; a query that is a term or
an OR of terms is read off the scan without walking it; the right side of a NEAR that is a query of its own
(a chain of NEARs) is evaluated only in the sentences its left side occurs in; a hit's snippets are made
when they are first read (stored or shown), not when the rule is evaluated.

The rule set is compiled once per version (see `compiled`). One module on purpose (over 300 lines): a hit's
lead sentence is found by evaluating its query in each sentence, with the evaluator that matching uses.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache, partial
from typing import Any

from newswatch.worker.article import Article
from newswatch.worker.rules.anchors import Anchor
from newswatch.worker.rules.compiled import (
    AllClause,
    AnyClause,
    Clause,
    CompiledRules,
    EntityClause,
    MetaClause,
    NearClause,
    NoneClause,
    RulePlan,
    WordsClause,
)
from newswatch.worker.rules.evidence import Evidence, Match, RuleHit, Snippet
from newswatch.worker.rules.evidence import matches as evidence_matches
from newswatch.worker.rules.persons import surname, surname_mentions
from newswatch.worker.rules.query import Meta
from newswatch.worker.rules.scan import ArticleTerms, Occurrence

MAX_WORD_CHARS = 40
"""A word with its spacing and punctuation is rarely longer; NEAR distances are checked exactly below it."""


def find_terms(compiled: CompiledRules, article: Article) -> ArticleTerms:
    """Scan the article once for every indexed term of the rule set."""
    terms = ArticleTerms({"title": article.title, "text": article.text})
    for name, text in terms.fields.items():
        compiled.index.scan(terms, name, text)
    for key, occurrences in list(terms.words.items()):
        for list_name, member in compiled.index.entity_words.get(key, ()):
            terms.entities[list_name] += [(occ, member) for occ in occurrences]
    for list_name, found in terms.entities.items():
        if compiled.entity_lists[list_name].kind == "place":
            fields = terms.fields
            found[:] = [(occ, member) for occ, member in found if not _AFFILIATION.match(fields[occ.field], occ.end)]
    return terms


_AFFILIATION = re.compile(
    r"\.?[^\S\n]*[-\u2010\u2011][^\S\n]*(?:backed|led|based|funded|sponsored|brokered|allied|aligned|supported|trained|armed|"
    r"affiliated|linked|friendly|leaning|made|built|owned|run|registered|flagged)\b(?![^\S\n]+by\b)",
    re.IGNORECASE,
)
"""What makes a place named in a list of places an adjective of an actor ("Iran-backed militias", "Russia-led forces",
"US-made jets", a tokenizer's "Russia - backed"): the place is then not where anything happened, and is not a mention
of it. A participle with its "by" after a spaced dash is prose ("Iran - backed by Russia - refused")."""


_Found = list[tuple[Occurrence, str, str]]
"""Occurrences satisfying a clause, each with its term (the rule's wording or the member) and clause."""


class ArticleContext:
    """One article while a rule set is evaluated on it: its terms and sentences, the anchors that occur, and
    the results of clauses written more than once (by the fields looked in and the clause's number)."""

    def __init__(self, compiled: CompiledRules, article: Article) -> None:
        self.compiled = compiled
        self.article = article
        self.terms = terms = find_terms(compiled, article)
        self.results: dict[tuple[str, ...], dict[int, tuple[_Found | None, str | None]]] = {}
        found = [("word", key) for key in terms.words] + [("prefix", key) for key in terms.prefixes]
        found += [("entity", name) for name in terms.entities]
        for list_name, persons in compiled.persons.items():  # a surname alone may be the mention
            if any(p.use == "always" and surname(p.name)[1] in terms.surnames for p in persons):
                found.append(("entity", list_name))
        self.found: set[Anchor] = set(found)
        """The anchors that occur (see `compiled`)."""
        self._matches: dict[tuple[tuple[Occurrence, str, str], ...], tuple[Match, ...]] = {}
        self._evidence: dict[int, Evidence] = {}

    def matches(self, found: _Found) -> tuple[Match, ...]:
        """A rule's matches from its occurrences (see `evidence.matches`); rules with the same occurrences
        (one term in many rules) share them, built once per article."""
        key = tuple(found)
        matches = self._matches.get(key)
        if matches is None:
            matches = self._matches[key] = evidence_matches(found)
        return matches

    def evidence(self, matches: tuple[Match, ...]) -> Evidence:
        """The snippets and score every rule with these matches shows (as returned by `matches`, which keeps
        them alive: their id stays theirs)."""
        found = self._evidence.get(id(matches))
        if found is None or found.matches is not matches:
            found = self._evidence[id(matches)] = Evidence(matches, self.terms.sentences)
        return found


class Outcome:
    """A rule's evaluation on one article: matches when it holds, else the first clause that failed; for
    weighted rules, each sentence's score, by (field, sentence number)."""

    __slots__ = ("plan", "matches", "failed", "scores")

    def __init__(
        self,
        plan: RulePlan,
        matches: tuple[Match, ...] | None,
        failed: str | None,
        scores: dict[tuple[str, int], float] | None = None,
    ) -> None:
        self.plan = plan
        self.matches = matches
        self.failed = failed
        self.scores = scores if scores is not None else {}


class _Evaluator:
    def __init__(self, context: ArticleContext, fields: tuple[str, ...]) -> None:
        self.context = context
        self.terms = context.terms
        self.fields = fields
        self.results = context.results.setdefault(fields, {})
        self.failed: str | None = None

    def evaluate(self, clause: Clause) -> _Found | None:
        """Occurrences (with their term and clause) satisfying `clause`, or None when it fails."""
        result = self._evaluate(clause)
        if result is None and self.failed is None:
            self.failed = clause.text
        return result

    def _evaluate(self, clause: Clause) -> _Found | None:
        """`clause`'s result; that of a clause written more than once is computed once per article, and the
        first clause that failed inside it (an AND's part, recorded by `evaluate`) is kept with it and
        reported as if it were computed again."""
        number = clause.number
        if number is None:
            return _COMPUTE[type(clause)](self, clause)
        known = self.results.get(number)
        if known is None:
            outer, self.failed = self.failed, None
            known = self.results[number] = (_COMPUTE[type(clause)](self, clause), self.failed)
            self.failed = outer
        result, failed = known
        if failed is not None and self.failed is None:
            self.failed = failed
        return result

    def _words(self, clause: WordsClause) -> _Found | None:
        terms = self.terms
        occurrences = (terms.prefixes if clause.prefix else terms.words).get(clause.key, [])
        term, text = clause.term, clause.text
        allowed = self._allowed(clause.field)
        found = [(o, term, text) for o in occurrences if o.field in allowed]
        return found or None

    def _members(self, clause: EntityClause) -> _Found | None:
        text = clause.text
        allowed = self._allowed(clause.field)
        found = [(o, member, text) for o, member in self._entity(clause.name) if o.field in allowed]
        return found or None

    def _condition(self, clause: MetaClause) -> _Found | None:
        node = clause.node
        assert isinstance(node, Meta)
        article = self.context.article
        if node.field == "lang":
            held = (article.language or "").lower().startswith(node.value)
        else:
            held = _covers((article.domain or "").lower(), node.value)
        return [] if held else None

    def _all(self, clause: AllClause) -> _Found | None:
        collected: _Found = []
        for item in clause.items:
            part = self.evaluate(item)
            if part is None:
                return None
            collected += part
        return collected

    def _any(self, clause: AnyClause) -> _Found | None:
        word_set = clause.words
        if word_set is not None:
            found_words = self.terms.words
            common = word_set.keys() & found_words.keys()  # made in C; a set's order varies between processes
            # so in the query's order: an occurrence that two of its terms match is the first one's.
            keys = [key for key in word_set if key in common] if len(common) > 1 else common
            return [
                (o, text, rendered)
                for key in keys
                for text, rendered in (word_set[key],)
                for o in found_words[key]
                if o.field in self.fields
            ] or None
        parts = [self._evaluate(item) for item in clause.items]
        held = [p for p in parts if p is not None]
        return [o for p in held for o in p] if held else None

    def _none(self, clause: NoneClause) -> _Found | None:
        return [] if self._evaluate(clause.item) is None else None

    def _allowed(self, field: str | None) -> tuple[str, ...]:
        """The fields a clause looks in: the rule's, narrowed by the clause's `title:` or `text:`."""
        if field is None:
            return self.fields
        return (field,) if field in self.fields else ()

    def _entity(self, name: str) -> list[tuple[Occurrence, str]]:
        compiled = self.context.compiled
        found = sorted(self.terms.entities.get(name, []), key=lambda p: (p[0].field != "title", p[0].start))
        if compiled.entity_lists[name].kind != "person":
            return found
        return found + surname_mentions(compiled.persons[name], self.terms, found)

    def _near(self, clause: NearClause) -> _Found | None:
        left = self._evaluate(clause.left)
        if not left and clause.left_first:
            return None
        if clause.narrow and left:
            sentences = {a[0].sentence for a in left}
            right = _InSentences(self, sentences)._evaluate(clause.right)
        else:
            right = self._evaluate(clause.right)
        if not left or not right:
            return None
        # Right-hand mentions by where they may pair: their sentence (or only their field, with /any), so
        # that mentions in different sentences are never compared; only the sentences the left side has.
        anywhere = clause.across
        sentences = {a[0].sentence for a in left}
        places: dict[tuple[str, int], _Found] = {}
        for b in right:
            if anywhere or b[0].sentence in sentences:
                places.setdefault((b[0].field, -1 if anywhere else b[0].sentence), []).append(b)
        text, distance, fields, ordered = clause.text, clause.distance, self.terms.fields, clause.ordered
        pairs = []
        for a in left:
            for b in places.get((a[0].field, -1 if anywhere else a[0].sentence), ()):
                if ordered and a[0].start >= b[0].start:
                    continue  # PRE: the left side's mention first
                if _within(fields[a[0].field], a[0], b[0], distance):
                    pairs += [(a[0], a[1], text), (b[0], b[1], text)]
        return pairs or None


_COMPUTE: dict[type, Callable[[_Evaluator, Any], _Found | None]] = {
    WordsClause: _Evaluator._words,
    EntityClause: _Evaluator._members,
    MetaClause: _Evaluator._condition,
    AllClause: _Evaluator._all,
    AnyClause: _Evaluator._any,
    NoneClause: _Evaluator._none,
    NearClause: _Evaluator._near,
}
"""How each kind of clause is evaluated (a table: one lookup instead of a chain of isinstance tests)."""


class _Narrowed(_Evaluator):
    """An evaluation narrowed to part of what `whole` evaluates: its article, terms and fields, and `results`
    for the clauses written more than once."""

    def __init__(self, whole: _Evaluator, results: dict[int, tuple[_Found | None, str | None]]) -> None:
        self.context = whole.context
        self.terms = whole.terms
        self.fields = whole.fields
        self.failed = None
        self.whole = whole
        self.results = results


class _InSentence(_Narrowed):
    """A rule's query evaluated on one sentence of the article: its words and names only there."""

    def __init__(self, whole: _Evaluator, place: tuple[str, int]) -> None:
        super().__init__(whole, {})  # nothing of the whole article's (see `_InSentences`)
        self.place = place

    def _evaluate(self, clause: Clause) -> _Found | None:
        if clause.local:
            name, sentence = self.place
            found = self.whole._evaluate(clause) or ()
            return [m for m in found if m[0].sentence == sentence and m[0].field == name] or None
        return _COMPUTE[type(clause)](self, clause)


class _InSentences(_Narrowed):
    """The right side of a NEAR (see `NearClause.narrow`) evaluated only in the sentences (by number, in any
    field) its left side occurs in: its mentions there, as the whole article's evaluation would give them.
    Only falsy results may differ (an empty list for None), which a NEAR reads alike. Nothing is kept for
    other rules: results of clauses written more than once are those of the whole article."""

    def __init__(self, whole: _Evaluator, sentences: set[int]) -> None:
        super().__init__(whole, whole.results)
        self.sentences = sentences

    def _evaluate(self, clause: Clause) -> _Found | None:
        if clause.local:
            found = self.whole._evaluate(clause)
        else:
            known = self.results.get(clause.number) if clause.number is not None else None
            if known is None:
                return _COMPUTE[type(clause)](self, clause)
            found = known[0]  # the whole article's result, computed for another rule or term
        if not found:
            return found
        sentences = self.sentences
        return [m for m in found if m[0].sentence in sentences] or None


def _covers(domain: str, pattern: str) -> bool:
    """A domain filter covers the domain itself and its subdomains."""
    return domain == pattern or domain.endswith("." + pattern)


def _within(text: str, a: Occurrence, b: Occurrence, limit: int) -> bool:
    """Whether at most `limit` words stand between two mentions (adjacent or overlapping ones do)."""
    left, right = (a, b) if a.start <= b.start else (b, a)
    if right.start <= left.end:
        return True
    if right.start - left.end > (limit + 1) * MAX_WORD_CHARS:
        return False  # too far apart for `limit` words of any plausible length
    return _more_words(limit).match(text, left.end, right.start) is None


@lru_cache(maxsize=1_000)
def _more_words(limit: int) -> re.Pattern[str]:
    """Matches from a position when more than `limit` words follow (in C: no list of the words is built)."""
    return re.compile(rf"(?:[\W_]*+[^\W_]++){{{limit + 1}}}")  # possessive: a word is never split in two


def evaluate(context: ArticleContext, plan: RulePlan, *, full_score: bool = True) -> Outcome:
    """Evaluate one rule on an article whose terms were found already. Without `full_score` (matching), a
    weighted rule whose positive terms alone stay under its threshold fails without its negative terms being
    looked at (they can only lower the score); its outcome then names the score of the positive terms."""
    article = context.article
    if plan.languages:
        language = (article.language or "").lower()
        if not any(language.startswith(lang) for lang in plan.languages):
            return Outcome(plan, None, f"languages: {', '.join(plan.languages)} (article: {language or 'unknown'})")
    if plan.include or plan.exclude:
        domain = (article.domain or "").lower()
        if plan.include and not any(_covers(domain, p) for p in plan.include):
            return Outcome(plan, None, f"sources.include: {', '.join(plan.include)}")
        if any(_covers(domain, p) for p in plan.exclude):
            return Outcome(plan, None, f"sources.exclude: {domain}")
    plain = plan.plain
    if plain is not None:
        found = _mentions(context.terms, plain, plan.fields)
        if not found:
            assert plan.tree is not None
            return Outcome(plan, None, plan.tree.text)
        return _held(context, plan, found, {})
    evaluator = _Evaluator(context, plan.fields)
    found = []
    if plan.tree is not None:
        held = evaluator.evaluate(plan.tree)
        if held is None:
            return Outcome(plan, None, evaluator.failed)
        found += held
    scores: dict[tuple[str, int], float] = {}
    if plan.weighted:
        total = 0.0
        scored: _Found = []
        present, weighted, threshold = context.found, plan.weighted, plan.threshold or 0.0
        positions = plan.scoring(present)
        positive = [p for p in positions if weighted[p][1] >= 0]
        negative = [p for p in positions if weighted[p][1] < 0]
        for terms in (positive, negative):
            if terms is negative and total < threshold and not full_score:
                return Outcome(plan, None, f"threshold: {threshold:g} (score of its positive terms {total:g})")
            for position in terms:
                clause, weight, needs, sentence_only = weighted[position]
                if len(needs) > 1 and any(group.isdisjoint(present) for group in needs):
                    continue  # a part of it has none of its terms here: it adds nothing
                mentions = evaluator.evaluate(clause) or []
                # Each sentence counts once: a NEAR pair, or a phrase inside another term, is one mention.
                places = {(o.field, o.sentence) for o, _, _ in mentions}
                for place in places:
                    score = scores.get(place, 0.0)
                    # `scope: sentence`: it takes off at most what its own sentence has scored.
                    change = max(weight, -max(score, 0.0)) if sentence_only else weight
                    total += change
                    scores[place] = score + change
                if weight > 0:
                    scored += mentions
        if total < threshold:
            return Outcome(plan, None, f"threshold: {plan.threshold:g} (score {total:g})")
        found += [m for m in scored if scores[(m[0].field, m[0].sentence)] > 0]
    return _held(context, plan, found, scores)


def _held(context: ArticleContext, plan: RulePlan, found: _Found, scores: dict[tuple[str, int], float]) -> Outcome:
    """The outcome of a rule whose query and threshold held: a hit if it has enough mentions."""
    matches = context.matches(found)
    if len(matches) < plan.min_mentions:
        return Outcome(plan, None, f"min_mentions: {plan.min_mentions} (found {len(matches)})")
    return Outcome(plan, matches, None, scores)


def _mentions(terms: ArticleTerms, plain: tuple[tuple[bool, str, str, str], ...], fields: tuple[str, ...]) -> _Found:
    """The mentions of a rule whose query is a term or an OR of terms (see `RulePlan.plain`), in the order the
    query walk would give them."""
    found: _Found = []
    words, prefixes = terms.words, terms.prefixes
    for prefix, key, text, clause in plain:
        occurrences = prefixes.get(key) if prefix else words.get(key)
        if occurrences:
            found += [(o, text, clause) for o in occurrences if o.field in fields]
    return found


def partial_matches(context: ArticleContext, plan: RulePlan) -> list[str]:
    """The words, phrases and entity lists of a rule that occur in the article, each with its first mention."""
    evaluator = _Evaluator(context, plan.fields)
    found = []
    stack: list[Clause] = ([plan.tree] if plan.tree is not None else []) + [c for c, *_ in plan.weighted]
    while stack:
        clause = stack.pop(0)
        if isinstance(clause, (WordsClause, EntityClause)):
            mentions = evaluator._evaluate(clause)
            if mentions:
                found.append(f"{clause.text} ({mentions[0][0].term!r})")
        elif isinstance(clause, AnyClause) and clause.words is not None:
            words, fields = evaluator.terms.words, evaluator.fields
            for key, (_, text) in clause.words.items():
                first = next((o for o in words.get(key, ()) if o.field in fields), None)
                if first is not None:
                    found.append(f"{text} ({first.term!r})")
        elif isinstance(clause, (AllClause, AnyClause)):
            stack.extend(clause.items)
        elif isinstance(clause, NearClause):
            stack += [clause.left, clause.right]
        elif isinstance(clause, NoneClause):
            stack.append(clause.item)
    return list(dict.fromkeys(found))


def hits(context: ArticleContext, version: str) -> list[RuleHit]:
    """The hits on the article of the rules worth evaluating (see `candidate_rules`), in rule order. A rule
    whose query is a term or an OR of terms (see `RulePlan.plain`) and that admits every article is a hit
    wherever its terms occur often enough: its outcome is not built."""
    plans = context.compiled.plans
    terms = context.terms
    found = []
    for index in candidate_rules(context.compiled, context):
        plan = plans[index]
        plain = plan.plain
        if plain is not None and plan.admits_all:
            mentions = _mentions(terms, plain, plan.fields)
            if mentions:
                matches = context.matches(mentions)
                if len(matches) >= plan.min_mentions:
                    found.append(_hit(context, plan, matches, _NO_SCORES, version))
            continue
        outcome = evaluate(context, plan, full_score=False)
        if outcome.matches is not None:
            found.append(_hit(context, plan, outcome.matches, outcome.scores, version))
    return found


_NO_SCORES: dict[tuple[str, int], float] = {}


def to_hit(context: ArticleContext, outcome: Outcome, version: str) -> RuleHit:
    """The stored and shown form of a rule that held (see `_hit`)."""
    assert outcome.matches is not None
    return _hit(context, outcome.plan, outcome.matches, outcome.scores, version)


def _hit(
    context: ArticleContext,
    plan: RulePlan,
    matches: tuple[Match, ...],
    scores: dict[tuple[str, int], float],
    version: str,
) -> RuleHit:
    """A rule's hit; its snippets, the sentence carrying its meaning first, are made when first read."""
    return RuleHit(
        rule=plan.name,
        severity=plan.severity,
        alert=plan.alert,
        matches=matches,
        rules_version=version,
        show=partial(_snippets, context, plan, matches, scores),
    )


def _snippets(
    context: ArticleContext, plan: RulePlan, matches: tuple[Match, ...], scores: dict[tuple[str, int], float]
) -> tuple[Snippet, ...]:
    evidence = context.evidence(matches)
    return evidence.snippets(_lead(context, plan, scores, evidence))


def _lead(
    context: ArticleContext, plan: RulePlan, scores: dict[tuple[str, int], float], evidence: Evidence
) -> tuple[str, int] | None:
    """The sentence (field, number) that carries a rule's meaning: where its query holds on its own, then
    the highest weighted score, then the most distinct matched terms; ties to the earliest, title first."""
    terms = evidence.places
    if evidence.lead is None or not (plan.combining or scores):
        return evidence.lead  # one sentence, or no query to hold on its own and no scores: most terms
    if plan.combining:
        assert plan.tree is not None
        whole, tree = _Evaluator(context, plan.fields), plan.tree
        holds = {place: _InSentence(whole, place)._evaluate(tree) is not None for place in terms}
    else:  # an OR of terms holds wherever one of them is mentioned
        holds = dict.fromkeys(terms, True)

    def rank(place: tuple[str, int]) -> tuple[bool, float, int]:
        return holds[place], scores.get(place, 0.0), len(terms[place])

    return max(terms, key=rank)  # the first of equals


def candidate_rules(compiled: CompiledRules, context: ArticleContext) -> list[int]:
    """Indexes of the rules worth evaluating: one of their anchors occurred, or they have none."""
    candidates = set(compiled.always)
    anchored = compiled.anchored
    for anchor in context.found:
        candidates.update(anchored.get(anchor, ()))
    return sorted(candidates)


__all__ = [
    "ArticleContext",
    "CompiledRules",
    "Outcome",
    "candidate_rules",
    "evaluate",
    "find_terms",
    "hits",
    "partial_matches",
    "to_hit",
]
