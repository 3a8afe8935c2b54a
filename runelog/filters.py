"""The run filter language: MLflow's `filter_string` syntax, parsed by a real grammar.

    metrics.val_acc > 0.9 and params.lr < 0.1 and tags.stage = 'prod' and attributes.status = 'FINISHED'

`parse_filter` and `parse_order_by` turn text into a small tree of frozen
dataclasses (`Comparison`, `AllOf`, `AnyOf`, `SortTerm`); `filter_sql` turns
that tree into SQLAlchemy expressions with bound parameters. Nothing here
touches a database. A text that does not parse raises InvalidFilter with the
position of the problem and what was expected there. The grammar itself (lark)
is in filter_grammar, imported only when a filter is parsed, so logging never loads it.
"""

from __future__ import annotations

import functools
from datetime import datetime
from dataclasses import dataclass
from typing import Union

from .exceptions import InvalidFilter

ENTITIES = {
    "metrics": "metric", "metric": "metric",
    "params": "param", "param": "param", "parameters": "param", "parameter": "param",
    "tags": "tag", "tag": "tag",
    "attributes": "attribute", "attribute": "attribute", "attr": "attribute", "run": "attribute",
}
# attribute name -> the runs column it means (MLflow's names and runelog's own)
ATTRIBUTES = {
    "status": "status", "run_name": "name", "name": "name", "run_id": "id", "id": "id",
    "start_time": "start_time", "created": "start_time", "end_time": "end_time",
}
TEXT_ATTRIBUTES = {"status", "name", "id"}
TIME_ATTRIBUTES = {"start_time", "end_time"}
# Comparisons in one filter (IN lists count once). SQLite nests `a AND b AND ...` one level per
# term and refuses an expression deeper than 1000; 500 leaves room for the rest of the query.
MAX_FILTER_TERMS = 500



# ---------------------------------------------------------------- the tree


@dataclass(frozen=True)
class Key:
    """What a comparison or sort term is about: ("metric" | "param" | "tag" | "attribute", name)."""

    entity: str
    name: str  # for an attribute: the runs column (status, name, id, start_time, end_time)
    position: int = 0


@dataclass(frozen=True)
class Literal:
    value: Union[str, int, float, bool, datetime]
    text: str  # as written (a number's digits, a string without its quotes)
    position: int = 0

    @property
    def is_string(self) -> bool:
        return isinstance(self.value, str)

    @property
    def is_number(self) -> bool:
        return isinstance(self.value, (int, float)) and not isinstance(self.value, bool)


@dataclass(frozen=True)
class Comparison:
    """`key op value`; op is one of = != < <= > >= like ilike not like not ilike in not in."""

    key: Key
    op: str
    values: tuple[Literal, ...]  # one, or the list of IN / NOT IN


@dataclass(frozen=True)
class AllOf:
    parts: tuple


@dataclass(frozen=True)
class AnyOf:
    parts: tuple


Node = Union[Comparison, AllOf, AnyOf]


@dataclass(frozen=True)
class SortTerm:
    key: Key
    descending: bool = False


# What order_by takes: "metrics.acc DESC, params.lr", a list of such strings, or parsed SortTerms.
OrderBy = Union[str, list, tuple, None]

# ---------------------------------------------------------------- parsing


def parse_filter(text: str | None) -> Node | None:
    """The tree of a filter string; None for None, "" or blank. Raises InvalidFilter."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise InvalidFilter(repr(text), f"a filter is a string, not {type(text).__name__}")
    return _parse_filter(text) if text.strip() else None


@functools.lru_cache(maxsize=256)
def _parse_filter(text: str) -> Node:
    from .filter_grammar import parse

    return parse(text, "filter")


def parse_order_by(order_by: OrderBy) -> tuple[SortTerm, ...]:
    """Sort terms from `"metrics.acc DESC, params.lr"` or a list of such strings; () for None."""
    if order_by is None:
        return ()
    if not isinstance(order_by, (str, list, tuple)):
        raise InvalidFilter(repr(order_by), f"order_by is a string or a list of strings, not "
                            f"{type(order_by).__name__}", None, "order_by")
    items = [order_by] if isinstance(order_by, str) else list(order_by)
    terms: list[SortTerm] = []
    for item in items:
        if isinstance(item, SortTerm):  # already parsed (the service's own orders): no grammar needed
            terms.append(item)
            continue
        if not isinstance(item, str):
            raise InvalidFilter(repr(item), f"an order_by term is a string, not {type(item).__name__}", None,
                                "order_by")
        if item.strip():
            terms += _parse_order(item)
    return tuple(terms)


@functools.lru_cache(maxsize=256)
def _parse_order(text: str) -> tuple[SortTerm, ...]:
    from .filter_grammar import parse

    return parse(text, "order")


def _describe_key(key: Key) -> str:
    if key.entity == "attribute":
        return f"attribute {key.name!r}"
    return f"{key.entity} {key.name!r}"
