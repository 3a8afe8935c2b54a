"""An outside tester's attacks on the run query service (D2 ... D29): each on SQLite and PostgreSQL."""

from __future__ import annotations

import math
import time
from datetime import timezone

import pytest

from runelog.exceptions import InvalidFilter, InvalidInput, InvalidValue
from runelog.filters import MAX_FILTER_TERMS


def _run(tracker, name, params=None, metrics=None, tags=None, experiment="atk"):
    with tracker.start_run(experiment_name=experiment, run_name=name, log_code=False, log_git_meta=False) as run:
        if params:
            tracker.log_params(params)
        for key, value in (metrics or {}).items():
            tracker.log_metric(key, value, step=0)
        for key, value in (tags or {}).items():
            tracker.set_tag(key, value)
    return run


def names(tracker, filter=None, experiment="atk", **options) -> list[str]:
    return [r.run_name for r in tracker.find_runs(experiment, filter, **options)]


# ---------------------------------------------------------------- D2 / D29: long filters


def test_a_long_and_or_chain_parses_and_runs(tracker):
    _run(tracker, "a", params={"p0": 1, "p1": 1}, metrics={"m": 1.0})
    many = " and ".join(["metrics.m > 0"] * MAX_FILTER_TERMS)
    assert names(tracker, many) == ["a"]
    alternatives = " or ".join([f"params.p{i} = 1" for i in range(MAX_FILTER_TERMS)])
    assert names(tracker, alternatives) == ["a"]


def test_a_filter_beyond_the_maximum_is_refused_by_its_size(tracker):
    _run(tracker, "a", metrics={"m": 1.0})
    with pytest.raises(InvalidFilter, match=f"filter too long: 5000 terms, at most {MAX_FILTER_TERMS}"):
        tracker.find_runs("atk", " and ".join(["metrics.m > 0"] * 5000))
    with pytest.raises(InvalidFilter, match="filter too long"):
        tracker.find_runs("atk", " or ".join(["(metrics.m > 0 and params.x = 1)"] * 3000))


def test_two_hundred_param_terms_cost_linear_time(tracker):
    for i in range(9):
        _run(tracker, f"r{i}", params={f"p{j}": 1 for j in range(200)})
    started = time.perf_counter()
    assert len(names(tracker, " and ".join(f"params.p{j} = 1" for j in range(200)))) == 9
    assert len(names(tracker, " and ".join(f"tags.t{j} = 'x'" for j in range(200)))) == 0
    assert time.perf_counter() - started < 5


# ---------------------------------------------------------------- D3: huge limit / offset


@pytest.mark.parametrize("option", ["limit", "offset"])
def test_a_limit_or_offset_beyond_64_bits_is_refused(tracker, option):
    _run(tracker, "a")
    with pytest.raises(InvalidValue, match=str(2**63 - 1)):
        tracker.find_runs("atk", **{option: 10**30})
    assert names(tracker, **{option: 2**63 - 1}) == (["a"] if option == "limit" else [])


# ---------------------------------------------------------------- D5: IN lists, NUL, surrogates


def test_an_in_list_longer_than_a_query_can_bind(tracker):
    _run(tracker, "a", params={"i": 65_999}, tags={"s": "v65999"})
    assert names(tracker, f"params.i in ({', '.join(str(i) for i in range(66_000))})") == ["a"]
    assert names(tracker, f"run_name in ({', '.join(repr(f'n{i}') for i in range(66_000))}, 'a')") == ["a"]
    assert names(tracker, f"params.i not in ({', '.join(str(i) for i in range(65_990))})") == ["a"]


def test_a_key_with_a_nul_is_refused_alike(tracker):
    _run(tracker, "a", tags={"t": "a"})
    with pytest.raises(InvalidFilter, match="NUL"):
        tracker.find_runs("atk", "tags.`\x00` = 'a'")
    assert names(tracker, "tags.t = 'a\x00'") == []
    with pytest.raises(InvalidFilter, match="NUL"):
        tracker.find_runs("atk", "tags.t like 'a\x00'")
    with pytest.raises(InvalidFilter, match="NUL"):
        tracker.find_runs("atk", "run_name = 'a\x00'")


