"""Ad-hoc SQL on a store (`runelog sql`): one reading statement, refused twice over.

First lock, the parser (sql_guard): one statement, and only SELECT, WITH ...
SELECT, VALUES or EXPLAIN of one of those, with no data-changing CTE and no
call to a function that acts on the server or its files.

Second lock, the database, so that a statement the parser misjudges still
cannot change anything:
- SQLite: the file is opened `mode=ro`, with `PRAGMA query_only`, no room for
  attached databases (SQLITE_LIMIT_ATTACHED = 0, which also stops VACUUM INTO)
  and an authorizer that allows only SELECT, reading columns, recursive CTEs
  and functions not on the deny list. ATTACH, VACUUM, PRAGMA, temp tables,
  writes and load_extension are all refused by SQLite itself.
- PostgreSQL: the session has default_transaction_read_only=on and the
  transaction begins READ ONLY; the statement is prepared on the server, which
  refuses more than one command, so `SET TRANSACTION READ WRITE; DELETE ...`
  cannot switch the transaction back; a statement_timeout bounds the time.
  A read-only transaction does not stop everything (a superuser can still
  `COPY ... TO PROGRAM`, anyone may call pg_terminate_backend on their own
  sessions), so the server first plans the query with EXPLAIN, which runs
  nothing: it must be a plannable query (COPY, SET, DO, CALL, LOCK ... are
  not), its plan must not write or lock rows, and it must call no refused
  function by the names the server resolved. A function that runs SQL given
  as text (ts_rewrite, query_to_xml, ...) hides that SQL in a literal, so the
  call itself is refused, by sql_guard's names and by the server's catalogue
  (any input argument named like SQL text, or a refcursor). EXPLAIN does not print
  multi-row VALUES lists; the parser covers those, and the role's own grants
  are the last line (docs/team.md: the read-only role for `runelog sql`).
"""

from __future__ import annotations

import contextlib
import re
import signal
import sqlite3
import sys
import threading
from pathlib import Path
from typing import Any

from . import db, exceptions, interrupts, sql_guard, sqlite_file
from .engine import sqlite_driver

# SQLAlchemy's own pattern for `:name` in text(); a match that names no given parameter is
# escaped, so a colon in a literal such as '{"a":1}' stays a colon.
_BIND = re.compile(r"(?<![:\w\x5c]):(\w+)(?![:\w])", re.UNICODE)

STATEMENT_TIMEOUT_SECONDS = 300
LOCK_TIMEOUT_SECONDS = 30

# SQLite authorizer actions a plain read needs; every other action is denied.
_SQLITE_ALLOWED = frozenset(
    getattr(sqlite3, name) for name in ("SQLITE_SELECT", "SQLITE_READ", "SQLITE_FUNCTION", "SQLITE_RECURSIVE")
    if hasattr(sqlite3, name))
_SQLITE_ACTIONS = {
    getattr(sqlite3, f"SQLITE_{name}"): name.replace("_", " ")
    for name in ("CREATE_INDEX", "CREATE_TABLE", "CREATE_TEMP_INDEX", "CREATE_TEMP_TABLE", "CREATE_TEMP_TRIGGER",
                 "CREATE_TEMP_VIEW", "CREATE_TRIGGER", "CREATE_VIEW", "DELETE", "DROP_INDEX", "DROP_TABLE",
                 "DROP_TEMP_INDEX", "DROP_TEMP_TABLE", "DROP_TEMP_TRIGGER", "DROP_TEMP_VIEW", "DROP_TRIGGER",
                 "DROP_VIEW", "INSERT", "PRAGMA", "READ", "SELECT", "TRANSACTION", "UPDATE", "ATTACH", "DETACH",
                 "ALTER_TABLE", "REINDEX", "ANALYZE", "CREATE_VTABLE", "DROP_VTABLE", "FUNCTION", "SAVEPOINT",
                 "RECURSIVE")
    if hasattr(sqlite3, f"SQLITE_{name}")
}


# Table-valued pragma functions that only describe the schema or the build (SQLite offers a
# table-valued form only for pragmas without side effects; this list keeps to introspection).
# The authorizer allows these pragmas and no other; PRAGMA statements stay refused by sql_guard.
SQLITE_READ_PRAGMAS = frozenset({
    "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo", "foreign_key_list",
    "database_list", "collation_list", "function_list", "module_list", "pragma_list", "compile_options",
    "user_version", "schema_version", "application_id", "page_count", "page_size", "freelist_count", "encoding",
})
_PRAGMA_FUNCTION = re.compile(r"\bpragma_(\w+)", re.IGNORECASE)


