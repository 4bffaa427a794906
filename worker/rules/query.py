"""The query language: a parser from query text to a small tree of clauses.

    query   := or
    or      := and ("OR" and)*
    and     := unary (["AND"] unary)*          adjacent clauses are ANDed
    unary   := "NOT" unary | near
    near    := primary (("NEAR/" | "PRE/") n ["/any"] primary)*   within n words, in one sentence (with
                                                 /any: also across sentences); NEAR in either order, PRE
                                                 with the left side first ("fled PRE/2 Syria")
    primary := "(" or ")" | field ":" primary | ["="] word | word "*" | ["="] '"' phrase '"' | "@" entity-list

A word or phrase matches its inflections ("struck" also finds "strikes"); written after "=" it matches only
as written (`=crossed` is not "cross-border", `="was held"` not "holds").

Fields are `title:` and `text:` (where to look) and `source:` and `lang:` (which articles: a site
domain, an ISO 639-1 language code). Operators are upper case; lower-case "and", "or", "not" are words.
Errors are `QueryError(message, column)` with the 0-based column in the query text.

One module on purpose (over 300 lines): the grammar above, the clauses it makes and their rendering back to
query text change together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from newswatch.worker.rules.languages import is_language_code, unknown_language

TEXT_FIELDS = ("title", "text")
META_FIELDS = ("source", "lang")


class QueryError(ValueError):
    """A mistake in a query, at `column` (0-based) of the query text."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


@dataclass(frozen=True)
class Words:
    """A word or a "quoted phrase" (`prefix`: the last word is a prefix, `strike*`; `exact`: only as written,
    no other inflection, `=crossed`)."""

    text: str
    prefix: bool = False
    field: str | None = None
    exact: bool = False

    def __str__(self) -> str:
        body = f'"{self.text}"' if " " in self.text or not self.text.isalnum() else self.text
        return _field(self.field, ("=" if self.exact else "") + body + ("*" if self.prefix else ""))


@dataclass(frozen=True)
class Entity:
    """`@name`: any member of a named entity list, transliteration-aware."""

    name: str
    field: str | None = None

    def __str__(self) -> str:
        return _field(self.field, f"@{self.name}")


@dataclass(frozen=True)
class Meta:
    """`source:domain` or `lang:code`: a condition on the article, not on its words."""

    field: str
    value: str

    def __str__(self) -> str:
        return f"{self.field}:{self.value}"


class _Composite:
    """A clause made of clauses, rendered and hashed once: compiling a rules file renders every clause (the text
    shown with the mentions it explains) and hashes it (equal clauses share one result per article), and each
    would otherwise render and hash its whole subtree again, a tenth of a compilation. Neither is kept in a
    pickle (a string's hash differs from process to process)."""

    def __str__(self) -> str:
        cache = self.__dict__
        text = cache.get("_text")
        if text is None:
            text = cache["_text"] = self._render()
        return text

    def _render(self) -> str:
        raise NotImplementedError

    def _hash_once(self) -> int:
        cache = self.__dict__
        value = cache.get("_hash")
        if value is None:
            value = cache["_hash"] = hash(tuple(v for name, v in cache.items() if not name.startswith("_")))
        return value

    def __getstate__(self) -> dict[str, object]:
        return {name: value for name, value in self.__dict__.items() if not name.startswith("_")}


@dataclass(frozen=True)
class And(_Composite):
    items: tuple[Node, ...]
    __hash__ = _Composite._hash_once

    def _render(self) -> str:
        return " AND ".join(_wrap(item) for item in self.items)


@dataclass(frozen=True)
class Or(_Composite):
    items: tuple[Node, ...]
    __hash__ = _Composite._hash_once

    def _render(self) -> str:
        return " OR ".join(_wrap(item) for item in self.items)


@dataclass(frozen=True)
class Not(_Composite):
    item: Node
    __hash__ = _Composite._hash_once

    def _render(self) -> str:
        return f"NOT {_wrap(self.item)}"


@dataclass(frozen=True)
class Near(_Composite):
    left: Node
    right: Node
    distance: int
    across_sentences: bool = False
    """NEAR keeps to one sentence ("went on strike. Private jet owners" is no air strike) unless `/any`."""
    ordered: bool = False
    """PRE: the left side comes first ("fled PRE/2 @countries" is not "France, before fleeing")."""
    __hash__ = _Composite._hash_once

    def _render(self) -> str:
        scope = "/any" if self.across_sentences else ""
        operator = "PRE" if self.ordered else "NEAR"
        return f"{_wrap(self.left)} {operator}/{self.distance}{scope} {_wrap(self.right)}"


Node = Words | Entity | Meta | And | Or | Not | Near


def _field(field: str | None, body: str) -> str:
    return f"{field}:{body}" if field else body


