"""`runelog sql` is read-only on SQLite and PostgreSQL, however a write is dressed up.

Every attack in the catalogues goes through the real command line (typer's
CliRunner, and the console script for the issue's own attacks) and through
the API (`runelog.sql.run_readonly`). After each one: exit status 1 with one
clear message and no traceback, every row of every table unchanged, no file
created or changed around the store, and on PostgreSQL the server unchanged
(a canary session still alive, no new relations, sequences, large objects,
settings, roles, locks, nor files written by the server).

The database's own lock is also attacked alone, with the parser bypassed
(`execute_sqlite` / `execute_postgres`), so that a parser miss cannot write.
PostgreSQL runs as a superuser, as the team role docs/team.md recommends for
logging, and as the read-only role it recommends for `runelog sql`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from unittest import mock

import pytest
import typer
import typer.testing
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from runelog import db, exceptions, get_tracker
from runelog.cli import app
from runelog.sql import execute_postgres, execute_sqlite, run_readonly

from ..pipeline import build_pipeline
from ..test_docs_sql import recipes


# ------------------------------------------------------------------ the catalogues


def sqlite_attacks(root: Path, outside: Path) -> list[str]:
    home = root / ".runelog"
    return [
        "DELETE FROM runs",
        "UPDATE runs SET status = 'FAILED'",
        "INSERT INTO experiments (id, name, created_at) VALUES (99, 'pwned', '2020-01-01')",
        "INSERT INTO experiments (id, name, created_at) VALUES (0, 'x', '2020-01-01') "
        "ON CONFLICT (id) DO UPDATE SET name = 'pwned'",
        "REPLACE INTO tags (run_id, key, value) SELECT run_id, key, '1' FROM tags",
        "DROP TABLE metrics",
        "ALTER TABLE runs RENAME TO old_runs",
        "CREATE TRIGGER t AFTER INSERT ON runs BEGIN DELETE FROM runs; END",
        "WITH x AS (SELECT 1) DELETE FROM runs",
        "WITH ids AS (SELECT id FROM runs) UPDATE runs SET name = 'pwned' WHERE id IN (SELECT id FROM ids)",
        "SELECT 1; -- harmless?\n DELETE FROM runs",
        "SELECT 1; DELETE FROM runs",
        "SELECT 'a;b'; DELETE FROM runs; --'",
        "SELECT 'x'''; DELETE FROM runs; --'",
        "SELECT 1 /* ; */ ; /* x */ DROP TABLE params",
        f"ATTACH DATABASE '{outside / 'attached.db'}' AS x",
        f"ATTACH '{home / 'attached.db'}' AS x",
        f"VACUUM INTO '{outside / 'copy.db'}'",
        f"VACUUM INTO '{home / 'copy.db'}'",
        "VACUUM",
        "PRAGMA writable_schema = 1",
        "PRAGMA journal_mode = DELETE",
        "PRAGMA user_version = 7",
        "PRAGMA query_only = 0",
        "SELECT load_extension('/tmp/evil')",
        "SELECT writefile('/tmp/evil', 'x')",
        "CREATE TEMP TABLE t AS SELECT * FROM runs",
        "CREATE TEMP VIEW v AS SELECT 1",
        "REINDEX",
        "ANALYZE",
        "BEGIN IMMEDIATE",
        "SAVEPOINT s",
        "DETACH DATABASE main",
        "EXPLAIN DELETE FROM runs",
        "EXPLAIN QUERY PLAN UPDATE runs SET name = 'x'",
    ]


def postgres_attacks(canary_pid: int, server_dir: Path) -> list[str]:
    return [
        "SET TRANSACTION READ WRITE; DELETE FROM runs; COMMIT",
        "SET TRANSACTION READ WRITE",
        "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
        "SET default_transaction_read_only = off",
        "RESET ALL",
        "BEGIN; DELETE FROM runs; COMMIT",
        "START TRANSACTION READ WRITE",
        "COMMIT",
        "DELETE FROM runs",
        "UPDATE runs SET status = 'FAILED'",
        "TRUNCATE runs CASCADE",
        "DROP TABLE metrics CASCADE",
        "GRANT ALL ON runs TO PUBLIC",
        "ALTER ROLE CURRENT_USER SET default_transaction_read_only = off",
        f"COPY (SELECT 1) TO PROGRAM 'touch {server_dir / 'copy-program'}'",
        f"COPY runs TO '{server_dir / 'runs.csv'}'",
        "COPY experiments FROM '/etc/hostname'",
        "DO $$BEGIN DELETE FROM runs; END$$",
        "WITH gone AS (DELETE FROM runs RETURNING id) SELECT count(*) FROM gone",
        "WITH x AS (UPDATE runs SET name = 'pwned' RETURNING id) SELECT * FROM x",
        "SELECT 1; -- harmless?\n DELETE FROM runs",
        "SELECT $$;$$; DELETE FROM runs",
        "SELECT 'x'''; DELETE FROM runs; --'",
        f"SELECT pg_terminate_backend({canary_pid})",
        "SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid()",
        'SELECT "pg_cancel_backend"(pid) FROM pg_stat_activity',
        "SELECT * FROM pg_stat_activity, LATERAL pg_terminate_backend(pid) AS t",
        f'SELECT U&"\\0070g_terminate_backend"({canary_pid})',  # PostgreSQL decodes it; sqlglot does not
        f"VALUES (true), (pg_terminate_backend({canary_pid}))",  # EXPLAIN does not print VALUES lists
        "SELECT set_config('default_transaction_read_only', 'off', false)",
        "SELECT nextval(pg_get_serial_sequence('metrics', 'id'))",
        "SELECT setval(pg_get_serial_sequence('metrics', 'id'), 1)",
        f"SELECT lo_export(lo_from_bytea(0, 'x'), '{server_dir / 'lo.txt'}')",
        "SELECT lo_import('/etc/hostname')",
        "SELECT pg_read_file('/etc/hostname')",
        "SELECT query_to_xml('DELETE FROM runs RETURNING 1', true, true, '')",
        *sql_text_attacks(canary_pid, server_dir),
        "SELECT pg_advisory_lock(42)",
        "SELECT pg_reload_conf()",
        "CREATE TEMP TABLE t AS SELECT * FROM runs",
        "SELECT * INTO stolen FROM runs",
        "SELECT * FROM runs FOR UPDATE",
        "PREPARE p AS DELETE FROM runs",
        "EXECUTE p",
        "LOCK TABLE runs IN ACCESS EXCLUSIVE MODE",
        "NOTIFY runelog, 'x'",
        "LISTEN runelog",
        "DECLARE c CURSOR FOR SELECT 1",
        "CALL anything()",
        "VACUUM runs",
        "DISCARD ALL",
        "EXPLAIN ANALYZE DELETE FROM runs",
        "EXPLAIN (ANALYZE) WITH gone AS (DELETE FROM runs RETURNING 1) SELECT * FROM gone",
    ]


def sql_text_attacks(canary_pid: int, server_dir: Path) -> list[str]:
    """Functions that run SQL given as text: the inner query is a string literal, which
    neither the parser nor the plan's deparsed expressions look inside."""
    kill = f"pg_terminate_backend({canary_pid})"
    rewrite = f"SELECT {kill}::text::tsquery, ''b''::tsquery"
    read = "SELECT pg_read_file(''/etc/hostname'')::tsquery, ''b''::tsquery"
    reload = "SELECT pg_reload_conf()::text::tsquery, ''b''::tsquery"
    # The tester's report picked its victim by query text (test_console_script_ts_rewrite_...); here, the canary.
    by_query = (f"SELECT pg_terminate_backend(pid)::text::tsquery, ''b''::tsquery FROM pg_stat_activity "
                f"WHERE pid = {canary_pid}")
    export = f"SELECT lo_export(lo_from_bytea(0, ''x''), ''{server_dir / 'ts.txt'}'')::text::tsquery, ''b''::tsquery"
    return [
        f"SELECT ts_rewrite('a'::tsquery, '{by_query}')",
        f"SELECT ts_rewrite('a'::tsquery, '{rewrite}')",
        f"SELECT ts_rewrite('a'::tsquery, '{read}')",
        f"SELECT ts_rewrite('a'::tsquery, '{reload}')",
        f"SELECT ts_rewrite('a'::tsquery, '{export}')",
        f"SELECT pg_catalog.ts_rewrite('a'::tsquery, '{rewrite}')",
        f"SELECT \"ts_rewrite\"('a'::tsquery, '{rewrite}')",
        f"SELECT pg_catalog.\"ts_rewrite\"('a'::tsquery, '{rewrite}')",
        f"SELECT * FROM (SELECT ts_rewrite('a'::tsquery, '{rewrite}') AS q) s",
        f"WITH q AS (SELECT ts_rewrite('a'::tsquery, '{rewrite}') AS q) SELECT * FROM q",
        f"SELECT count(*) FROM runs WHERE ts_rewrite('a'::tsquery, '{rewrite}') IS NULL",
        f"VALUES (true), (ts_rewrite('a'::tsquery, '{rewrite}') IS NULL)",
        f"SELECT * FROM ts_stat('SELECT to_tsvector({kill}::text)')",
        f"SELECT * FROM pg_catalog.ts_stat('SELECT to_tsvector({kill}::text)', 'a')",
        f"SELECT query_to_xml('SELECT {kill}', true, true, '')",
        "SELECT pg_catalog.query_to_xml('SELECT pg_read_file(''/etc/hostname'')', true, true, '')",
        f"SELECT query_to_xml_and_xmlschema('SELECT {kill}', true, true, '')",
        "SELECT query_to_xml('SELECT pg_reload_conf()', true, true, '')",
    ]


