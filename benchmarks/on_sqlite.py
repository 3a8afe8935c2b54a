"""The raw sqlite3 reference: the same workloads with the stdlib module and hand-written SQL.

It is the floor under any SQLite-backed tracker: a schema shaped like
runelog's (same tables, keys and indexes), the same pragmas (WAL,
synchronous=NORMAL, foreign keys, a busy timeout) and no library in between.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import statistics
import time
import uuid
from pathlib import Path

from . import measure
from .workloads import chain_leaf_name, latest_tagged_name, metric_key, run_name, run_record

PACKAGE = "sqlite3"
CHUNK = 1 << 20

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS experiments (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)",
    "CREATE TABLE IF NOT EXISTS runs (id TEXT PRIMARY KEY, experiment_id INTEGER NOT NULL "
    "REFERENCES experiments(id) ON DELETE CASCADE, name TEXT, status TEXT NOT NULL, "
    "start_time REAL NOT NULL, end_time REAL)",
    # With `id` in the index, ORDER BY start_time DESC, id DESC LIMIT 1 walks the index and stops
    # at the first match; with (experiment_id, start_time) alone SQLite sorts every candidate.
    "CREATE INDEX IF NOT EXISTS ix_runs_experiment_id_start_time_id ON runs (experiment_id, start_time, id)",
    "CREATE TABLE IF NOT EXISTS params (run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, "
    "key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_id, key))",
    "CREATE TABLE IF NOT EXISTS tags (run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, "
    "key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_id, key))",
    "CREATE INDEX IF NOT EXISTS ix_tags_key_value ON tags (key, value)",
    "CREATE TABLE IF NOT EXISTS metrics (id INTEGER PRIMARY KEY, run_id TEXT NOT NULL "
    "REFERENCES runs(id) ON DELETE CASCADE, key TEXT NOT NULL, value REAL, step INTEGER NOT NULL, "
    "timestamp REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ix_metrics_run_id_key_step ON metrics (run_id, key, step)",
    "CREATE TABLE IF NOT EXISTS artifacts (id INTEGER PRIMARY KEY, run_id TEXT NOT NULL "
    "REFERENCES runs(id) ON DELETE CASCADE, name TEXT NOT NULL, sha256 TEXT NOT NULL, "
    "size INTEGER NOT NULL, UNIQUE (run_id, name))",
    "CREATE TABLE IF NOT EXISTS input_links (id INTEGER PRIMARY KEY, run_id TEXT NOT NULL "
    "REFERENCES runs(id) ON DELETE CASCADE, name TEXT NOT NULL, source_run_id TEXT "
    "REFERENCES runs(id) ON DELETE SET NULL)",
    "CREATE INDEX IF NOT EXISTS ix_input_links_run_id ON input_links (run_id)",
    "CREATE INDEX IF NOT EXISTS ix_input_links_source_run_id ON input_links (source_run_id)",
]

# Shared with on_runelog: runelog's schema has the same tables and columns for these.
LINEAGE_SQL = """
WITH RECURSIVE chain(run_id, depth) AS (
    SELECT :leaf, 0
    UNION ALL
    SELECT l.source_run_id, c.depth + 1
    FROM input_links l JOIN chain c ON l.run_id = c.run_id
    WHERE l.source_run_id IS NOT NULL
)
SELECT run_id, depth FROM chain
"""
CHAIN_LEAF_SQL = ("SELECT r.id FROM runs r JOIN experiments e ON e.id = r.experiment_id "
                  "WHERE e.name = :experiment AND r.name = :name")

LATEST_TAGGED_SQL = """
SELECT r.id, r.name FROM runs r
JOIN experiments e ON e.id = r.experiment_id
JOIN tags t ON t.run_id = r.id AND t.key = ? AND t.value = ?
WHERE e.name = ? AND r.status = 'FINISHED'
ORDER BY r.start_time DESC, r.id DESC LIMIT 1
"""

INSERT_METRIC = "INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES (?, ?, ?, ?, ?)"


def _path(store: str) -> Path:
    return Path(store) / "raw.db"


def _connect(store: str) -> sqlite3.Connection:
    """A connection with the schema in place; parallel first openers queue on BEGIN IMMEDIATE."""
    con = sqlite3.connect(_path(store), timeout=60, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("PRAGMA foreign_keys=ON")
    con.execute("BEGIN IMMEDIATE")
    for statement in SCHEMA:
        con.execute(statement)
    con.execute("COMMIT")
    return con


def _experiment(con: sqlite3.Connection, name: str) -> int:
    con.execute("INSERT OR IGNORE INTO experiments (name) VALUES (?)", (name,))
    return con.execute("SELECT id FROM experiments WHERE name = ?", (name,)).fetchone()[0]


def _new_run(con: sqlite3.Connection, experiment_id: int, name: str | None = None) -> str:
    run_id = uuid.uuid4().hex
    con.execute("INSERT INTO runs (id, experiment_id, name, status, start_time) VALUES (?, ?, ?, 'RUNNING', ?)",
                (run_id, experiment_id, name, time.time()))
    return run_id


def _end_run(con: sqlite3.Connection, run_id: str) -> None:
    con.execute("UPDATE runs SET status = 'FINISHED', end_time = ? WHERE id = ?", (time.time(), run_id))


def versions() -> dict:
    import sys

    return {"python": sys.version.split()[0], "sqlite": sqlite3.sqlite_version}


def create_store(store: str, experiment: str) -> dict:
    _connect(store).close()
    return {}


def metric_calls(store: str, experiment: str, calls: int, commit_per_call: bool, batch: int = 1000) -> dict:
    """W1: a commit per row (autocommit INSERTs), or rows queued and written `batch` at a time."""
    con = _connect(store)
    run_id = _new_run(con, _experiment(con, experiment))
    with measure.timer() as t:
        if commit_per_call:
            for i in range(calls):
                con.execute(INSERT_METRIC, (run_id, "loss", 1.0 / (i + 1), i, time.time()))
        else:
            rows = []
            for i in range(calls):
                rows.append((run_id, "loss", 1.0 / (i + 1), i, time.time()))
                if len(rows) >= batch:
                    _write_rows(con, rows)
                    rows = []
            _write_rows(con, rows)
    return {"calls_per_s": calls / t.seconds}


def _write_rows(con: sqlite3.Connection, rows: list[tuple]) -> None:
    if rows:
        con.execute("BEGIN IMMEDIATE")
        con.executemany(INSERT_METRIC, rows)
        con.execute("COMMIT")


def metric_points(store: str, experiment: str, points: int, via: str = "", keys: int = 10) -> dict:
    """W2: every point in one executemany and one transaction."""
    con = _connect(store)
    run_id = _new_run(con, _experiment(con, experiment))
    with measure.timer() as t:
        now = time.time()
        _write_rows(con, [(run_id, metric_key(i, keys), i * 0.5, i // keys, now) for i in range(points)])
    return {"points_per_s": points / t.seconds}


def populate(store: str, experiment: str, start: int, count: int, chain: int = 0,
             runs_per_commit: int = 1) -> dict:
    """W3 (one transaction per run) and the setup of W4/W5/--scale (optionally batched)."""
    con = _connect(store)
    experiment_id = _experiment(con, experiment)
    previous = None
    if chain and start % chain:
        previous = con.execute("SELECT id FROM runs WHERE experiment_id = ? AND name = ?",
                               (experiment_id, run_name(start - 1))).fetchone()[0]
    with measure.timer() as t:
        for i in range(start, start + count):
            if (i - start) % runs_per_commit == 0:
                con.execute("BEGIN IMMEDIATE")
            params, metrics, tags = run_record(i)
            run_id = _new_run(con, experiment_id, run_name(i))
            con.executemany("INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)",
                            [(run_id, k, json.dumps(v)) for k, v in params.items()])
            now = time.time()
            con.executemany(INSERT_METRIC, [(run_id, k, v, 0, now) for k, v in metrics.items()])
            con.executemany("INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?)",
                            [(run_id, k, json.dumps(v)) for k, v in tags.items()])
            if chain and i % chain:
                con.execute("INSERT INTO input_links (run_id, name, source_run_id) VALUES (?, 'upstream', ?)",
                            (run_id, previous))
            _end_run(con, run_id)
            if (i - start + 1) % runs_per_commit == 0 or i == start + count - 1:
                con.execute("COMMIT")
            previous = run_id
    con.close()
    return {"runs_per_s": count / t.seconds, "s": t.seconds}


def latest_tagged(store: str, experiment: str, runs: int, calls: int) -> dict:
    """W4: the indexed tag query, median of `calls` executions."""
    con = _connect(store)
    args = ("latest_feature_set", json.dumps(True), experiment)

    def query():
        return con.execute(LATEST_TAGGED_SQL, args).fetchone()

    found = query()[1]
    ms = measure.median_call_ms(query, calls)
    expected = latest_tagged_name(runs)
    return {"ms": ms, "checks": {"ok": found == expected, "found": found, "expected": expected}}


def results_frame(store: str, experiment: str, runs: int) -> dict:
    """W5's floor: the three reads load_results needs (runs, params, latest metrics) into dicts."""
    con = _connect(store)

    def load() -> dict:
        (experiment_id,) = con.execute("SELECT id FROM experiments WHERE name = ?", (experiment,)).fetchone()
        frame = {r[0]: {"status": r[1], "start_time": r[2], "end_time": r[3]} for r in con.execute(
            "SELECT id, status, start_time, end_time FROM runs WHERE experiment_id = ?", (experiment_id,))}
        in_experiment = "SELECT id FROM runs WHERE experiment_id = ?"
        for run_id, key, value in con.execute(
                f"SELECT run_id, key, value FROM params WHERE run_id IN ({in_experiment})", (experiment_id,)):
            frame[run_id]["param_" + key] = json.loads(value)
        for run_id, key, value in con.execute(
                "SELECT run_id, key, value FROM (SELECT run_id, key, value, row_number() OVER "
                "(PARTITION BY run_id, key ORDER BY step DESC, id DESC) AS rank FROM metrics "
                f"WHERE run_id IN ({in_experiment})) WHERE rank = 1", (experiment_id,)):
            frame[run_id][key] = value
        return frame

    with measure.timer() as t:
        frame = load()
    warm = []
    for _ in range(3):
        with measure.timer() as w:
            load()
        warm.append(w.seconds)
    return {"s": t.seconds, "warm_s": statistics.median(warm),
            "checks": {"ok": len(frame) == runs, "rows": len(frame)}}