def run_readonly(location: db.StoreLocation, statement: str,
                 params: dict[str, Any] | None = None) -> tuple[list[str], list[tuple]]:
    """Run one reading statement; return (column names, rows).

    Raises SqlNotAllowed for anything but one read (nothing is run), and
    QueryFailed when the database rejects the statement. `:name` marks a
    parameter, bound from `params`. For example
    `run_readonly(db.locate("."), "SELECT count(*) AS n FROM runs WHERE status = :s", {"s": "FINISHED"})`
    returns `(['n'], [(12,)])`.
    """
    sqlite_path = location.sqlite_path
    if sqlite_path is not None:
        if not sqlite_path.is_file():
            raise exceptions.StoreNotFound(str(sqlite_path.parent.parent))
        sql_guard.check_readonly(statement, "sqlite")
        return execute_sqlite(sqlite_path, statement, params)
    if location.url.get_backend_name() != "postgresql":
        raise exceptions.QueryFailed(statement, "runelog sql supports SQLite and PostgreSQL stores only")
    query = sql_guard.check_readonly(statement, "postgresql")
    return execute_postgres(location.database_url, statement, params, query=query)


def execute_sqlite(path, statement: str, params: dict[str, Any] | None = None) -> tuple[list[str], list[tuple]]:
    """Run `statement` on a SQLite file that SQLite itself keeps read-only (the second lock alone)."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import StatementError
    from sqlalchemy.pool import NullPool

    denied: list[str] = []
    pragmas = {name.lower() for name in _PRAGMA_FUNCTION.findall(statement)}

    def authorize(action, arg1, arg2, _database, _trigger):
        if action in _SQLITE_ALLOWED and not (action == sqlite3.SQLITE_FUNCTION
                                              and sql_guard.forbidden_function(arg2 or "")):
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() in SQLITE_READ_PRAGMAS:
            return sqlite3.SQLITE_OK
        detail = " ".join(str(a) for a in (arg1, arg2) if a)
        denied.append(f"{_SQLITE_ACTIONS.get(action, f'action {action}')} {detail}".strip())
        return sqlite3.SQLITE_DENY

    uri = sqlite_file.reader_uri(Path(path).resolve())  # read-only, and immutable where nothing can write
    engine = create_engine("sqlite://", poolclass=NullPool, creator=lambda: sqlite3.connect(
        uri, uri=True, timeout=db.BUSY_TIMEOUT_SECONDS, check_same_thread=False))
    try:
        with engine.connect() as conn:
            raw = sqlite_driver(conn.connection)
            raw.execute("PRAGMA query_only = ON")
            _warm_table_functions(raw, pragmas)
            if hasattr(raw, "enable_load_extension"):
                raw.enable_load_extension(False)
            if sys.version_info >= (3, 11):  # setlimit is new in 3.11
                raw.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
            raw.set_authorizer(authorize)
            try:
                with _stoppable(raw) as stopped_by:
                    try:
                        return _fetch(conn.execute(_text(statement, params or {}), params or {}))
                    except StatementError:
                        if stopped_by:
                            raise interrupts.exception_for(stopped_by[0]) from None
                        raise
            finally:
                raw.set_authorizer(None)
    except StatementError as exc:
        if denied:
            raise exceptions.SqlNotAllowed(statement, _denial(denied, pragmas)) from None
        if "one statement at a time" in _reason(exc):
            raise exceptions.SqlNotAllowed(statement, "it holds more than one statement (SQLite refused it)") from None
        raise exceptions.QueryFailed(statement, _reason(exc)) from None
    finally:
        engine.dispose()


def execute_postgres(url: str, statement: str, params: dict[str, Any] | None = None,
                     query: str | None = None) -> tuple[list[str], list[tuple]]:
    """Run `statement` in a read-only PostgreSQL session and transaction (the second lock alone).

    First the server plans `query` (the statement, or what an EXPLAIN statement
    explains) without running it: it must be a query PostgreSQL can EXPLAIN
    (so no COPY, SET, DO, CALL, LOCK, ...), its plan must neither write nor lock
    rows, and it must call no refused function by the names the server itself
    resolved, whatever spelling the text used.
    """
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError, StatementError
    from sqlalchemy.pool import NullPool

    # Always psycopg 3: its server-side prepare is what holds a statement to one command.
    parsed = make_url(url).set(drivername="postgresql+psycopg")
    options = " ".join(filter(None, [
        *parsed.normalized_query.get("options", ()),  # a tuple: the key may be given more than once
        "-c default_transaction_read_only=on",
        f"-c statement_timeout={STATEMENT_TIMEOUT_SECONDS * 1000}",
        f"-c lock_timeout={LOCK_TIMEOUT_SECONDS * 1000}",
        f"-c idle_in_transaction_session_timeout={STATEMENT_TIMEOUT_SECONDS * 1000}",
    ]))
    connect_args = {"options": options, "prepare_threshold": 0}  # prepare every statement
    try:
        engine = create_engine(parsed, poolclass=NullPool, connect_args=connect_args)
    except ImportError:
        raise exceptions.QueryFailed(statement, "runelog sql on PostgreSQL needs the psycopg driver: "
                                                "pip install 'runelog[postgres]'") from None
    try:
        with engine.connect() as conn:
            conn.execution_options(postgresql_readonly=True)  # BEGIN READ ONLY; closing rolls it back
            sql_text = _sql_text_functions(conn)
            _refuse_sql_text_calls(statement, query or statement, sql_text)
            _check_plan(conn, statement, query or statement, params or {}, sql_text)
            return _fetch(conn.execute(_text(statement, params or {}), params or {}))
    except DBAPIError as exc:
        state = getattr(exc.orig, "sqlstate", None)
        if state == "25006":  # read_only_sql_transaction
            raise exceptions.SqlNotAllowed(statement, f"PostgreSQL refused it in a read-only transaction "
                                                      f"({_reason(exc)})") from None
        if "multiple commands" in _reason(exc):
            raise exceptions.SqlNotAllowed(statement, "it holds more than one statement (PostgreSQL refused it)"
                                           ) from None
        raise exceptions.QueryFailed(statement, _reason(exc)) from None
    except StatementError as exc:
        raise exceptions.QueryFailed(statement, _reason(exc)) from None
    finally:
        engine.dispose()


# A function call as PostgreSQL deparses it in a plan: name or "quoted name", then "(".
_CALL = re.compile(r'(?:(?<![\w$"])([A-Za-z_][\w$]*)|("(?:[^"]|"")+"))\s*\(')
_LITERAL = re.compile(r"'(?:[^']|'')*'")


def _sql_text_functions(conn) -> frozenset[str]:
    """Names of the functions this server's catalogue says run SQL given as text or a cursor.

    Any function with an input argument named like sql_guard.SQL_TEXT_ARGUMENTS
    or of type refcursor: what sql_guard names by hand, plus what a newer server
    or an extension adds.
    """
    from sqlalchemy import bindparam, text

    query = text(
        "SELECT DISTINCT lower(p.proname) FROM pg_catalog.pg_proc p "
        "LEFT JOIN LATERAL unnest(p.proargnames) WITH ORDINALITY AS a(name, i) ON true "
        "WHERE (a.name = ANY(:names) AND (p.proargmodes IS NULL OR p.proargmodes[a.i] IN ('i', 'b', 'v'))) "
        "OR 'pg_catalog.refcursor'::pg_catalog.regtype = ANY(p.proargtypes)"
    ).bindparams(bindparam("names", list(sql_guard.SQL_TEXT_ARGUMENTS)))
    return frozenset(conn.execute(query).scalars())


def _refuse_sql_text_calls(statement: str, query: str, sql_text: frozenset[str]) -> None:
    """Refuse a call the parser can see to a function that runs SQL text, before EXPLAIN plans it.

    (The planner may pre-compute a call with constant arguments, so planning is not always
    harmless; sql_guard has refused the names it knows by then, this adds the server's own.)
    """
    for name in sql_guard.called_functions(query, "postgresql"):
        if name in sql_text or name in sql_guard.SQL_TEXT_FUNCTIONS:
            raise exceptions.SqlNotAllowed(
                statement, f"it calls {name}(), which runs SQL given as text where no check can see it")


def _check_plan(conn, statement: str, query: str, params: dict[str, Any],
                also: frozenset[str] = frozenset()) -> None:
    """Refuse `query` if the server's own plan of it writes, locks rows or calls a refused function
    (sql_guard's names, or `also`: this server's functions that run SQL text)."""
    plan = conn.execute(_text(f"EXPLAIN (VERBOSE, FORMAT JSON) {query}", params), params).scalar()
    for node in _plan_nodes(plan):
        kind = node.get("Node Type")
        if kind in ("ModifyTable", "LockRows"):
            raise exceptions.SqlNotAllowed(statement, f"PostgreSQL's plan of it has a {kind} step")
        for text_ in _strings(node):
            for plain, quoted in _CALL.findall(_LITERAL.sub("''", text_)):
                name = plain or quoted[1:-1].replace('""', '"')
                if sql_guard.forbidden_function(name, also):
                    raise exceptions.SqlNotAllowed(
                        statement, f"PostgreSQL's plan of it calls {name}(), which acts on the server, "
                                   "its files or other sessions")


def _plan_nodes(plan):
    """Every plan node in EXPLAIN's JSON, subplans and CTEs included."""
    stack = list(plan) if isinstance(plan, list) else [plan]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            node = item.get("Plan", item)
            yield node
            stack.extend(node.get("Plans", []))


def _strings(node: dict):
    for key, value in node.items():
        if key == "Plans":
            continue
        if isinstance(value, str):
            yield value
        elif isinstance(value, list):
            yield from (v for v in value if isinstance(v, str))


# How many SQLite virtual-machine steps run between two looks at a pending Ctrl-C (a few ms).
_PROGRESS_STEPS = 20_000


@contextlib.contextmanager
def _stoppable(raw: sqlite3.Connection):
    """Let SIGINT and SIGTERM stop a running SQLite statement at once.

    Python runs a signal handler only between bytecodes, and a long statement
    runs inside SQLite's C code, so Ctrl-C used to wait for the whole query.
    A progress handler (Python, called every few thousand SQLite steps) gives
    the handler its chance; the handler notes the signal and interrupts the
    connection, and the caller raises KeyboardInterrupt (or RunTerminated for
    SIGTERM) once SQLite has stopped. Yields the list the signal is noted in.
    Only the main thread can take signals; elsewhere nothing changes.
    """
    stopped_by: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield stopped_by
        return

    def note(signum, _frame):
        if not stopped_by:
            stopped_by.append(signum)
        raw.interrupt()

    previous = {signum: signal.signal(signum, note) for signum in (signal.SIGINT, signal.SIGTERM)}
    raw.set_progress_handler(lambda: 1 if stopped_by else 0, _PROGRESS_STEPS)
    try:
        yield stopped_by
    finally:
        raw.set_progress_handler(None, 0)
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)  # None: set outside Python
    if stopped_by:  # arrived as the last rows were fetched: still a stop, as the user asked
        raise interrupts.exception_for(stopped_by[0])


