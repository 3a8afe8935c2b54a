"""The workloads through MLflow's tracking API, SQLAlchemy store on SQLite (`sqlite:///…/mlflow.db`).

MlflowClient is used throughout: it is MLflow's fastest public path (no
fluent-API context resolution such as git lookups), with `log_batch` for the
bulk writes. Runs in the interpreter named by --mlflow-python (by default
`.venv-bench/bin/python`), since MLflow pins versions the dev venv does not
have. mlflow is imported inside the functions.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from . import measure
from .workloads import latest_tagged_name, metric_key, run_name, run_record

PACKAGE = "mlflow"
BATCH = 1000  # MLflow's limit of metrics per log_batch call


def _uri(store: str) -> str:
    return f"sqlite:///{Path(store) / 'mlflow.db'}"


def _client(store: str):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=_uri(store))


def _experiment(client, store: str, name: str) -> str:
    """Get or create, as mlflow.set_experiment does (and racing creators may collide, as there)."""
    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    return client.create_experiment(name, artifact_location=(Path(store) / "artifacts").as_uri())


def _run(client, store: str, experiment: str, **options) -> str:
    return client.create_run(_experiment(client, store, experiment), **options).info.run_id


def versions() -> dict:
    import sqlite3
    import sys
    from importlib.metadata import version

    found = {name: version(name) for name in ("mlflow", "SQLAlchemy", "pandas", "alembic")}
    return dict(found, python=sys.version.split()[0], sqlite=sqlite3.sqlite_version)


def create_store(store: str, experiment: str) -> dict:
    _client(store).search_experiments()  # the first call creates and migrates the database
    return {}


def metric_calls(store: str, experiment: str, calls: int, commit_per_call: bool) -> dict:
    """W1: MLflow has no client-side buffer; every log_metric is a transaction either way."""
    client = _client(store)
    run_id = _run(client, store, experiment)
    with measure.timer() as t:
        for i in range(calls):
            client.log_metric(run_id, "loss", 1.0 / (i + 1), step=i)
    client.set_terminated(run_id)
    return {"calls_per_s": calls / t.seconds}


def metric_points(store: str, experiment: str, points: int, via: str = "", keys: int = 10) -> dict:
    """W2: log_batch, 1,000 Metric entities per call."""
    from mlflow.entities import Metric

    client = _client(store)
    run_id = _run(client, store, experiment)
    with measure.timer() as t:
        now = int(time.time() * 1000)
        for first in range(0, points, BATCH):
            client.log_batch(run_id, metrics=[Metric(metric_key(i, keys), i * 0.5, now, i // keys)
                                              for i in range(first, min(first + BATCH, points))])
    client.set_terminated(run_id)
    return {"points_per_s": points / t.seconds}


def populate(store: str, experiment: str, start: int, count: int, chain: int = 0) -> dict:
    """W3 and the W4/W5 setup: create_run + one log_batch (5 params, 5 metrics, 2 tags) + set_terminated."""
    from mlflow.entities import Metric, Param, RunTag

    if chain:
        raise ValueError("MLflow has no run-to-run lineage to populate")
    client = _client(store)
    experiment_id = _experiment(client, store, experiment)
    with measure.timer() as t:
        for i in range(start, start + count):
            params, metrics, tags = run_record(i)
            run_id = client.create_run(experiment_id, run_name=run_name(i)).info.run_id
            now = int(time.time() * 1000)
            client.log_batch(run_id, metrics=[Metric(k, v, now, 0) for k, v in metrics.items()],
                             params=[Param(k, str(v)) for k, v in params.items()],
                             tags=[RunTag(k, str(v)) for k, v in tags.items()])
            client.set_terminated(run_id)
    return {"runs_per_s": count / t.seconds, "s": t.seconds}


def latest_tagged(store: str, experiment: str, runs: int, calls: int) -> dict:
    """W4: search_runs with a tag and status filter, newest first, max_results=1."""
    client = _client(store)
    experiment_id = client.get_experiment_by_name(experiment).experiment_id

    def query():
        return client.search_runs([experiment_id],
                                  "tags.latest_feature_set = 'True' and attributes.status = 'FINISHED'",
                                  max_results=1, order_by=["attributes.start_time DESC"])

    found = query()[0].info.run_name
    ms = measure.median_call_ms(query, calls)
    expected = latest_tagged_name(runs)
    return {"ms": ms, "checks": {"ok": found == expected, "found": found, "expected": expected}}


def results_frame(store: str, experiment: str, runs: int) -> dict:
    """W5: mlflow.search_runs into a DataFrame (pandas imported beforehand, as for runelog)."""
    import mlflow
    import pandas  # noqa: F401

    mlflow.set_tracking_uri(_uri(store))
    experiment_id = _client(store).get_experiment_by_name(experiment).experiment_id
    with measure.timer() as t:
        frame = mlflow.search_runs(experiment_ids=[experiment_id])
    warm = []
    for _ in range(3):
        with measure.timer() as w:
            mlflow.search_runs(experiment_ids=[experiment_id])
        warm.append(w.seconds)
    return {"s": t.seconds, "warm_s": statistics.median(warm),
            "checks": {"ok": len(frame) == runs, "rows": len(frame)}}


def artifact_thrice(store: str, experiment: str, source: str, logs: int) -> dict:
    """W6: log_artifact into the experiment's local artifact folder."""
    client = _client(store)
    before = measure.disk_bytes(store)
    times = []
    for _ in range(logs):
        run_id = _run(client, store, experiment)
        with measure.timer() as t:
            client.log_artifact(run_id, source)
        times.append(t.seconds)
        client.set_terminated(run_id)
    return {"s_per_log": statistics.mean(times), "first_s": times[0], "later_s": times[1:],
            "mb_added": (measure.disk_bytes(store) - before) / 1e6}


