"""The workloads through runelog's public API: `get_tracker` and RuneLog methods, nothing internal.

Runs are started with log_code=False and log_git_meta=False: the workloads
measure tracking, not the capture of a script or a git checkout. runelog is
imported inside the functions so the harness itself stays light.
"""

from __future__ import annotations

import statistics
from pathlib import Path

from . import measure
from .on_sqlite import CHAIN_LEAF_SQL, LINEAGE_SQL
from .workloads import chain_leaf_name, latest_tagged_name, metric_key, run_name, run_record

PACKAGE = "runelog"


def _tracker(store: str, database_url: str | None = None, **options):
    from runelog import get_tracker

    return get_tracker(store, database_url=database_url, **options)


def _start(tracker, experiment: str, **options):
    return tracker.start_run(experiment_name=experiment, log_code=False, log_git_meta=False, **options)


def versions() -> dict:
    import sqlite3
    import sys
    from importlib.metadata import version

    found = {name: version(name) for name in ("runelog", "SQLAlchemy", "pandas", "numpy", "pyarrow", "alembic")}
    return dict(found, python=sys.version.split()[0], sqlite=sqlite3.sqlite_version)


def create_store(store: str, experiment: str, database_url: str | None = None) -> dict:
    _tracker(store, database_url).close()
    return {}


def metric_calls(store: str, experiment: str, calls: int, commit_per_call: bool,
                 database_url: str | None = None) -> dict:
    """W1: `calls` log_metric calls in one run; the time includes the final flush."""
    tracker = _tracker(store, database_url, **({"metric_buffer": 0} if commit_per_call else {}))
    with _start(tracker, experiment), measure.timer() as t:
        for i in range(calls):
            tracker.log_metric("loss", 1.0 / (i + 1), step=i)
        tracker.flush()
    return {"calls_per_s": calls / t.seconds}


