"""Errors in reading runs back: sort keys, filter text, ad-hoc SQL."""

from __future__ import annotations

from .base import InvalidInput, NotFound, RunelogException
from .runs import InvalidValue


class InvalidSortKey(InvalidValue):
    """A sort key that names no column, param or metric: refused instead of silently ignored."""

    def __init__(self, sort_by: str, choices: list[str]):
        self.sort_by = sort_by
        self.choices = list(choices)
        shown = ", ".join(self.choices[:30]) + (", ..." if len(self.choices) > 30 else "")
        super().__init__(f"Cannot sort runs by '{sort_by}'; valid choices: {shown}.")


class InvalidFilter(InvalidInput, ValueError):
    """A run filter or order_by text that does not parse: the message points a caret at the problem."""

    def __init__(self, text: str, reason: str, position: int | None = None, what: str = "filter"):
        self.filter = text
        self.reason = reason
        self.position = position  # 0-based offset into `text`, or None when the whole text is at fault
        shown = text
        where = ""
        if position is not None:
            line_start = text.rfind("\n", 0, position) + 1
            line_end = text.find("\n", position)
            shown = text[line_start:line_end if line_end != -1 else len(text)]
            where = f" at column {position - line_start + 1}"
            shown += "\n    " + " " * (position - line_start) + "^"
        example = ("Write comparisons like metrics.val_acc > 0.9 and params.lr < 0.1 and tags.stage = 'prod'"
                   if what == "filter" else "Write sort terms like metrics.val_acc DESC, params.lr, run_name")
        super().__init__(f"Invalid {what}{where}: {reason}.\n    {shown}\n{example} (see docs/querying.md).")


class QueryFailed(InvalidInput):
    def __init__(self, statement: str, reason: str):
        self.statement = statement
        short = " ".join(statement.split())
        super().__init__(
            f"The query failed: {reason}. Query: {short[:200]}. "
            "Ad-hoc SQL is read-only; see docs/sql.md for the tables and views."
        )


class SqlNotAllowed(QueryFailed):
    """Ad-hoc SQL (`runelog sql`) that is not one reading statement: refused, nothing was run or changed."""

    def __init__(self, statement: str, reason: str):
        self.statement = statement
        self.reason = reason
        short = " ".join(statement.split())
        RunelogException.__init__(
            self,
            f"Refused: {reason}. runelog sql runs exactly one reading statement per call (SELECT, "
            f"WITH ... SELECT, VALUES, or EXPLAIN of one) on a read-only connection, so nothing was changed. "
            f"Query: {short[:200]}. Change a store through the runelog API or commands; see docs/sql.md.",
        )


class SqlFileNotFound(NotFound, FileNotFoundError):
    """`runelog sql --file PATH` where PATH is no file."""

    def __init__(self, path: str):
        NotFound.__init__(self, f"SQL file '{path}' does not exist. Check the path, or give the query as text.")
        self.path = self.filename = path

    def __str__(self) -> str:
        return str(self.args[0])


class SqlFileNotText(InvalidInput, ValueError):
    """`runelog sql --file PATH` where PATH is not UTF-8 text."""

    def __init__(self, path: str):
        self.path = path
        super().__init__(f"SQL file '{path}' is not UTF-8 text; save it as UTF-8 and run the command again.")
