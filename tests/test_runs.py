"""Experiments, runs, params, metrics and tags through the public API, on real SQLite stores."""

import math
import os
import socket
from datetime import datetime, timezone

import pandas as pd
import pytest

from runelog import RuneLog, exceptions, get_tracker


def test_store_lives_in_one_sqlite_file_and_a_blob_folder(tmp_path):
    t = get_tracker(str(tmp_path / "p"))
    with t.start_run():
        t.log_metric("m", 1.0)
    home = tmp_path / "p" / ".runelog"
    assert (home / "runelog.db").is_file()
    assert (home / "blobs").is_dir()


def test_runelog_home_sets_the_default_path_and_argument_overrides(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNELOG_HOME", str(tmp_path / "home"))
    get_tracker().close()
    assert (tmp_path / "home" / ".runelog" / "runelog.db").is_file()
    get_tracker(str(tmp_path / "other")).close()
    assert (tmp_path / "other" / ".runelog" / "runelog.db").is_file()


def test_default_experiment_is_zero(tracker):
    assert tracker.get_experiment("0") is None  # created by the first run that needs it, as in 0.2.0
    with tracker.start_run() as run_id:
        pass
    assert tracker.get_experiment("0") == {"experiment_id": "0", "name": "default-experiment"}
    assert tracker.get_run(run_id)["experiment_id"] == "0"


def test_experiments_get_string_ids_and_are_created_once(tracker):
    first = tracker.get_or_create_experiment("exp")
    assert isinstance(first, str)
    assert tracker.get_or_create_experiment("exp") == first
    assert {"experiment_id": first, "name": "exp"} in tracker.list_experiments()
    assert tracker.get_experiment("999") is None


def test_start_run_with_unknown_experiment_id_raises(tracker):
    with pytest.raises(exceptions.ExperimentNotFound):
        with tracker.start_run(experiment_id="42"):
            pass
    with pytest.raises(exceptions.InvalidExperimentId):
        with tracker.start_run(experiment_id="abc"):
            pass


def test_a_run_is_running_inside_its_block_and_finished_after(tracker):
    with tracker.start_run(experiment_name="e") as run_id:
        assert tracker.get_run(run_id)["status"] == "RUNNING"
    assert tracker.get_run_details(run_id)["meta"]["status"] == "FINISHED"


def test_run_ids_are_full_uuid4_hex(tracker):
    with tracker.start_run(experiment_name="e") as run_id:
        pass
    assert len(run_id) == 32 and int(run_id, 16) >= 0


def test_runs_record_their_name_process_and_host(tracker):
    with tracker.start_run(experiment_name="e", run_name="first") as run_id:
        pass
    meta = tracker.get_run_details(run_id)["meta"]
    assert meta["run_name"] == "first"
    assert meta["pid"] == os.getpid()
    assert meta["host"] == socket.gethostname()


def test_runs_record_utc_start_and_end_times(tracker):
    before = datetime.now(timezone.utc)
    with tracker.start_run(experiment_name="e") as run_id:
        pass
    meta = tracker.get_run_details(run_id)["meta"]
    start = datetime.fromisoformat(meta["start_time"])
    end = datetime.fromisoformat(meta["end_time"])
    assert start.tzinfo is not None and before <= start <= end


@pytest.fixture
def git_repo(tmp_path, monkeypatch):
    """A dirty git repository on branch `trunk` as the working folder; returns its HEAD commit."""
    import subprocess

    repo = tmp_path / "repo"
    repo.mkdir()
    for cmd in (["init", "-q", "-b", "trunk"], ["config", "user.email", "a@b"], ["config", "user.name", "a"],
                ["commit", "-q", "--allow-empty", "-m", "x"]):
        subprocess.run(["git", *cmd], cwd=repo, check=True)
    (repo / "untracked.txt").write_text("dirty")
    monkeypatch.chdir(repo)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()


def test_git_state_is_recorded_inside_a_repository(git_repo, tmp_path):
    t = get_tracker(str(tmp_path / "s"))
    with t.start_run() as run_id:
        pass
    meta = t.get_run_details(run_id)["meta"]
    assert (meta["git_commit"], meta["git_branch"], meta["git_dirty"]) == (git_repo, "trunk", True)


def test_log_git_meta_false_records_no_git_state(git_repo, tmp_path):
    t = get_tracker(str(tmp_path / "s"))
    with t.start_run(log_git_meta=False) as other:
        pass
    assert t.get_run_details(other)["meta"]["git_commit"] is None


def test_params_and_tags_round_trip_with_their_types(tracker):
    values = {"flag": True, "lr": 0.5, "name": "x", "shape": [1000, 20], "none": None, "nested": {"a": [1, 2]}}
    with tracker.start_run() as run_id:
        tracker.log_params(values)
        tracker.set_run_tags(values)
    details = tracker.get_run_details(run_id)
    assert details["params"] == values
    assert tracker.get_run_tags(run_id) == values
    assert details["meta"]["tags"] == values


def test_log_parameter_is_an_alias_and_relogging_overwrites(tracker):
    with tracker.start_run() as run_id:
        tracker.log_parameter("lr", 0.1)
        tracker.log_param("lr", 0.2)
    assert tracker.get_run(run_id)["param_lr"] == 0.2


def test_set_run_tags_replaces_and_set_tag_adds(tracker):
    with tracker.start_run() as run_id:
        tracker.set_run_tags({"a": 1, "b": 2})
        tracker.set_run_tags({"c": 3})
        tracker.set_tag("d", "four")
        assert tracker.get_run_tags() == {"c": 3, "d": "four"}
    assert tracker.get_run_tags(run_id) == {"c": 3, "d": "four"}


def test_metric_history_is_every_point_in_order_with_utc_timestamps(tracker):
    with tracker.start_run() as run_id:
        for value in (0.9, 0.5, 0.3):
            tracker.log_metric("loss", value)
    history = tracker.get_metric_history(run_id, "loss")
    assert list(history.columns) == ["step", "value", "timestamp"]
    assert history["value"].tolist() == [0.9, 0.5, 0.3]
    assert str(history["timestamp"].dt.tz) == "UTC"


def test_metric_steps_count_up_from_zero_when_not_given(tracker):
    with tracker.start_run() as run_id:
        for value in (0.9, 0.5, 0.3):
            tracker.log_metric("loss", value)
    assert tracker.get_metric_history(run_id, "loss")["step"].tolist() == [0, 1, 2]


def test_a_metric_step_not_given_follows_the_last_given_step(tracker):
    with tracker.start_run() as run_id:
        tracker.log_metric("acc", 0.7, step=10)
        tracker.log_metric("acc", 0.8)
    assert tracker.get_metric_history(run_id, "acc")["step"].tolist() == [10, 11]


def test_get_run_shows_the_latest_metric_value(tracker):
    with tracker.start_run() as run_id:
        for value in (0.9, 0.5, 0.3):
            tracker.log_metric("loss", value)
    assert tracker.get_run(run_id)["loss"] == 0.3


def test_log_metrics_shares_a_step(tracker):
    with tracker.start_run() as run_id:
        tracker.log_metrics({"a": 1.0, "b": 2.0}, step=5)
    assert tracker.get_metric_history(run_id, "a")["step"].tolist() == [5]
    assert tracker.get_metric_history(run_id, "b")["step"].tolist() == [5]


def test_nan_and_infinities_round_trip(tracker):
    with tracker.start_run() as run_id:
        tracker.log_metric("m", float("nan"))
        tracker.log_metric("m", float("inf"))
        tracker.log_metric("m", float("-inf"))
    values = tracker.get_metric_history(run_id, "m")["value"].tolist()
    assert math.isnan(values[0]) and values[1:] == [math.inf, -math.inf]
    frame = tracker.load_results("0")
    assert frame.loc[run_id, "m"] == -math.inf


@pytest.mark.parametrize("bad", ["high", None, [1.0], {"a": 1}])
def test_non_numeric_metric_raises_and_stores_nothing(tracker, bad):
    with tracker.start_run() as run_id:
        with pytest.raises(TypeError, match="'acc'"):
            tracker.log_metric("acc", bad)
        with pytest.raises(TypeError, match="'acc'"):
            tracker.log_metrics({"ok": 1.0, "acc": bad})
    assert tracker.get_run_details(run_id)["metrics"] == {}


def test_bad_param_value_names_the_key_and_stores_nothing(tracker):
    with tracker.start_run() as run_id:
        with pytest.raises(exceptions.InvalidValue, match="'model'"):
            tracker.log_params({"fine": 1, "model": object()})
        with pytest.raises(exceptions.InvalidKey):
            tracker.set_tag("", 1)
    assert tracker.get_run_details(run_id)["params"] == {}


def test_logging_outside_a_run_raises_no_active_run(tracker, tmp_path):
    (tmp_path / "f.txt").write_text("x")
    calls = [
        lambda: tracker.log_param("a", 1), lambda: tracker.log_metric("a", 1.0),
        lambda: tracker.log_artifact(str(tmp_path / "f.txt")), lambda: tracker.set_run_tags({"a": 1}),
        lambda: tracker.get_run_tags(), lambda: tracker.log_model(1, "m.joblib"),
        lambda: tracker.log_dataset(str(tmp_path / "f.txt"), "d"), lambda: tracker.set_tag("a", 1),
    ]
    for call in calls:
        with pytest.raises(exceptions.NoActiveRun):
            call()


def test_starting_a_run_inside_a_run_is_refused_and_creates_nothing(tracker):
    with tracker.start_run(experiment_name="e") as outer:
        with pytest.raises(exceptions.RunAlreadyActive):
            with tracker.start_run(experiment_name="e"):
                pass
        tracker.log_metric("still", 1.0)
    assert tracker.load_results("e").index.tolist() == [outer]


@pytest.fixture
def failed_run(tracker):
    """A run that logged a param and a metric, then raised ZeroDivisionError (which propagated)."""
    with pytest.raises(ZeroDivisionError):
        with tracker.start_run() as run_id:
            tracker.log_param("p", 1)
            tracker.log_metric("m", 2.0)
            raise ZeroDivisionError("division by zero")
    return run_id


def test_an_exception_marks_the_run_failed_with_the_error(tracker, failed_run):
    meta = tracker.get_run_details(failed_run)["meta"]
    assert meta["status"] == "FAILED"
    assert "ZeroDivisionError" in meta["error"]


def test_a_failed_run_keeps_what_it_logged(tracker, failed_run):
    details = tracker.get_run_details(failed_run)
    assert details["params"] == {"p": 1} and details["metrics"] == {"m": 2.0}


def test_the_tracker_starts_runs_again_after_a_failed_one(tracker, failed_run):
    with tracker.start_run() as run_id:
        pass
    assert run_id != failed_run


def test_keyboard_interrupt_marks_killed(tracker):
    with pytest.raises(KeyboardInterrupt):
        with tracker.start_run() as run_id:
            raise KeyboardInterrupt
    assert tracker.get_run(run_id)["status"] == "KILLED"


@pytest.fixture
def logged_run(tracker):
    """A finished run with one metric point."""
    with tracker.start_run() as run_id:
        tracker.log_metric("m", 1.0)
    return run_id


def test_a_unique_run_id_prefix_resolves_in_any_case(tracker, logged_run):
    assert tracker.get_run(logged_run[:6])["run_id"] == logged_run
    assert tracker.get_metric_history(logged_run[:10].upper(), "m")["value"].tolist() == [1.0]


def test_a_prefix_shorter_than_six_characters_is_not_found(tracker, logged_run):
    with pytest.raises(exceptions.RunNotFound):
        tracker.list_artifacts(logged_run[:5])


def test_a_path_like_run_id_is_invalid(tracker, logged_run):
    with pytest.raises(exceptions.InvalidRunId):
        tracker.list_artifacts("../../etc")


@pytest.fixture
def runs_sharing_a_prefix(sql, logged_run):
    """Two runs whose ids both start with `abcdef`, written the way a user could with plain SQL
    (into experiment 0, which `logged_run` created)."""
    for suffix in ("0", "1"):
        sql("INSERT INTO runs (id, experiment_id, status, start_time) VALUES (?, 0, 'FINISHED', '2026-01-01')",
            ("abcdef" + suffix * 26,))


def test_a_prefix_two_runs_share_is_ambiguous(tracker, runs_sharing_a_prefix):
    with pytest.raises(exceptions.AmbiguousRunId, match="abcdef"):
        tracker.get_run("abcdef")


def test_a_longer_prefix_picks_one_of_the_runs_sharing_a_shorter_one(tracker, runs_sharing_a_prefix):
    assert tracker.get_run("abcdef0")["run_id"] == "abcdef" + "0" * 26


def test_unknown_runs_give_none_where_0_2_0_did_and_errors_elsewhere(tracker):
    assert tracker.get_run("f" * 32) is None
    assert tracker.get_run_details("f" * 32) is None
    with pytest.raises(exceptions.RunNotFound):
        tracker.delete_run("f" * 32)
    with pytest.raises(exceptions.RunNotFound):
        tracker.download_artifact("f" * 32, "x")


@pytest.fixture
def sweep(tracker):
    """Three runs in `sweep` with lr 0.1, 0.2, 0.3, each logging acc = lr then acc = 2 * lr;
    their load_results frame sorted by lr, highest first."""
    for lr in (0.1, 0.2, 0.3):
        with tracker.start_run(experiment_name="sweep"):
            tracker.log_param("lr", lr)
            tracker.log_metric("acc", lr)
            tracker.log_metric("acc", lr * 2)
    return tracker.load_results("sweep", sort_by="param_lr", ascending=False)


def test_load_results_has_the_0_2_0_index_and_columns(sweep):
    assert sweep.index.name == "run_id"
    assert list(sweep.columns) == ["experiment_id", "status", "start_time", "end_time", "param_lr", "acc"]


def test_load_results_sorts_by_the_column_asked(sweep):
    assert sweep["param_lr"].tolist() == [0.3, 0.2, 0.1]


def test_load_results_gives_the_latest_metric_values_and_the_status(sweep):
    assert sweep["acc"].tolist() == [0.6, 0.4, 0.2]
    assert set(sweep["status"]) == {"FINISHED"}


def test_the_seed_workflow_finds_the_newest_run_from_load_results(tracker, sweep):
    newest = sweep.assign(start_time=pd.to_datetime(sweep["start_time"])).sort_values("start_time").index[-1]
    assert tracker.get_run(newest)["param_lr"] == 0.3


def test_load_results_unknown_experiment_and_empty_experiment(tracker):
    with pytest.raises(exceptions.ExperimentNotFound):
        tracker.load_results("nope")
    tracker.get_or_create_experiment("empty")
    assert tracker.load_results("empty").empty


@pytest.fixture
def feature_runs(tracker):
    """Four runs in `features`, oldest first; the odd ones tagged latest_feature_set=True, each tagged i."""
    ids = []
    for i in range(4):
        with tracker.start_run(experiment_name="features") as run_id:
            tracker.set_run_tags({"latest_feature_set": i % 2 == 1, "i": i})
        ids.append(run_id)
    return ids


def test_latest_run_is_the_newest_with_the_tags(tracker, feature_runs):
    assert tracker.latest_run("features", tags={"latest_feature_set": True}) == feature_runs[3]


def test_latest_run_with_tags_no_run_has_is_none(tracker, feature_runs):
    assert tracker.latest_run("features", tags={"i": 99}) is None


def test_find_runs_filters_by_tags_in_the_order_asked(tracker, feature_runs):
    found = tracker.find_runs("features", tags={"latest_feature_set": True}, order_by="start_time ASC")
    assert [r.run_id for r in found] == [feature_runs[1], feature_runs[3]]


def test_find_runs_tag_values_match_by_type_a_string_is_not_a_bool(tracker, feature_runs):
    assert tracker.find_runs("features", tags={"latest_feature_set": "True"}) == []


def test_find_runs_limit_keeps_the_newest(tracker, feature_runs):
    assert [r.run_id for r in tracker.find_runs("features", limit=2)] == [feature_runs[3], feature_runs[2]]


def test_find_runs_in_an_unknown_experiment_raises(tracker, feature_runs):
    with pytest.raises(exceptions.ExperimentNotFound):
        tracker.find_runs("nope")


def test_find_runs_refuses_an_order_by_that_is_not_a_column(tracker, feature_runs):
    with pytest.raises(ValueError):
        tracker.find_runs("features", order_by="id; DROP TABLE runs")


def test_latest_run_skips_failed_and_running_runs_by_default(tracker):
    with tracker.start_run(experiment_name="f") as good:
        tracker.set_tag("latest_feature_set", True)
    with pytest.raises(RuntimeError):
        with tracker.start_run(experiment_name="f"):
            tracker.set_tag("latest_feature_set", True)
            raise RuntimeError("broken")
    assert tracker.latest_run("f", tags={"latest_feature_set": True}) == good
    assert tracker.latest_run("f", tags={"latest_feature_set": True}, status=None) != good


@pytest.fixture
def two_runs(tracker):
    """Experiment `s` with two finished runs: (experiment id, first run, second run)."""
    exp = tracker.get_or_create_experiment("s")
    with tracker.start_run(experiment_name="s") as first:
        pass
    with tracker.start_run(experiment_name="s") as second:
        pass
    return exp, first, second


def test_experiment_runs_come_oldest_first_with_a_timestamp(tracker, two_runs):
    exp, first, second = two_runs
    runs = tracker.get_experiment_runs(exp)
    assert [r["run_id"] for r in runs] == [first, second]
    assert all(r["timestamp"] for r in runs)


def test_runs_of_an_unknown_experiment_id_are_an_empty_list(tracker, two_runs):
    assert tracker.get_experiment_runs("404") == []


def test_experiment_summaries_count_runs_and_give_the_last_start(tracker, two_runs):
    _, _, second = two_runs
    summary = {s["name"]: s for s in tracker.get_experiment_summaries(sort_by="num_runs", ascending=False)}
    assert summary["s"]["num_runs"] == 2
    assert summary["s"]["last_run"] == tracker.get_run(second)["start_time"]


def test_experiment_summaries_leave_out_the_unused_default_experiment(tracker, two_runs):
    summary = {s["name"]: s for s in tracker.get_experiment_summaries(sort_by="num_runs", ascending=False)}
    assert "default-experiment" not in summary  # not used yet, so not there (as in 0.2.0)


@pytest.fixture
def doomed(tracker, tmp_path):
    """Experiment `gone` with a run that logged a param, metric, tag and artifact, and an empty run."""
    (tmp_path / "a.txt").write_text("a")
    with tracker.start_run(experiment_name="gone") as run_id:
        tracker.log_param("p", 1)
        tracker.log_metric("m", 1.0)
        tracker.set_tag("t", 1)
        tracker.log_artifact(str(tmp_path / "a.txt"))
    with tracker.start_run(experiment_name="gone") as other:
        pass
    return run_id, other


def test_delete_run_removes_the_run_and_every_row_it_owns(tracker, sql, doomed):
    run_id, _ = doomed
    tracker.delete_run(run_id)
    assert tracker.get_run(run_id) is None
    for table in ("params", "metrics", "tags", "artifacts"):
        assert sql(f"SELECT count(*) FROM {table} WHERE run_id = ?", (run_id,)) == [(0,)]


def test_delete_experiment_removes_its_runs(tracker, doomed):
    _, other = doomed
    tracker.delete_experiment("gone")
    assert tracker.get_run(other) is None


def test_deleting_an_experiment_twice_raises_not_found(tracker, doomed):
    tracker.delete_experiment("gone")
    with pytest.raises(exceptions.ExperimentNotFound):
        tracker.delete_experiment("gone")


def test_active_run_and_its_experiment_cannot_be_deleted(tracker):
    with tracker.start_run(experiment_name="busy") as run_id:
        with pytest.raises(exceptions.RunelogException):
            tracker.delete_run(run_id)
        with pytest.raises(exceptions.RunelogException):
            tracker.delete_experiment("busy")


def test_buffered_points_are_visible_to_other_trackers_after_the_run(tmp_path):
    writer = get_tracker(str(tmp_path / "s"), flush_interval=3600)
    reader = RuneLog(str(tmp_path / "s"))
    with writer.start_run() as run_id:
        for i in range(10):
            writer.log_metric("m", float(i))
        # Not flushed yet by count or time: another tracker does not see them...
        assert reader.get_run_details(run_id)["metrics"] == {}
        # ...but this tracker's own reads flush first.
        assert writer.get_run_details(run_id)["metrics"] == {"m": 9.0}
    assert len(reader.get_metric_history(run_id, "m")) == 10


def test_timer_flushes_points_without_another_call(tmp_path):
    import time

    writer = get_tracker(str(tmp_path / "s"), flush_interval=0.2)
    reader = get_tracker(str(tmp_path / "s"))
    with writer.start_run() as run_id:
        writer.log_metric("m", 1.0)
        deadline = time.time() + 10
        while reader.get_run_details(run_id)["metrics"] == {} and time.time() < deadline:
            time.sleep(0.05)
        assert reader.get_run_details(run_id)["metrics"] == {"m": 1.0}


def test_unbuffered_mode_writes_each_point(tmp_path):
    writer = get_tracker(str(tmp_path / "s"), metric_buffer=0)
    reader = get_tracker(str(tmp_path / "s"))
    with writer.start_run() as run_id:
        writer.log_metric("m", 1.0)
        assert reader.get_run_details(run_id)["metrics"] == {"m": 1.0}


def test_a_metric_named_like_a_results_column_keeps_both(tracker):
    with tracker.start_run(experiment_name="clash", log_code=False) as run_id:
        tracker.log_param("lr", 0.1)
        tracker.log_metric("status", 1.0)
        tracker.log_metric("param_lr", 2.0)
    frame = tracker.load_results("clash")
    assert frame.loc[run_id, "status"] == "FINISHED" and frame.loc[run_id, "metric_status"] == 1.0
    assert frame.loc[run_id, "param_lr"] == 0.1 and frame.loc[run_id, "metric_param_lr"] == 2.0
