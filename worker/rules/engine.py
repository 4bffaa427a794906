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
   only where the article capitalises them). A person's surname alone counts as the member says
   (`surname:`): `after-full-name` (the default: once the full name has appeared, title first, then
   text), `always` (a distinctive surname, spelt as one of the member's spellings, unless a different given
   name stands before it), or `never`.
5. A rule with weighted `terms` adds each term's weight for every sentence that mentions it (negative
   weights subtract) and holds when the sum reaches its `threshold` (and its `query`, if it has one, holds).
6. A rule hits when it holds and it has at least `min_mentions` mentions.

One module on purpose (over 300 lines): evaluation, anchoring and hit building share the compiled
structures; split by step, they would pass half a dozen private types between files.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

import simplemma

from newswatch.worker.article import Article
from newswatch.worker.rules.evidence import Match, RuleHit, Sentences, score, snippets
from newswatch.worker.rules.loader import EntityList, EntityMember, ParsedRule
from newswatch.worker.rules.query import And, Entity, Meta, Near, Node, Not, Or, Words
from newswatch.worker.rules.scan import ArticleTerms, Occurrence, TermIndex, fuzzy_ok
from newswatch.worker.rules.text import ARABIC_PARTICLES, fold, skeleton, tokenize

_WORD = re.compile(r"[^\W_]+")
MAX_WORD_CHARS = 40
"""A word with its spacing and punctuation is rarely longer; NEAR distances are checked exactly below it."""


@lru_cache(maxsize=100_000)
def _text_key(text: str) -> str:
    """The identity of a word or phrase term: its folded lemmas, spaces and hyphens removed."""
    return "".join(t.lemma for t in tokenize(text))


@lru_cache(maxsize=10_000)
def _surname(member: str) -> tuple[str, str]:
    """Folded form and skeleton of a person's last name."""
    last = tokenize(member)[-1]
    return last.form, skeleton(last.form)


class CompiledRules:
    """The term index and the anchors of a rule set, built once per rule-set version."""

    def __init__(self, rules: list[ParsedRule], entities: dict[str, EntityList]) -> None:
        self.rules = rules
        self.entity_lists = entities
        self.index = TermIndex()
        self.anchored: dict[_Anchor, list[int]] = defaultdict(list)
        """A rule is evaluated only when one of its anchors occurs: terms it cannot hold without."""
        self.always: list[int] = []
        self.clause: dict[int, str] = {}
        """Each clause rendered back as query text, by node id: shown with every mention it explains."""
        self.key: dict[int, str] = {}
        """Each word or phrase node's term key, by node id."""
        self.word_sets: dict[int, dict[str, tuple[str, str]]] = {}
        """An OR of plain words (a list of spellings, countries, verbs), by node id: term key -> (word, clause),
        so that it is evaluated by the words the article has, not by each of its words in turn."""
        self.persons: dict[str, list[Person]] = defaultdict(list)
        """The members of each person list, with when their surname alone counts."""
        used_lists: set[str] = set()
        for number, rule in enumerate(rules):
            for tree in _trees(rule):
                used_lists |= self._index_terms(tree)
            anchors = _rule_anchors(rule)
            if anchors is None:
                self.always.append(number)
            for kind, value, _ in anchors or ():
                self.anchored[(kind, value)].append(number)
        for name in sorted(used_lists):
            self._index_entity_list(name, entities[name])
        self.index.build()

    def _index_terms(self, node: Node) -> set[str]:
        """Index every word and prefix of a query; returns the entity lists it uses."""
        self.clause[id(node)] = str(node)
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
            used = set().union(*(self._index_terms(item) for item in node.items))
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
            return self._index_terms(node.left) | self._index_terms(node.right)
        if isinstance(node, Not):
            return self._index_terms(node.item)
        return set()

    def _index_entity_list(self, name: str, entity_list: EntityList) -> None:
        for member in entity_list.resolved():
            if entity_list.kind == "person":
                self.index.surname_keys.add(_surname(member.name)[1])
                self.persons[name].append(Person.of(member))
            for alias in [member.name, *member.aliases]:
                if alias == alias.lower():  # a generic phrase ("border crossing"): ordinary word matching
                    key = _text_key(alias)
                    self.index.add_word(key, alias)
                    self.index.entity_words[key].append((name, member.name))
                else:
                    self.index.add_name(name, member.name, alias)


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
_WORD_BEFORE = re.compile(r"([^\W\d_][\w'’]*)\.?[\s\-]+$")