def _put_blob(blobs: Path, source: str) -> tuple[str, int]:
    """Hash with hashlib; copy into the blob folder only when that digest is new."""
    sha, size = hashlib.sha256(), 0
    with open(source, "rb") as fh:
        while chunk := fh.read(CHUNK):
            sha.update(chunk)
            size += len(chunk)
    digest = sha.hexdigest()
    target = blobs / digest[:2] / digest
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".part")
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    return digest, size


def artifact_thrice(store: str, experiment: str, source: str, logs: int) -> dict:
    """W6: hash, copy when new, one artifact row per run."""
    con = _connect(store)
    experiment_id = _experiment(con, experiment)
    before = measure.disk_bytes(store)
    times = []
    for _ in range(logs):
        run_id = _new_run(con, experiment_id)
        with measure.timer() as t:
            digest, size = _put_blob(Path(store) / "blobs", source)
            con.execute("INSERT INTO artifacts (run_id, name, sha256, size) VALUES (?, 'data.bin', ?, ?)",
                        (run_id, digest, size))
        times.append(t.seconds)
        _end_run(con, run_id)
    con.close()
    return {"s_per_log": statistics.mean(times), "first_s": times[0], "later_s": times[1:],
            "mb_added": (measure.disk_bytes(store) - before) / 1e6}


