"""Values the database cannot store are refused when logged, on SQLite and PostgreSQL alike.

A bad point, param or tag raises a RunelogException naming the key and the
value, and nothing else changes: the points waiting in the buffer, the rows,
and every view (which parse the stored JSON) still read. A row the database
refuses anyway (a user's trigger) is dropped alone; a flush never throws
away the good points with it.
"""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
from sqlalchemy import create_engine, inspect, text

from runelog import exceptions, get_tracker
from runelog.models import VIEWS

TABLES = ["experiments", "runs", "params", "tags", "metrics", "artifacts", "dataset_fingerprints",
          "input_links", "registered_models", "model_versions"]


@pytest.fixture
def any_tracker(store_options):
    """A tracker on a fresh store, once on SQLite and once on PostgreSQL (tests/conftest.py)."""
    tracker = get_tracker(**store_options)
    yield tracker
    tracker.close()


@pytest.fixture
def engine(any_tracker):
    engine = create_engine(any_tracker.location.database_url)
    yield engine
    engine.dispose()


def snapshot(tracker, engine):
    """Every row of every table (after writing what the tracker holds back)."""
    tracker.flush()
    with engine.connect() as conn:
        return {t: sorted(map(repr, conn.execute(text(f"SELECT * FROM {t}")))) for t in TABLES}


def read_every_view(engine) -> dict[str, int]:
    """SELECT * from every view in the database, and parse every stored JSON value: rows per view."""
    with engine.connect() as conn:
        views = set(inspect(conn).get_view_names())
        assert set(VIEWS) <= views
        counts = {view: len(conn.execute(text(f"SELECT * FROM {view}")).all()) for view in sorted(views)}
        parse = "value::json" if engine.dialect.name == "postgresql" else "json(value)"
        for table in ("params", "tags"):  # what users' JSON queries (docs/sql.md) read
            conn.execute(text(f"SELECT {parse} FROM {table}")).all()
    return counts


def count_points(engine, run_id: str) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return tuple(conn.execute(text("SELECT count(*), min(step), max(step) FROM metrics WHERE run_id = :r"),
                                  {"r": run_id}).one())


# ------------------------------------------------------------ item 6: a bad point changes nothing


def _auto_step_past_the_limit(t):
    t.log_metric("edge", 1.0, step=2**63 - 1)  # the last step there is: fine
    t.log_metric("edge", 2.0)  # the step after it is not


BAD_POINTS = {
    "step 2**63": (lambda t: t.log_metric("loss", 1.0, step=2**63), "'loss'", "9223372036854775808"),
    "step below -2**63": (lambda t: t.log_metric("loss", 1.0, step=-2**63 - 1), "'loss'", "-9223372036854775809"),
    "step 10**30 in log_metrics": (lambda t: t.log_metrics({"a": 1.0, "loss": 2.0}, step=10**30), "'a'",
                                   "1000000000000000000000000000000"),
    "numpy uint64 step": (lambda t: t.log_metric("loss", 1.0, step=np.uint64(2**64 - 1)), "'loss'",
                          "18446744073709551615"),
    "value 10**400": (lambda t: t.log_metric("loss", 10**400), "'loss'", "401 digits"),
    "value -10**400 among good ones": (lambda t: t.log_metrics({"ok": 1.0, "loss": -10**400}), "'loss'",
                                       "401 digits"),
    "Fraction too large for a float": (lambda t: t.log_metric("loss", Fraction(10**400, 3)), "'loss'",
                                       "Fraction"),
    "default step past 2**63-1": (_auto_step_past_the_limit, "'edge'", "9223372036854775808"),
}


def test_one_bad_point_among_5000_good_ones_changes_nothing(any_tracker, engine):
    """The attack of the issue: 5,000 good points and bad ones between them. Each bad one raises
    InvalidValue naming key and value; all 5,000 are stored and the run ends FINISHED."""
    t = any_tracker
    with t.start_run(experiment_name="values", log_code=False, log_git_meta=False) as run_id:
        for i in range(4500):  # 4 flushes of 1,000; 500 points still waiting in the buffer
            t.log_metric("loss", float(i), step=i)
        for case, (call, key, shown) in BAD_POINTS.items():
            if case == "default step past 2**63-1":
                before = snapshot(t, engine)
                with pytest.raises(exceptions.InvalidValue, match=shown):
                    call(t)
                after = snapshot(t, engine)
                assert len(after["metrics"]) == len(before["metrics"]) + 1, case  # only the good edge point
                continue
            before = snapshot(t, engine)
            with pytest.raises(exceptions.InvalidValue) as raised:
                call(t)
            message = str(raised.value)
            assert key in message and shown in message, (case, message)
            assert isinstance(raised.value, exceptions.RunelogException)
            assert snapshot(t, engine) == before, case  # nothing else changed
        for i in range(4500, 5000):
            t.log_metric("loss", float(i), step=i)
    assert t.get_run(run_id)["status"] == "FINISHED"
    assert count_points(engine, run_id) == (5001, 0, 2**63 - 1)  # 5,000 loss points, one edge point
    history = t.get_metric_history(run_id, "loss")
    assert history["step"].tolist() == list(range(5000))
    read_every_view(engine)


