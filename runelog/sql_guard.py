"""Decide, with a real SQL parser, whether ad-hoc SQL is one statement that only reads.

This is the first of two locks on `runelog sql`; the database is the second
(runelog/sql.py: SQLite's authorizer, PostgreSQL's read-only session). The
parser is sqlglot, imported only when a statement is checked.

Allowed: exactly one SELECT, WITH ... SELECT, set operation (UNION ...),
VALUES or parenthesised query, or EXPLAIN of one of those. Refused anywhere in
the tree: data-changing statements (also inside a CTE, which PostgreSQL
allows), SELECT ... INTO, row locks (FOR UPDATE/SHARE), anything the parser
only knows as a raw command (COPY, SET, DO, LOCK, LISTEN, ...), and calls to
functions that act on the server or its files (pg_terminate_backend,
set_config, lo_export, load_extension, ...) or run SQL given as text
(ts_rewrite, ts_stat, query_to_xml, ...).
"""

from __future__ import annotations

import contextlib
import logging

from . import exceptions

DIALECTS = {"sqlite": "sqlite", "postgresql": "postgres"}

# Node classes that change data, schema, session or server state. Looked up by
# name so that a class missing from an older or newer sqlglot is just skipped.
_FORBIDDEN_NODES = (
    "Insert", "Update", "Delete", "Merge", "Copy", "Export", "LoadData", "MultitableInserts",
    "ConditionalInsert", "Create", "Drop", "Alter", "AlterColumn", "AlterSession", "AlterSet",
    "AlterRename", "TruncateTable", "Undrop", "SwapTable", "Comment", "Grant", "Revoke",
    "Attach", "Detach", "Pragma", "Analyze", "Set", "Use", "Transaction", "Commit", "Rollback",
    "Command", "Execute", "ExecuteSql", "Declare", "Kill", "Install", "Put", "Get", "Cache",
    "Uncache", "Refresh", "Into", "Lock", "NextValueFor", "StoredProcedure", "Block",
)
_READ_TOPS = ("Select", "SetOperation", "Union", "Intersect", "Except", "Values", "Subquery")

# Functions that act beyond reading rows: end or signal other sessions, change
# settings, advance sequences, take advisory locks, read or write server files,
# run a query given as text, reach other databases, load native code.
#
# A function that runs SQL given as text (ts_rewrite(tsquery, text), ts_stat,
# query_to_xml*, cursor_to_xml*, dblink*) runs it on the server where neither
# this parser nor the plan check can see it: the text is a string literal. So
# every such function is refused whatever its text says; runelog.sql also asks
# the server's catalogue for more (SQL_TEXT_ARGUMENTS). The *_to_xml functions
# of tables, schemas and databases build and run their own queries; they are
# refused with them (the tables can be read with plain SELECT).
SQL_TEXT_FUNCTIONS = frozenset({
    "ts_rewrite", "ts_stat", "query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema",
    "cursor_to_xml", "cursor_to_xmlschema", "table_to_xml", "table_to_xmlschema", "table_to_xml_and_xmlschema",
    "schema_to_xml", "schema_to_xmlschema", "schema_to_xml_and_xmlschema", "database_to_xml",
    "database_to_xmlschema", "database_to_xml_and_xmlschema",
})
# Names PostgreSQL gives an argument holding SQL text (or a cursor to fetch from):
# a function with an input argument so named runs SQL, whatever it is called.
SQL_TEXT_ARGUMENTS = ("query", "sql", "sqlquery", "sql_query", "querytext", "query_text", "statement", "stmt",
                      "command", "cmd", "cursor", "sql_statement", "sqlstring", "sql_string")
