"""'The latest value of a metric' means one thing to every reader: the value at the highest step,
and of several at that step, the one logged last. (It was once written four times, and they drifted.)"""

from __future__ import annotations

import math


def test_every_reader_gives_the_same_latest_value(tracker):
    with tracker.run("latest", log_code=False) as run:
        run.log_metric("loss", 0.9, step=5)
        run.log_metric("loss", 0.1, step=2)        # logged later, at a lower step: not the latest
        run.log_metric("acc", 0.5, step=3)
        run.log_metric("acc", 0.7, step=3)        # the same step again: the one logged last wins
        run.log_metric("gap", float("nan"), step=1)
    expected = {"loss": 0.9, "acc": 0.7}

    def same(found: dict) -> None:
        assert {k: found[k] for k in expected} == expected
        assert math.isnan(found["gap"])

    same(tracker.get_run(run.id))
    same(tracker.get_run_details(run.id)["metrics"])
    same(tracker.find_runs("latest")[0].metrics)
    same(tracker.list_runs("latest")[0]["metrics"])
    same(tracker.load_results("latest").loc[run.id].to_dict())
    same({m["key"]: m["value"] for m in tracker.get_metric_summary(run.id)})
    same({k: values[0] for k, values in tracker.compare_runs([run.id]).metrics.items()})
    columns, rows = tracker.sql("SELECT key, value FROM latest_metrics WHERE run_id = :r", {"r": run.id})
    same({k: (float("nan") if v is None else v) for k, v in rows})


def test_filters_and_sorting_use_that_value(tracker):
    with tracker.run("latest", log_code=False) as high:
        high.log_metric("loss", 0.9, step=5)
        high.log_metric("loss", 0.1, step=2)
    with tracker.run("latest", log_code=False) as low:
        low.log_metric("loss", 0.5, step=1)
    assert [r.id for r in tracker.find_runs("latest", "metrics.loss > 0.8")] == [high.id]
    assert [r.id for r in tracker.find_runs("latest", order_by="metrics.loss")] == [low.id, high.id]
    assert tracker.list_runs("latest", sort_by="loss")[0]["run_id"] == low.id
