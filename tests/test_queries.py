"""The one run query (runelog.queries.find_runs) on real stores, SQLite and PostgreSQL alike."""

import math
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event

from runelog import db, exceptions, queries
from runelog.types import RunInfo


@pytest.fixture
def store(tracker):
    """Six runs of experiment "exp" with params of several types, tags, and metric histories.

    name  lr      opt     stage    flag   loss (latest)  acc history (step: value)
    a     0.01    "adam"  prod     True   0.5            0: 0.1, 1: 0.95
    b     0.1     "sgd"   dev      False  NaN            0: 0.8, 5: 0.85, 5: 0.99 (tie: the last logged wins)
    c     1       "adam"  prod     -      inf            0: 0.7
    d     "0.1"   -       it's     -      -              -
    e     -       -       -        -      0.2            val/acc 0.6, "val acc" 0.4
    f     10**30  "a%b"   a' OR 1=1 --  -  -             -
    """
    spec = {
        "a": dict(params={"lr": 0.01, "opt": "adam"}, tags={"stage": "prod", "flag": True},
                  points=[("loss", 0.5, 0), ("acc", 0.1, 0), ("acc", 0.95, 1)]),
        "b": dict(params={"lr": 0.1, "opt": "sgd"}, tags={"stage": "dev", "flag": False},
                  points=[("loss", math.nan, 0), ("acc", 0.8, 0), ("acc", 0.85, 5), ("acc", 0.99, 5)]),
        "c": dict(params={"lr": 1, "opt": "adam"}, tags={"stage": "prod"},
                  points=[("loss", math.inf, 0), ("acc", 0.7, 0)]),
        "d": dict(params={"lr": "0.1"}, tags={"stage": "it's"}, points=[]),
        "e": dict(params={}, tags={}, points=[("loss", 0.2, 0), ("val/acc", 0.6, 0), ("val acc", 0.4, 0)]),
        "f": dict(params={"lr": 10**30, "opt": "a%b"}, tags={"stage": "a' OR 1=1 --"}, points=[]),
    }
    for name, run in spec.items():
        with tracker.start_run(experiment_name="exp", run_name=name, log_code=False, log_git_meta=False):
            tracker.log_params(run["params"])
            for key, value in run["tags"].items():
                tracker.set_tag(key, value)
            for key, value, step in run["points"]:
                tracker.log_metric(key, value, step=step)
        time.sleep(0.002)  # distinct start times: newest first is f, e, d, c, b, a
    tracker.flush()
    return tracker


def find(tracker, filter=None, **options) -> list[str]:
    with db.read_session(tracker._engine) as session:
        return [run.run_name for run in queries.find_runs(session, "exp", filter, **options)]


def names(tracker, filter) -> set[str]:
    return set(find(tracker, filter))


def test_runs_come_back_as_run_info_with_params_tags_and_latest_metrics(store):
    with db.read_session(store._engine) as session:
        runs = {r.run_name: r for r in queries.find_runs(session, "exp")}
    a, b = runs["a"], runs["b"]
    assert isinstance(a, RunInfo) and a.status == "FINISHED" and a.experiment_id == "1"
    assert a.params == {"lr": 0.01, "opt": "adam"} and a.tags == {"flag": True, "stage": "prod"}
    assert a.metrics == {"acc": 0.95, "loss": 0.5}
    assert b.metrics["acc"] == 0.99 and math.isnan(b.metrics["loss"])  # highest step; ties: the last logged
    assert runs["c"].metrics["loss"] == math.inf
    assert a.start_time.tzinfo is not None


def test_the_issue_example(store):
    assert names(store, "metrics.acc > 0.9 and params.lr < 0.1 and tags.stage = 'prod' "
                        "and attributes.status = 'FINISHED'") == {"a"}


