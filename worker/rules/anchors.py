"""Which terms a query cannot hold without: the anchors under which a rule set indexes its rules, so that an
article's scan picks the few rules worth evaluating, and the shape of a query that decides how it is evaluated.

A query's anchors are terms of which one must occur for it to hold: a word's or phrase's term key, a prefix, an
entity list. For an AND or a NEAR the rarest part's anchors are enough (names, capitalised in the query or
unknown to the dictionary, are rarer than dictionary words; longer phrases rarer than short ones); NOT and
`source:`/`lang:` need no term.
"""

from __future__ import annotations

from functools import lru_cache

from newswatch.worker.rules import term_cache
from newswatch.worker.rules.loader import ParsedRule
from newswatch.worker.rules.query import And, Entity, Near, Node, Not, Or, Words
from newswatch.worker.rules.text import english_word, fold, tokenize

Anchor = tuple[str, str]  # ("word", key) | ("prefix", term) | ("entity", list name)


@lru_cache(maxsize=100_000)
def text_key(text: str) -> str:
    """The identity of a word or phrase term: its folded lemmas, spaces and hyphens removed (remembered across
    starts, see `term_cache`)."""
    return term_cache.recall("key", text, _text_key)


def _text_key(text: str) -> str:
    return "".join(t.lemma for t in tokenize(text))


def term_key(node: Words) -> str:
    """The key a word, phrase or prefix is scanned under: a prefix's own text; a term written `=` as written
    ("=" and its folded words, apart from the inflected term of the same words, and spaced as written: the
    phrase `="break through"` is not the word `=breakthrough`); else `text_key`."""
    if node.prefix:
        return node.text
    if node.exact:
        return "=" + " ".join(t.form for t in tokenize(node.text))
    return text_key(node.text)


def has_and(node: Node) -> bool:
    """Whether a query has AND in it."""
    if isinstance(node, And):
        return True
    if isinstance(node, Or):
        return any(has_and(item) for item in node.items)
    if isinstance(node, Near):
        return has_and(node.left) or has_and(node.right)
    return isinstance(node, Not) and has_and(node.item)


def crosses(node: Node) -> bool:
    """Whether a query has NEAR/any in it."""
    if isinstance(node, Near):
        return node.across_sentences or crosses(node.left) or crosses(node.right)
    if isinstance(node, (And, Or)):
        return any(crosses(item) for item in node.items)
    return isinstance(node, Not) and crosses(node.item)


def combines(node: Node) -> bool:
    """Whether a query has AND, NEAR or NOT in it (else it holds wherever one of its terms is mentioned)."""
    if isinstance(node, (And, Near, Not)):
        return True
    return isinstance(node, Or) and any(combines(item) for item in node.items)


def needs(node: Node) -> tuple[frozenset[Anchor], ...]:
    """Groups of terms of which the query cannot hold without one of each: every part of an AND or a NEAR
    brings its own (`(fled OR escaped) NEAR/2 (into NEAR/1 @countries)` needs one of the verbs, "into" and a
    country); none for a query that can hold without any term. Finer than the rarest part's anchors that index
    a rule: an article that has the verbs but no country is not evaluated at all."""
    if isinstance(node, (And, Near)):
        items = node.items if isinstance(node, And) else (node.left, node.right)
        return tuple(group for item in items for group in needs(item))
    anchors = query_anchors(node)
    return () if anchors is None else (frozenset((kind, value) for kind, value, _ in anchors),)


def rule_anchors(rule: ParsedRule) -> list[tuple[str, str, float]] | None:
    """A rule's anchors: its query's; for weighted terms alone, those of every term that adds to the score."""
    if rule.tree is not None:
        return query_anchors(rule.tree)
    if (rule.spec.threshold or 0.0) <= 0:
        return None  # the threshold holds with no mention at all
    found: list[tuple[str, str, float]] = []
    for tree, weight, _ in rule.weighted:
        if weight > 0:
            anchors = query_anchors(tree)
            if anchors is None:
                return None
            found += anchors
    return found


def query_anchors(node: Node) -> list[tuple[str, str, float]] | None:
    """Terms (with how common they are) of which one must occur for the query to hold; None: no term is."""
    if isinstance(node, Words):
        if node.prefix:
            return [("prefix", node.text, 3.0)]
        return [("word", term_key(node), _word_cost(node.text))]
    if isinstance(node, Entity):
        return [("entity", node.name, 2.0)]
    if isinstance(node, Or):
        parts = [query_anchors(item) for item in node.items]
        if any(part is None for part in parts):
            return None
        return [anchor for part in parts if part for anchor in part]
    if isinstance(node, (And, Near)):
        items = node.items if isinstance(node, And) else (node.left, node.right)
        required = [part for part in (query_anchors(item) for item in items) if part is not None]
        return min(required, key=_anchor_cost) if required else None
    return None  # NOT and source:/lang: require no term


def _anchor_cost(anchors: list[tuple[str, str, float]]) -> float:
    """How often a set of anchors is expected to occur: fewer terms, and rarer ones."""
    return sum(cost for _, _, cost in anchors)


@lru_cache(maxsize=100_000)
def _word_cost(text: str) -> float:
    """Names (capitalised in the query, or unknown to the dictionary: "Muhandis") are rarer in news than
    dictionary words ("border"); longer phrases are rarer than short ones."""
    name = text[:1].isupper() or not term_cache.recall("known", fold(text), english_word)
    return (1.0 if name else 4.0) / (1 + len(text) / 20)