def one_metric(store: str, experiment: str) -> None:
    """W7's second half: a new database (MLflow runs its migrations), one run, one metric."""
    client = _client(store)
    run_id = _run(client, store, experiment)
    client.log_metric(run_id, "loss", 0.5, step=0)
    client.set_terminated(run_id)


def metric_worker(store: str, experiment: str, calls: int) -> dict:
    """One of W8's processes: a run with `calls` log_metric calls."""
    client = _client(store)
    run_id = _run(client, store, experiment)
    for i in range(calls):
        client.log_metric(run_id, "loss", 1.0 / (i + 1), step=i)
    client.set_terminated(run_id)
    return {}


def verify(store: str, experiment: str) -> dict:
    """After W8: points and experiments as MLflow reports them, and the file's health."""
    client = _client(store)
    found = [e for e in client.search_experiments() if e.name == experiment]
    runs = client.search_runs([e.experiment_id for e in found], max_results=1000) if found else []
    points = sum(len(client.get_metric_history(r.info.run_id, "loss")) for r in runs)
    return dict(measure.sqlite_health(Path(store) / "mlflow.db"), store_opens=True,
                points=points, runs=len(runs), experiments=len(found))

# ------------------------------------------------------------------ W9: long curves (issue 15)


def curves_populate(store: str, experiment: str, start: int, count: int, keys: int, steps: int) -> dict:
    """W9's store through log_batch: per run, params and tags in one call, then the curves
    1,000 metrics per call (MLflow's limit), then set_terminated."""
    from mlflow.entities import Metric, Param, RunTag

    from .curves import metric_keys, point_value

    names = metric_keys(keys)
    client = _client(store)
    experiment_id = _experiment(client, store, experiment)
    with measure.timer() as t:
        for i in range(start, start + count):
            params, _, tags = run_record(i)
            run_id = client.create_run(experiment_id, run_name=run_name(i)).info.run_id
            client.log_batch(run_id, params=[Param(k, str(v)) for k, v in params.items()],
                             tags=[RunTag(k, str(v)) for k, v in tags.items()])
            now = int(time.time() * 1000)
            batch = []
            for step in range(steps):
                batch.extend(Metric(name, point_value(i, k, step), now, step) for k, name in enumerate(names))
                if len(batch) >= BATCH:
                    client.log_batch(run_id, metrics=batch[:BATCH])
                    batch = batch[BATCH:]
            if batch:
                client.log_batch(run_id, metrics=batch)
            client.set_terminated(run_id)
    points = count * keys * steps
    db_bytes = measure.checkpointed_db_bytes(Path(store) / "mlflow.db")
    return {"points_per_s": points / t.seconds, "s": t.seconds, "points": points, "db_bytes": db_bytes,
            "bytes_per_point": db_bytes / ((start + count) * keys * steps)}


def curves_frame(store: str, experiment: str, runs: int, via: str) -> dict:
    """results_frame: mlflow.search_runs (a DataFrame); find_runs: MlflowClient.search_runs (Run entities)."""
    import mlflow
    import pandas  # noqa: F401

    mlflow.set_tracking_uri(_uri(store))
    client = _client(store)
    experiment_id = client.get_experiment_by_name(experiment).experiment_id
    with measure.timer() as t:
        if via == "results_frame":
            found = mlflow.search_runs(experiment_ids=[experiment_id])
        else:
            found = client.search_runs([experiment_id], max_results=max(runs, 1))
    return {"frame_ms": t.seconds * 1000, "checks": {"ok": len(found) == runs, "rows": len(found)}}


def curves_history(store: str, experiment: str, runs: int, steps: int, calls: int) -> dict:
    """Median ms of MlflowClient.get_metric_history(run_id, key), one run in the middle."""
    from .curves import HISTORY_KEY, history_run

    client = _client(store)
    experiment_id = client.get_experiment_by_name(experiment).experiment_id
    name = run_name(history_run(runs))
    (run,) = client.search_runs([experiment_id], f"attributes.run_name = '{name}'")
    run_id = run.info.run_id
    found = client.get_metric_history(run_id, HISTORY_KEY)
    ms = measure.median_call_ms(lambda: client.get_metric_history(run_id, HISTORY_KEY), calls)
    return {"ms": ms, "checks": {"ok": len(found) == steps, "rows": len(found)}}


def curves_latest(store: str, experiment: str, runs: int, keys: int, calls: int) -> dict:
    """`SELECT count(*) FROM latest_metrics`: MLflow keeps that table, updated as metrics are logged."""
    found = measure.count_latest(Path(store) / "mlflow.db", "latest_metrics", calls)
    return {"ms": found["ms"], "checks": {"ok": found["rows"] == runs * keys, "rows": found["rows"]}}