@pytest.mark.parametrize("filter, expected", [
    ("metrics.acc > 0.9", {"a", "b"}),
    ("metrics.acc >= 0.95", {"a", "b"}),
    ("metrics.acc < 0.8", {"c"}),
    ("metrics.acc <= 0.7", {"c"}),
    ("metrics.acc = 0.95", {"a"}),
    ("metrics.acc != 0.95", {"b", "c"}),  # runs without acc do not match, even !=
    ("metrics.acc IN (0.7, 0.95)", {"a", "c"}),
    ("metrics.acc NOT IN (0.7, 0.95)", {"b"}),
    ("metrics.loss > 1e308", {"c"}),  # inf
    ("metrics.loss < 1", {"a", "e"}),  # NaN matches no comparison
    ("metrics.loss != 0.5", {"c", "e"}),
    ("metrics.`val/acc` = 0.6", {"e"}),
    ("metrics.`val acc` < 0.5", {"e"}),
    ('metrics."val acc" < 0.5', {"e"}),
])
def test_metric_comparisons_use_the_latest_value(store, filter, expected):
    assert names(store, filter) == expected


@pytest.mark.parametrize("filter, expected", [
    ("params.lr < 0.1", {"a"}),  # numbers compare as numbers; the string "0.1" is not a number
    ("params.lr <= 0.1", {"a", "b"}),
    ("params.lr > 0.5", {"c", "f"}),
    ("params.lr >= 1e30", {"f"}),  # 10**30, exactly
    ("params.lr = 1", {"c"}),
    ("params.lr = 1.0", {"c"}),
    ("params.lr = 0.1", {"b"}),
    ("params.lr = '0.1'", {"b", "d"}),  # quoted: the string "0.1", or a number written 0.1 (MLflow's habit)
    ("params.lr != 0.1", {"a", "c", "d", "f"}),  # has lr, and it is not the number 0.1
    ("params.lr IN (0.01, 1)", {"a", "c"}),
    ("params.lr NOT IN (0.01, 1)", {"b", "d", "f"}),
    ("params.opt = 'adam'", {"a", "c"}),
    ("params.opt != 'adam'", {"b", "f"}),
    ("params.opt IN ('sgd', 'nope')", {"b"}),
    ("params.opt LIKE 'a%'", {"a", "c", "f"}),
    ("params.opt LIKE 'A%'", set()),  # LIKE is case-sensitive on both databases
    ("params.opt ILIKE 'A%'", {"a", "c", "f"}),
    ("params.opt LIKE 'a\\%b'", {"f"}),  # an escaped % is a percent sign
    ("params.opt LIKE 'a_am'", {"a", "c"}),
    ("params.opt NOT LIKE 'a%'", {"b"}),
    ("params.lr LIKE '0.1'", {"b", "d"}),  # LIKE sees a number's text
    ("params.nope = 1", set()),
])
def test_param_comparisons(store, filter, expected):
    assert names(store, filter) == expected


@pytest.mark.parametrize("filter, expected", [
    ("tags.stage = 'prod'", {"a", "c"}),
    ("tags.stage = \"prod\"", {"a", "c"}),
    ("tags.stage = 'it''s'", {"d"}),
    ("tags.stage = \"it's\"", {"d"}),
    ("tags.flag = true", {"a"}),
    ("tags.flag = false", {"b"}),
    ("tags.flag = 'true'", {"a"}),
    ("tags.flag != true", {"b"}),
    ("tags.stage IN ('prod', 'dev')", {"a", "b", "c"}),
    ("tags.stage NOT IN ('prod', 'dev')", {"d", "f"}),
    ("tags.stage ILIKE 'PR%'", {"a", "c"}),
])
def test_tag_comparisons_match_the_json_encoded_value(store, filter, expected):
    assert names(store, filter) == expected


@pytest.mark.parametrize("filter", [
    "tags.stage = 'a'' OR 1=1 --'",
    "tags.stage = \"a' OR 1=1 --\"",
    "tags.`stage` IN ('x', 'a'' OR 1=1 --')",
])
def test_injection_attempts_stay_literal(store, filter):
    assert names(store, filter) == {"f"}
    assert names(store, "tags.stage = 'x'' OR ''1''=''1'") == set()
    assert len(find(store)) == 6  # nothing was dropped