@dataclass(frozen=True)
class Person:
    """A person list's member as the surname rules need it: its surname spellings and given names."""

    name: str
    use: str
    spellings: frozenset[str]
    given: frozenset[str]

    @classmethod
    def of(cls, member: EntityMember) -> Person:
        surname, key = _surname(member.name)
        spellings, given = {surname}, set()
        for alias in [member.name, *member.aliases]:
            words = [t.form for t in tokenize(alias) if t.form not in ARABIC_PARTICLES]
            if words and skeleton(words[-1]) == key:  # an alias of the same surname, spelt otherwise
                spellings.add(words[-1])
                given.update(words[:-1])
        return cls(member.name, member.surname, frozenset(spellings), frozenset(given))

    def spelt_as(self, form: str) -> bool:
        """One of the member's spellings, or one differing by a doubled or changed vowel ("Solaimani"), but
        not a look-alike word of another length or ending ("Suleiman", "Sulaimaniyah")."""
        if form in self.spellings:
            return True
        return fuzzy_ok(form) and any(
            abs(len(form) - len(known)) <= 1 and form[-1] == known[-1] and skeleton(form) == skeleton(known)
            for known in self.spellings
        )

    def other_given_name(self, text: str, start: int) -> bool:
        """Whether a capitalised name that is not this person's stands just before the surname ("Hassan
        Soleimani"); a rank, a title, a possessive or an ordinary capitalised word ("Yesterday") is not one."""
        found = _WORD_BEFORE.search(text, max(0, start - 30), start)
        if found is None or not found.group(1)[:1].isupper():
            return False
        word = fold(found.group(1))
        if word.endswith(("'s", "'")) or word in RANKS or word in self.given or word in ARABIC_PARTICLES:
            return False
        return not simplemma.is_known(word, lang="en")


def find_terms(compiled: CompiledRules, article: Article) -> ArticleTerms:
    """Scan the article once for every indexed term of the rule set."""
    terms = ArticleTerms({"title": article.title, "text": article.text})
    for name, text in terms.fields.items():
        compiled.index.scan(terms, name, text)
    for key, occurrences in list(terms.words.items()):
        for list_name, member in compiled.index.entity_words.get(key, ()):
            terms.entities[list_name] += [(occ, member) for occ in occurrences]
    return terms


@dataclass(frozen=True)
class Outcome:
    """A rule's evaluation on one article: matches when it holds, else the first clause that failed."""

    rule: ParsedRule
    matches: tuple[Match, ...] | None
    failed: str | None