def test_a_lone_surrogate_is_refused_at_its_position(tracker):
    _run(tracker, "a", tags={"t": "a"})
    with pytest.raises(InvalidFilter) as caught:
        tracker.find_runs("atk", "tags.t = 'x\ud800'")
    assert caught.value.position == 11


# ---------------------------------------------------------------- D6: big and precise numbers


def test_big_integers_compare_exactly_on_both_backends(tracker):
    _run(tracker, "f", params={"lr": 10**20, "n": 2**53 + 1, "small": 3})
    assert names(tracker, "params.lr > 99999999999999999999") == ["f"]
    assert names(tracker, "params.lr = 100000000000000000001") == []
    assert names(tracker, "params.lr = 100000000000000000000") == ["f"]
    assert names(tracker, "params.lr < 100000000000000000001") == ["f"]
    assert names(tracker, f"params.n = {2**53 + 1}") == ["f"]
    assert names(tracker, f"params.n = {2**53}") == []
    assert names(tracker, f"params.n > {2**53}") == ["f"]
    assert names(tracker, "params.small = 3.0") == ["f"]
    assert names(tracker, "params.small < 3.5") == ["f"]
    assert names(tracker, "params.small in (2, 3)") == ["f"]
    assert names(tracker, "params.small in (2.5, 3)") == ["f"]


def test_integers_too_long_for_a_float_compare_alike(tracker):
    _run(tracker, "huge", params={"n": 10**400, "m": -(10**400)})
    assert names(tracker, "params.n > 0.5 and params.m < -0.5") == ["huge"]
    assert names(tracker, f"params.n > {10**399} and params.m < {-(10**399)}") == ["huge"]
    assert names(tracker, f"params.n = {10**400} and params.n != {10**400 + 1}") == ["huge"]
    assert names(tracker, "params.n = 0.5 or params.m in (1.5, 2.5)") == []


def test_a_long_list_of_floats_and_texts_on_sqlite_too(tracker):
    _run(tracker, "a", params={"x": 0.25}, metrics={"m": 7.0}, tags={"s": "v40001"})
    assert names(tracker, f"params.x in ({', '.join(str(i + 0.25) for i in range(40_000))})") == ["a"]
    assert names(tracker, f"metrics.m in ({', '.join(str(i) for i in range(40_000))})") == ["a"]


# ---------------------------------------------------------------- D7: milliseconds


def test_start_time_in_whole_milliseconds_matches_its_run(tracker):
    run = _run(tracker, "a")
    started = tracker.find_runs("atk")[0].start_time
    ms = int(started.astimezone(timezone.utc).timestamp() * 1000)
    for op, expected in [("=", ["a"]), ("<=", ["a"]), (">=", ["a"]), ("<", []), (">", []), ("!=", [])]:
        assert names(tracker, f"start_time {op} {ms}") == expected, op
    assert names(tracker, f"start_time > {ms - 1}") == ["a"]
    assert names(tracker, f"start_time < {ms + 1}") == ["a"]
    assert names(tracker, f"start_time in ({ms})") == ["a"]
    assert run is not None


# ---------------------------------------------------------------- D9 / D19: arguments


def test_compare_runs_lower_is_better_arguments(tracker):
    a = _run(tracker, "a", metrics={"acc": 0.9})
    b = _run(tracker, "b", metrics={"acc": 0.8})
    ids = [a, b]
    result = tracker.compare_runs(ids, lower_is_better="acc")
    assert result.lower_is_better["acc"] is True
    assert result.best_run_ids["acc"] == (ids[1],)
    for bad in (5, 1.5, [5], {"acc": "yes"}, {3: True}):
        with pytest.raises(InvalidInput, match="lower_is_better"):
            tracker.compare_runs(ids, lower_is_better=bad)