_FORBIDDEN_FUNCTIONS = SQL_TEXT_FUNCTIONS | frozenset({
    "set_config", "nextval", "setval", "pg_notify", "pg_stat_file", "pg_current_logfile",
    "pg_promote", "lowrite", "loread", "pg_import_system_collations",
    # SQLite: native code and file access (fts3_tokenizer can install a native pointer)
    "load_extension", "readfile", "writefile", "edit", "fts3_tokenizer",
})
_FORBIDDEN_PREFIXES = (
    "pg_terminate_", "pg_cancel_", "pg_signal_", "pg_reload_", "pg_rotate_", "pg_switch_",
    "pg_advisory", "pg_try_advisory", "pg_read_", "pg_ls_", "pg_file_", "pg_stat_reset",
    "pg_stat_statements_reset", "pg_replication_", "pg_logical_", "pg_create_", "pg_drop_",
    "pg_copy_", "pg_wal_", "pg_backup_", "pg_start_backup", "pg_stop_backup", "pg_log_",
    "lo_", "dblink", "query_to_", "cursor_to_", "table_to_xml", "schema_to_xml", "database_to_xml",
    "ts_rewrite", "ts_stat",
)
_EXPLAIN_OPTIONS = {"ANALYZE", "ANALYSE", "VERBOSE", "QUERY", "PLAN"}


def forbidden_function(name: str, also: frozenset[str] = frozenset()) -> bool:
    """True for a function `runelog sql` must not call (case-insensitive, schema ignored).

    `also` holds more names to refuse (lower case), such as the functions the
    server's catalogue says take SQL text.
    """
    name = name.lower().rsplit(".", 1)[-1]
    return name in _FORBIDDEN_FUNCTIONS or name in also or name.startswith(_FORBIDDEN_PREFIXES)


def called_functions(statement: str, dialect: str) -> set[str]:
    """The names of the functions `statement` calls, lower case (empty if it does not parse)."""
    from sqlglot import exp

    import sqlglot

    try:
        with _quiet_sqlglot():
            trees = sqlglot.parse(statement, read=DIALECTS.get(dialect, dialect))
    except Exception:
        return set()
    return {_function_name(node).lower() for tree in trees if tree is not None
            for node in tree.walk() if isinstance(node, exp.Func) and _function_name(node)}


def _function_name(node) -> str:
    from sqlglot import exp

    return node.name if isinstance(node, exp.Anonymous) else node.sql_name()


def check_readonly(statement: str, dialect: str) -> str:
    """Raise SqlNotAllowed unless `statement` is one reading statement; return the query it runs.

    The query is the statement itself, or for EXPLAIN the statement explained
    (PostgreSQL's guard plans it). `dialect` is SQLAlchemy's name for the
    backend: "sqlite" or "postgresql".
    """
    if not statement.strip():
        raise exceptions.SqlNotAllowed(statement, "the statement is empty")
    dialect = DIALECTS.get(dialect, dialect)
    _refuse_escaped_identifiers(statement, dialect)
    return _check(statement, statement, dialect, explain_allowed=True)


def _refuse_escaped_identifiers(statement: str, dialect: str) -> None:
    """Refuse PostgreSQL's U&"..." identifiers: their escapes could spell a refused function's name.

    sqlglot reads `U&"\\0070g_terminate_backend"` as `U & "\\0070g..."`, a name on no list,
    while PostgreSQL decodes it to pg_terminate_backend.
    """
    import sqlglot
    from sqlglot.tokens import TokenType

    try:
        tokens = sqlglot.tokenize(statement, read=dialect)
    except Exception:
        return  # the parser refuses it next, with its own message
    for first, second, third in zip(tokens, tokens[1:], tokens[2:], strict=False):  # sliding window of three
        if (first.token_type == TokenType.VAR and first.text.upper() == "U"
                and second.token_type == TokenType.AMP and third.token_type == TokenType.IDENTIFIER):
            raise exceptions.SqlNotAllowed(
                statement, 'it uses a Unicode-escaped identifier (U&"..."); write the name plainly')