def _denial(denied: list[str], pragmas: set[str]) -> str:
    """Why SQLite's authorizer refused the statement, in words that name the real cause."""
    refused = sorted(pragmas - SQLITE_READ_PRAGMAS)
    if refused and (denied[0].startswith(("UPDATE sqlite_master", "PRAGMA"))):
        return (f"it reads pragma_{refused[0]}, which is not one of the table-valued pragmas runelog sql "
                f"allows ({', '.join('pragma_' + p for p in sorted(SQLITE_READ_PRAGMAS))})")
    return f"SQLite's guard denied {denied[0]}"


def _warm_table_functions(raw: sqlite3.Connection, pragmas: frozenset[str] | set[str] = frozenset()) -> None:
    # SQLite sets up a table-valued function (json_each, json_tree, pragma_table_info) on its
    # first use in a connection, and asks the authorizer about an UPDATE of sqlite_master while
    # doing it (nothing is written). Using them once before the authorizer is installed keeps
    # the authorizer strict and these reads allowed; only the allowed pragmas the statement names.
    allowed = sorted(f"pragma_{name}" for name in pragmas & SQLITE_READ_PRAGMAS)
    for function in ("json_each", "json_tree", *allowed):
        try:
            source = f"{function}('[]')" if function.startswith("json_") else function
            raw.execute(f"SELECT 1 FROM {source} LIMIT 0").fetchall()
        except sqlite3.Error:  # built without JSON
            pass


def _text(statement: str, params: dict[str, Any]):
    """A text() clause whose only bind parameters are the ones given."""
    from sqlalchemy import text

    return text(_BIND.sub(lambda m: m.group(0) if m.group(1) in params else "\\" + m.group(0), statement))


def _fetch(result) -> tuple[list[str], list[tuple]]:
    if not result.returns_rows:
        return [], []
    return list(result.keys()), [tuple(row) for row in result]


def _reason(exc) -> str:
    original = getattr(exc, "orig", None) or exc
    return " ".join(str(original).split()).rstrip(".") or type(original).__name__