# ------------------------------------------------------------------ stores


def populate(tracker, folder: Path) -> dict:
    """Runs, params, tags, metrics, artifacts, a dataset, lineage and a registered model."""
    def train(t):
        for step in range(5):
            t.log_metric("accuracy", 0.5 + step / 10, step=step)

    built = build_pipeline(tracker, folder, featurize=lambda t: t.log_param("rows", 1), train=train)
    return {"feature_run": built.feature_run, "model_run": built.model_run, "sha": built.sha256}


@pytest.fixture
def sqlite_store(tmp_path):
    root = tmp_path / "project"
    tracker = get_tracker(str(root))
    ids = populate(tracker, tmp_path / "inputs")
    location = tracker.location
    tracker.close()
    run_readonly(location, "SELECT count(*) FROM runs")  # what a plain read leaves (WAL index files)
    return root, location, ids


def snapshot_sqlite(tmp_path: Path, location: db.StoreLocation) -> dict:
    """Every row of every table, and every file (with its bytes) under the test's folder."""
    files = {}
    for path in sorted(tmp_path.rglob("*")):
        if path.is_file() and not path.name.endswith("-shm"):  # readers write their marks into -shm
            files[str(path.relative_to(tmp_path))] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            files[str(path.relative_to(tmp_path))] = "dir" if path.is_dir() else "shm"
    conn = sqlite3.connect(location.sqlite_path.as_uri() + "?mode=ro", uri=True)
    try:
        tables = {}
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
            rows = sorted(map(repr, conn.execute(f'SELECT * FROM "{name}"')))
            tables[name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
        schema = conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
        header = conn.execute("PRAGMA user_version").fetchone(), conn.execute("PRAGMA journal_mode").fetchone()
    finally:
        conn.close()
    return {"files": files, "tables": tables, "schema": schema, "header": header}


def agg(expression: str, source: str) -> str:
    """One text value for a set of rows, in a stable order."""
    return f"SELECT string_agg(e, ',' ORDER BY e) FROM (SELECT {expression} AS e FROM {source}) s"


class Server:
    """A watcher on the PostgreSQL server: a canary session and a superuser view of its state."""

    def __init__(self, url: str, server_dir: Path):
        self.url = url
        self.server_dir = server_dir
        self.engine = create_engine(url, isolation_level="AUTOCOMMIT")
        self.canary = self.engine.connect()
        self.canary_pid = self.canary.execute(text("SELECT pg_backend_pid()")).scalar()
        with self.engine.connect() as conn:
            tables = inspect(conn).get_table_names()
        this_db = "SELECT oid FROM pg_database WHERE datname = current_database()"
        our_roles = "SELECT oid FROM pg_roles WHERE rolname LIKE 'runelog\\_sql\\_%' OR rolname = current_user"
        checks = {f"table {name}": f'SELECT count(*)::text || md5(string_agg(t::text, \'|\' ORDER BY t::text)) '
                                   f'FROM "{name}" t' for name in tables}
        checks.update({
            "relations": agg("concat_ws(':', n.nspname, c.relname, c.relkind)",
                             "pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                             "WHERE n.nspname NOT LIKE 'pg_temp%' AND n.nspname NOT LIKE 'pg_toast%'"),
            "sequences": agg("concat_ws('=', sequencename, last_value)", "pg_sequences"),
            "large objects": agg("count(*)::text", "pg_largeobject_metadata"),
            # The server is shared with other tests: look only at this database and these roles.
            "settings": agg("concat_ws('/', setdatabase, setrole, setconfig::text)",
                            f"pg_db_role_setting WHERE setdatabase = ({this_db}) OR setrole IN ({our_roles})"),
            "roles": agg("concat_ws(':', rolname, rolsuper, rolcreaterole, rolcreatedb, rolcanlogin)",
                         f"pg_roles WHERE oid IN ({our_roles})"),
            "grants": agg("concat_ws(':', table_name, grantee, privilege_type)",
                          "information_schema.role_table_grants WHERE table_schema = 'public'"),
            "advisory locks": agg("count(*)::text", f"pg_locks WHERE locktype = 'advisory' AND database = ({this_db})"),
            "prepared transactions": agg("count(*)::text", "pg_prepared_xacts WHERE database = current_database()"),
        })
        # One round trip per snapshot: the catalogue takes ~200 of them.
        self.query = text(" UNION ALL ".join(f"SELECT '{label}', ({query})" for label, query in checks.items()))

    def snapshot(self) -> dict:
        with self.engine.connect() as conn:
            state = dict(tuple(row) for row in conn.execute(self.query))
        state["canary"] = self.canary.execute(text("SELECT pg_backend_pid()")).scalar() == self.canary_pid
        state["server files"] = sorted(os.listdir(self.server_dir))
        return state

    def wait_for_exit(self, pid: int, seconds: float = 10) -> None:
        deadline = time.monotonic() + seconds
        query = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
        while time.monotonic() < deadline:
            with self.engine.connect() as conn:
                if conn.execute(query, {"pid": pid}).scalar() == 0:
                    return
            time.sleep(0.02)
        raise AssertionError(f"backend {pid} still running {seconds} s after its connection closed")

    def close(self):
        self.canary.close()
        self.engine.dispose()


@pytest.fixture
def server_dir():
    # The server process writes as its own user: a folder it could write into, outside the test's tree.
    folder = Path("/tmp") / f"runelog-sql-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pg_store(pg_database, tmp_path, server_dir):
    tracker = get_tracker(database_url=pg_database, artifact_root=str(tmp_path / "blobs"))
    ids = populate(tracker, tmp_path / "inputs")
    tracker.close()
    server = Server(pg_database, server_dir)
    roles = []

    def role(kind: str) -> str:
        """A URL for `kind`: 'superuser', or a login in a fresh group with docs/team.md's grants for
        'team' (what people log as) or 'reader' (what `runelog sql` users should be)."""
        if kind == "superuser":
            return pg_database
        group = f"runelog_sql_{kind}_{uuid.uuid4().hex[:8]}"
        login = f"{group}_login"
        database = make_url(pg_database).database
        grants = {
            "team": [f"GRANT USAGE ON SCHEMA public TO {group}",
                     f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {group}",
                     f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {group}"],
            "reader": [f'GRANT CONNECT ON DATABASE "{database}" TO {group}',
                       f"GRANT USAGE ON SCHEMA public TO {group}",
                       f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {group}",
                       f"ALTER ROLE {login} SET default_transaction_read_only = on"],
        }[kind]
        with server.engine.connect() as conn:
            conn.execute(text(f"CREATE ROLE {group} NOLOGIN"))
            conn.execute(text(f"CREATE ROLE {login} LOGIN IN ROLE {group}"))
            roles.extend([login, group])
            for statement in grants:
                conn.execute(text(statement))
        return make_url(pg_database).set(username=login).render_as_string(hide_password=False)

    yield server, role, ids
    with server.engine.connect() as conn:
        for name in roles:
            conn.execute(text(f"DROP OWNED BY {name}"))
            conn.execute(text(f"DROP ROLE {name}"))
    server.close()


# ------------------------------------------------------------------ running an attack


_COMMAND = typer.main.get_command(app)


def cli(*args: str):
    # typer rebuilds the command tree on every invoke (0.2 s); the catalogue invokes it ~300 times.
    with mock.patch.object(typer.testing, "_get_command", lambda _app: _COMMAND):
        return CliRunner().invoke(app, list(args))


def assert_refused_cleanly(result, attack: str) -> None:
    assert result.exit_code == 1, f"{attack!r} exited {result.exit_code}: {result.output}"
    assert "Traceback" not in result.output, f"{attack!r} printed a traceback: {result.output}"
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "error:" in result.output and "Refused" in result.output, f"{attack!r}: {result.output}"


def test_sqlite_catalogue_of_writes_is_refused_and_changes_nothing(sqlite_store, tmp_path):
    root, location, _ = sqlite_store
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    attacks = sqlite_attacks(root, outside)
    assert len(attacks) >= 20
    before = snapshot_sqlite(tmp_path, location)
    for attack in attacks:
        assert_refused_cleanly(cli("--store", str(root), "sql", attack), attack)
        assert snapshot_sqlite(tmp_path, location) == before, f"the CLI attack {attack!r} changed something"
        with pytest.raises(exceptions.SqlNotAllowed):
            run_readonly(location, attack)
        assert snapshot_sqlite(tmp_path, location) == before, f"the API attack {attack!r} changed something"


def test_sqlite_database_alone_refuses_every_write(sqlite_store, tmp_path):
    """With the parser bypassed, SQLite's own guard (mode=ro, query_only, authorizer, no attach) holds."""
    root, location, _ = sqlite_store
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    before = snapshot_sqlite(tmp_path, location)
    for attack in sqlite_attacks(root, outside):
        if attack.startswith(("SELECT writefile", "EXPLAIN ")):
            continue  # no such function in Python's SQLite; EXPLAIN only prints a plan
        with pytest.raises(exceptions.QueryFailed):
            execute_sqlite(location.sqlite_path, attack)
        assert snapshot_sqlite(tmp_path, location) == before, f"{attack!r} changed something"
    denied = pytest.raises(exceptions.SqlNotAllowed, execute_sqlite, location.sqlite_path,
                           f"VACUUM INTO '{outside / 'copy.db'}'")
    assert "SQLite's guard denied" in str(denied.value)


@pytest.mark.parametrize("kind", ["superuser", "team", "reader"])
def test_postgres_catalogue_of_writes_is_refused_and_changes_nothing(pg_store, kind):
    server, role, _ = pg_store
    url = role(kind)
    location = db.locate(database_url=url)
    attacks = postgres_attacks(server.canary_pid, server.server_dir)
    assert len(attacks) >= 20
    before = server.snapshot()
    assert before["canary"]
    for attack in attacks:
        assert_refused_cleanly(cli("--database-url", url, "sql", attack), attack)
        assert server.snapshot() == before, f"the CLI attack {attack!r} changed the server"
        with pytest.raises(exceptions.SqlNotAllowed):
            run_readonly(location, attack)
        assert server.snapshot() == before, f"the API attack {attack!r} changed the server"


def plan_blind(attack: str) -> bool:
    """What the server-side lock does not see by itself (the parser refuses both): a cursor
    declaration, which is harmless, and a call inside a multi-row VALUES list, which EXPLAIN
    does not print."""
    return attack.startswith(("DECLARE", "VALUES (true), ("))


@pytest.mark.parametrize("kind", ["superuser", "team", "reader"])
def test_postgres_server_alone_refuses_writes(pg_store, kind):
    """With the parser bypassed: the read-only session and transaction, one prepared command, and
    the server's own plan (EXPLAIN-able, no ModifyTable or LockRows, no refused function by the
    name the server resolved) refuse the catalogue, for every role."""
    server, role, _ = pg_store
    url = role(kind)
    before = server.snapshot()
    for attack in postgres_attacks(server.canary_pid, server.server_dir):
        if plan_blind(attack):
            continue
        with pytest.raises(exceptions.QueryFailed):
            execute_postgres(url, attack)
        assert server.snapshot() == before, f"{attack!r} changed the server"


# Statements the read-only role may run by itself: they change only its own session, which ends.
SESSION_ONLY = ("SET", "RESET", "START TRANSACTION", "COMMIT", "LISTEN", "NOTIFY", "DISCARD", "DECLARE",
                "PREPARE", "SELECT set_config", "SELECT pg_advisory_lock", "VACUUM")


def test_postgres_reader_role_alone_cannot_touch_the_server(pg_store):
    """As team.md's read-only role with plain SQL (psql, a BI tool), none of runelog's checks: the
    role's grants alone keep every table, the server, its files and other sessions unchanged."""
    server, role, _ = pg_store
    url = role("reader")
    engine = create_engine(url, poolclass=NullPool)
    before = server.snapshot()
    ran = []
    try:
        for attack in postgres_attacks(server.canary_pid, server.server_dir):
            with engine.connect() as conn:
                pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
                conn.commit()
                try:
                    conn.exec_driver_sql(attack.replace("%", "%%"))
                    conn.commit()
                    ran.append(attack)
                except DBAPIError:
                    pass
            server.wait_for_exit(pid)  # a session's locks go when its backend has exited
            assert server.snapshot() == before, f"{attack!r} changed the server"
    finally:
        engine.dispose()
    assert [a for a in ran if not a.startswith(SESSION_ONLY)] == []


# ------------------------------------------------------------------ the attacks, as a user types them


def console_scripts(*commands: list[str]) -> list[tuple[int, str]]:
    """Run `runelog` once per command, all at once (startup dominates); return (exit status, output)."""
    exe = shutil.which("runelog", path=os.path.dirname(sys.executable)) or "runelog"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNELOG_")}
    processes = [subprocess.Popen([exe, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                 for args in commands]
    return [(p.returncode, out + err) for p in processes for out, err in [p.communicate(timeout=120)]]


def assert_console_refused(results) -> None:
    for status, output in results:
        assert status == 1 and "error: Refused" in output, output
        assert "Traceback" not in output, output


def test_console_script_refuses_the_reported_attacks_on_sqlite(sqlite_store, tmp_path):
    root, location, _ = sqlite_store
    before = snapshot_sqlite(tmp_path, location)
    assert_console_refused(console_scripts(
        ["--store", str(root), "sql", f"VACUUM INTO '{tmp_path / 'copy.db'}'"],
        ["--store", str(root), "sql", f"ATTACH DATABASE '{tmp_path / 'x.db'}' AS x"],
    ))
    assert snapshot_sqlite(tmp_path, location) == before


def test_console_script_refuses_the_reported_attacks_on_postgres(pg_store):
    server, role, _ = pg_store
    team, superuser = role("team"), role("superuser")
    before = server.snapshot()
    assert_console_refused(console_scripts(
        ["--database-url", team, "sql", "SET TRANSACTION READ WRITE; DELETE FROM runs; COMMIT"],
        ["--database-url", superuser, "sql", f"COPY (SELECT 1) TO PROGRAM 'touch {server.server_dir / 'pwned'}'"],
    ))
    assert server.snapshot() == before


# ------------------------------------------------------------------ reads still work


def plain(url: str, query: str, params: dict) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(query), params)]
    finally:
        engine.dispose()


READS = {
    "sqlite": [
        "SELECT * FROM run_summary ORDER BY start_time",
        "SELECT * FROM latest_metrics",
        "SELECT * FROM lineage_edges",
        "SELECT * FROM dataset_files",
        "EXPLAIN QUERY PLAN SELECT * FROM runs WHERE id = 'x'",
        "EXPLAIN SELECT 1",
        "VALUES (1, 'a'), (2, 'b')",
        "SELECT key, value FROM json_each('{\"a\": 1, \"b\": \"c:d\"}') ORDER BY key",
        "SELECT name FROM experiments UNION SELECT key FROM params ORDER BY 1",
        "SELECT '10:30' AS t, ';' AS s -- a comment; DELETE FROM runs",
        "WITH n AS (SELECT count(*) AS c FROM runs) SELECT c FROM n;",
    ],
    "postgresql": [
        "SELECT * FROM run_summary ORDER BY start_time",
        "SELECT * FROM latest_metrics",
        "SELECT * FROM lineage_edges",
        "SELECT * FROM dataset_files",
        "EXPLAIN SELECT * FROM runs",
        "EXPLAIN (ANALYZE, COSTS OFF) SELECT count(*) FROM metrics",
        "VALUES (1, 'a'), (2, 'b')",
        "SELECT key, value FROM jsonb_each('{\"a\": 1, \"b\": \"c:d\"}'::jsonb) ORDER BY key",
        "SELECT name FROM experiments UNION SELECT key FROM params ORDER BY 1",
        "SELECT '10:30' AS t, ';' AS s, $$;$$ AS d -- a comment; DELETE FROM runs",
        "WITH n AS (SELECT count(*) AS c FROM runs) SELECT c FROM n;",
        "TABLE experiments",
    ],
}


def check_reads(location: db.StoreLocation, dialect: str, compare_url: str, ids: dict) -> None:
    params = {"run_id": ids["model_run"], "sha256": ids["sha"]}
    for title, query in recipes().items():
        used = {k: v for k, v in params.items() if f":{k}" in query}
        columns, rows = run_readonly(location, query, used)
        assert columns and rows == plain(compare_url, query, used), title
    for query in READS[dialect]:
        columns, rows = run_readonly(location, query)
        assert columns, query
        if not query.startswith("EXPLAIN"):
            assert rows == plain(compare_url, query.replace(":", "\\:"), {}), query
    columns, rows = run_readonly(location, "SELECT status FROM runs WHERE id = :run_id", {"run_id": ids["model_run"]})
    assert rows == [("FINISHED",)]
    lineage = run_readonly(location, recipes()["A run's full lineage"], {"run_id": ids["model_run"]})[1]
    assert [row[1] for row in lineage] == [ids["feature_run"]]


def test_reads_still_work_on_sqlite(sqlite_store, tmp_path):
    root, location, ids = sqlite_store
    before = snapshot_sqlite(tmp_path, location)
    check_reads(location, "sqlite", location.database_url, ids)
    assert snapshot_sqlite(tmp_path, location) == before
    out = cli("--store", str(root), "sql", "SELECT count(*) AS n FROM runs", "--json")
    assert out.exit_code == 0 and '"n": 2' in out.output


@pytest.mark.parametrize("kind", ["superuser", "reader"])
def test_reads_still_work_on_postgres(pg_store, kind):
    server, role, ids = pg_store
    url = role(kind)
    before = server.snapshot()
    check_reads(db.locate(database_url=url), "postgresql", server.url, ids)
    assert server.snapshot() == before
    out = cli("--database-url", url, "sql", "SELECT count(*) AS n FROM runs", "--json")
    assert out.exit_code == 0 and '"n": 2' in out.output


def test_sqlite_store_path_with_uri_characters_stays_read_only(tmp_path):
    """'?', '&', '#' and '%' in the store's path are part of the file name, never URI parameters."""
    root = tmp_path / "odd ?mode=rwc&cache=shared#%41"
    tracker = get_tracker(str(root))
    with tracker.start_run(log_code=False):
        tracker.log_metric("accuracy", 0.5)
    location = tracker.location
    tracker.close()
    assert run_readonly(location, "SELECT count(*) FROM metrics")[1] == [(1,)]
    before = snapshot_sqlite(tmp_path, location)
    with pytest.raises(exceptions.QueryFailed):
        execute_sqlite(location.sqlite_path, "DELETE FROM metrics")
    assert snapshot_sqlite(tmp_path, location) == before


# ------------------------------------------------------------------ functions that run SQL given as text


# Argument names PostgreSQL gives SQL text, wider than runelog's own list on purpose.
SQL_TEXT_ARGUMENT_NAMES = ("query", "sql", "sqlquery", "sql_query", "querytext", "query_text", "statement",
                           "stmt", "command", "cmd", "cursor", "sqlstr", "sql_text", "select")
# Functions that run SQL without naming the argument, or build their own query.
UNNAMED_SQL_TEXT = ("ts_rewrite", "table_to_xml", "table_to_xmlschema", "table_to_xml_and_xmlschema",
                    "schema_to_xml", "schema_to_xmlschema", "schema_to_xml_and_xmlschema", "database_to_xml",
                    "database_to_xmlschema", "database_to_xml_and_xmlschema", "dblink", "dblink_exec")


def sql_text_functions(url: str) -> list[tuple[str, list[str]]]:
    """(name, input argument types) of every function on this server that runs SQL it is given."""
    query = text(
        "SELECT DISTINCT p.proname, p.oid, ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes) t) "
        "FROM pg_proc p LEFT JOIN LATERAL unnest(p.proargnames) WITH ORDINALITY AS a(name, i) ON true "
        "WHERE (lower(a.name) = ANY(:names) AND (p.proargmodes IS NULL OR p.proargmodes[a.i] IN ('i', 'b', 'v'))) "
        "OR 'refcursor'::regtype = ANY(p.proargtypes) OR p.proname = ANY(:unnamed) ORDER BY 1, 2")
    with create_engine(url, poolclass=NullPool).connect() as conn:
        rows = conn.execute(text(str(query)), {"names": list(SQL_TEXT_ARGUMENT_NAMES),
                                                "unnamed": list(UNNAMED_SQL_TEXT)}).all()
    return [(name, list(types)) for name, _, types in rows]


def test_every_postgres_function_that_runs_sql_text_is_refused(pg_store):
    """The server's catalogue, not a list copied into the test: each function with an input
    argument named like SQL text (or a cursor), and the known unnamed ones, is refused by the
    command and by the server-side lock alone (parser bypassed), however it is spelt."""
    server, role, _ = pg_store
    url = role("superuser")
    location = db.locate(database_url=url)
    functions = sql_text_functions(url)
    names = {name for name, _ in functions}
    assert {"ts_rewrite", "ts_stat", "query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema",
            "cursor_to_xml", "table_to_xml", "schema_to_xml", "database_to_xml"} <= names, names
    before = server.snapshot()
    for name, types in functions:
        arguments = ", ".join(f"NULL::{t}" for t in types)
        for spelling in (name, f"pg_catalog.{name}", f'"{name}"', name.upper()):
            call = f"SELECT {spelling}({arguments})"
            with pytest.raises(exceptions.SqlNotAllowed):
                run_readonly(location, call)
            with pytest.raises(exceptions.SqlNotAllowed):
                execute_postgres(url, call)
        assert_refused_cleanly(cli("--database-url", url, "sql", f"SELECT * FROM {name}({arguments}) AS f"), name)
    assert server.snapshot() == before


def test_console_script_ts_rewrite_leaves_a_sleeping_session_alive(pg_store):
    """The tester's report as typed: `runelog sql "SELECT ts_rewrite(...)"` aimed at a session
    running `select pg_sleep(60)`; it is refused and the session is still running."""
    server, role, _ = pg_store
    url = make_url(role("superuser")).set(drivername="postgresql")
    canary = subprocess.Popen([sys.executable, "-c", "import psycopg, sys\n"
                               "with psycopg.connect(sys.argv[1]) as c: c.execute('select pg_sleep(60)')",
                               url.render_as_string(hide_password=False)])
    try:
        deadline = time.monotonic() + 10
        waiting = text("SELECT count(*) FROM pg_stat_activity WHERE query = 'select pg_sleep(60)'")
        while time.monotonic() < deadline:
            with server.engine.connect() as conn:
                if conn.execute(waiting).scalar():
                    break
            time.sleep(0.05)
        else:
            raise AssertionError("the sleeping session never started")
        attack = ("SELECT ts_rewrite('a'::tsquery, 'SELECT pg_terminate_backend(pid)::text::tsquery, ''b''::tsquery "
                  "FROM pg_stat_activity WHERE query LIKE ''select pg_sleep(60)%''')")
        assert_console_refused(console_scripts(["--database-url", role("superuser"), "sql", attack]))
        with server.engine.connect() as conn:
            assert conn.execute(waiting).scalar() == 1
        assert canary.poll() is None
    finally:
        canary.kill()
        canary.wait()


# ------------------------------------------------------------------ --json is strict JSON


def test_sql_json_is_strict_json_for_non_finite_numbers(sqlite_store):
    """`sql --json` writes ±inf and NaN as the strings every --json output uses, never as the
    bare Infinity/NaN that strict JSON parsers reject."""
    import json

    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")

    root, _, _ = sqlite_store
    out = cli("--store", str(root), "sql", "select 1e999 as x, -1e999 as y, 0.5 as z, 'NaN' as s", "--json")
    assert out.exit_code == 0, out.output
    assert json.loads(out.output, parse_constant=refuse) == [{"x": "Infinity", "y": "-Infinity", "z": 0.5, "s": "NaN"}]
    assert [float(v) for v in ("Infinity", "-Infinity")] == [float("inf"), float("-inf")]


def test_print_json_is_strict_for_every_non_finite_kind(capsys):
    import json
    from decimal import Decimal

    import numpy as np

    from runelog.cli.common import print_json

    print_json({"f": [float("nan"), float("inf"), -float("inf"), 1.5], "np": [np.float32("inf"), np.float32(0.5)],
                "dec": [Decimal("NaN"), Decimal("-Infinity"), Decimal("1.50")], "n": 3, "b": True})
    document = json.loads(capsys.readouterr().out, parse_constant=lambda c: pytest.fail(f"not JSON: {c}"))
    assert document == {"f": ["NaN", "Infinity", "-Infinity", 1.5], "np": ["Infinity", 0.5],
                        "dec": ["NaN", "-Infinity", "1.50"], "n": 3, "b": True}
