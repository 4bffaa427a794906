"""Matching a compiled rule set against an article.

Semantics, in evaluation order:
1. A rule applies to an article only if it is enabled, its `languages` (if any) include the article's
   language, and its `sources` filter admits the article's domain (a domain also covers its subdomains).
2. Terms are found once per article for the whole rule set (see `scan`): case, diacritics, hyphens and
   inflections do not matter, so "air strike", "air-strike", "airstrike" and "airstrikes" are one term.
3. Only rules whose anchor terms occur (terms they cannot hold without) or that have no required term at
   all are evaluated: AND needs every part, OR any, NOT none, NEAR/n both sides in one sentence with at
   most n words between them (NEAR/n/any: in one field, across sentences).
4. Entity members match transliteration-aware (see `text.skeleton`, particles like al- skipped, names
   only where the article capitalises them); a name counts for every list that has it. A person's surname
   alone counts as the member says (`surname:`, see `persons`).
5. A rule with weighted `terms` adds each term's weight for every sentence that mentions it (negative
   weights subtract) and holds when the sum reaches its `threshold` (and its `query`, if it has one, holds).
6. A rule hits when it holds and it has at least `min_mentions` mentions. Its first snippet is the sentence
   that carries its meaning: the one where its query holds on its own (a NEAR or AND pair together), then
   the one with the highest weighted score, then the one with most distinct matched terms; ties go to the
   earliest, title first.

Work that rules share is done once per article: the scan, the sentence bounds (each occurrence knows its
sentence), the result of every clause written more than once (a list of countries in three weighted
terms, a phrase in many rules), and the matches, score and snippets of rules with the same mentions (a
term in many rules). A weighted term none of whose anchors occurs is not evaluated at all; a query that is a
term or an OR of terms is read off the scan without walking it.

One module on purpose (over 300 lines): evaluation, anchoring and hit building share the compiled
structures; split by step, they would pass half a dozen private types between files.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import simplemma

from newswatch.worker.article import Article
from newswatch.worker.rules.evidence import Evidence, Match, RuleHit
from newswatch.worker.rules.evidence import matches as evidence_matches
from newswatch.worker.rules.loader import EntityList, ParsedRule
from newswatch.worker.rules.persons import Person, surname, surname_mentions
from newswatch.worker.rules.query import And, Entity, Meta, Near, Node, Not, Or, Words
from newswatch.worker.rules.scan import ArticleTerms, Occurrence, TermIndex
from newswatch.worker.rules.text import fold, tokenize

MAX_WORD_CHARS = 40
"""A word with its spacing and punctuation is rarely longer; NEAR distances are checked exactly below it."""
_Anchor = tuple[str, str]  # ("word", key) | ("prefix", term) | ("entity", list name)


@lru_cache(maxsize=100_000)
def _text_key(text: str) -> str:
    """The identity of a word or phrase term: its folded lemmas, spaces and hyphens removed."""
    return "".join(t.lemma for t in tokenize(text))


class CompiledRules:
    """The term index and the anchors of a rule set, built once per rule-set version."""

    def __init__(self, rules: list[ParsedRule], entities: dict[str, EntityList]) -> None:
        self.rules = rules
        self.entity_lists = entities
        self.index = TermIndex()
        self.anchored: dict[_Anchor, list[int]] = defaultdict(list)
        """A rule is evaluated only when one of its anchors occurs: terms it cannot hold without."""
        self.always: list[int] = []
        self.needs: dict[int, frozenset[_Anchor]] = {}
        """A weighted term's anchors, by node id: a term none of whose anchors occurs is not evaluated."""
        self.combining: set[int] = set()
        """Query trees (by node id) with AND, NEAR or NOT: a sentence with a mention may not satisfy them."""
        self.left_first: set[int] = set()
        """NEAR clauses (by node id) whose right side is not evaluated when the left one fails: it has no AND,
        the only clause whose failure is reported from inside, so skipping it changes no explanation."""
        self.clause: dict[int, str] = {}
        """Each clause rendered back as query text, by node id: shown with every mention it explains."""
        self.key: dict[int, str] = {}
        """Each word or phrase node's term key, by node id."""
        self.shared: dict[int, int] = {}
        """Clauses written more than once (in one rule or in several), by node id: equal clauses share a
        number, under which their result on an article is kept."""
        numbers: dict[Node, int] = {}
        self.word_sets: dict[int, dict[str, tuple[str, str]]] = {}
        """An OR of plain words (a list of spellings, countries, verbs), by node id: term key -> (word, clause),
        so that it is evaluated by the words the article has, not by each of its words in turn."""
        self.persons: dict[str, list[Person]] = defaultdict(list)
        """The members of each person list, with when their surname alone counts."""
        self.looks_in = {id(rule): tuple(sorted(set(rule.spec.fields))) for rule in rules}
        """The fields each rule looks in, by rule id."""
        self.plain: dict[int, tuple[tuple[bool, str, str, str], ...]] = {}
        """Rules whose query is a term or an OR of terms (words, phrases, prefixes; but not words alone, see
        `word_sets`), with no weighted terms, by rule id: per term (prefix?, key, wording, clause). They hold
        wherever one of their terms occurs: their mentions are read off the scan without walking the query."""
        used_lists: set[str] = set()
        for number, rule in enumerate(rules):
            for tree in _trees(rule):
                used_lists |= self._index_terms(tree, numbers)
            anchors = _rule_anchors(rule)
            if anchors is None:
                self.always.append(number)
            for kind, value, _ in anchors or ():
                self.anchored[(kind, value)].append(number)
            if rule.tree is not None and _combines(rule.tree):
                self.combining.add(id(rule.tree))
            if rule.tree is not None and not rule.weighted and id(rule.tree) not in self.word_sets:
                self._plan_plain(rule, rule.tree)
            for tree, _ in rule.weighted:
                needed = _anchors(tree)
                if needed is not None:
                    self.needs[id(tree)] = frozenset((kind, value) for kind, value, _ in needed)
        uses = Counter(self.shared.values())  # every clause is numbered first; keep those written twice or more
        self.shared = {node: number for node, number in self.shared.items() if uses[number] > 1}
        for name in sorted(used_lists):
            self._index_entity_list(name, entities[name])
        self.index.build()

    def _index_terms(self, node: Node, numbers: dict[Node, int]) -> set[str]:
        """Index every word and prefix of a query; returns the entity lists it uses."""
        self.clause[id(node)] = str(node)
        self.shared[id(node)] = numbers.setdefault(node, len(numbers))
        if isinstance(node, Words):
            if node.prefix:
                self.index.add_prefix(node.text)
            else:
                self.key[id(node)] = _text_key(node.text)
                self.index.add_word(self.key[id(node)], node.text)
            return set()
        if isinstance(node, Entity):
            return {node.name}
        if isinstance(node, (And, Or)):
            used = set().union(*(self._index_terms(item, numbers) for item in node.items))
            if isinstance(node, Or) and all(
                isinstance(i, Words) and not i.prefix and i.field is None for i in node.items
            ):
                words: dict[str, tuple[str, str]] = {}
                for item in node.items:
                    assert isinstance(item, Words)
                    words.setdefault(self.key[id(item)], (item.text, self.clause[id(item)]))
                self.word_sets[id(node)] = words
            return used
        if isinstance(node, Near):
            if not _has_and(node.right):
                self.left_first.add(id(node))
            return self._index_terms(node.left, numbers) | self._index_terms(node.right, numbers)
        if isinstance(node, Not):
            return self._index_terms(node.item, numbers)
        return set()

    def _plan_plain(self, rule: ParsedRule, tree: Node) -> None:
        terms = []
        for item in tree.items if isinstance(tree, Or) else (tree,):
            if not isinstance(item, Words) or item.field is not None:
                return
            terms.append(
                (item.prefix, item.text if item.prefix else self.key[id(item)], item.text, self.clause[id(item)])
            )
        self.plain[id(rule)] = tuple(terms)

    def _index_entity_list(self, name: str, entity_list: EntityList) -> None:
        for member in entity_list.resolved():
            if entity_list.kind == "person":
                self.index.surname_keys.add(surname(member.name)[1])
                self.persons[name].append(Person.of(member))
            for alias in [member.name, *member.aliases]:
                if alias == alias.lower():  # a generic phrase ("border crossing"): ordinary word matching
                    key = _text_key(alias)
                    self.index.add_word(key, alias)
                    self.index.entity_words[key].append((name, member.name))
                else:
                    self.index.add_name(name, member.name, alias)


