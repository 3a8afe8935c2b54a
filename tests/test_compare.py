"""compare_runs: the one comparison of runs (differing params; latest value, direction and best run per metric)."""

import json
import math

import pytest

from runelog import compare, db, exceptions
from runelog.types import RunComparison


@pytest.fixture
def three(tracker):
    ids = []
    for name, params, metrics in (
        ("a", {"lr": 0.1, "depth": 3, "opt": "adam"}, {"val_loss": 0.5, "acc": 0.9, "auc": math.nan}),
        ("b", {"lr": 0.01, "depth": 3, "opt": "adam"}, {"val_loss": 0.3, "acc": 0.8, "auc": 0.7}),
        ("c", {"lr": 0.01, "depth": 3}, {"val_loss": 0.3, "acc": 0.95, "test/mse": 2.0}),
    ):
        with tracker.start_run(experiment_name="cmp", run_name=name, log_code=False, log_git_meta=False) as run_id:
            tracker.log_params(params)
            tracker.log_metric("acc", 0.0, step=0)  # an earlier point: only the latest counts
            tracker.log_metrics(metrics, step=1)
        ids.append(run_id)
    tracker.flush()
    return tracker, ids


def compare_runs(tracker, ids, **options) -> RunComparison:
    with db.read_session(tracker._engine) as session:
        return compare.compare_runs(session, ids, **options)


def test_params_that_differ_and_each_runs_values_in_the_order_given(three):
    tracker, (a, b, c) = three
    result = compare_runs(tracker, [c[:8], a, b])  # prefixes resolve; the order given is kept
    assert result.run_ids == (c, a, b) and [r.run_name for r in result.runs] == ["c", "a", "b"]
    assert result.params == {"depth": (3, 3, 3), "lr": (0.01, 0.1, 0.01), "opt": (None, "adam", "adam")}
    assert result.differing_params == ("lr", "opt")  # a run without "opt" differs from those with it


def test_latest_values_directions_and_best_runs(three):
    tracker, (a, b, c) = three
    result = compare_runs(tracker, [a, b, c])
    assert result.metrics["acc"] == (0.9, 0.8, 0.95)
    assert result.metrics["test/mse"] == (None, None, 2.0)
    assert result.lower_is_better == {"acc": False, "auc": False, "test/mse": True, "val_loss": True}
    assert result.direction_source == {"acc": "default", "auc": "default", "test/mse": "name", "val_loss": "name"}
    assert result.best_run_ids == {"acc": (c,), "auc": (b,), "test/mse": (c,), "val_loss": (b, c)}  # ties: both
    assert result.best_values["val_loss"] == 0.3 and result.best_values["auc"] == 0.7  # NaN is never best
    assert math.isnan(result.metrics["auc"][0])


def test_the_caller_overrides_the_direction(three):
    tracker, (a, b, c) = three
    assert compare_runs(tracker, [a, b, c], lower_is_better={"acc": True}).best_run_ids["acc"] == (b,)
    flipped = compare_runs(tracker, [a, b, c], lower_is_better=["acc"])
    assert flipped.best_run_ids["acc"] == (b,) and flipped.direction_source["acc"] == "caller"
    assert flipped.lower_is_better["val_loss"] is True  # the rest still by name
    everything_higher = compare_runs(tracker, [a, b, c], lower_is_better=False)
    assert everything_higher.best_run_ids["val_loss"] == (a,)
    assert set(everything_higher.direction_source.values()) == {"caller"}


@pytest.mark.parametrize("key, lower", [("loss", True), ("val_loss", True), ("logloss", True), ("train/error", True),
                                        ("error_rate", True), ("RMSE", True), ("val-mae", True), ("acc", False),
                                        ("f1", False), ("glossary_size", False)])
def test_direction_from_the_name(key, lower):
    assert compare.lower_is_better_by_name(key) is lower


def test_as_dict_is_json_ready(three):
    tracker, (a, b, _) = three
    result = compare_runs(tracker, [a, b]).as_dict()
    json.dumps(result, allow_nan=True)
    assert result["run_ids"] == [a, b] and result["params"]["lr"] == {"values": {a: 0.1, b: 0.01}, "differs": True}
    assert result["metrics"]["val_loss"]["direction"] == "lower"
    assert result["metrics"]["val_loss"]["best_run_ids"] == [b]


def test_bad_ids(three):
    tracker, (a, _, _) = three
    with pytest.raises(exceptions.RunNotFound):
        compare_runs(tracker, [a, "f" * 32])
    with pytest.raises(exceptions.InvalidValue):
        compare_runs(tracker, [])
    assert compare_runs(tracker, [a, a]).run_ids == (a,)  # a repeated id counts once