def one_metric(store: str, experiment: str) -> None:
    """W7's second half: a new database with the schema, one run, one metric."""
    con = _connect(store)
    run_id = _new_run(con, _experiment(con, experiment))
    con.execute(INSERT_METRIC, (run_id, "loss", 0.5, 0, time.time()))
    _end_run(con, run_id)
    con.close()


def metric_worker(store: str, experiment: str, calls: int) -> dict:
    """One of W8's processes: a commit per row."""
    con = _connect(store)
    run_id = _new_run(con, _experiment(con, experiment))
    for i in range(calls):
        con.execute(INSERT_METRIC, (run_id, "loss", 1.0 / (i + 1), i, time.time()))
    _end_run(con, run_id)
    con.close()
    return {}


def verify(store: str, experiment: str) -> dict:
    con = sqlite3.connect(_path(store), timeout=60)
    points = con.execute("SELECT count(*) FROM metrics m JOIN runs r ON r.id = m.run_id JOIN experiments e "
                         "ON e.id = r.experiment_id WHERE e.name = ?", (experiment,)).fetchone()[0]
    experiments = con.execute("SELECT count(*) FROM experiments WHERE name = ?", (experiment,)).fetchone()[0]
    con.close()
    return dict(measure.sqlite_health(_path(store), versioned=False), store_opens=True,
                points=points, experiments=experiments)


def lineage(store: str, experiment: str, runs: int, depth: int, calls: int) -> dict:
    """--scale: the same WITH RECURSIVE walk as on runelog's store, with sqlite3."""
    con = _connect(store)
    (leaf,) = con.execute(CHAIN_LEAF_SQL, {"experiment": experiment,
                                           "name": chain_leaf_name(runs, depth)}).fetchone()

    def query():
        return con.execute(LINEAGE_SQL, {"leaf": leaf}).fetchall()

    found = len(query())
    ms = measure.median_call_ms(query, calls)
    return {"ms": ms, "checks": {"ok": found == depth + 1, "rows": found}}