def find_terms(compiled: CompiledRules, article: Article) -> ArticleTerms:
    """Scan the article once for every indexed term of the rule set."""
    terms = ArticleTerms({"title": article.title, "text": article.text})
    for name, text in terms.fields.items():
        compiled.index.scan(terms, name, text)
    for key, occurrences in list(terms.words.items()):
        for list_name, member in compiled.index.entity_words.get(key, ()):
            terms.entities[list_name] += [(occ, member) for occ in occurrences]
    return terms


_Found = list[tuple[Occurrence, str, str]]
"""Occurrences satisfying a clause, each with its term (the rule's wording or the member) and clause."""


class ArticleContext:
    """One article while a rule set is evaluated on it: its terms and sentences, the anchors that occur, and
    the results of clauses written more than once (by the fields looked in and the clause's number)."""

    def __init__(self, compiled: CompiledRules, article: Article) -> None:
        self.article = article
        self.terms = terms = find_terms(compiled, article)
        self.results: dict[tuple[str, ...], dict[int, tuple[_Found | None, str | None]]] = {}
        found = [("word", key) for key in terms.words] + [("prefix", key) for key in terms.prefixes]
        found += [("entity", name) for name in terms.entities]
        for list_name, persons in compiled.persons.items():  # a surname alone may be the mention
            if any(p.use == "always" and surname(p.name)[1] in terms.surnames for p in persons):
                found.append(("entity", list_name))
        self.found: set[_Anchor] = set(found)
        """The anchors that occur (see `_anchors`)."""
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


