"""Matching a compiled rule set against an article.

Semantics, in evaluation order:
1. A rule applies to an article only if it is enabled, its `languages` (if any) include the article's
   language, and its `sources` filter admits the article's domain (a domain also covers its subdomains).
2. Terms are found once per article for the whole rule set: every word and phrase of every rule is in
   one index keyed by its folded, lemmatised spelling with the spaces and hyphens removed, so "air
   strike", "air-strike", "airstrike" and "airstrikes" share a key; the article's runs of one to a few
   tokens are looked up in it. Prefix terms (`strike*`) and entity lists have their own indexes.
3. Only rules with at least one term found (or with no positive term at all) have their boolean query
   evaluated: AND needs every part, OR any, NOT none, NEAR/n both sides within n words in one field.
4. Entity members match transliteration-aware (see `text.skeleton`, particles like al- skipped, names
   only where the article capitalises them); in a `person` list, a later surname-only mention counts once
   the full name has appeared in the article (title first, then text).
5. A rule hits when its query holds and it has at least `min_mentions` mentions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import simplemma

from worker.article import Article
from worker.rules.evidence import Match, RuleHit, score, snippets
from worker.rules.loader import EntityList, ParsedRule
from worker.rules.query import And, Entity, Meta, Near, Node, Not, Or, Words
from worker.rules.text import ARABIC_PARTICLES, Token, fold, lemma, skeleton, tokenize

MIN_SKELETON_LETTERS = 4
"""Shorter names must be spelt exactly: their consonant skeletons collide with common words."""


@dataclass(frozen=True)
class _Occurrence:
    field: str
    first: int  # token indexes, inclusive
    last: int
    start: int  # character offsets
    end: int
    term: str


@dataclass
class _Alias:
    list_name: str
    member: str
    alias: str
    keys: tuple[str, ...]  # skeletons of the non-particle tokens
    forms: tuple[str, ...]  # folded forms of the same tokens
    person: bool


def _key(tokens: Iterable[Token]) -> str:
    return "".join(t.lemma for t in tokens)


@lru_cache(maxsize=100_000)
def _text_key(text: str) -> str:
    return _key(tokenize(text))


def _words_key(words: Words) -> str:
    return _text_key(words.text)


@lru_cache(maxsize=100_000)
def _clause(node: Node) -> str:
    """A clause rendered back as query text (cached: rendered for every mention it explains)."""
    return str(node)


@lru_cache(maxsize=10_000)
def _surname(member: str) -> tuple[str, str]:
    """Folded form and skeleton of a person's last name."""
    last = tokenize(member)[-1]
    return last.form, skeleton(last.form)


class CompiledRules:
    """Indexes over every term of a rule set, built once per rule-set version."""

    def __init__(self, rules: list[ParsedRule], entities: dict[str, EntityList]) -> None:
        self.rules = rules
        self.word_keys: set[str] = set()
        self.max_tokens = 1
        self.prefixes: dict[str, list[tuple[tuple[str, ...], str]]] = defaultdict(list)  # first3 -> patterns
        self.aliases: dict[str, list[_Alias]] = defaultdict(list)  # first skeleton or form -> aliases
        self.entity_words: dict[str, list[tuple[str, str]]] = defaultdict(list)  # key -> (list, member)
        self.entity_lists = entities
        self.aliases_lists: set[str] = set()
        self.anchored: dict[_Anchor, list[int]] = defaultdict(list)
        """A rule is evaluated only when one of its anchors occurs: terms it cannot hold without."""
        self.always: list[int] = []
        used_lists: set[str] = set()
        for index, rule in enumerate(rules):
            used_lists |= self._index_terms(rule.tree)
            anchors = _anchors(rule.tree)
            if anchors is None:
                self.always.append(index)
            for anchor in anchors or ():
                self.anchored[anchor].append(index)
        for name in used_lists:
            self._index_entity_list(name, entities[name])
        self.surname_keys = {_surname(member.name)[1] for name, entity_list in entities.items()
                             if entity_list.kind == "person" and name in self.aliases_lists
                             for member in entity_list.resolved()}
        self.wanted = self.word_keys | set(self.entity_words)
        # Every string prefix of a wanted key: a run of tokens stops growing as soon as it cannot become one.
        self.key_prefixes = {key[:end] for key in self.wanted for end in range(1, len(key) + 1)}

    def _index_terms(self, node: Node) -> set[str]:
        """Index every word and prefix of a query for the article scan; returns the entity lists it uses."""
        if isinstance(node, Words):
            tokens = tokenize(node.text)
            if node.prefix:
                forms = tuple(t.form for t in tokens)
                if (forms, node.text) not in self.prefixes[forms[0][:3]]:
                    self.prefixes[forms[0][:3]].append((forms, node.text))
            else:
                self.word_keys.add(_key(tokens))
                self.max_tokens = max(self.max_tokens, len(tokens) + 1)
            return set()
        if isinstance(node, Entity):
            return {node.name}
        if isinstance(node, (And, Or)):
            return set().union(*(self._index_terms(item) for item in node.items))
        if isinstance(node, Near):
            return self._index_terms(node.left) | self._index_terms(node.right)
        if isinstance(node, Not):
            return self._index_terms(node.item)
        return set()

    def _index_entity_list(self, name: str, entity_list: EntityList) -> None:
        self.aliases_lists.add(name)
        for member in entity_list.resolved():
            for alias in [member.name, *member.aliases]:
                tokens = [t for t in tokenize(alias) if t.form not in ARABIC_PARTICLES]
                if not tokens:
                    continue
                if alias == alias.lower():  # a generic phrase ("border crossing"): ordinary word matching
                    key = _key(tokens)
                    self.entity_words[key].append((name, member.name))
                    self.max_tokens = max(self.max_tokens, len(tokens) + 1)
                    continue
                entry = _Alias(name, member.name, alias, tuple(skeleton(t.form) for t in tokens),
                               tuple(t.form for t in tokens), entity_list.kind == "person")
                self.aliases[entry.keys[0]].append(entry)
                if entry.forms[0] != entry.keys[0]:
                    self.aliases["=" + entry.forms[0]].append(entry)