def _check(whole: str, statement: str, dialect: str, explain_allowed: bool) -> str:
    from sqlglot import exp

    trees = [t for t in _parse(whole, statement, dialect)
             if t is not None and not isinstance(t, getattr(exp, "Semicolon", ()))]
    if not trees:
        raise exceptions.SqlNotAllowed(whole, "there is no statement in it, only comments")
    if len(trees) > 1:
        raise exceptions.SqlNotAllowed(whole, f"it holds {len(trees)} statements; give one statement per call")
    tree: exp.Expression = trees[0]
    if isinstance(tree, exp.Command) and str(tree.this).upper() == "EXPLAIN" and explain_allowed:
        explained = tree.expression.name if tree.expression is not None else ""
        return _check(whole, _strip_explain_options(whole, explained, dialect), dialect, explain_allowed=False)
    if not isinstance(tree, _classes(_READ_TOPS)):
        raise exceptions.SqlNotAllowed(whole, f"{_first_word(statement, dialect)} is not a reading statement")
    forbidden = _classes(_FORBIDDEN_NODES)
    for node in tree.walk():
        if isinstance(node, forbidden):
            raise exceptions.SqlNotAllowed(whole, f"it contains {_describe(node)}, which does more than read")
        if isinstance(node, exp.Func):
            name = _function_name(node)
            if name and forbidden_function(name):
                raise exceptions.SqlNotAllowed(
                    whole, f"it calls {name}(), which acts on the server, its files or other sessions")
    return statement


def _parse(whole: str, statement: str, dialect: str) -> list:
    import sqlglot

    try:
        with _quiet_sqlglot():
            return sqlglot.parse(statement, read=dialect)
    except Exception as exc:  # sqlglot raises ParseError, TokenError, and sometimes worse on odd input
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise exceptions.SqlNotAllowed(
            whole, f"it could not be parsed as one reading statement ({first[:160]})") from None


def _strip_explain_options(whole: str, explained: str, dialect: str) -> str:
    """The statement EXPLAIN applies to, without `(options)`, ANALYZE, VERBOSE or QUERY PLAN."""
    import sqlglot
    from sqlglot.tokens import TokenType

    try:
        tokens = sqlglot.tokenize(explained, read=dialect)
    except Exception:
        raise exceptions.SqlNotAllowed(whole, "the statement after EXPLAIN could not be read") from None
    i = 0
    starts_query = len(tokens) > 1 and (tokens[1].token_type == TokenType.L_PAREN
                                        or tokens[1].text.upper() in ("SELECT", "WITH", "VALUES", "TABLE"))
    if tokens and tokens[0].token_type == TokenType.L_PAREN and not starts_query:  # PostgreSQL's (options)
        depth = 0
        for token in tokens:  # i ends just past the closing parenthesis (or at the end)
            depth += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(token.token_type, 0)
            i += 1
            if depth == 0:
                break
    while i < len(tokens) and tokens[i].text.upper() in _EXPLAIN_OPTIONS:
        i += 1
    if i >= len(tokens):
        raise exceptions.SqlNotAllowed(whole, "EXPLAIN is not followed by a statement")
    return explained[tokens[i].start:]


def _classes(names: tuple[str, ...]) -> tuple[type, ...]:
    from sqlglot import exp

    return tuple(cls for cls in (getattr(exp, name, None) for name in names) if isinstance(cls, type))


def _describe(node) -> str:
    from sqlglot import exp

    if isinstance(node, exp.Command):
        return str(node.this).upper()
    return {"into": "SELECT ... INTO", "lock": "FOR UPDATE/SHARE (a row lock)"}.get(node.key, node.key.upper())


def _first_word(statement: str, dialect: str) -> str:
    import sqlglot

    with contextlib.suppress(Exception):
        tokens = sqlglot.tokenize(statement, read=dialect)
        if tokens:
            return tokens[0].text.upper()
    return statement.split()[0].upper()


@contextlib.contextmanager
def _quiet_sqlglot():
    # sqlglot logs a warning when it falls back to a raw Command; the refusal says enough.
    logger = logging.getLogger("sqlglot")
    previous = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(previous)
