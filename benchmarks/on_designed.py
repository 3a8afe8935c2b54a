"""Raw sqlite3 with the layout issue 15 describes: the floor for W9 and W9L (long curves).

Runs, params and tags as in on_sqlite.py; metrics split in two:
- `series`: one row per (run, key) with an integer id and the last point
  (step, value, timestamp), updated in the same transaction as the points;
- `points`: keyed (series_id, step), WITHOUT ROWID, so a curve is one
  contiguous range of the primary key and there is no second index.
Same pragmas as on_sqlite.py (WAL, synchronous=NORMAL, foreign keys).
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from pathlib import Path

from . import measure
from .curves import HISTORY_KEY, history_run, metric_keys, point_value
from .workloads import run_name, run_record

PACKAGE = "sqlite3"

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS experiments (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)",
    "CREATE TABLE IF NOT EXISTS runs (id TEXT PRIMARY KEY, experiment_id INTEGER NOT NULL "
    "REFERENCES experiments(id) ON DELETE CASCADE, name TEXT, status TEXT NOT NULL, "
    "start_time REAL NOT NULL, end_time REAL)",
    "CREATE INDEX IF NOT EXISTS ix_runs_experiment_id_start_time_id ON runs (experiment_id, start_time, id)",
    "CREATE TABLE IF NOT EXISTS params (run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, "
    "key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_id, key))",
    "CREATE TABLE IF NOT EXISTS tags (run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, "
    "key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_id, key))",
    "CREATE INDEX IF NOT EXISTS ix_tags_key_value ON tags (key, value)",
    "CREATE TABLE IF NOT EXISTS series (id INTEGER PRIMARY KEY, run_id TEXT NOT NULL "
    "REFERENCES runs(id) ON DELETE CASCADE, key TEXT NOT NULL, last_step INTEGER, last_value REAL, "
    "last_timestamp REAL, UNIQUE (run_id, key))",
    "CREATE TABLE IF NOT EXISTS points (series_id INTEGER NOT NULL, step INTEGER NOT NULL, value REAL, "
    "timestamp REAL NOT NULL, PRIMARY KEY (series_id, step)) WITHOUT ROWID",
]

# The last point of a series moves only forward: an older step logged late does not replace it.
UPDATE_LAST = ("UPDATE series SET last_step = ?, last_value = ?, last_timestamp = ? "
               "WHERE id = ? AND (last_step IS NULL OR last_step <= ?)")


def _path(store: str) -> Path:
    return Path(store) / "designed.db"


def _connect(store: str) -> sqlite3.Connection:
    con = sqlite3.connect(_path(store), timeout=60, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("PRAGMA foreign_keys=ON")
    con.execute("BEGIN IMMEDIATE")
    for statement in SCHEMA:
        con.execute(statement)
    con.execute("COMMIT")
    return con


def versions() -> dict:
    import sys

    return {"python": sys.version.split()[0], "sqlite": sqlite3.sqlite_version}


def curves_populate(store: str, experiment: str, start: int, count: int, keys: int, steps: int) -> dict:
    """One transaction per run: the run, params, tags, its series, every point, the last values."""
    names = metric_keys(keys)
    con = _connect(store)
    con.execute("INSERT OR IGNORE INTO experiments (name) VALUES (?)", (experiment,))
    (experiment_id,) = con.execute("SELECT id FROM experiments WHERE name = ?", (experiment,)).fetchone()
    with measure.timer() as t:
        for i in range(start, start + count):
            params, _, tags = run_record(i)
            run_id = uuid.uuid4().hex
            con.execute("BEGIN IMMEDIATE")
            con.execute("INSERT INTO runs (id, experiment_id, name, status, start_time) "
                        "VALUES (?, ?, ?, 'RUNNING', ?)", (run_id, experiment_id, run_name(i), time.time()))
            con.executemany("INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)",
                            [(run_id, k, json.dumps(v)) for k, v in params.items()])
            con.executemany("INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?)",
                            [(run_id, k, json.dumps(v)) for k, v in tags.items()])
            series = [con.execute("INSERT INTO series (run_id, key) VALUES (?, ?)", (run_id, name)).lastrowid
                      for name in names]
            now = time.time()
            con.executemany("INSERT OR REPLACE INTO points (series_id, step, value, timestamp) VALUES (?, ?, ?, ?)",
                            [(series[k], step, point_value(i, k, step), now)
                             for step in range(steps) for k in range(keys)])
            last = steps - 1
            con.executemany(UPDATE_LAST, [(last, point_value(i, k, last), now, series[k], last) for k in range(keys)])
            con.execute("UPDATE runs SET status = 'FINISHED', end_time = ? WHERE id = ?", (time.time(), run_id))
            con.execute("COMMIT")
    con.close()
    points = count * keys * steps
    db_bytes = measure.checkpointed_db_bytes(_path(store))
    return {"points_per_s": points / t.seconds, "s": t.seconds, "points": points, "db_bytes": db_bytes,
            "bytes_per_point": db_bytes / ((start + count) * keys * steps)}


def curves_frame(store: str, experiment: str, runs: int, via: str = "") -> dict:
    """Three SELECTs (runs, params, last values from `series`) into dicts, no pandas; one read
    serves both results-frame rows."""
    con = _connect(store)
    with measure.timer() as t:
        (experiment_id,) = con.execute("SELECT id FROM experiments WHERE name = ?", (experiment,)).fetchone()
        frame = {r[0]: {"run_name": r[1], "status": r[2], "start_time": r[3], "end_time": r[4]} for r in con.execute(
            "SELECT id, name, status, start_time, end_time FROM runs WHERE experiment_id = ?", (experiment_id,))}
        in_experiment = "SELECT id FROM runs WHERE experiment_id = ?"
        for run_id, key, value in con.execute(
                f"SELECT run_id, key, value FROM params WHERE run_id IN ({in_experiment})", (experiment_id,)):
            frame[run_id]["param_" + key] = json.loads(value)
        for run_id, key, value in con.execute(
                f"SELECT run_id, key, last_value FROM series WHERE run_id IN ({in_experiment})", (experiment_id,)):
            frame[run_id][key] = value
    con.close()
    return {"frame_ms": t.seconds * 1000, "checks": {"ok": len(frame) == runs, "rows": len(frame)}}


def curves_history(store: str, experiment: str, runs: int, steps: int, calls: int) -> dict:
    """Median ms of one curve's (step, value, timestamp) rows: a range of the points key."""
    con = _connect(store)
    (series_id,) = con.execute(
        "SELECT s.id FROM series s JOIN runs r ON r.id = s.run_id JOIN experiments e ON e.id = r.experiment_id "
        "WHERE e.name = ? AND r.name = ? AND s.key = ?",
        (experiment, run_name(history_run(runs)), HISTORY_KEY)).fetchone()
    statement = "SELECT step, value, timestamp FROM points WHERE series_id = ? ORDER BY step"

    def query():
        return con.execute(statement, (series_id,)).fetchall()

    found = query()
    ms = measure.median_call_ms(query, calls)
    con.close()
    return {"ms": ms, "checks": {"ok": len(found) == steps, "rows": len(found)}}


def curves_latest(store: str, experiment: str, runs: int, keys: int, calls: int) -> dict:
    """`SELECT count(*) FROM series`: the last values are a table here, one row per (run, key)."""
    found = measure.count_latest(_path(store), "series", calls)
    return {"ms": found["ms"], "checks": {"ok": found["rows"] == runs * keys, "rows": found["rows"]}}
