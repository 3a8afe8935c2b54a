"""The grammar of the run filter language (lark), and the step from parse tree to filters' dataclasses.

Loaded on the first filter parsed: lark and the LALR tables cost about 50 ms,
which logging and opening a tracker never pay.
"""

from __future__ import annotations

import functools
import math
import re
from datetime import datetime, timezone
from typing import NoReturn

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from .exceptions import InvalidFilter
from .filters import (ATTRIBUTES, ENTITIES, TIME_ATTRIBUTES, AllOf, AnyOf, Comparison, Key,
                      MAX_FILTER_TERMS, Literal, SortTerm, _describe_key)

# ---------------------------------------------------------------- the grammar

# One token holds a whole key (prefix, dot, bare or quoted name), so the prefix and the
# name can never be pulled apart by whitespace. Keywords are the same token type's words
# (lark turns a key token that is exactly "and" into the AND keyword).
GRAMMAR = r"""
?filter: expr
?expr: conj (_OR conj)*          -> any_of
?conj: atom (_AND atom)*         -> all_of
?atom: comparison
     | "(" expr ")"
comparison: KEY OPERATOR value            -> compare
          | KEY _IN "(" values ")"        -> is_in
          | KEY _NOT _IN "(" values ")"   -> not_in
          | KEY LIKE STRING               -> like
          | KEY _NOT LIKE STRING          -> not_like
values: value ("," value)* ","?
value: STRING | NUMBER | TRUE | FALSE

order: sort_term ("," sort_term)*
sort_term: KEY DIRECTION?

OPERATOR: "==" | "!=" | "<>" | "<=" | ">=" | "=" | "<" | ">"
LIKE: "like"i | "ilike"i
DIRECTION: "asc"i | "desc"i
TRUE: "true"i
FALSE: "false"i
_AND: "and"i
_OR: "or"i
_IN: "in"i
_NOT: "not"i
KEY: /[^\W\d][\w]*(\.(`(?:[^`]|``)*`|"(?:[^"]|"")*"|\w[\w.\-:\/]*))?/i
STRING: /'(?:[^']|'')*'/ | /"(?:[^"]|"")*"/
NUMBER: /[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/

%import common.WS
%ignore WS
"""



@functools.lru_cache(maxsize=1)
def _parser() -> Lark:
    """Built on first use (about 50 ms), so opening a tracker does not pay for it."""
    return Lark(GRAMMAR, start=["filter", "order"], parser="lalr", propagate_positions=True,
                maybe_placeholders=False)


# What a user is told the grammar expected, by terminal name.
_EXPECTED = {
    "KEY": "a key such as metrics.acc, params.lr, tags.stage or attributes.status",
    "OPERATOR": "an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN)",
    "LIKE": "LIKE or ILIKE", "_IN": "IN", "_NOT": "NOT", "_AND": "AND", "_OR": "OR",
    "STRING": "a quoted string", "NUMBER": "a number", "TRUE": "true", "FALSE": "false",
    "LPAR": "'('", "RPAR": "')'", "COMMA": "','", "DIRECTION": "ASC or DESC", "$END": "the end of the text",
}


def parse(text: str, start: str):
    """The tree of `text` from start rule "filter" or "order"; raises InvalidFilter with the position."""
    what = "filter" if start == "filter" else "order_by"
    _check_text(text, what)
    try:
        tree = _parser().parse(text, start=start)
        built = _Build(text, what).transform(tree)
    except VisitError as exc:  # a check in _Build failed: it raised InvalidFilter with the position
        if isinstance(exc.orig_exc, InvalidFilter):
            raise exc.orig_exc from None
        raise
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc, what) from None
    except RecursionError:  # parentheses nested hundreds deep: the parse tree is deeper than Python recurses
        raise InvalidFilter(text, "the filter nests parentheses too deeply; write it with fewer levels",
                            text.find("("), what) from None
    terms = _count_terms(built) if start == "filter" else len(built)
    if terms > MAX_FILTER_TERMS:
        raise InvalidFilter(text, f"{what} too long: {terms} terms, at most {MAX_FILTER_TERMS}", None, what)
    return built


def _check_text(text: str, what: str) -> None:
    """Refuse what no database can be sent: a lone surrogate (not UTF-8)."""
    bad = _SURROGATE.search(text)
    if bad:
        raise InvalidFilter(_SURROGATE.sub("\ufffd", text), f"the character {bad.group()!r} is not valid Unicode text (a lone "
                            "surrogate); decode the text properly", bad.start(), what)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _count_terms(node) -> int:
    """Comparisons in a tree, without recursion (parentheses nest)."""
    count, pending = 0, [node]
    while pending:
        item = pending.pop()
        if isinstance(item, (AllOf, AnyOf)):
            pending.extend(item.parts)
        else:
            count += 1
    return count