class _Evaluator:
    def __init__(
        self, compiled: CompiledRules, terms: ArticleTerms, article: Article, rule: ParsedRule, sentences: Sentences
    ) -> None:
        self.compiled = compiled
        self.terms = terms
        self.article = article
        self.sentences = sentences
        self.fields = set(rule.spec.fields)
        self.failed: str | None = None

    def evaluate(self, node: Node) -> list[tuple[Occurrence, str, str]] | None:
        """Occurrences (with their term and clause) satisfying `node`, or None when it fails."""
        result = self._evaluate(node)
        if result is None and self.failed is None:
            self.failed = self.compiled.clause[id(node)]
        return result

    def _evaluate(self, node: Node) -> list[tuple[Occurrence, str, str]] | None:
        if isinstance(node, Words):
            occurrences = (
                self.terms.prefixes.get(node.text, [])
                if node.prefix
                else self.terms.words.get(self.compiled.key[id(node)], [])
            )
            clause = self.compiled.clause[id(node)]
            found = [(o, node.text, clause) for o in occurrences if self._in_field(o, node.field)]
            return found or None
        if isinstance(node, Entity):
            clause = self.compiled.clause[id(node)]
            found = [(o, member, clause) for o, member in self._entity(node.name) if self._in_field(o, node.field)]
            return found or None
        if isinstance(node, Meta):
            return [] if self._meta(node) else None
        if isinstance(node, And):
            collected: list[tuple[Occurrence, str, str]] = []
            for item in node.items:
                part = self.evaluate(item)
                if part is None:
                    return None
                collected += part
            return collected
        if isinstance(node, Or):
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
        if isinstance(node, Not):
            return [] if self._evaluate(node.item) is None else None
        if isinstance(node, Near):
            return self._near(node)
        raise TypeError(node)

    def _in_field(self, occurrence: Occurrence, field: str | None) -> bool:
        return occurrence.field in self.fields and (field is None or occurrence.field == field)

    def _meta(self, node: Meta) -> bool:
        if node.field == "lang":
            return (self.article.language or "").lower().startswith(node.value)
        return _covers((self.article.domain or "").lower(), node.value)

    def _entity(self, name: str) -> list[tuple[Occurrence, str]]:
        found = sorted(self.terms.entities.get(name, []), key=lambda p: (p[0].field != "title", p[0].start))
        entity_list = self.compiled.entity_lists[name]
        if entity_list.kind != "person":
            return found
        return found + self._surnames(name, found)

    def _surnames(self, name: str, full: list[tuple[Occurrence, str]]) -> list[tuple[Occurrence, str]]:
        """Surname-only mentions, as each member allows: always, or after its first full mention."""
        firsts: dict[str, Occurrence] = {}
        for occ, member in full:
            firsts.setdefault(member, occ)
        order = {"title": 0, "text": 1}
        extra = []
        for person in self.compiled.persons[name]:
            if person.use == "never" or (person.use == "after-full-name" and person.name not in firsts):
                continue
            first = firsts.get(person.name)
            surname, key = _surname(person.name)
            for occ in self.terms.surnames.get(key, ()):
                if any(o.field == occ.field and o.start <= occ.start < o.end for o, _ in full):
                    continue  # part of a full mention
                spelt = fold(occ.term).removesuffix("'s")
                if self.terms.fields[occ.field][occ.end : occ.end + 1] == "-":
                    continue  # a compound names a thing after the person ("the Soleimani-class corvette")
                if person.use == "always":
                    text = self.terms.fields[occ.field]
                    if person.spelt_as(spelt) and not person.other_given_name(text, occ.start):
                        extra.append((occ, person.name))
                elif first is not None and (order[occ.field], occ.start) > (order[first.field], first.start):
                    if spelt == surname or fuzzy_ok(spelt):
                        extra.append((occ, person.name))
        return extra

    def _near(self, node: Near) -> list[tuple[Occurrence, str, str]] | None:
        left, right = self._evaluate(node.left), self._evaluate(node.right)
        if not left or not right:
            return None
        # Right-hand mentions by where they may pair: their sentence (or only their field, with /any), so
        # that mentions in different sentences are never compared.
        number = self.sentences.number
        places: dict[tuple[str, int], list[tuple[Occurrence, str, str]]] = defaultdict(list)
        for b in right:
            places[(b[0].field, -1 if node.across_sentences else number(b[0].field, b[0].start))].append(b)
        clause = self.compiled.clause[id(node)]
        pairs = []
        for a in left:
            place = (a[0].field, -1 if node.across_sentences else number(a[0].field, a[0].start))
            for b in places.get(place, ()):
                if _words_between(self.terms.fields[a[0].field], a[0], b[0], node.distance) <= node.distance:
                    pairs += [(a[0], a[1], clause), (b[0], b[1], clause)]
        return pairs or None


def _covers(domain: str, pattern: str) -> bool:
    """A domain filter covers the domain itself and its subdomains."""
    return domain == pattern or domain.endswith("." + pattern)


def _words_between(text: str, a: Occurrence, b: Occurrence, limit: int) -> int:
    """How many words stand between two mentions (0 when adjacent or overlapping; past `limit` roughly)."""
    left, right = (a, b) if a.start <= b.start else (b, a)
    if right.start <= left.end:
        return 0
    if right.start - left.end > (limit + 1) * MAX_WORD_CHARS:
        return limit + 1  # too far apart for `limit` words of any plausible length
    return len(_WORD.findall(text, left.end, right.start))