@dataclass
class _ArticleTerms:
    """Every term occurrence in one article, found in one pass over its tokens."""

    fields: dict[str, str]
    tokens: dict[str, list[Token]]
    words: dict[str, list[_Occurrence]] = field(default_factory=lambda: defaultdict(list))
    prefixes: dict[str, list[_Occurrence]] = field(default_factory=lambda: defaultdict(list))
    entities: dict[str, list[tuple[_Occurrence, str]]] = field(default_factory=lambda: defaultdict(list))
    surnames: dict[str, list[tuple[str, int]]] = field(default_factory=lambda: defaultdict(list))
    """Skeleton -> (field, token index) of capitalised tokens that may be a person's surname-only mention."""


def find_terms(compiled: CompiledRules, article: Article) -> _ArticleTerms:
    """Scan the article once for every indexed term of the rule set."""
    language = (article.language or "en")[:2]
    fields = {"title": article.title, "text": article.text}
    tokens = {name: tokenize(value, language) for name, value in fields.items()}
    found = _ArticleTerms(fields, tokens)
    wanted, key_prefixes, prefixes = compiled.wanted, compiled.key_prefixes, compiled.prefixes
    for name, toks in tokens.items():
        text = fields[name]
        count = len(toks)
        for i in range(count):
            key = ""
            for j in range(i, min(i + compiled.max_tokens, count)):
                key += toks[j].lemma
                if key not in key_prefixes:
                    break
                if key in wanted:
                    occ = _Occurrence(name, i, j, toks[i].start, toks[j].end, text[toks[i].start:toks[j].end])
                    found.words[key].append(occ)
            if prefixes and toks[i].form[:3] in prefixes:
                _find_prefixes(compiled, found, name, toks, i)
        _find_aliases(compiled, found, name, toks)
    for key, occurrences in found.words.items():
        for list_name, member in compiled.entity_words.get(key, ()):
            found.entities[list_name] += [(occ, member) for occ in occurrences]
    return found


def _find_prefixes(compiled: CompiledRules, found: _ArticleTerms, name: str, toks: list[Token], i: int) -> None:
    for forms, term in compiled.prefixes.get(toks[i].form[:3], ()):
        last = i + len(forms) - 1
        if last >= len(toks):
            continue
        if all(toks[i + k].form == forms[k] or toks[i + k].lemma == lemma(forms[k]) for k in range(len(forms) - 1)) \
                and toks[last].form.startswith(forms[-1]):
            text = found.fields[name]
            found.prefixes[term].append(
                _Occurrence(name, i, last, toks[i].start, toks[last].end, text[toks[i].start:toks[last].end]))


def _find_aliases(compiled: CompiledRules, found: _ArticleTerms, name: str, toks: list[Token]) -> None:
    if not compiled.aliases:
        return
    text = found.fields[name]
    surnames = compiled.surname_keys
    for i, token in enumerate(toks):
        if token.form in ARABIC_PARTICLES:
            continue
        sound = skeleton(token.form)
        if sound in surnames and text[token.start].isupper():
            found.surnames[sound].append((name, i))
        by_sound = compiled.aliases.get(sound)
        by_form = compiled.aliases.get("=" + token.form)
        if by_sound is None and by_form is None:
            continue
        candidates = (by_sound or []) + (by_form or [])
        for alias in sorted(candidates, key=lambda a: -len(a.keys)):  # the longest spelling wins
            last = _alias_end(alias, toks, i, text)
            if last is None:
                continue
            start = toks[i - 1].start if i > 0 and toks[i - 1].form in ARABIC_PARTICLES and \
                text[toks[i - 1].end:toks[i].start] in ("-", " ", "") else toks[i].start
            occ = _Occurrence(name, i, last, start, toks[last].end, text[start:toks[last].end])
            found.entities[alias.list_name].append((occ, alias.member))
            break


