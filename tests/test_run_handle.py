"""The Run handle (`with tracker.run(...) as run:`) and 0.2.0's `start_run` spelling, side by side."""

from __future__ import annotations

import pytest

from runelog import exceptions
from runelog.run import Run


def test_run_yields_a_handle_whose_calls_land_on_its_run(tracker, tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n")
    with tracker.run("handle", name="first", tags={"stage": "dev"}, log_code=False) as run:
        assert isinstance(run, Run) and run.id == run.run_id == tracker.active_run_id
        run.log_param("lr", 0.1)
        run.log_params({"depth": 3})
        run.log_metric("loss", 0.5)
        run.log_metrics({"loss": 0.25, "acc": 0.9}, step=5)
        run.set_tag("owner", "me")
        run.log_artifact(data)
        run.log_dataset(data, "train")
        run.log_text("# notes", "notes.md")
    details = tracker.get_run_details(run.id)
    assert details["meta"]["run_name"] == "first"
    assert details["meta"]["status"] == "FINISHED"
    assert details["meta"]["tags"] == {"stage": "dev", "owner": "me"}
    assert details["params"] == {"lr": 0.1, "depth": 3}
    assert details["metrics"] == {"loss": 0.25, "acc": 0.9}
    assert sorted(details["artifacts"]) == ["data.csv", "notes.md"]
    assert [d["name"] for d in details["datasets"]] == ["train"]
    history = tracker.get_metric_history(run.id, "loss")
    assert list(history["step"]) == [0, 5]


def test_flat_calls_act_on_the_handle_s_run(tracker):
    with tracker.run("handle") as run:
        tracker.log_metric("m", 1.0)
        run.log_metric("m", 2.0)
        tracker.set_tag("t", "flat")
    assert list(tracker.get_metric_history(run.id, "m")["value"]) == [1.0, 2.0]
    assert tracker.get_run_tags(run.id) == {"t": "flat"}


def test_start_run_still_yields_the_id(tracker):
    with tracker.start_run(experiment_name="old", run_name="r") as run_id:
        assert isinstance(run_id, str) and run_id == tracker.active_run_id
        tracker.log_param("p", 1)
    assert tracker.get_run(run_id)["param_p"] == 1


def test_an_exception_in_the_block_records_failed_and_propagates(tracker):
    with pytest.raises(ZeroDivisionError):
        with tracker.run("handle") as run:
            raise ZeroDivisionError("division by zero")
    meta = tracker.get_run(run.id)
    assert meta["status"] == "FAILED" and meta["error"].startswith("ZeroDivisionError")
    assert tracker.active_run_id is None


def test_a_handle_used_after_its_block_is_refused_and_writes_nothing(tracker, tmp_path):
    with tracker.run("handle", log_code=False) as run:
        run.log_metric("m", 1.0)
    for call in (lambda: run.log_metric("m", 2.0), lambda: run.log_param("p", 1), lambda: run.set_tag("t", 1),
                 lambda: run.log_text("x", "late.txt")):
        with pytest.raises(exceptions.RunEnded, match=run.id):
            call()
    details = tracker.get_run_details(run.id)
    assert details["params"] == {} and details["meta"]["tags"] == {} and details["artifacts"] == []
    assert list(tracker.get_metric_history(run.id, "m")["value"]) == [1.0]


def test_a_second_run_inside_an_open_one_is_refused(tracker):
    with tracker.run("handle") as outer:
        with pytest.raises(exceptions.RunAlreadyActive, match=outer.id):
            with tracker.run("handle"):
                pass
        outer.log_metric("still", 1.0)  # the open run is untouched
    assert tracker.get_run(outer.id)["still"] == 1.0


def test_bad_tags_at_creation_create_no_run(tracker):
    with pytest.raises(exceptions.InvalidInput):
        with tracker.run("handle", tags={"": 1}):
            pass
    assert tracker.list_experiments() == [] or tracker.load_results("handle").empty


def test_deleting_the_active_run_or_its_experiment_is_refused(tracker):
    with tracker.run("handle") as run:
        with pytest.raises(exceptions.RunIsActive):
            tracker.delete_run(run.id)
        with pytest.raises(exceptions.ExperimentHasActiveRun):
            tracker.delete_experiment("handle")
    tracker.delete_run(run.id)
    assert tracker.get_run(run.id) is None


def test_an_interrupt_while_the_run_opens_leaves_no_active_run(tracker, monkeypatch):
    from runelog.run_writer import RunWriter

    def interrupted(self, heartbeat=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(RunWriter, "open", interrupted)
    with pytest.raises(KeyboardInterrupt):
        with tracker.run("handle", log_code=False):
            pass  # pragma: no cover - never reached
    monkeypatch.undo()
    assert tracker.active_run_id is None
    (run,) = tracker.find_runs("handle")
    assert (run.status, run.error) == ("KILLED", "KeyboardInterrupt")
    with tracker.run("handle", log_code=False) as again:  # the tracker is usable again
        again.log_metric("m", 1.0)
    assert tracker.get_run(again.id)["status"] == "FINISHED"


def test_a_failure_to_record_the_end_never_hides_the_block_s_own_exception(tracker, monkeypatch):
    from runelog.run_writer import RunWriter

    real_end = RunWriter.end

    def busy(self, status, error, wait=None):
        real_end(self, status, error, wait)
        raise exceptions.StoreBusy("the run's end", 0.1, "database is locked")

    monkeypatch.setattr(RunWriter, "end", busy)
    with pytest.warns(RuntimeWarning, match="could not record how run"):
        with pytest.raises(ZeroDivisionError):
            with tracker.run("handle", log_code=False):
                raise ZeroDivisionError("the user's own error")
    assert tracker.active_run_id is None


def test_repr_never_shows_a_password(tmp_path):
    from runelog.api.base import StoreHandle

    store = StoreHandle.__new__(StoreHandle)
    from runelog.location import locate

    store.location = locate(None, "postgresql+psycopg://me:s3cret@db.example/runs", str(tmp_path))
    assert "s3cret" not in repr(store) and "me" in repr(store)


def test_metric_points_and_artifacts_come_back_typed(tracker, tmp_path):
    from runelog.types import ArtifactInfo, MetricPoint

    (tmp_path / "a.txt").write_text("abc")
    with tracker.run("typed", log_code=False) as run:
        run.log_metric("loss", 0.5, step=3)
        run.log_metric("loss", 0.25, step=7)
        run.log_artifact(tmp_path / "a.txt")
    points = tracker.get_metric_points(run.id, "loss")
    assert all(isinstance(p, MetricPoint) for p in points)
    assert [(p.key, p.step, p.value) for p in points] == [("loss", 3, 0.5), ("loss", 7, 0.25)]
    assert points[0].timestamp is not None and points[0].timestamp.tzinfo is not None
    (artifact,) = tracker.list_artifacts(run.id)
    assert isinstance(artifact, ArtifactInfo)
    assert (artifact.run_id, artifact.name, artifact.size) == (run.id, "a.txt", 3)
    assert artifact.as_dict()["sha256"] == artifact.sha256
