"""A parsed run filter (runelog.filters) as SQLAlchemy expressions over `runs`, for SQLite and PostgreSQL.

Every user value is a bound parameter. Params and tags are JSON text
(runelog.codec), so each comparison says what it means on that text:

- a number compares with values that are JSON numbers, as numbers (REAL on
  SQLite; exact NUMERIC on PostgreSQL, so 10**30 and 0.1 compare exactly);
- a quoted string with = != IN matches a string with that text, or a number
  or boolean written exactly so (MLflow's habit `params.lr = '0.1'` works);
- true / false match booleans;
- LIKE and ILIKE look at a string's text (a number's or boolean's JSON text).

A run without the key matches no comparison, not even `!=` and NOT IN.
LIKE is case-sensitive on both databases (SQLite's own LIKE is not: it runs
as GLOB there); ILIKE folds ASCII case on SQLite, all case on PostgreSQL.
'\\' escapes % and _ in a pattern on both.
"""

from __future__ import annotations

import json
from decimal import Decimal

from sqlalchemy import Numeric, and_, case, cast, exists, false, func, literal, literal_column, not_, or_, select
from sqlalchemy.types import Float, Text

from . import runs
from .filters import AllOf, AnyOf, Comparison, Key, Literal, Node, SortTerm
from .models import Param, Run, Tag

RUN_COLUMNS = {"status": Run.status, "name": Run.name, "id": Run.id, "start_time": Run.start_time,
               "end_time": Run.end_time}
_ORDERING = {"<": "__lt__", "<=": "__le__", ">": "__gt__", ">=": "__ge__", "=": "__eq__", "!=": "__ne__"}
_PG_NUMBER = r"^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$"


def where(node: Node, dialect: str):
    """The WHERE clause of a filter tree, over the `runs` table."""
    if isinstance(node, AllOf):
        return and_(*(where(part, dialect) for part in node.parts))
    if isinstance(node, AnyOf):
        return or_(*(where(part, dialect) for part in node.parts))
    assert isinstance(node, Comparison)
    key = node.key
    if key.entity == "metric":
        return _compare_number(runs.latest_metric_value(Run.id, key.name), node.op, node.values)
    if key.entity == "attribute":
        column = RUN_COLUMNS[key.name]
        if "like" in node.op:
            return _like(column, node.op, node.values[0].text, dialect)
        return _compare_plain(column, node.op, [v.value for v in node.values])
    model = Param if key.entity == "param" else Tag
    return exists().where(model.run_id == Run.id, model.key == key.name,
                          _json_condition(model.value, node.op, node.values, dialect))


def _compare_plain(column, op: str, values: list):
    if op == "in":
        return column.in_(values)
    if op == "not in":
        return column.not_in(values)
    return getattr(column, _ORDERING[op])(values[0])


def _compare_number(expression, op: str, values: tuple[Literal, ...]):
    return _compare_plain(expression, op, [float(v.text) for v in values])


def _json_condition(column, op: str, values: tuple[Literal, ...], dialect: str):
    """The condition on a param's or tag's JSON text (the row's key already matched)."""
    if "like" in op:
        return _like(value_text(column, dialect), op, values[0].text, dialect)
    negate = op in ("!=", "not in")
    base = {"!=": "=", "not in": "in"}.get(op, op)
    if base in ("<", "<=", ">", ">="):
        number = json_number(column, dialect)
        return getattr(number, _ORDERING[base])(_number_param(values[0], dialect))
    texts = [text for value in values if not value.is_number for text in _json_texts(value)]
    numbers = [value for value in values if value.is_number]
    matches = []
    if texts:
        matches.append(column.in_(texts))
    if numbers:
        number = json_number(column, dialect)
        matches.append(and_(number.is_not(None),
                            number.in_([_number_param(v, dialect) for v in numbers])))
    condition = or_(*matches) if matches else false()
    return not_(condition) if negate else condition


def _json_texts(value: Literal) -> list[str]:
    """The stored JSON texts a quoted string or a boolean literal equals."""
    if isinstance(value.value, bool):
        return [json.dumps(value.value)]
    texts = [json.dumps(value.text, ensure_ascii=False)]  # a string literal's text is its value
    try:
        parsed = json.loads(value.text)
    except ValueError:
        return texts
    if parsed is None or isinstance(parsed, (bool, int, float)):  # '0.1', '3', 'true': that number or boolean
        texts.append(json.dumps(parsed))
    return texts