def test_infinities_are_stored_as_infinities_and_nan_as_null(any_tracker, engine):
    t = any_tracker
    with t.start_run(log_code=False, log_git_meta=False) as run_id:
        for value in (math.inf, -math.inf, math.nan, np.float32("inf"), 1e308):
            t.log_metric("m", value)
    values = t.get_metric_history(run_id, "m")["value"].tolist()
    assert values[:2] == [math.inf, -math.inf] and math.isnan(values[2]) and values[3:] == [math.inf, 1e308]
    with engine.connect() as conn:
        stored = [row[0] for row in conn.execute(
            text("SELECT value FROM metrics WHERE run_id = :r ORDER BY step"), {"r": run_id})]
    assert stored[2] is None and stored[0] == math.inf and stored[1] == -math.inf
    assert read_every_view(engine)["latest_metrics"] == 1


def test_a_row_the_database_refuses_is_dropped_alone(any_tracker, engine):
    """A last line of defence: a point the checks let through but the database refuses (here a
    user's trigger or CHECK constraint) is dropped with a warning; every other point is written."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE metrics ADD CONSTRAINT no_thirteen CHECK (value <> 13)"))
        else:
            conn.execute(text("CREATE TRIGGER no_thirteen BEFORE INSERT ON metrics WHEN NEW.value = 13 "
                              "BEGIN SELECT RAISE(ABORT, 'no thirteen here'); END"))
    t = any_tracker
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with t.start_run(log_code=False, log_git_meta=False) as run_id:
            for i in range(1500):  # two writes: 1,000 points, then 500
                t.log_metric("m", float(i % 100), step=i)
    refused = [w for w in seen if "refused metric 'm'" in str(w.message)]
    assert len(refused) == 1  # the first one, named
    assert any("in all, the database refused 15" in str(w.message) for w in seen)
    assert t.get_run(run_id)["status"] == "FINISHED"
    assert count_points(engine, run_id)[0] == 1500 - 15  # every 13.0 dropped, nothing else
    history = t.get_metric_history(run_id, "m")
    assert 13.0 not in history["value"].tolist()


# ------------------------------------------------------------ item 14 and 17: params and tags


def _deep(depth: int, leaf=1):
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def _deep_dict(depth: int):
    value: object = 0
    for _ in range(depth):
        value = {"k": value}
    return value


BAD_VALUES = {
    "NaN param": lambda t: t.log_param("lr", float("nan")),
    "inf param": lambda t: t.log_param("lr", math.inf),
    "-inf param among good ones": lambda t: t.log_params({"ok": 1, "lr": -math.inf}),
    "numpy NaN param": lambda t: t.log_param("lr", np.float64("nan")),
    "NaN inside a list param": lambda t: t.log_param("grid", [0.1, float("nan")]),
    "inf deep inside a dict param": lambda t: t.log_param("cfg", {"a": {"b": [1, {"c": math.inf}]}}),
    "numpy array with NaN": lambda t: t.log_param("w", np.array([1.0, np.nan])),
    "NaN tag": lambda t: t.set_tag("score", float("nan")),
    "inf in set_run_tags": lambda t: t.set_run_tags({"ok": "yes", "score": [math.inf]}),
    "10,000-deep list param": lambda t: t.log_param("deep", _deep(10_000)),
    "10,000-deep dict tag": lambda t: t.set_tag("deep", _deep_dict(10_000)),
    "150-deep list param": lambda t: t.log_param("deep", _deep(150)),
    "lone surrogate in a param": lambda t: t.log_param("name", "caf\udce9"),
    "dict keys equal as JSON text": lambda t: t.log_param("keys", {1: "a", "1": "b"}),
    "lone surrogate in a metric key": lambda t: t.log_metric("caf\udce9", 1.0),
    "lone surrogate in a tag key": lambda t: t.set_tag("caf\udce9", 1),
}


def test_every_bad_value_changes_nothing_and_every_view_still_reads(any_tracker, engine):
    """After each bad input (refused with InvalidValue/InvalidKey), every table is unchanged and
    every view, and a JSON parse of every stored param and tag, still reads, on both backends."""
    t = any_tracker
    with t.start_run(experiment_name="good", log_code=False, log_git_meta=False) as good:
        t.log_params({"lr": 0.1, "grid": [1, 2], "deep": _deep(100)})  # 100 levels is the limit: fine
        t.set_tag("stage", "dev")
        t.log_metric("m", 1.0)
    views_before = read_every_view(engine)
    problems = []
    with t.start_run(experiment_name="victim", log_code=False, log_git_meta=False):
        t.log_param("kept", 1)
        t.log_metric("waiting", 1.0)  # a point in the buffer
        for case, call in BAD_VALUES.items():
            before = snapshot(t, engine)
            try:
                call(t)
                problems.append(f"{case}: accepted")
            except (exceptions.InvalidValue, exceptions.InvalidKey) as exc:
                if "cannot be stored" not in str(exc) and "not valid Unicode" not in str(exc):
                    problems.append(f"{case}: unclear message {exc}")
            except Exception as exc:  # a raw RecursionError, ValueError, DataError...
                problems.append(f"{case}: raised {type(exc).__name__}: {exc}")
            if snapshot(t, engine) != before:
                problems.append(f"{case}: something changed")
            try:
                views = read_every_view(engine)
            except Exception as exc:
                problems.append(f"{case}: a view no longer reads: {exc}")
            else:
                if views["run_summary"] != views_before["run_summary"] + 1:
                    problems.append(f"{case}: run_summary has {views['run_summary']} rows")
    assert not problems, "\n".join(problems)
    assert t.get_run_details(good)["params"]["deep"] == _deep(100)
    read_every_view(engine)