@pytest.mark.parametrize("filter, expected", [
    ("attributes.status = 'FINISHED'", {"a", "b", "c", "d", "e", "f"}),
    ("status != 'FINISHED'", set()),
    ("attributes.run_name = 'a'", {"a"}),
    ("run_name IN ('a', 'b')", {"a", "b"}),
    ("run_name LIKE '%'", {"a", "b", "c", "d", "e", "f"}),
    ("run.run_name ILIKE 'A'", {"a"}),
    ("run_name NOT IN ('a', 'b')", {"c", "d", "e", "f"}),
    ("metrics.acc > 0.9 OR tags.stage = 'dev'", {"a", "b"}),
    ("(metrics.acc > 0.9 OR tags.stage = 'it''s') AND params.lr != 0.1", {"a", "d"}),
])
def test_attributes_or_and_parentheses(store, filter, expected):
    assert names(store, filter) == expected


def test_start_time_by_milliseconds_and_iso_text(store):
    with db.read_session(store._engine) as session:
        runs = {r.run_name: r for r in queries.find_runs(session, "exp")}
    c = runs["c"].start_time
    millis = int(c.timestamp() * 1000)
    assert names(store, f"attributes.start_time >= {millis}") >= {"d", "e", "f"}
    assert "a" not in names(store, f"start_time >= {millis}")
    assert names(store, f"start_time > '{(c + timedelta(days=1)).date().isoformat()}'") == set()
    assert names(store, "start_time > '2000-01-01'") == set(runs)
    assert names(store, f"start_time < '{(c - timedelta(days=1)).isoformat()}'") == set()
    assert names(store, f"end_time <= '{datetime.now(timezone.utc).isoformat()}'") == set(runs)


def test_order_by_metrics_params_and_attributes_with_missing_values_last(store):
    assert find(store) == ["f", "e", "d", "c", "b", "a"]  # newest first
    assert find(store, order_by="attributes.start_time ASC") == ["a", "b", "c", "d", "e", "f"]
    assert find(store, order_by="metrics.acc DESC") == ["b", "a", "c", "f", "e", "d"]
    assert find(store, order_by="metrics.acc")[:3] == ["c", "a", "b"]
    assert find(store, order_by="metrics.loss")[:3] == ["e", "a", "c"]  # b's NaN counts as missing
    assert find(store, order_by="metrics.loss DESC")[:3] == ["c", "a", "e"]
    # numbers (numerically) before text, then the runs without the param
    assert find(store, order_by="params.lr") == ["a", "b", "c", "f", "d", "e"]
    assert find(store, order_by="params.lr DESC") == ["d", "f", "c", "b", "a", "e"]
    assert find(store, order_by=["tags.stage", "run_name DESC"]) == ["f", "b", "d", "c", "a", "e"]
    assert find(store, order_by="tags.flag") == ["b", "a", "c", "d", "e", "f"]  # false, true, then missing
    assert find(store, order_by="run_name DESC") == ["f", "e", "d", "c", "b", "a"]


def test_limit_and_offset_page_through_the_order(store):
    pages = [find(store, order_by="run_name", limit=4, offset=offset) for offset in (0, 4, 8)]
    assert pages == [["a", "b", "c", "d"], ["e", "f"], []]
    assert find(store, "tags.stage = 'prod'", limit=1, order_by="run_name DESC") == ["c"]
    for bad in (-1, 1.5, "3", True):
        with pytest.raises(exceptions.InvalidValue):
            find(store, limit=bad)
        with pytest.raises(exceptions.InvalidValue):
            find(store, offset=bad)


