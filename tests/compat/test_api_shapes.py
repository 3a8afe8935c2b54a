"""What 0.2.0's read calls returned and how its logging calls overwrote, as a 0.2.0 script
sees it. Not in 0.2.0's own tests; written here so that the run against 0.2.0 proves each
check."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from .target import MockModel


def test_the_default_experiment_appears_with_its_first_run(tracker):
    assert tracker.list_experiments() == []
    with tracker.start_run() as run_id:
        pass
    assert tracker.list_experiments() == [{"experiment_id": "0", "name": "default-experiment"}]
    assert tracker.get_run_details(run_id)["meta"]["experiment_id"] == "0"
    assert list(tracker.load_results("default-experiment").index) == [run_id]
    assert list(tracker.load_results("0").index) == [run_id]


def test_params_keep_their_json_types(tracker):
    params = {"lst": [1, 2], "flag": True, "nothing": None, "d": {"a": 1}, "s": "x", "f": 0.1, "i": 3}
    with tracker.start_run(experiment_name="types") as run_id:
        for key, value in params.items():
            tracker.log_param(key, value)
    assert tracker.get_run_details(run_id)["params"] == params
    run = tracker.get_run(run_id)
    assert {k: run[f"param_{k}"] for k in params} == params


def test_logging_a_key_again_overwrites(tracker, tmp_path):
    """0.2.0 kept one file per key: a second value replaced the first."""
    with tracker.start_run(experiment_name="again") as run_id:
        tracker.log_param("lr", 0.1)
        tracker.log_param("lr", 0.2)
        tracker.log_metric("loss", 1.0)
        tracker.log_metric("loss", 0.5)
        for content in ("first", "second"):
            (tmp_path / "notes.txt").write_text(content)
            tracker.log_artifact(str(tmp_path / "notes.txt"))
        tracker.log_model(MockModel(1), "model.pkl")
        tracker.log_model(MockModel(2), "model.pkl")
    details = tracker.get_run_details(run_id)
    assert details["params"] == {"lr": 0.2}
    assert details["metrics"] == {"loss": 0.5}
    assert sorted(a for a in details["artifacts"] if a in ("notes.txt", "model.pkl")) == ["model.pkl", "notes.txt"]
    assert tracker.load_results("again").loc[run_id, "loss"] == 0.5
    with open(tracker.download_artifact(run_id, "notes.txt", str(tmp_path / "dl"))) as f:
        assert f.read() == "second"
    tracker.register_model(run_id, "model.pkl", "m")
    assert tracker.load_registered_model("m").val == 2


def test_get_run_shape(tracker):
    with tracker.start_run(experiment_name="shape") as run_id:
        tracker.log_param("alpha", 0.5)
        tracker.log_metric("accuracy", 0.9)
    run = tracker.get_run(run_id)
    assert {"run_id", "experiment_id", "status", "start_time", "end_time", "param_alpha", "accuracy"} <= set(run)
    assert run["run_id"] == run_id and run["status"] == "FINISHED"
    assert run["param_alpha"] == 0.5 and run["accuracy"] == 0.9


def test_load_results_frame_as_0_2_0(tracker):
    """Indexed by run_id; meta columns, `param_` columns and metric columns; numeric params
    numeric; start/end times naive local ISO-8601 strings."""
    before = datetime.now()
    for alpha, accuracy in ((0.1, 0.7), (0.3, 0.9), (0.2, 0.8)):
        with tracker.start_run(experiment_name="frame"):
            tracker.log_param("alpha", alpha)
            tracker.log_param("solver", "lbfgs")
            tracker.log_metric("accuracy", accuracy)
    frame = tracker.load_results("frame")
    assert frame.index.name == "run_id"
    assert list(frame.index) == sorted(frame.index)  # sorted by run id when no sort_by
    assert {"experiment_id", "status", "start_time", "end_time", "param_alpha", "param_solver", "accuracy"} \
        <= set(frame.columns)
    assert pd.api.types.is_numeric_dtype(frame["param_alpha"])
    assert pd.api.types.is_numeric_dtype(frame["accuracy"])
    for column in ("start_time", "end_time"):
        for value in frame[column]:
            assert isinstance(value, str), (column, value)
            parsed = datetime.fromisoformat(value)
            assert parsed.tzinfo is None
            assert before.replace(microsecond=0) <= parsed.replace(microsecond=0) <= datetime.now()
    assert (frame["start_time"] <= frame["end_time"]).all()  # comparable as strings

    by_accuracy = tracker.load_results("frame", sort_by="accuracy", ascending=False)
    assert list(by_accuracy["accuracy"]) == [0.9, 0.8, 0.7]
    assert list(tracker.load_results("frame", sort_by="param_alpha")["param_alpha"]) == [0.1, 0.2, 0.3]


def test_experiment_runs_and_summaries(tracker):
    exp_id = tracker.get_or_create_experiment("summed")
    ids = []
    for _ in range(2):
        with tracker.start_run(experiment_id=exp_id) as run_id:
            pass
        ids.append(run_id)
    runs = tracker.get_experiment_runs(exp_id)
    assert sorted(r["run_id"] for r in runs) == sorted(ids)
    for run in runs:
        assert {"run_id", "experiment_id", "status", "start_time", "end_time", "timestamp"} <= set(run)
        assert run["experiment_id"] == exp_id and run["status"] == "FINISHED"
    (summary,) = tracker.get_experiment_summaries()
    assert {"experiment_id": exp_id, "name": "summed", "num_runs": 2}.items() <= summary.items()
    assert summary["last_run"] is not None and summary["created_at"] is not None


def test_registry_shapes(tracker):
    with tracker.start_run(experiment_name="reg") as run_id:
        tracker.log_model(MockModel(), "model.pkl")
    assert tracker.register_model(run_id, "model.pkl", "b-model", tags={"stage": "dev"}) == "1"
    tracker.register_model(run_id, "model.pkl", "a-model")
    tracker.register_model(run_id, "model.pkl", "a-model")
    assert tracker.list_registered_models() == ["a-model", "b-model"]
    assert tracker.list_registered_models(ascending=False) == ["b-model", "a-model"]
    (version,) = tracker.get_model_versions("b-model")
    assert {"model_name": "b-model", "version": "1", "source_run_id": run_id, "tags": {"stage": "dev"}}.items() \
        <= version.items()
    datetime.fromisoformat(version["registration_timestamp"])
    assert [v["version"] for v in tracker.get_model_versions("a-model")] == ["2", "1"]
    assert [v["version"] for v in tracker.get_model_versions("a-model", ascending=True)] == ["1", "2"]
    assert tracker.get_model_tags("a-model", "1") == {}


def test_an_exception_in_a_run_propagates_and_ends_the_run(tracker):
    with pytest.raises(KeyError):
        with tracker.start_run(experiment_name="boom") as run_id:
            tracker.log_param("a", 1)
            raise KeyError("boom")
    details = tracker.get_run_details(run_id)
    assert details["meta"]["end_time"] is not None and details["params"] == {"a": 1}
    # (0.2.0 wrote status FINISHED here; FAILED now, see docs/migrating.md.)
    with tracker.start_run(experiment_name="boom"):  # the tracker is usable again
        tracker.log_param("b", 2)


def test_run_tags_are_empty_until_set(tracker):
    with tracker.start_run(experiment_name="tags") as run_id:
        assert tracker.get_run_tags() == {}
        tracker.set_run_tags({"team": "core", "n": 3})
        assert tracker.get_run_tags() == {"team": "core", "n": 3}
    assert tracker.get_run_details(run_id)["meta"]["tags"] == {"team": "core", "n": 3}
