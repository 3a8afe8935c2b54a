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
import math
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import (Numeric, and_, any_, case, cast, exists, false, func, literal, literal_column, not_, or_,
                        select)
from sqlalchemy.types import Float, Text

from . import runs
from .filters import AllOf, AnyOf, Comparison, Key, Literal, Node, SortTerm
from .models import Metric, Param, Run, Tag

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
        return _compare_number(runs.latest_metric_value(Run.id, key.name), node.op, node.values, dialect)
    if key.entity == "attribute":
        column = RUN_COLUMNS[key.name]
        if "like" in node.op:
            return _like(column, node.op, node.values[0].text, dialect)
        if key.name in ("start_time", "end_time") and all(_whole_ms(v) for v in node.values):
            return _compare_ms(column, node.op, node.values)
        return _compare_plain(column, node.op, [v.value for v in node.values], dialect)
    model = Param if key.entity == "param" else Tag
    # The condition inside a scalar subquery (one row at most: the (run_id, key) primary key), not
    # EXISTS: PostgreSQL turns each top-level EXISTS into a semi-join, and 200 of them made its join
    # search take 40 s; a subquery per term is one index probe per run and term, on both databases.
    matched = (select(_json_condition(model.value, node.op, node.values, dialect))
               .where(model.run_id == Run.id, model.key == key.name).scalar_subquery())
    return func.coalesce(matched, false()).is_(True)


def _compare_plain(column, op: str, values: list, dialect: str):
    if op == "in":
        return in_list(column, values, dialect)
    if op == "not in":
        return not_(in_list(column, values, dialect))
    return getattr(column, _ORDERING[op])(values[0])


def in_list(column, values: list, dialect: str):
    """`column IN (...)`; on PostgreSQL a long list is one array parameter (= ANY), since a
    statement there takes at most 65,535 bound values. SQLite binds each (its limit is far higher)."""
    if dialect == "postgresql" and len(values) > 1000:
        from sqlalchemy.dialects import postgresql

        return column == any_(literal(values, postgresql.ARRAY(column.type)))
    if len(values) > 1000 and all(isinstance(v, (str, float)) for v in values):
        # SQLite's bound values are capped too (32,766 in many builds): one JSON array instead
        listed = func.json_each(literal(json.dumps(values, ensure_ascii=False), Text())).table_valued("value")
        return column.in_(select(listed.c.value))
    return column.in_(values)


def _compare_number(expression, op: str, values: tuple[Literal, ...], dialect: str):
    return _compare_plain(expression, op, [_float(v.text) for v in values], dialect)


def _float(text: str) -> float:
    """A literal as a 64-bit float; an integer beyond its range as ±inf (it compares the same)."""
    try:
        return float(text)
    except OverflowError:
        return math.inf if not text.startswith("-") else -math.inf


# ---------------------------------------------------------------- times in milliseconds

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _whole_ms(value: Literal) -> bool:
    text = value.text.strip().lstrip("+-")
    return isinstance(value.value, datetime) and text.isascii() and text.isdigit()


def _is_integer(text: str) -> bool:
    return not any(c in text for c in ".eE")


def _compare_ms(column, op: str, values: tuple[Literal, ...]):
    """A time compared with whole milliseconds compares the time cut to milliseconds (as MLflow):
    `= M` is M <= t < M + 1 ms, so a run's own start time in ms finds it though it holds microseconds."""
    ranges = [(_EPOCH + timedelta(milliseconds=int(v.text)), _EPOCH + timedelta(milliseconds=int(v.text) + 1))
              for v in values]
    low, high = ranges[0]
    if op in ("in", "not in", "=", "!="):
        inside = or_(*(and_(column >= a, column < b) for a, b in ranges))
        return and_(column.is_not(None), not_(inside)) if op in ("!=", "not in") else inside
    return {"<": column < low, "<=": column < high, ">": column >= high, ">=": column >= low}[op]