def _syntax_error(text: str, exc: UnexpectedInput, what: str) -> InvalidFilter:
    if isinstance(exc, UnexpectedEOF):
        return InvalidFilter(text, f"the {what} ends too soon; expected {_describe(exc.expected)}", len(text), what)
    if isinstance(exc, UnexpectedCharacters):
        found = text[exc.pos_in_stream or 0]
        allowed = exc.allowed or set()
        hint = " (quote text with '...', and keys with / or spaces with backticks: metrics.`val/acc`)" \
            if found not in "'\"`" else " (this quote is never closed)"
        return InvalidFilter(text, f"unexpected character {found!r}; expected {_describe(allowed)}{hint}",
                             exc.pos_in_stream or 0, what)
    assert isinstance(exc, UnexpectedToken)
    token = exc.token
    if token.type == "$END":
        return InvalidFilter(text, f"the {what} ends too soon; expected {_describe(exc.expected)}", len(text), what)
    hint = " (a key with spaces or / goes in backticks: tags.`my key`)" if token.type == "KEY" else ""
    return InvalidFilter(text, f"unexpected {str(token)!r}; expected {_describe(exc.expected)}{hint}",
                         token.start_pos, what)


def _describe(expected) -> str:
    if "OPERATOR" in expected:  # the operator's description names LIKE, IN and NOT IN already
        expected = set(expected) - {"LIKE", "_IN", "_NOT"}
    words = sorted({_EXPECTED.get(name, name) for name in expected if not name.startswith("__")})
    return " or ".join(words) if words else "something else"


def _at(token: Token) -> int:
    """Where a token starts (lark types it Optional; a parsed token always has it)."""
    return token.start_pos or 0


def token_end(token: Token) -> int:
    return token.end_pos if token.end_pos is not None else _at(token) + len(token)


def _unquote(text: str) -> str:
    quote = text[0]
    return text[1:-1].replace(quote * 2, quote)


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ][0-9:.]+)?(Z|[+-]\d{2}:?\d{2})?$")