def _wrap(node: Node) -> str:
    return f"({node})" if isinstance(node, (And, Or)) else str(node)


_LEXEME = re.compile(
    r"""
    \s*  # spacing before a lexeme is skipped with it
    (?:
      (?P<lparen>\()
    | (?P<rparen>\))
    | (?P<phrase>"[^"]*"?)
    | (?P<near>(?:NEAR|PRE)/\d*(?:/any)?)
    | (?P<field>[A-Za-z]+:)
    | (?P<entity>@[\w-]*)
    | (?P<exact>=(?=["\w]))
    | (?P<word>[^\s()"]+)
    )
""",
    re.VERBOSE,
)


class _Lexeme(NamedTuple):
    """A token of a query (a named tuple: a rules file has tens of thousands of them)."""

    kind: str
    text: str
    column: int


def _lex(query: str) -> list[_Lexeme]:
    return [
        _Lexeme(kind, found.group(kind), found.start(kind))
        for found in _LEXEME.finditer(query)
        for kind in (found.lastgroup or "word",)
    ]


_HAS_WORD = re.compile(r"\w")

_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"'})


class _Parser:
    """Recursive descent over the lexemes, which end with an `end` lexeme (no bounds to check on the way)."""

    def __init__(self, query: str) -> None:
        query = query.translate(_QUOTES)  # typographic quotes delimit phrases too (same length: columns hold)
        self.query = query
        self.lexemes = [*_lex(query), _Lexeme("end", "", len(query))]
        self.index = 0

    def parse(self) -> Node:
        if self.lexemes[0].kind == "end":
            raise QueryError('empty query: expected a word, a "phrase" or @entities', 0)
        node = self._or()
        lexeme = self.lexemes[self.index]
        if lexeme.kind != "end":
            expected = "an operator (AND, OR, NEAR/n, PRE/n)"
            if lexeme.kind == "rparen":
                raise QueryError(f"unmatched ')': expected {expected} or the end", lexeme.column)
            raise QueryError(f"unexpected {lexeme.text!r}: expected {expected}", lexeme.column)
        return node

    def _peek(self) -> _Lexeme | None:
        lexeme = self.lexemes[self.index]
        return None if lexeme.kind == "end" else lexeme

    def _is_word(self, text: str) -> bool:
        lexeme = self.lexemes[self.index]
        return lexeme.text == text and lexeme.kind == "word"

    def _or(self) -> Node:
        items = [self._and()]
        while self._is_word("OR"):
            self.index += 1
            items.append(self._and())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def _and(self) -> Node:
        items = [self._unary()]
        while True:
            lexeme = self.lexemes[self.index]
            if lexeme.kind in ("end", "rparen") or lexeme.kind == "word" and lexeme.text == "OR":
                break
            if lexeme.kind == "word" and lexeme.text == "AND":
                self.index += 1
            items.append(self._unary())
        return items[0] if len(items) == 1 else And(tuple(items))

    def _unary(self) -> Node:
        if self._is_word("NOT"):
            self.index += 1
            return Not(self._unary())
        return self._near()

    def _near(self) -> Node:
        node = self._primary()
        while (lexeme := self.lexemes[self.index]).kind == "near":
            operator, _, rest = lexeme.text.partition("/")
            digits, _, scope = rest.partition("/")
            if not digits or int(digits) < 1:
                raise QueryError(
                    f"{operator} needs a distance in words: expected {operator}/n with n >= 1", lexeme.column
                )
            self.index += 1
            node = Near(node, self._primary(), int(digits), across_sentences=scope == "any", ordered=operator == "PRE")
        return node

    def _primary(self, field: str | None = None) -> Node:
        lexeme = self._peek()
        end = len(self.query)
        if lexeme is None:
            raise QueryError("unexpected end of query: expected a word, a \"phrase\", @entities or '('", end)
        self.index += 1
        if lexeme.kind == "lparen":
            node = self._with_field(self._or(), field)
            closing = self._peek()
            if closing is None or closing.kind != "rparen":
                column = closing.column if closing else end
                raise QueryError(f"'(' at column {lexeme.column + 1} is not closed: expected ')'", column)
            self.index += 1
            return node
        if lexeme.kind == "field":
            return self._field(lexeme, field)
        if lexeme.kind == "exact":
            return self._exact(lexeme, field)
        if lexeme.kind == "phrase":
            return self._phrase(lexeme, field)
        if lexeme.kind == "entity":
            if len(lexeme.text) < 2:
                raise QueryError("expected an entity list name after '@'", lexeme.column)
            return Entity(lexeme.text[1:], field)
        if lexeme.kind == "word" and lexeme.text not in ("AND", "OR", "NOT"):
            return self._word(lexeme, field)
        raise QueryError(f"unexpected {lexeme.text!r}: expected a word, a \"phrase\", @entities or '('", lexeme.column)

    def _phrase(self, lexeme: _Lexeme, field: str | None) -> Words:
        if len(lexeme.text) < 2 or not lexeme.text.endswith('"'):
            raise QueryError("unterminated phrase: expected a closing '\"'", lexeme.column)
        text = lexeme.text[1:-1].strip()
        if not _HAS_WORD.search(text):
            raise QueryError("empty phrase: expected words between the quotes", lexeme.column)
        return Words(text, False, field)

    def _exact(self, lexeme: _Lexeme, field: str | None) -> Words:
        """`=word` or `="phrase"`: the word or phrase only as written."""
        following = self._peek()
        self.index += 1
        assert following is not None  # the lexer reads "=" only right before a word or a quote
        words = self._phrase(following, field) if following.kind == "phrase" else self._word(following, field)
        if words.prefix:
            raise QueryError("'=' and '*' do not go together: a prefix matches every ending", lexeme.column)
        return replace(words, exact=True)

    def _field(self, lexeme: _Lexeme, outer: str | None) -> Node:
        name = lexeme.text[:-1].lower()
        if name in META_FIELDS:
            value = self._peek()
            if value is None or value.kind != "word" or value.column != lexeme.column + len(lexeme.text):
                raise QueryError(f"expected a value right after '{name}:'", lexeme.column + len(lexeme.text))
            if name == "lang" and not is_language_code(value.text):
                raise QueryError(unknown_language(value.text), value.column)
            self.index += 1
            return Meta(name, value.text.lower())
        if name not in TEXT_FIELDS:
            known = ", ".join(f"{f}:" for f in TEXT_FIELDS + META_FIELDS)
            raise QueryError(f"unknown field '{name}:': expected one of {known}", lexeme.column)
        return self._primary(field=name)

    def _word(self, lexeme: _Lexeme, field: str | None) -> Words:
        text, prefix = lexeme.text, lexeme.text.endswith("*")
        if prefix:
            text = text[:-1]
        if "*" in text:
            raise QueryError("'*' is only allowed at the end of a word", lexeme.column + text.index("*"))
        if not _HAS_WORD.search(text):
            raise QueryError(f"{lexeme.text!r} is not a word: expected letters or digits", lexeme.column)
        if prefix and len(re.sub(r"\W", "", text)) < 3:
            raise QueryError("a prefix needs at least 3 letters before '*'", lexeme.column)
        return Words(text, prefix, field)

    @staticmethod
    def _with_field(node: Node, field: str | None) -> Node:
        if field is None:
            return node
        if isinstance(node, (Words, Entity)):
            return replace(node, field=node.field or field)
        if isinstance(node, And):
            return And(tuple(_Parser._with_field(item, field) for item in node.items))
        if isinstance(node, Or):
            return Or(tuple(_Parser._with_field(item, field) for item in node.items))
        if isinstance(node, Not):
            return Not(_Parser._with_field(node.item, field))
        if isinstance(node, Near):
            return replace(
                node, left=_Parser._with_field(node.left, field), right=_Parser._with_field(node.right, field)
            )
        return node