def _json_condition(column, op: str, values: tuple[Literal, ...], dialect: str):
    """The condition on a param's or tag's JSON text (the row's key already matched)."""
    if "like" in op:
        return _like(value_text(column, dialect), op, values[0].text, dialect)
    negate = op in ("!=", "not in")
    base = {"!=": "=", "not in": "in"}.get(op, op)
    if base in ("<", "<=", ">", ">="):
        return _order_number(column, base, values[0], dialect)
    texts = [text for value in values if not value.is_number for text in _json_texts(value)]
    integers = [str(int(v.text)) for v in values if v.is_number and _is_integer(v.text)]
    fractions = [_float(v.text) for v in values if v.is_number and not _is_integer(v.text)]
    matches = []
    if texts or integers:  # a stored integer's JSON text is canonical: equal integers, equal text
        matches.append(in_list(column, texts + integers, dialect))
    number = json_float(column, dialect)
    if integers:  # an integer literal and a stored non-integer (3 and 3.0): as 64-bit floats
        matches.append(and_(not_(is_integer_text(column)), number.is_not(None),
                            in_list(number, [_float(i) for i in integers], dialect)))
    if fractions:  # a non-integer literal and any stored number: as 64-bit floats
        matches.append(and_(number.is_not(None), in_list(number, fractions, dialect)))
    condition = or_(*matches) if matches else false()
    return not_(condition) if negate else condition


def is_integer_text(column):
    """Whether JSON text is an integer: a JSON number without '.', 'e' or 'E' (never a leading zero)."""
    return and_(or_(column.like("-%"), *(column.like(f"{d}%") for d in "0123456789")),
                not_(column.like("%.%")), not_(column.like("%e%")), not_(column.like("%E%")),
                not_(column.like('"%')))


def _order_number(column, op: str, value: Literal, dialect: str):
    """`<`, `<=`, `>`, `>=` on a JSON number: two integers exactly (any size, on both databases),
    anything else as 64-bit floats (on both: PostgreSQL casts to float8 as SQLite reads REAL)."""
    as_float = getattr(json_float(column, dialect), _ORDERING[op])(_float(value.text))
    if not _is_integer(value.text):
        return and_(not_(column.like('"%')), as_float)
    wanted = int(value.text)
    if dialect == "postgresql":
        exact = getattr(cast(column, Numeric()), _ORDERING[op])(literal(Decimal(wanted), Numeric()))
    else:
        exact = getattr(_sqlite_integer_order(column, wanted), _ORDERING[op])(0)
    return case((is_integer_text(column), exact), else_=as_float)


def _sqlite_integer_order(column, wanted: int):
    """-1, 0 or 1 as stored integer text is below, at or above `wanted`, exactly: by sign, then by
    the number of digits, then by the digits as text (JSON writes no leading zeros)."""
    digits = str(abs(wanted))
    magnitude = case((func.length(func.ltrim(column, "-")) > len(digits), 1),
                     (func.length(func.ltrim(column, "-")) < len(digits), -1),
                     (func.ltrim(column, "-") > digits, 1), (func.ltrim(column, "-") < digits, -1), else_=0)
    negative = column.like("-%")
    if wanted >= 0:
        return case((negative, -1), else_=magnitude)
    return case((not_(negative), 1), else_=-magnitude)


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


def json_float(column, dialect: str):
    """A JSON number as a 64-bit float on both databases (NULL for any other JSON value)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        double: postgresql.DOUBLE_PRECISION[float] = postgresql.DOUBLE_PRECISION()
        number = column.regexp_match(_PG_NUMBER)
        # an integer too long for float8 is ±inf there, as SQLite's CAST makes it (PostgreSQL would fail)
        return case((and_(number, func.length(column) <= 300), cast(column, double)),
                    (and_(number, column.like("-%")), literal(-math.inf, double)),
                    (number, literal(math.inf, double)), else_=None)
    return json_number(column, dialect)


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
    """ORDER BY expressions: each term's value, with runs missing it last in either direction;
    a metric whose latest value is NaN comes after every number and before runs without it.

    Params and tags: numbers (and booleans, as 0/1) before text, as list_runs always sorted.
    Text sorts by code point on both databases (PostgreSQL's COLLATE "C").
    """
    clauses = []
    for term in terms:
        if term.key.entity == "metric":  # value, then NaN (stored as NULL), then runs without the key
            value = runs.latest_metric_value(Run.id, term.key.name)
            present = exists().where(Metric.run_id == Run.id, Metric.key == term.key.name)
            clauses += [not_(present), value.is_(None), value.desc() if term.descending else value.asc()]
            continue
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