def _alias_end(alias: _Alias, toks: list[Token], i: int, text: str) -> int | None:
    """Index of the last token if `alias` starts at token i (particles in between skipped), else None."""
    j = i
    for k, (key, form) in enumerate(zip(alias.keys, alias.forms, strict=True)):
        while k and j < len(toks) and toks[j].form in ARABIC_PARTICLES:
            j += 1
        if j >= len(toks):
            return None
        token = toks[j]
        if token.form != form:
            capitalised = text[token.start].isupper()
            if not (capitalised and len(token.form) >= MIN_SKELETON_LETTERS and skeleton(token.form) == key):
                return None
        j += 1
    return j - 1


@dataclass(frozen=True)
class Outcome:
    """A rule's evaluation on one article: matches when it holds, else the first clause that failed."""

    rule: ParsedRule
    matches: tuple[Match, ...] | None
    failed: str | None


class _Evaluator:
    def __init__(self, compiled: CompiledRules, terms: _ArticleTerms, article: Article, rule: ParsedRule) -> None:
        self.compiled = compiled
        self.terms = terms
        self.article = article
        self.fields = set(rule.spec.fields)
        self.failed: str | None = None

    def evaluate(self, node: Node) -> list[tuple[_Occurrence, str, str]] | None:
        """Occurrences (with their term and clause) satisfying `node`, or None when it fails."""
        result = self._evaluate(node)
        if result is None and self.failed is None:
            self.failed = str(node)
        return result

    def _evaluate(self, node: Node) -> list[tuple[_Occurrence, str, str]] | None:
        if isinstance(node, Words):
            occurrences = self.terms.prefixes.get(node.text, []) if node.prefix else \
                self.terms.words.get(_words_key(node), [])
            found = [(o, node.text, _clause(node)) for o in occurrences if self._in_field(o, node.field)]
            return found or None
        if isinstance(node, Entity):
            found = [(o, member, _clause(node)) for o, member in self._entity(node.name)
                     if self._in_field(o, node.field)]
            return found or None
        if isinstance(node, Meta):
            return [] if self._meta(node) else None
        if isinstance(node, And):
            collected: list[tuple[_Occurrence, str, str]] = []
            for item in node.items:
                part = self.evaluate(item)
                if part is None:
                    return None
                collected += part
            return collected
        if isinstance(node, Or):
            parts = [self._evaluate(item) for item in node.items]
            held = [p for p in parts if p is not None]
            return [o for p in held for o in p] if held else None
        if isinstance(node, Not):
            return [] if self._evaluate(node.item) is None else None
        if isinstance(node, Near):
            return self._near(node)
        raise TypeError(node)

    def _in_field(self, occurrence: _Occurrence, field: str | None) -> bool:
        return occurrence.field in self.fields and (field is None or occurrence.field == field)

    def _meta(self, node: Meta) -> bool:
        if node.field == "lang":
            return (self.article.language or "").lower().startswith(node.value)
        domain = (self.article.domain or "").lower()
        return domain == node.value or domain.endswith("." + node.value)

    def _entity(self, name: str) -> list[tuple[_Occurrence, str]]:
        found = sorted(self.terms.entities.get(name, []), key=lambda p: (p[0].field != "title", p[0].start))
        entity_list = self.compiled.entity_lists[name]
        if entity_list.kind != "person":
            return found
        return found + self._surnames(name, found)

    def _surnames(self, name: str, full: list[tuple[_Occurrence, str]]) -> list[tuple[_Occurrence, str]]:
        """Surname-only mentions after each member's first full mention (title counts before text)."""
        firsts: dict[str, _Occurrence] = {}
        for occ, member in full:
            firsts.setdefault(member, occ)
        covered = {(o.field, index) for o, _ in full for index in range(o.first, o.last + 1)}
        order = {"title": 0, "text": 1}
        extra = []
        for member, first in firsts.items():
            surname, key = _surname(member)
            for field_name, index in self.terms.surnames.get(key, ()):
                token = self.terms.tokens[field_name][index]
                later = (order[field_name], token.start) > (order[first.field], first.start)
                if not later or (field_name, index) in covered:
                    continue
                if token.form != surname and len(token.form) < MIN_SKELETON_LETTERS:
                    continue
                text = self.terms.fields[field_name]
                extra.append((_Occurrence(field_name, index, index, token.start, token.end,
                                          text[token.start:token.end]), member))
        return extra

    def _near(self, node: Near) -> list[tuple[_Occurrence, str, str]] | None:
        left, right = self._evaluate(node.left), self._evaluate(node.right)
        if not left or not right:
            return None
        pairs = []
        for a in left:
            for b in right:
                if a[0].field != b[0].field:
                    continue
                gap = max(a[0].first, b[0].first) - min(a[0].last, b[0].last) - 1  # words in between
                if gap <= node.distance:
                    pairs += [(a[0], a[1], _clause(node)), (b[0], b[1], _clause(node))]
        return pairs or None