def parse_query(query: str) -> Node:
    """The clause tree of `query`; raises `QueryError` with the column of the first mistake."""
    return _Parser(query).parse()


Data = tuple[Any, ...]
"""A clause tree as nested tuples of strings, numbers and booleans: what `marshal` can keep (`term_cache`)."""


def tree_data(node: Node) -> Data:
    """`node` as plain data, read back by `tree_from_data`."""
    if isinstance(node, Words):
        return ("w", node.text, node.prefix, node.field, node.exact)
    if isinstance(node, Entity):
        return ("e", node.name, node.field)
    if isinstance(node, Meta):
        return ("m", node.field, node.value)
    if isinstance(node, (And, Or)):
        return ("&" if isinstance(node, And) else "|", tuple(map(tree_data, node.items)))
    if isinstance(node, Not):
        return ("!", tree_data(node.item))
    return ("~", tree_data(node.left), tree_data(node.right), node.distance, node.across_sentences, node.ordered)


def tree_from_data(data: Data) -> Node:
    """The clause tree `tree_data` made `data` of (words first: most clauses are)."""
    kind = data[0]
    if kind == "w":
        return Words(data[1], data[2], data[3], data[4])
    if kind == "|":
        return Or(tuple(map(tree_from_data, data[1])))
    if kind == "&":
        return And(tuple(map(tree_from_data, data[1])))
    if kind == "~":
        return Near(tree_from_data(data[1]), tree_from_data(data[2]), data[3], data[4], data[5])
    if kind == "e":
        return Entity(data[1], data[2])
    if kind == "!":
        return Not(tree_from_data(data[1]))
    return Meta(data[1], data[2])