@dataclass(frozen=True)
class Outcome:
    """A rule's evaluation on one article: matches when it holds, else the first clause that failed."""

    rule: ParsedRule
    matches: tuple[Match, ...] | None
    failed: str | None
    scores: dict[tuple[str, int], float] = field(default_factory=dict)
    """Weighted rules: each sentence's score, by (field, sentence number)."""


class _Evaluator:
    def __init__(self, compiled: CompiledRules, context: ArticleContext, rule: ParsedRule) -> None:
        self.compiled = compiled
        self.context = context
        self.terms = context.terms
        self.fields = compiled.looks_in[id(rule)]
        self.results = context.results.setdefault(self.fields, {})
        self.failed: str | None = None

    def evaluate(self, node: Node) -> _Found | None:
        """Occurrences (with their term and clause) satisfying `node`, or None when it fails."""
        result = self._evaluate(node)
        if result is None and self.failed is None:
            self.failed = self.compiled.clause[id(node)]
        return result

    def _evaluate(self, node: Node) -> _Found | None:
        """`node`'s result; that of a clause written more than once is computed once per article, and the
        first clause that failed inside it (an AND's part, recorded by `evaluate`) is kept with it and
        reported as if it were computed again."""
        number = self.compiled.shared.get(id(node))
        if number is None:
            return _COMPUTE[type(node)](self, node)
        known = self.results.get(number)
        if known is None:
            outer, self.failed = self.failed, None
            known = self.results[number] = (_COMPUTE[type(node)](self, node), self.failed)
            self.failed = outer
        result, failed = known
        if failed is not None and self.failed is None:
            self.failed = failed
        return result

    def _words(self, node: Words) -> _Found | None:
        occurrences = (
            self.terms.prefixes.get(node.text, [])
            if node.prefix
            else self.terms.words.get(self.compiled.key[id(node)], [])
        )
        clause = self.compiled.clause[id(node)]
        allowed = self._allowed(node.field)
        found = [(o, node.text, clause) for o in occurrences if o.field in allowed]
        return found or None

    def _members(self, node: Entity) -> _Found | None:
        clause = self.compiled.clause[id(node)]
        allowed = self._allowed(node.field)
        found = [(o, member, clause) for o, member in self._entity(node.name) if o.field in allowed]
        return found or None

    def _condition(self, node: Meta) -> _Found | None:
        return [] if self._meta(node) else None

    def _all(self, node: And) -> _Found | None:
        collected: _Found = []
        for item in node.items:
            part = self.evaluate(item)
            if part is None:
                return None
            collected += part
        return collected

    def _any(self, node: Or) -> _Found | None:
        word_set = self.compiled.word_sets.get(id(node))
        if word_set is not None:
            found_words = self.terms.words
            return [
                (o, text, clause)
                for key in word_set.keys() & found_words.keys()
                for text, clause in (word_set[key],)
                for o in found_words[key]
                if o.field in self.fields
            ] or None
        parts = [self._evaluate(item) for item in node.items]
        held = [p for p in parts if p is not None]
        return [o for p in held for o in p] if held else None

    def _none(self, node: Not) -> _Found | None:
        return [] if self._evaluate(node.item) is None else None

    def _allowed(self, field: str | None) -> tuple[str, ...]:
        """The fields a clause looks in: the rule's, narrowed by the clause's `title:` or `text:`."""
        if field is None:
            return self.fields
        return (field,) if field in self.fields else ()

    def _meta(self, node: Meta) -> bool:
        article = self.context.article
        if node.field == "lang":
            return (article.language or "").lower().startswith(node.value)
        return _covers((article.domain or "").lower(), node.value)

    def _entity(self, name: str) -> list[tuple[Occurrence, str]]:
        found = sorted(self.terms.entities.get(name, []), key=lambda p: (p[0].field != "title", p[0].start))
        if self.compiled.entity_lists[name].kind != "person":
            return found
        return found + surname_mentions(self.compiled.persons[name], self.terms, found)

    def _near(self, node: Near) -> _Found | None:
        left = self._evaluate(node.left)
        if not left and id(node) in self.compiled.left_first:
            return None
        right = self._evaluate(node.right)
        if not left or not right:
            return None
        # Right-hand mentions by where they may pair: their sentence (or only their field, with /any), so
        # that mentions in different sentences are never compared; only the sentences the left side has.
        anywhere = node.across_sentences
        sentences = {a[0].sentence for a in left}
        places: dict[tuple[str, int], _Found] = {}
        for b in right:
            if anywhere or b[0].sentence in sentences:
                places.setdefault((b[0].field, -1 if anywhere else b[0].sentence), []).append(b)
        clause = self.compiled.clause[id(node)]
        pairs = []
        for a in left:
            for b in places.get((a[0].field, -1 if anywhere else a[0].sentence), ()):
                if _within(self.terms.fields[a[0].field], a[0], b[0], node.distance):
                    pairs += [(a[0], a[1], clause), (b[0], b[1], clause)]
        return pairs or None