def evaluate(compiled: CompiledRules, terms: _ArticleTerms, article: Article, rule: ParsedRule) -> Outcome:
    """Evaluate one rule on an article whose terms were found already."""
    spec = rule.spec
    language = (article.language or "").lower()
    if spec.languages and not any(language.startswith(lang) for lang in spec.languages):
        return Outcome(rule, None, f"languages: {', '.join(spec.languages)} (article: {language or 'unknown'})")
    domain = (article.domain or "").lower()

    def covers(pattern: str) -> bool:
        return domain == pattern or domain.endswith("." + pattern)

    if spec.sources.include and not any(covers(p) for p in spec.sources.include):
        return Outcome(rule, None, f"sources.include: {', '.join(spec.sources.include)}")
    if any(covers(p) for p in spec.sources.exclude):
        return Outcome(rule, None, f"sources.exclude: {domain}")
    evaluator = _Evaluator(compiled, terms, article, rule)
    found = evaluator.evaluate(rule.tree)
    if found is None:
        return Outcome(rule, None, evaluator.failed)
    unique: dict[tuple[str, int, int], Match] = {}
    for occ, term, clause in found:
        unique.setdefault((occ.field, occ.start, occ.end),
                          Match(term=term, text=occ.term, field=occ.field, start=occ.start, end=occ.end, clause=clause))
    matches = _outermost(sorted(unique.values(), key=lambda m: (m.field != "title", m.start, -m.end)))
    if len(matches) < spec.min_mentions:
        return Outcome(rule, None, f"min_mentions: {spec.min_mentions} (found {len(matches)})")
    return Outcome(rule, matches, None)


def _outermost(matches: list[Match]) -> tuple[Match, ...]:
    """Drop mentions inside a longer one ("border crossing" within "Syrian-Iraqi border crossing")."""
    kept: list[Match] = []
    for match in matches:
        if kept and kept[-1].field == match.field and match.end <= kept[-1].end:
            continue
        kept.append(match)
    return tuple(kept)


def to_hit(outcome: Outcome, article: Article, version: str) -> RuleHit:
    """The stored and shown form of a rule that held."""
    assert outcome.matches is not None
    spec = outcome.rule.spec
    fields = {"title": article.title, "text": article.text}
    return RuleHit(rule=spec.name, severity=spec.severity, alert=tuple(spec.alert), matches=outcome.matches,
                   snippets=snippets(outcome.matches, fields), score=score(outcome.matches), rules_version=version)


_Anchor = tuple[str, str]  # ("word", key) | ("prefix", term) | ("entity", list name)


def _anchors(node: Node) -> list[_Anchor] | None:
    """Terms of which at least one must occur for the query to hold; None when no term is required."""
    if isinstance(node, Words):
        return [("prefix", node.text)] if node.prefix else [("word", _text_key(node.text))]
    if isinstance(node, Entity):
        return [("entity", node.name)]
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


def _anchor_cost(anchors: list[_Anchor]) -> float:
    """How often a set of anchors is expected to occur: fewer terms, and names rather than dictionary words."""
    return sum(_term_cost(kind, value) for kind, value in anchors)


@lru_cache(maxsize=100_000)
def _term_cost(kind: str, value: str) -> float:
    if kind == "prefix":
        return 3.0
    if kind == "entity":
        return 2.0
    # A word the dictionary knows ("border") is common in news; a name it does not know ("Muhandis") is rare.
    known = simplemma.is_known(value, lang="en")
    return (4.0 if known else 1.0) / (1 + len(value) / 20)


def candidate_rules(compiled: CompiledRules, terms: _ArticleTerms) -> list[int]:
    """Indexes of the rules worth evaluating: one of their anchors occurred, or they have none."""
    candidates = set(compiled.always)
    anchored = compiled.anchored
    for kind, found in (("word", terms.words), ("prefix", terms.prefixes), ("entity", terms.entities)):
        for value in found:
            candidates.update(anchored.get((kind, value), ()))
    return sorted(candidates)


__all__ = ["CompiledRules", "Outcome", "candidate_rules", "evaluate", "find_terms", "fold", "to_hit"]