def evaluate(
    compiled: CompiledRules, terms: ArticleTerms, article: Article, rule: ParsedRule, sentences: Sentences
) -> Outcome:
    """Evaluate one rule on an article whose terms were found already."""
    spec = rule.spec
    language = (article.language or "").lower()
    if spec.languages and not any(language.startswith(lang) for lang in spec.languages):
        return Outcome(rule, None, f"languages: {', '.join(spec.languages)} (article: {language or 'unknown'})")
    domain = (article.domain or "").lower()
    if spec.sources.include and not any(_covers(domain, p) for p in spec.sources.include):
        return Outcome(rule, None, f"sources.include: {', '.join(spec.sources.include)}")
    if any(_covers(domain, p) for p in spec.sources.exclude):
        return Outcome(rule, None, f"sources.exclude: {domain}")
    evaluator = _Evaluator(compiled, terms, article, rule, sentences)
    found: list[tuple[Occurrence, str, str]] = []
    if rule.tree is not None:
        held = evaluator.evaluate(rule.tree)
        if held is None:
            return Outcome(rule, None, evaluator.failed)
        found += held
    if rule.weighted:
        total = 0.0
        for tree, weight in rule.weighted:
            mentions = evaluator.evaluate(tree) or []
            # Each sentence counts once: a NEAR pair, or a phrase inside another term, is one mention.
            total += weight * len({(o.field, sentences.number(o.field, o.start)) for o, _, _ in mentions})
            if weight > 0:
                found += mentions
        if total < (spec.threshold or 0.0):
            return Outcome(rule, None, f"threshold: {spec.threshold:g} (score {total:g})")
    unique: dict[tuple[str, int, int], Match] = {}
    for occ, term, clause in found:
        unique.setdefault(
            (occ.field, occ.start, occ.end),
            Match(term=term, text=occ.term, field=occ.field, start=occ.start, end=occ.end, clause=clause),
        )
    matches = _outermost(sorted(unique.values(), key=lambda m: (m.field != "title", m.start, -m.end)))
    if len(matches) < spec.min_mentions:
        return Outcome(rule, None, f"min_mentions: {spec.min_mentions} (found {len(matches)})")
    return Outcome(rule, matches, None)


def partial_matches(
    compiled: CompiledRules, terms: ArticleTerms, article: Article, rule: ParsedRule, sentences: Sentences
) -> list[str]:
    """The words, phrases and entity lists of a rule that occur in the article, each with its first mention."""
    evaluator = _Evaluator(compiled, terms, article, rule, sentences)
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


def _outermost(matches: list[Match]) -> tuple[Match, ...]:
    """Drop mentions inside a longer one ("border crossing" within "Syrian-Iraqi border crossing")."""
    kept: list[Match] = []
    for match in matches:
        if kept and kept[-1].field == match.field and match.end <= kept[-1].end:
            continue
        kept.append(match)
    return tuple(kept)


def to_hit(outcome: Outcome, sentences: Sentences, version: str) -> RuleHit:
    """The stored and shown form of a rule that held."""
    assert outcome.matches is not None
    spec = outcome.rule.spec
    return RuleHit(
        rule=spec.name,
        severity=spec.severity,
        alert=tuple(spec.alert),
        matches=outcome.matches,
        snippets=snippets(outcome.matches, sentences),
        score=score(outcome.matches),
        rules_version=version,
    )


_Anchor = tuple[str, str]  # ("word", key) | ("prefix", term) | ("entity", list name)


def _trees(rule: ParsedRule) -> list[Node]:
    """Every query tree of a rule: its query and its weighted terms."""
    return ([rule.tree] if rule.tree is not None else []) + [tree for tree, _ in rule.weighted]


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


def candidate_rules(compiled: CompiledRules, terms: ArticleTerms) -> list[int]:
    """Indexes of the rules worth evaluating: one of their anchors occurred, or they have none."""
    candidates = set(compiled.always)
    anchored = compiled.anchored
    for list_name, persons in compiled.persons.items():  # a surname alone may be the mention
        if any(p.use == "always" and _surname(p.name)[1] in terms.surnames for p in persons):
            candidates.update(anchored.get(("entity", list_name), ()))
    for kind, found in (("word", terms.words), ("prefix", terms.prefixes), ("entity", terms.entities)):
        for value in found:
            candidates.update(anchored.get((kind, value), ()))
    return sorted(candidates)


__all__ = ["CompiledRules", "Outcome", "candidate_rules", "evaluate", "find_terms", "partial_matches", "to_hit"]