_COMPUTE: dict[type, Callable[[_Evaluator, Any], _Found | None]] = {
    Words: _Evaluator._words,
    Entity: _Evaluator._members,
    Meta: _Evaluator._condition,
    And: _Evaluator._all,
    Or: _Evaluator._any,
    Not: _Evaluator._none,
    Near: _Evaluator._near,
}
"""How each kind of clause is evaluated (a table: one lookup instead of a chain of isinstance tests)."""


class _InSentence(_Evaluator):
    """A rule's query evaluated on one sentence of the article: its words and names only there."""

    def __init__(self, whole: _Evaluator, place: tuple[str, int]) -> None:
        self.compiled = whole.compiled
        self.context = whole.context
        self.terms = whole.terms
        self.fields = whole.fields
        self.failed = None
        self.whole = whole
        self.place = place

    def _evaluate(self, node: Node) -> _Found | None:
        if isinstance(node, (Words, Entity)) or id(node) in self.compiled.word_sets:
            name, sentence = self.place
            found = self.whole._evaluate(node) or ()
            return [m for m in found if m[0].sentence == sentence and m[0].field == name] or None
        return _COMPUTE[type(node)](self, node)


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


def evaluate(compiled: CompiledRules, context: ArticleContext, rule: ParsedRule) -> Outcome:
    """Evaluate one rule on an article whose terms were found already."""
    spec, article = rule.spec, context.article
    if spec.languages:
        language = (article.language or "").lower()
        if not any(language.startswith(lang) for lang in spec.languages):
            return Outcome(rule, None, f"languages: {', '.join(spec.languages)} (article: {language or 'unknown'})")
    if spec.sources.include or spec.sources.exclude:
        domain = (article.domain or "").lower()
        if spec.sources.include and not any(_covers(domain, p) for p in spec.sources.include):
            return Outcome(rule, None, f"sources.include: {', '.join(spec.sources.include)}")
        if any(_covers(domain, p) for p in spec.sources.exclude):
            return Outcome(rule, None, f"sources.exclude: {domain}")
    plain = compiled.plain.get(id(rule))
    if plain is not None:
        found = _mentions(context.terms, plain, compiled.looks_in[id(rule)])
        if not found:
            assert rule.tree is not None
            return Outcome(rule, None, compiled.clause[id(rule.tree)])
        return _held(context, rule, found, {})
    evaluator = _Evaluator(compiled, context, rule)
    found = []
    if rule.tree is not None:
        held = evaluator.evaluate(rule.tree)
        if held is None:
            return Outcome(rule, None, evaluator.failed)
        found += held
    scores: dict[tuple[str, int], float] = {}
    if rule.weighted:
        total = 0.0
        for tree, weight in rule.weighted:
            needs = compiled.needs.get(id(tree))
            if needs is not None and needs.isdisjoint(context.found):
                continue  # none of the terms it needs occurs: it adds nothing
            mentions = evaluator.evaluate(tree) or []
            # Each sentence counts once: a NEAR pair, or a phrase inside another term, is one mention.
            places = {(o.field, o.sentence) for o, _, _ in mentions}
            total += weight * len(places)
            for place in places:
                scores[place] = scores.get(place, 0.0) + weight
            if weight > 0:
                found += mentions
        if total < (spec.threshold or 0.0):
            return Outcome(rule, None, f"threshold: {spec.threshold:g} (score {total:g})")
    return _held(context, rule, found, scores)


