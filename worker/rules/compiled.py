"""A rule set compiled for matching: the term index, the anchors that pick the rules worth evaluating, and each
rule as a plan whose query clauses carry what evaluating them needs.

Everything a rule's evaluation reads is kept on a few small objects of its own (its plan, its clauses: their
text, term key, shared number), made one after another when the rule set is compiled. Kept instead in
dictionaries keyed by node, as large as the rule set, each read of them missed the processor's caches once the
rule set grew: at 100,000 rules those lookups cost more than the evaluation itself.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from newswatch.worker.rules import term_cache
from newswatch.worker.rules.anchors import (
    Anchor,
    combines,
    crosses,
    has_and,
    needs,
    rule_anchors,
    term_key,
    text_key,
)
from newswatch.worker.rules.loader import EntityList, ParsedRule
from newswatch.worker.rules.persons import Person, surname
from newswatch.worker.rules.query import And, Entity, Near, Node, Not, Or, Words
from newswatch.worker.rules.scan import TermIndex


class Clause:
    """One clause of a query, compiled: `text` is the clause rendered back as query text (shown with every
    mention it explains); `number`, shared by equal clauses written more than once (in one rule or in
    several), names the clause's result kept per article; `local`: a term (or an OR of words) whose result
    in one sentence is its result in the article restricted to that sentence."""

    __slots__ = ("node", "text", "number", "local")

    def __init__(self, node: Node) -> None:
        self.node = node
        self.text = str(node)
        self.number: int | None = None
        self.local = False


class WordsClause(Clause):
    """A word, phrase or prefix: `key`, the term key it is scanned under (a prefix's own text)."""

    __slots__ = ("key", "term", "prefix", "field")

    def __init__(self, node: Words) -> None:
        super().__init__(node)
        self.key = term_key(node)
        self.term = node.text
        self.prefix = node.prefix
        self.field = node.field
        self.local = True


class EntityClause(Clause):
    __slots__ = ("name", "field")

    def __init__(self, node: Entity) -> None:
        super().__init__(node)
        self.name = node.name
        self.field = node.field
        self.local = True


class MetaClause(Clause):
    __slots__ = ()


class AllClause(Clause):
    __slots__ = ("items",)

    def __init__(self, node: And, items: tuple[Clause, ...]) -> None:
        super().__init__(node)
        self.items = items


class AnyClause(Clause):
    """An OR; `words`, for an OR of plain words (a list of spellings, countries, verbs): term key -> (word,
    clause), so that it is evaluated by the words the article has, not by each of its words in turn. Such an
    OR keeps no `items`: its words are all it needs (three quarters of the example rules' clauses are words of
    such lists, and a compiled rule set kept between starts is written and read without them)."""

    __slots__ = ("items", "words")

    def __init__(self, node: Or, items: tuple[Clause, ...]) -> None:
        super().__init__(node)
        self.items = items
        self.words: dict[str, tuple[str, str]] | None = None
        if all(isinstance(i, WordsClause) and not i.prefix and i.field is None for i in items):
            self.words = {}
            for item in items:
                assert isinstance(item, WordsClause)
                self.words.setdefault(item.key, (item.term, item.text))
            self.local = True
            self.items = ()


class NoneClause(Clause):
    __slots__ = ("item",)

    def __init__(self, node: Not, item: Clause) -> None:
        super().__init__(node)
        self.item = item


class NearClause(Clause):
    """NEAR or PRE (`ordered`); `left_first`: its right side is not evaluated when the left one fails (it has
    no AND, the only clause whose failure is reported from inside, so skipping it changes no explanation);
    `narrow`: its right side, a query of its own (a nested NEAR, an OR with one), is evaluated only in the
    sentences the left side occurs in (the only ones a pair can be in), which holds when it has no NEAR/any,
    whose pairs cross sentences."""

    __slots__ = ("left", "right", "distance", "across", "ordered", "left_first", "narrow")

    def __init__(self, node: Near, left: Clause, right: Clause) -> None:
        super().__init__(node)
        self.left = left
        self.right = right
        self.distance = node.distance
        self.across = node.across_sentences
        self.ordered = node.ordered
        self.left_first = not has_and(node.right)
        self.narrow = self.left_first and not self.across and not right.local and not crosses(node.right)


class RulePlan:
    """A rule as its evaluation reads it."""

    __slots__ = (
        "rule",
        "name",
        "severity",
        "alert",
        "languages",
        "include",
        "exclude",
        "admits_all",
        "threshold",
        "min_mentions",
        "fields",
        "tree",
        "weighted",
        "weighted_by_anchor",
        "weighted_always",
        "combining",
        "plain",
    )

    def __init__(self, rule: ParsedRule, tree: Clause | None, weighted: list[tuple[Clause, float, bool]]) -> None:
        spec = rule.spec
        self.rule = rule
        self.name = spec.name
        self.severity = spec.severity
        self.alert = tuple(spec.alert)
        self.languages = tuple(spec.languages)
        self.include = tuple(spec.sources.include)
        self.exclude = tuple(spec.sources.exclude)
        self.admits_all = not (self.languages or self.include or self.exclude)
        self.threshold = spec.threshold
        self.min_mentions = spec.min_mentions
        self.fields = tuple(sorted(set(spec.fields)))
        """The fields the rule looks in."""
        self.tree = tree
        self.weighted = tuple(
            (clause, weight, needs(clause.node), sentence_only) for clause, weight, sentence_only in weighted
        )
        """Weighted terms: (clause, weight, anchors, whether it counts only in its own sentence): a term none of
        whose anchors occurs is not evaluated."""
        by_anchor: dict[Anchor, list[int]] = defaultdict(list)
        always: list[int] = []
        for position, (_, _, groups, _) in enumerate(self.weighted):
            if not groups:
                always.append(position)
            for anchor in min(groups, key=len, default=()):
                by_anchor[anchor].append(position)
        self.weighted_by_anchor = {anchor: tuple(positions) for anchor, positions in by_anchor.items()}
        """Weighted terms (their positions) by one anchor of their smallest group: the terms an article may
        score are found from the anchors it has, not by testing every term of a rule that has hundreds."""
        self.weighted_always = tuple(always)
        """Weighted terms that need no term (`NOT x`): looked at in every article."""
        self.combining = rule.tree is not None and combines(rule.tree)
        """Whether the query has AND, NEAR or NOT: a sentence with a mention may not satisfy it."""
        self.plain: tuple[tuple[bool, str, str, str], ...] | None = None
        """A query that is a term or an OR of terms (words, phrases, prefixes; but not words alone, see
        `AnyClause.words`), with no weighted terms: per term (prefix?, key, wording, clause). It holds wherever
        one of its terms occurs: its mentions are read off the scan without walking the query."""
        if tree is not None and not weighted and not (isinstance(tree, AnyClause) and tree.words is not None):
            items = tree.items if isinstance(tree, AnyClause) else (tree,)
            if all(isinstance(item, WordsClause) and item.field is None for item in items):
                self.plain = tuple((i.prefix, i.key, i.term, i.text) for i in items if isinstance(i, WordsClause))

    def scoring(self, found: set[Anchor]) -> list[int]:
        """Positions of the weighted terms that may score in an article with these anchors, in order."""
        index = self.weighted_by_anchor
        positions = set(self.weighted_always)
        for anchor in index.keys() & found:  # the intersection is made in C
            positions.update(index[anchor])
        return sorted(positions)


class CompiledRules:
    """The term index, the anchors and the plans of a rule set, built once per rule-set version."""

    def __init__(self, rules: list[ParsedRule], entities: dict[str, EntityList]) -> None:
        self.rules = rules
        self.entity_lists = entities
        self.index = TermIndex()
        self.anchored: dict[Anchor, list[int]] = defaultdict(list)
        """A rule is evaluated only when one of its anchors occurs: terms it cannot hold without."""
        self.always: list[int] = []
        self.persons: dict[str, list[Person]] = defaultdict(list)
        """The members of each person list, with when their surname alone counts."""
        self.plans: list[RulePlan] = []
        """Each rule's plan, in the order of `rules`."""
        self._numbers: dict[Node, int] = {}
        self._numbered: list[tuple[Clause, int]] = []
        self._clauses: dict[int, Clause] = {}
        self._lists: set[str] = set()
        for number, rule in enumerate(rules):
            tree = self._compile(rule.tree) if rule.tree is not None else None
            weighted = [(self._compile(node), weight, sentence_only) for node, weight, sentence_only in rule.weighted]
            self.plans.append(RulePlan(rule, tree, weighted))
            anchors = rule_anchors(rule)
            if anchors is None:
                self.always.append(number)
            for kind, value, _ in anchors or ():
                self.anchored[(kind, value)].append(number)
        uses = Counter(number for _, number in self._numbered)  # keep the numbers of clauses written twice or more
        for clause, number in self._numbered:
            clause.number = number if uses[number] > 1 else None
        for name in sorted(self._lists):
            self._index_entity_list(name, entities[name])
        self.index.build()
        term_cache.save()  # what this compilation learnt about its words, for the next start
        del self._numbers, self._numbered, self._clauses

    def _compile(self, node: Node) -> Clause:
        """A query's clauses, compiled; every word and prefix indexed, the entity lists used noted. A clause
        written again (a list of countries in thirty weighted terms) is the one compiled the first time, whole:
        clauses are not changed by evaluation, and its result is kept per article under its number anyway."""
        number = self._numbers.setdefault(node, len(self._numbers))
        clause: Clause | None = self._clauses.get(number)
        if clause is not None:
            self._numbered.append((clause, number))
            return clause
        if isinstance(node, Words):
            clause = WordsClause(node)
            if node.prefix:
                self.index.add_prefix(node.text)
            else:
                self.index.add_word(clause.key, node.text, exact=node.exact)
        elif isinstance(node, Entity):
            self._lists.add(node.name)
            clause = EntityClause(node)
        elif isinstance(node, And):
            clause = AllClause(node, tuple(self._compile(item) for item in node.items))
        elif isinstance(node, Or):
            clause = AnyClause(node, tuple(self._compile(item) for item in node.items))
        elif isinstance(node, Near):
            clause = NearClause(node, self._compile(node.left), self._compile(node.right))
        elif isinstance(node, Not):
            clause = NoneClause(node, self._compile(node.item))
        else:
            clause = MetaClause(node)
        self._clauses[number] = clause
        self._numbered.append((clause, number))
        return clause

    def _index_entity_list(self, name: str, entity_list: EntityList) -> None:
        for member in entity_list.resolved():
            if entity_list.kind == "person":
                self.index.surname_keys.add(surname(member.name)[1])
                self.persons[name].append(Person.of(member))
            for alias in [member.name, *member.aliases]:
                if alias == alias.lower():  # a generic phrase ("border crossing"): ordinary word matching
                    key = text_key(alias)
                    self.index.add_word(key, alias)
                    self.index.entity_words[key].append((name, member.name))
                else:
                    self.index.add_name(name, member.name, alias)