def _number_param(value: Literal, dialect: str):
    if dialect == "postgresql":
        return literal(Decimal(value.text), Numeric())  # exact, and no float overflow for huge integers
    return literal(float(value.text), Float())


def json_number(column, dialect: str):
    """A JSON number's value, NULL for any other JSON value (CASE keeps the cast from meeting text)."""
    if dialect == "postgresql":
        return case((column.regexp_match(_PG_NUMBER), cast(column, Numeric())), else_=None)
    return case((or_(column.op("GLOB")("[0-9]*"), column.op("GLOB")("-[0-9]*")), cast(column, Float())),
                else_=None)


def value_text(column, dialect: str):
    """A JSON string's text; any other JSON value's JSON text (0.5, true, [1, 2])."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql  # here: a SQLite store never loads PostgreSQL's dialect

        decoded = cast(column, postgresql.JSON()).op("#>>", return_type=Text())(
            literal_column("'{}'::text[]"))  # the empty path: the scalar itself, as text
        return case((column.startswith('"'), decoded), else_=column)
    return case((column.op("GLOB")('"*'), func.json_extract(column, "$")), else_=column)


def _like(expression, op: str, pattern: str, dialect: str):
    """LIKE / ILIKE with '\\' as the escape character, case-sensitive LIKE on both databases."""
    negate = op.startswith("not ")
    insensitive = op.endswith("ilike")
    if dialect == "sqlite":
        if insensitive:  # SQLite's LIKE folds ASCII case
            condition = expression.like(pattern, escape="\\")
        else:
            condition = expression.op("GLOB")(glob_pattern(pattern))
    else:
        condition = (expression.ilike if insensitive else expression.like)(pattern, escape="\\")
    condition = and_(expression.is_not(None), condition)
    return and_(expression.is_not(None), not_(condition)) if negate else condition


def glob_pattern(pattern: str) -> str:
    """A LIKE pattern (% _ and \\ escapes) as the SQLite GLOB pattern matching the same strings."""
    out, escaped = [], False
    for char in pattern:
        if escaped:
            out.append(_glob_literal(char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "%":
            out.append("*")
        elif char == "_":
            out.append("?")
        else:
            out.append(_glob_literal(char))
    return "".join(out)


def _glob_literal(char: str) -> str:
    return f"[{char}]" if char in "*?[" else char


# ---------------------------------------------------------------- sorting


def order_by(terms: tuple[SortTerm, ...], dialect: str) -> list:
    """ORDER BY expressions: each term's value, with runs missing it last in either direction.

    Params and tags: numbers (and booleans, as 0/1) before text, as list_runs always sorted.
    Text sorts by code point on both databases (PostgreSQL's COLLATE "C").
    """
    clauses = []
    for term in terms:
        for expression in _sort_values(term.key, dialect):
            clauses.append(expression.is_(None))  # False (0) first: present values, then missing ones
            clauses.append(expression.desc() if term.descending else expression.asc())
    return clauses


def _sort_values(key: Key, dialect: str) -> list:
    if key.entity == "metric":
        return [runs.latest_metric_value(Run.id, key.name)]
    if key.entity == "attribute":
        column = RUN_COLUMNS[key.name]
        return [_text(column, dialect) if key.name in ("status", "name", "id") else column]
    model = Param if key.entity == "param" else Tag
    stored = (select(model.value).where(model.run_id == Run.id, model.key == key.name)
              .scalar_subquery())
    number = case((stored == "true", literal(1)), (stored == "false", literal(0)),
                  else_=json_number(stored, dialect))
    text = case((number.is_(None), _text(value_text(stored, dialect), dialect)), else_=None)
    # Numbers before text: a present text value leaves `number` NULL, so order on "is a number" first.
    kind = case((number.is_not(None), literal(0)), (stored.is_not(None), literal(1)), else_=None)
    return [kind, number, text]


def _text(expression, dialect: str):
    return expression.collate("C") if dialect == "postgresql" else expression