def _held(context: ArticleContext, rule: ParsedRule, found: _Found, scores: dict[tuple[str, int], float]) -> Outcome:
    """The outcome of a rule whose query and threshold held: a hit if it has enough mentions."""
    matches = context.matches(found)
    if len(matches) < rule.spec.min_mentions:
        return Outcome(rule, None, f"min_mentions: {rule.spec.min_mentions} (found {len(matches)})")
    return Outcome(rule, matches, None, scores)


def _mentions(terms: ArticleTerms, plain: tuple[tuple[bool, str, str, str], ...], fields: tuple[str, ...]) -> _Found:
    """The mentions of a rule whose query is a term or an OR of terms (see `CompiledRules.plain`), in the
    order the query walk would give them."""
    found: _Found = []
    words, prefixes = terms.words, terms.prefixes
    for prefix, key, text, clause in plain:
        occurrences = prefixes.get(key) if prefix else words.get(key)
        if occurrences:
            found += [(o, text, clause) for o in occurrences if o.field in fields]
    return found


def partial_matches(compiled: CompiledRules, context: ArticleContext, rule: ParsedRule) -> list[str]:
    """The words, phrases and entity lists of a rule that occur in the article, each with its first mention."""
    evaluator = _Evaluator(compiled, context, rule)
    found = []
    stack = list(_trees(rule))
    while stack:
        node = stack.pop(0)
        if isinstance(node, (Words, Entity)):
            mentions = evaluator._evaluate(node)
            if mentions:
                found.append(f"{compiled.clause[id(node)]} ({mentions[0][0].term!r})")
        elif isinstance(node, (And, Or)):
            stack.extend(node.items)
        elif isinstance(node, Near):
            stack += [node.left, node.right]
        elif isinstance(node, Not):
            stack.append(node.item)
    return list(dict.fromkeys(found))


def to_hit(compiled: CompiledRules, context: ArticleContext, outcome: Outcome, version: str) -> RuleHit:
    """The stored and shown form of a rule that held, the sentence carrying its meaning first."""
    assert outcome.matches is not None
    spec = outcome.rule.spec
    evidence = context.evidence(outcome.matches)
    return RuleHit(
        rule=spec.name,
        severity=spec.severity,
        alert=tuple(spec.alert),
        matches=outcome.matches,
        snippets=evidence.snippets(_lead(compiled, context, outcome, evidence)),
        score=evidence.score,
        rules_version=version,
    )