@v_args(inline=True)
class _Build(Transformer):
    """Parse tree -> frozen dataclasses, checking each comparison makes sense for its key."""

    def __init__(self, text: str, what: str = "filter"):
        super().__init__()
        self.text = text
        self.what = what

    def fail(self, reason: str, position: int) -> NoReturn:
        raise InvalidFilter(self.text, reason, position, self.what)

    # -- structure
    def any_of(self, *parts):  # a flat list: a chain of 5,000 ORs never recurses
        if len(parts) == 1:
            return parts[0]
        return AnyOf(tuple(p for part in parts for p in (part.parts if isinstance(part, AnyOf) else (part,))))

    def all_of(self, *parts):
        if len(parts) == 1:
            return parts[0]
        return AllOf(tuple(p for part in parts for p in (part.parts if isinstance(part, AllOf) else (part,))))

    def values(self, *items):
        return tuple(items)

    def order(self, *terms):
        return tuple(terms)

    def sort_term(self, key: Token, direction: Token | None = None):
        return SortTerm(self.key(key), direction is not None and str(direction).lower() == "desc")

    # -- leaves
    def value(self, token: Token) -> Literal:
        text, position = str(token), _at(token)
        if token.type == "STRING":
            return Literal(_unquote(text), _unquote(text), position)
        if token.type in ("TRUE", "FALSE"):
            return Literal(token.type == "TRUE", text.lower(), position)
        number = float(text) if any(c in text for c in ".eE") else int(text)
        if isinstance(number, float) and math.isinf(number):
            self.fail(f"the number {text} is too large", position)
        return Literal(number, text, position)

    def key(self, token: Token) -> Key:
        text, position = str(token), _at(token)
        prefix, dot, name = text.partition(".")
        if not dot:  # a bare attribute: run_name, status, start_time, ...
            column = ATTRIBUTES.get(text.lower())
            if column is None:
                self.fail(f"unknown key {text!r}; write metrics.{text}, params.{text} or tags.{text}, "
                          f"or an attribute ({', '.join(sorted(ATTRIBUTES))})", position)
            return Key("attribute", column, position)
        entity = ENTITIES.get(prefix.lower())
        if entity is None:
            self.fail(f"unknown prefix {prefix + '.'!r}; expected metrics, params, tags or attributes",
                      position)
        if name[0] in "`\"":
            name = _unquote(name)
        if not name:
            self.fail("the key's name is empty", position + len(prefix) + 1)
        if "\x00" in name:  # codec.check_key never stores one: refused alike on both databases
            self.fail("a key cannot contain a NUL character, so none matches", position + len(prefix) + 1)
        if entity == "attribute":
            column = ATTRIBUTES.get(name.lower())
            if column is None:
                self.fail(f"unknown attribute {name!r}; expected one of {', '.join(sorted(ATTRIBUTES))}",
                          position + len(prefix) + 1)
            return Key("attribute", column, position)
        return Key(entity, name, position)

    # -- comparisons
    def compare(self, key: Token, operator: Token, value: Literal) -> Comparison:
        op = {"==": "=", "<>": "!="}.get(str(operator), str(operator))
        return self.checked(self.key(key), op, (value,), _at(operator))

    def is_in(self, key: Token, values: tuple) -> Comparison:
        return self.checked(self.key(key), "in", values, token_end(key))

    def not_in(self, key: Token, values: tuple) -> Comparison:
        return self.checked(self.key(key), "not in", values, token_end(key))

    def like(self, key: Token, operator: Token, pattern: Token) -> Comparison:
        return self.checked(self.key(key), str(operator).lower(), (self.value(pattern),), _at(operator))

    def not_like(self, key: Token, operator: Token, pattern: Token) -> Comparison:
        return self.checked(self.key(key), "not " + str(operator).lower(), (self.value(pattern),),
                            _at(operator))

    def checked(self, key: Key, op: str, values: tuple[Literal, ...], op_position: int) -> Comparison:
        """Refuse what has no meaning (a metric LIKE, a status < 3) here, where the position is known."""
        ordering = op in ("<", "<=", ">", ">=")
        text_match = key.entity in ("param", "tag") and op in ("=", "!=", "in", "not in")
        for value in values:  # PostgreSQL's text cannot hold a NUL; a JSON-encoded value (\u0000) can
            if "\x00" in value.text and not text_match:
                self.fail("a NUL character can only be in a param's or tag's value compared with =, !=, IN "
                          "or NOT IN", value.position)
        if "like" in op:
            pattern = values[0]
            if key.entity == "metric" or (key.entity == "attribute" and key.name in TIME_ATTRIBUTES):
                self.fail(f"{op.upper()} compares text; {_describe_key(key)} is a number or time", op_position)
            if re.search(r"(?<!\\)(?:\\\\)*\\$", pattern.text):
                self.fail("a LIKE pattern cannot end with the escape character '\\' (write '\\\\' for one "
                          "backslash)", pattern.position)
            return Comparison(key, op, values)
        if key.entity == "metric":
            for value in values:
                if not value.is_number:
                    self.fail(f"{_describe_key(key)} is compared with a number, not {value.text!r}", value.position)
            return Comparison(key, op, tuple(Literal(float(v.text), v.text, v.position) for v in values))
        if key.entity == "attribute" and key.name in TIME_ATTRIBUTES:
            return Comparison(key, op, tuple(self.moment(v) for v in values))
        if key.entity == "attribute":  # status, run name, run id: text
            if ordering:
                self.fail(f"{_describe_key(key)} is text: compare it with =, !=, IN, LIKE or ILIKE", op_position)
            for value in values:
                if not value.is_string:
                    self.fail(f"{_describe_key(key)} is compared with a quoted string, e.g. 'FINISHED'",
                              value.position)
            return Comparison(key, op, values)
        # params and tags: numbers compare as numbers, strings (= != IN) as the value's text
        if ordering and not values[0].is_number:
            self.fail(f"{op} compares {_describe_key(key)} with a number; {values[0].text!r} is not one "
                      "(use =, !=, IN or LIKE for text)", values[0].position)
        return Comparison(key, op, values)

    def moment(self, value: Literal) -> Literal:
        """A time: milliseconds since the epoch (as MLflow) or ISO 8601 text (no offset: UTC)."""
        if value.is_number:
            try:
                moment = datetime.fromtimestamp(float(value.text) / 1000, timezone.utc)
            except (OverflowError, OSError, ValueError):
                self.fail(f"{value.text} is not a time in milliseconds since 1970", value.position)
            return Literal(moment, value.text, value.position)
        if value.is_string and _ISO_DATE.match(value.text.strip()):
            try:
                when: datetime | None = datetime.fromisoformat(value.text.strip().replace("Z", "+00:00"))
            except ValueError:
                when = None
            if when is not None:
                when = when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)
                return Literal(when, value.text, value.position)
        self.fail(f"a time is milliseconds since 1970 (1717236000000) or ISO 8601 text ('2024-06-01', "
                  f"'2024-06-01T10:00:00+02:00'), not {value.text!r}", value.position)