@pytest.mark.parametrize("options, argument", [
    ({"order_by": 5}, "order_by"), ({"status": 5}, "status"), ({"status": [5]}, "status"),
    ({"tags": "a=3"}, "tags"), ({"status": "BOGUS"}, "status"), ({"filter": 5}, "filter")])
def test_bad_find_runs_arguments_name_the_argument(tracker, options, argument):
    _run(tracker, "a")
    with pytest.raises(InvalidInput, match=argument):
        tracker.find_runs("atk", **options)


def test_status_in_any_case(tracker):
    _run(tracker, "a")
    assert names(tracker, status="finished") == ["a"]
    assert names(tracker, status=["Finished", "FAILED"]) == ["a"]
    with pytest.raises(InvalidValue, match="RUNNING, FINISHED, FAILED, KILLED"):
        tracker.find_runs("atk", status="BOGUS")


# ---------------------------------------------------------------- D10 / D11: NaN and -0.0


def test_nan_sorts_just_before_missing_in_both_directions(tracker):
    _run(tracker, "missing")
    _run(tracker, "nan", metrics={"m": math.nan})
    _run(tracker, "one", metrics={"m": 1.0})
    _run(tracker, "two", metrics={"m": 2.0})
    assert names(tracker, order_by="metrics.m DESC") == ["two", "one", "nan", "missing"]
    assert names(tracker, order_by="metrics.m ASC") == ["one", "two", "nan", "missing"]


def test_negative_zero_reads_back_alike(tracker):
    _run(tracker, "z", metrics={"m": -0.0})
    value = tracker.find_runs("atk")[0].metrics["m"]
    assert value == 0.0 and math.copysign(1, value) == 1.0
    run_id = tracker.find_runs("atk")[0].run_id
    assert math.copysign(1, tracker.compare_runs([run_id]).metrics["m"][0]) == 1.0


# ---------------------------------------------------------------- D20: Unicode keys


def test_unquoted_unicode_keys(tracker):
    _run(tracker, "u", params={"é": 1}, metrics={"ключ": 2.0})
    assert names(tracker, "metrics.ключ > 0 and params.é = 1") == ["u"]
    assert names(tracker, "metrics.ключ > 0 AND params.é = 1 OR params.é IN (1)") == ["u"]


@pytest.mark.parametrize("depth", [0, -1, 2.5, True, "3"])
def test_a_lineage_depth_that_is_no_count_of_hops_is_refused(tracker, depth):
    with tracker.run("lin", log_code=False) as run:
        pass
    with pytest.raises(InvalidValue, match="depth"):
        tracker.get_lineage(run.id, depth=depth)


def test_a_huge_lineage_depth_means_no_limit(tracker):
    with tracker.run("lin", log_code=False) as source:
        source.log_text("x", "x.txt")
    with tracker.run("lin", log_code=False) as user:
        user.log_input("x", source.id, "x.txt")
    assert [e.run_id for e in tracker.get_lineage(user.id, depth=10**30)] == [source.id]


def test_minus_zero_reads_as_zero_everywhere(tracker):
    with tracker.run("zero", log_code=False) as run:
        run.log_metric("m", -0.0)
    values = [tracker.get_metric_summary(run.id)[0]["value"], tracker.get_metric_history(run.id, "m")["value"][0],
              tracker.find_runs("zero")[0].metrics["m"], tracker.get_run(run.id)["m"]]
    assert [math.copysign(1, v) for v in values] == [1.0] * 4


@pytest.mark.parametrize("levels", [300, 2000])
def test_parentheses_nested_too_deeply_are_an_invalid_filter(tracker, levels):
    with tracker.run("deep", log_code=False) as run:
        run.log_metric("acc", 0.5)
    with pytest.raises(InvalidFilter, match="too deeply"):
        tracker.find_runs("deep", "(" * levels + "metrics.acc > 0" + ")" * levels)