def _lead(
    compiled: CompiledRules, context: ArticleContext, outcome: Outcome, evidence: Evidence
) -> tuple[str, int] | None:
    """The sentence (field, number) that carries a rule's meaning: where its query holds on its own, then
    the highest weighted score, then the most distinct matched terms; ties to the earliest, title first."""
    terms = evidence.places
    rule = outcome.rule
    combining = rule.tree is not None and id(rule.tree) in compiled.combining
    if evidence.lead is None or not (combining or outcome.scores):
        return evidence.lead  # one sentence, or no query to hold on its own and no scores: most terms
    if combining:
        whole = _Evaluator(compiled, context, rule)
        holds = {place: _InSentence(whole, place)._evaluate(rule.tree) is not None for place in terms}
    else:  # an OR of terms holds wherever one of them is mentioned
        holds = dict.fromkeys(terms, True)

    def rank(place: tuple[str, int]) -> tuple[bool, float, int]:
        return holds[place], outcome.scores.get(place, 0.0), len(terms[place])

    return max(terms, key=rank)  # the first of equals


def _trees(rule: ParsedRule) -> list[Node]:
    """Every query tree of a rule: its query and its weighted terms."""
    return ([rule.tree] if rule.tree is not None else []) + [tree for tree, _ in rule.weighted]


def _has_and(node: Node) -> bool:
    """Whether a query has AND in it."""
    if isinstance(node, And):
        return True
    if isinstance(node, Or):
        return any(_has_and(item) for item in node.items)
    if isinstance(node, Near):
        return _has_and(node.left) or _has_and(node.right)
    return isinstance(node, Not) and _has_and(node.item)


def _combines(node: Node) -> bool:
    """Whether a query has AND, NEAR or NOT in it (else it holds wherever one of its terms is mentioned)."""
    if isinstance(node, (And, Near, Not)):
        return True
    return isinstance(node, Or) and any(_combines(item) for item in node.items)


def _rule_anchors(rule: ParsedRule) -> list[tuple[str, str, float]] | None:
    """A rule's anchors: its query's; for weighted terms alone, those of every term that adds to the score."""
    if rule.tree is not None:
        return _anchors(rule.tree)
    if (rule.spec.threshold or 0.0) <= 0:
        return None  # the threshold holds with no mention at all
    found: list[tuple[str, str, float]] = []
    for tree, weight in rule.weighted:
        if weight > 0:
            anchors = _anchors(tree)
            if anchors is None:
                return None
            found += anchors
    return found


def _anchors(node: Node) -> list[tuple[str, str, float]] | None:
    """Terms (with how common they are) of which one must occur for the query to hold; None: no term is."""
    if isinstance(node, Words):
        if node.prefix:
            return [("prefix", node.text, 3.0)]
        return [("word", _text_key(node.text), _word_cost(node.text))]
    if isinstance(node, Entity):
        return [("entity", node.name, 2.0)]
    if isinstance(node, Or):
        parts = [_anchors(item) for item in node.items]
        if any(part is None for part in parts):
            return None
        return [anchor for part in parts if part for anchor in part]
    if isinstance(node, (And, Near)):
        items = node.items if isinstance(node, And) else (node.left, node.right)
        required = [part for part in (_anchors(item) for item in items) if part is not None]
        return min(required, key=_anchor_cost) if required else None
    return None  # NOT and source:/lang: require no term


def _anchor_cost(anchors: list[tuple[str, str, float]]) -> float:
    """How often a set of anchors is expected to occur: fewer terms, and rarer ones."""
    return sum(cost for _, _, cost in anchors)


def _word_cost(text: str) -> float:
    """Names (capitalised in the query, or unknown to the dictionary: "Muhandis") are rarer in news than
    dictionary words ("border"); longer phrases are rarer than short ones."""
    name = text[:1].isupper() or not simplemma.is_known(fold(text), lang="en")
    return (1.0 if name else 4.0) / (1 + len(text) / 20)


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
    "partial_matches",
    "to_hit",
]