def metric_points(store: str, experiment: str, points: int, via: str, keys: int = 10,
                  database_url: str | None = None) -> dict:
    """W2: `points` points over `keys` keys, by log_metrics (a dict per step) or by log_metric."""
    tracker = _tracker(store, database_url)
    steps = points // keys
    with _start(tracker, experiment), measure.timer() as t:
        if via == "log_metrics":
            names = [metric_key(k, keys) for k in range(keys)]
            for step in range(steps):
                tracker.log_metrics({name: step * 0.5 for name in names}, step=step)
        else:
            for i in range(steps * keys):
                tracker.log_metric(metric_key(i, keys), i * 0.5, step=i // keys)
        tracker.flush()
    return {"points_per_s": steps * keys / t.seconds}


def populate(store: str, experiment: str, start: int, count: int, chain: int = 0,
             database_url: str | None = None) -> dict:
    """W3, and the setup of W4/W5/--scale: runs `start`..`start+count-1`, 5 params, 5 metrics, 2 tags.

    With `chain` > 0 every run but each chain's first also logs its predecessor
    as an input (log_input_run), so `input_links` grows with the store.
    """
    tracker = _tracker(store, database_url)
    previous = None
    if chain and start % chain:
        previous = tracker.find_runs(experiment, limit=1)[0].run_id
    with measure.timer() as t:
        for i in range(start, start + count):
            params, metrics, tags = run_record(i)
            with _start(tracker, experiment, run_name=run_name(i)) as run_id:
                tracker.log_params(params)
                tracker.log_metrics(metrics, step=0)
                tracker.set_run_tags(tags)
                if chain and i % chain:
                    tracker.log_input_run("upstream", previous)
            previous = run_id
    tracker.close()
    return {"runs_per_s": count / t.seconds, "s": t.seconds}


def latest_tagged(store: str, experiment: str, runs: int, calls: int,
                  database_url: str | None = None) -> dict:
    """W4: median time of latest_run(experiment, tags={"latest_feature_set": True})."""
    tracker = _tracker(store, database_url)

    def query():
        return tracker.latest_run(experiment, tags={"latest_feature_set": True})

    found = tracker.get_run(query())
    ms = measure.median_call_ms(query, calls)
    expected = latest_tagged_name(runs)
    return {"ms": ms, "checks": {"ok": found["run_name"] == expected, "found": found["run_name"],
                                 "expected": expected}}


def results_frame(store: str, experiment: str, runs: int, database_url: str | None = None) -> dict:
    """W5: the first load_results in a fresh process (pandas imported beforehand), then warm calls."""
    import pandas  # noqa: F401  the import is not what W5 measures

    tracker = _tracker(store, database_url)
    with measure.timer() as t:
        frame = tracker.load_results(experiment)
    warm = []
    for _ in range(3):
        with measure.timer() as w:
            tracker.load_results(experiment)
        warm.append(w.seconds)
    return {"s": t.seconds, "warm_s": statistics.median(warm),
            "checks": {"ok": len(frame) == runs, "rows": len(frame)}}


def artifact_thrice(store: str, experiment: str, source: str, logs: int,
                    database_url: str | None = None) -> dict:
    """W6: the same file logged in `logs` runs; seconds per log_artifact and bytes the store grew."""
    tracker = _tracker(store, database_url)
    before = measure.disk_bytes(store)
    times = []
    for _ in range(logs):
        with _start(tracker, experiment):
            with measure.timer() as t:
                tracker.log_artifact(source, name="data.bin")
            times.append(t.seconds)
    tracker.close()
    return {"s_per_log": statistics.mean(times), "first_s": times[0], "later_s": times[1:],
            "mb_added": (measure.disk_bytes(store) - before) / 1e6}


def log_big_artifact(store: str, experiment: str, source: str, database_url: str | None = None) -> dict:
    """--memory: one (large) artifact; the child reports its peak RSS."""
    tracker = _tracker(store, database_url)
    with _start(tracker, experiment), measure.timer() as t:
        tracker.log_artifact(source, name="big.bin")
    return {"s": t.seconds}


def idle(store: str, experiment: str, database_url: str | None = None) -> dict:
    """--memory baseline: an open tracker with pandas imported, doing nothing."""
    import pandas  # noqa: F401

    _tracker(store, database_url).close()
    return {}


def one_metric(store: str, experiment: str) -> None:
    """W7's second half, run by `python -c`: a new store, one run, one metric."""
    tracker = _tracker(store)
    with _start(tracker, experiment):
        tracker.log_metric("loss", 0.5, step=0)


def metric_worker(store: str, experiment: str, calls: int, database_url: str | None = None) -> dict:
    """One of W8's processes: a run with `calls` log_metric calls (default buffering)."""
    tracker = _tracker(store, database_url)
    with _start(tracker, experiment):
        for i in range(calls):
            tracker.log_metric("loss", 1.0 / (i + 1), step=i)
    return {}


def verify(store: str, experiment: str, database_url: str | None = None) -> dict:
    """After W8: points and experiments as the public API reports them, and the file's health."""
    tracker = _tracker(store, database_url)
    names = [e["name"] for e in tracker.list_experiments()]
    runs = tracker.find_runs(experiment) if experiment in names else []
    points = sum(len(tracker.get_metric_history(r.run_id, "loss")) for r in runs)
    tracker.close()
    checks = {"store_opens": True, "points": points, "runs": len(runs),
              "experiments": names.count(experiment)}
    if database_url is None:
        checks.update(measure.sqlite_health(Path(store) / ".runelog" / "runelog.db"))
    else:
        checks["schema_ok"] = True  # a server database: migrated once, beforehand
    return checks


def lineage(store: str, experiment: str, runs: int, depth: int, calls: int,
            database_url: str | None = None) -> dict:
    """--scale: a `depth`-deep upstream walk over input_links.

    Times the plain WITH RECURSIVE query through SQLAlchemy (the floor for any
    lineage API on this schema) and, where this runelog has one,
    `tracker.get_lineage(leaf, "upstream")`, the public API.
    """
    from sqlalchemy import create_engine, text

    url = database_url or f"sqlite:///{Path(store) / '.runelog' / 'runelog.db'}"
    engine = create_engine(url)
    with engine.connect() as conn:
        leaf = conn.execute(text(CHAIN_LEAF_SQL),
                            {"experiment": experiment, "name": chain_leaf_name(runs, depth)}).scalar_one()
        statement = text(LINEAGE_SQL)

        def query():
            return conn.execute(statement, {"leaf": leaf}).all()

        found = len(query())
        ms = measure.median_call_ms(query, calls)
    engine.dispose()
    result = {"ms": ms, "checks": {"ok": found == depth + 1, "rows": found}}
    tracker = _tracker(store, database_url)
    if hasattr(tracker, "get_lineage"):  # added to runelog after the harness was written

        def api():
            return tracker.get_lineage(leaf, "upstream")

        edges = len(api())
        result["api_ms"] = measure.median_call_ms(api, calls)
        result["checks"].update(ok=result["checks"]["ok"] and edges == depth, api_edges=edges)
    return result

# ------------------------------------------------------------------ W9 / W9L: long curves (issue 15)


def _db_file(store: str) -> Path:
    return Path(store) / ".runelog" / "runelog.db"


def curves_populate(store: str, experiment: str, start: int, count: int, keys: int, steps: int,
                    database_url: str | None = None) -> dict:
    """W9's store: runs `start`..`start+count-1`, each 5 params, 2 tags and `keys` curves of `steps` points.

    The batch path is log_metrics({every key}, step=i) with default buffering (W2's fastest
    public path); the time includes each run's end, so every point is on disk when it stops.
    """
    from .curves import metric_keys, point_value

    names = metric_keys(keys)
    tracker = _tracker(store, database_url)
    with measure.timer() as t:
        for i in range(start, start + count):
            params, _, tags = run_record(i)
            with _start(tracker, experiment, run_name=run_name(i)):
                tracker.log_params(params)
                tracker.set_run_tags(tags)
                for step in range(steps):
                    tracker.log_metrics({name: point_value(i, k, step) for k, name in enumerate(names)}, step=step)
    tracker.close()
    points = count * keys * steps
    result = {"points_per_s": points / t.seconds, "s": t.seconds, "points": points}
    if database_url is None:
        db_bytes = measure.checkpointed_db_bytes(_db_file(store))
        result.update(db_bytes=db_bytes, bytes_per_point=db_bytes / ((start + count) * keys * steps))
    return result


def curves_frame(store: str, experiment: str, runs: int, via: str, database_url: str | None = None) -> dict:
    """The results frame, first call in a fresh process (pandas imported beforehand)."""
    import pandas  # noqa: F401  the import is not what is measured

    tracker = _tracker(store, database_url)
    read = tracker.load_results if via == "results_frame" else tracker.find_runs
    with measure.timer() as t:
        found = read(experiment)
    return {"frame_ms": t.seconds * 1000, "checks": {"ok": len(found) == runs, "rows": len(found)}}


def curves_history(store: str, experiment: str, runs: int, steps: int, calls: int,
                   database_url: str | None = None) -> dict:
    """Median ms of get_metric_history(run, key) for one run in the middle of the store."""
    from .curves import HISTORY_KEY, history_run

    tracker = _tracker(store, database_url)
    name = run_name(history_run(runs))
    (run,) = tracker.find_runs(experiment, f"attributes.run_name = '{name}'")
    found = tracker.get_metric_history(run.run_id, HISTORY_KEY)
    ms = measure.median_call_ms(lambda: tracker.get_metric_history(run.run_id, HISTORY_KEY), calls)
    return {"ms": ms, "checks": {"ok": len(found) == steps, "rows": len(found)}}


def curves_latest(store: str, experiment: str, runs: int, keys: int, calls: int,
                  database_url: str | None = None) -> dict:
    """`SELECT count(*) FROM latest_metrics`, runelog's SQL view, with sqlite3 on the store's file."""
    if database_url is not None:
        raise ValueError("curves_latest reads the SQLite file; not with --database-url")
    found = measure.count_latest(_db_file(store), "latest_metrics", calls)
    return {"ms": found["ms"], "checks": {"ok": found["rows"] == runs * keys, "rows": found["rows"]}}