def test_keyword_conveniences_combine_with_the_filter(store):
    assert find(store, tags={"stage": "prod"}, order_by="run_name") == ["a", "c"]
    assert find(store, "metrics.acc > 0.9", tags={"stage": "prod"}) == ["a"]
    assert find(store, status="RUNNING") == [] and len(find(store, status=["FINISHED", "FAILED"])) == 6


def test_empty_results_and_errors(store):
    assert find(store, "metrics.acc > 2") == []
    assert find(store, "metrics.nothing > 0") == []
    store.get_or_create_experiment("empty")
    with db.read_session(store._engine) as session:
        assert queries.find_runs(session, "empty", "metrics.acc > 0", order_by="metrics.acc") == []
        with pytest.raises(exceptions.ExperimentNotFound):
            queries.find_runs(session, "nope")
    with pytest.raises(exceptions.InvalidFilter, match="column 13"):
        find(store, "metrics.acc ~ 1")
    with pytest.raises(exceptions.InvalidFilter, match="column 13"):
        find(store, order_by="metrics.acc upwards")


def test_the_same_answers_as_python_over_the_same_runs(store):
    """The SQL and a plain Python reading of each run's values agree, on each backend."""
    with db.read_session(store._engine) as session:
        runs = queries.find_runs(session, "exp")
    python = {r.run_name for r in runs if isinstance(r.params.get("lr"), (int, float))
              and not isinstance(r.params["lr"], bool) and r.params["lr"] < 0.5
              and r.metrics.get("acc", math.nan) > 0.75}
    assert names(store, "params.lr < 0.5 and metrics.acc > 0.75") == python == {"a", "b"}


def test_a_page_of_runs_costs_a_constant_number_of_queries(tracker):
    for i in range(50):
        with tracker.start_run(experiment_name="many", log_code=False, log_git_meta=False):
            tracker.log_params({"i": i, "group": "odd" if i % 2 else "even"})
            tracker.set_tag("stage", "prod")
            tracker.log_metrics({"acc": i / 50, "loss": 1 - i / 50}, step=0)
            tracker.log_metric("acc", i / 49, step=1)
    tracker.flush()
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(tracker._engine, "before_cursor_execute", count)
    try:
        with db.read_session(tracker._engine) as session:
            found = queries.find_runs(session, "many", "params.group = 'even' and metrics.acc >= 0",
                                      order_by="metrics.loss DESC")
            used = len(statements)
            queries.find_runs(session, "many", limit=5)
    finally:
        event.remove(tracker._engine, "before_cursor_execute", count)
    assert len(found) == 25 and all(r.params and r.metrics and r.tags for r in found)
    assert [r.params["i"] for r in found] == list(range(0, 50, 2))
    assert used <= 6, statements  # experiment, runs, params, tags, latest metrics (+ a transaction)
    assert len(statements) - used <= used


def test_a_page_too_big_to_list_its_ids_reads_children_through_a_subquery(store, monkeypatch):
    """Past MAX_LISTED_IDS runs, params, tags and metrics are read by the run selection itself
    (binding one value per run would hit SQLite's and PostgreSQL's limits on bound values)."""
    with db.read_session(store._engine) as session:
        listed = queries.find_runs(session, "exp", "params.lr >= 0.01 or tags.stage = 'dev'", order_by="run_name",
                                   limit=3)
        monkeypatch.setattr(queries, "MAX_LISTED_IDS", 1)
        through_subquery = queries.find_runs(session, "exp", "params.lr >= 0.01 or tags.stage = 'dev'",
                                             order_by="run_name", limit=3)
        everything = queries.find_runs(session, "exp", order_by="run_name", offset=1)
    assert [r.run_name for r in listed] == ["a", "b", "c"]
    assert [(r.params, r.tags, r.metrics.get("acc")) for r in through_subquery] == \
        [(r.params, r.tags, r.metrics.get("acc")) for r in listed]
    assert [r.run_name for r in everything] == ["b", "c", "d", "e", "f"] and everything[0].metrics["acc"] == 0.99
