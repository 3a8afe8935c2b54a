"""runelog 0.2.0's tests/test_runelog.py, ported to the public API.

Each test keeps 0.2.0's name. Where 0.2.0 opened its own JSON files
(`.mlruns/.../params/x.json`, `data_meta.json`, `lineage.json`,
`source_control.json`, ...) the check reads the same fact back through the
public calls a 0.2.0 script had (`get_run_details`, `get_run`,
`list_experiments`, ...). Dropped: the checks that patched 0.2.0's private
helpers (`subprocess.check_output` inside `_log_git_metadata` and
`_log_environment`) and facts 0.2.0 never showed through its API (the
contents of `data_meta.json`, `dvc_inputs.json`, `lineage.json` and
`source_control.json`); the calls that write them are still made.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import warnings

import joblib
import pandas as pd
import pytest
import yaml

from runelog import exceptions

from .target import MockModel, fixed_020_bug


def test_initialization(tmp_path):
    """`from runelog.runelog import RuneLog` (0.2.0's module path) gives a working tracker."""
    from runelog.runelog import RuneLog

    import runelog

    assert RuneLog is runelog.RuneLog
    tracker = RuneLog(path=str(tmp_path / "project"))
    assert isinstance(tracker, runelog.RuneLog)
    assert tracker.list_experiments() == []
    assert tracker.list_registered_models() == []


def test_get_or_create_experiment(tracker):
    """Tests experiment creation and retrieval."""
    exp_name = "test-get-or-create"

    exp_id_1 = tracker.get_or_create_experiment(exp_name)
    assert isinstance(exp_id_1, str)
    # 0.2.0 checked `exp_id_1 == "0"`: its first experiment took the default one's id (a bug, see below).

    exp_id_2 = tracker.get_or_create_experiment(exp_name)
    assert exp_id_2 == exp_id_1

    assert tracker.list_experiments() == [{"experiment_id": exp_id_1, "name": exp_name}]
    assert tracker.get_experiment(exp_id_1)["name"] == exp_name


@fixed_020_bug
def test_first_experiment_does_not_collide_with_the_default_one(tracker):
    """0.2.0 gave id "0" to the first named experiment, so `start_run()` wrote into it."""
    exp_id = tracker.get_or_create_experiment("first")
    with tracker.start_run() as default_run:
        pass
    with tracker.start_run(experiment_id=exp_id):
        pass
    names = {e["name"]: e["experiment_id"] for e in tracker.list_experiments()}
    assert names == {"first": exp_id, "default-experiment": "0"}
    assert exp_id != "0"
    assert list(tracker.load_results("default-experiment").index) == [default_run]
    assert len(tracker.load_results("first")) == 1


def test_start_run_context(tracker):
    """Tests the start_run context manager."""
    exp_id = tracker.get_or_create_experiment("test-context")

    run_id = None
    with tracker.start_run(experiment_id=exp_id) as active_run_id:
        run_id = active_run_id
        assert isinstance(run_id, str) and run_id
        meta = tracker.get_run_details(run_id)["meta"]
        assert meta["status"] == "RUNNING"
        assert meta["experiment_id"] == exp_id
        assert meta["end_time"] is None

    # The context was cleaned up: nothing is active any more.
    with pytest.raises(exceptions.NoActiveRun):
        tracker.log_param("after", 1)

    meta = tracker.get_run_details(run_id)["meta"]
    assert meta["status"] == "FINISHED"
    assert meta["run_id"] == run_id
    assert meta["end_time"] is not None


def test_logging_functions(tracker):
    """Logged values can be read back at once, inside the run (0.2.0 wrote them immediately)."""
    exp_id = tracker.get_or_create_experiment("test-logging")

    with tracker.start_run(experiment_id=exp_id) as run_id:
        tracker.log_param("learning_rate", 0.01)
        assert tracker.get_run_details(run_id)["params"]["learning_rate"] == 0.01

        tracker.log_metric("accuracy", 0.95)
        assert tracker.get_run_details(run_id)["metrics"]["accuracy"] == 0.95
        assert tracker.get_run(run_id)["accuracy"] == 0.95

    details = tracker.get_run_details(run_id)
    assert details["params"] == {"learning_rate": 0.01}
    assert details["metrics"] == {"accuracy": 0.95}


def test_log_artifact_and_model(tracker, tmp_path):
    """Tests artifact and model logging."""
    exp_id = tracker.get_or_create_experiment("test-artifacts")

    dummy_artifact_path = os.path.join(tmp_path, "dummy_artifact.txt")
    with open(dummy_artifact_path, "w") as f:
        f.write("hello world")

    with tracker.start_run(experiment_id=exp_id) as run_id:
        tracker.log_artifact(dummy_artifact_path)
        assert "dummy_artifact.txt" in tracker.get_run_details(run_id)["artifacts"]

        model = MockModel(val=7)
        tracker.log_model(model, "test_model.pkl")
        assert "test_model.pkl" in tracker.get_run_details(run_id)["artifacts"]

    with open(tracker.get_artifact_abspath(run_id, "dummy_artifact.txt")) as f:
        assert f.read() == "hello world"
    assert joblib.load(tracker.get_artifact_abspath(run_id, "test_model.pkl")).val == 7


def test_model_registry_workflow(tracker):
    """Tests the full model registry workflow."""
    exp_id = tracker.get_or_create_experiment("test-registry-workflow")
    model = MockModel(val=0)
    model_name = "test-registry-model"

    with tracker.start_run(experiment_id=exp_id) as run_id:
        tracker.log_model(model, "model.pkl")

    version_1 = tracker.register_model(run_id, "model.pkl", model_name)
    assert version_1 == "1"

    version_2 = tracker.register_model(run_id, "model.pkl", model_name)
    assert version_2 == "2"

    loaded_model = tracker.load_registered_model(model_name, version="latest")
    assert loaded_model.val == 0

    loaded_model_v1 = tracker.load_registered_model(model_name, version="1")
    assert loaded_model_v1.val == 0

    tracker.add_model_tags(model_name, "2", {"status": "production"})
    tags = tracker.get_model_tags(model_name, "2")
    assert tags["status"] == "production"


def test_logging_outside_active_run_raises_error(tracker):
    """Logging outside a 'start_run' context raises NoActiveRun."""
    with pytest.raises(exceptions.NoActiveRun):
        tracker.log_param("should_fail", 123)

    with pytest.raises(exceptions.NoActiveRun):
        tracker.log_metric("should_also_fail", 0.5)


def test_load_results_on_empty_experiment(tracker):
    """Loading results from an experiment with no runs returns an empty DataFrame."""
    exp_id = tracker.get_or_create_experiment("test-empty")
    results = tracker.load_results(exp_id)

    assert isinstance(results, pd.DataFrame)
    assert results.empty


def test_log_nonexistent_artifact_raises_error(tracker):
    """Logging an artifact from a path that does not exist raises ArtifactNotFound."""
    exp_id = tracker.get_or_create_experiment("test-artifact-edge-cases")

    with tracker.start_run(experiment_id=exp_id):
        with pytest.raises(exceptions.ArtifactNotFound):
            tracker.log_artifact("path/to/nonexistent/file.txt")


def test_registry_loading_edge_cases(tracker):
    """Loading a model or version that is not registered."""
    with pytest.raises(exceptions.ModelNotFound):
        tracker.load_registered_model("nonexistent-model")

    exp_id = tracker.get_or_create_experiment("registry-edge-case")
    model_name = "my-test-model"
    model = MockModel()

    with tracker.start_run(experiment_id=exp_id) as run_id:
        tracker.log_model(model, "model.pkl")

    tracker.register_model(run_id, "model.pkl", model_name)  # Registers version "1"

    with pytest.raises(exceptions.ModelVersionNotFound):
        tracker.load_registered_model(model_name, version="99")


def test_get_run_details_for_nonexistent_run(tracker):
    """get_run_details returns None for a run ID that doesn't exist."""
    assert tracker.get_run_details("nonexistent_run_id") is None


@pytest.mark.parametrize("run_id", ["doesnotexist", "nonexistent-run-id", "nonexistent_run_id", "abc"])
def test_unknown_run_ids_read_as_none_with_runs_present(tracker, run_id):
    """With runs in the store, an unknown id still reads as None (and `get_run` too)."""
    with tracker.start_run(experiment_name="present"):
        tracker.log_metric("m", 1.0)
    assert tracker.get_run_details(run_id) is None
    assert tracker.get_run(run_id) is None


@fixed_020_bug
@pytest.mark.parametrize("run_id", ["..", ".", "/"])
def test_path_like_run_ids_are_not_runs(tracker, run_id):
    """0.2.0 joined the id into a path, so '..' or '/' found a folder and read it as a run."""
    with tracker.start_run(experiment_name="present"):
        tracker.log_metric("m", 1.0)
    assert tracker.get_run_details(run_id) is None
    assert tracker.get_run(run_id) is None
    # (0.2.0's delete_run("..") or delete_run("/") removed that folder; not tried here.)
    assert len(tracker.load_results("present")) == 1


def test_delete_experiment_success(tracker):
    """A specific experiment can be deleted; it is gone from every read call."""
    exp_name = "experiment-to-delete"
    exp_id = tracker.get_or_create_experiment(exp_name)
    with tracker.start_run(experiment_id=exp_id) as run_id:
        pass
    assert {"experiment_id": exp_id, "name": exp_name} in tracker.list_experiments()

    tracker.delete_experiment(exp_name)

    assert exp_name not in [e["name"] for e in tracker.list_experiments()]
    assert tracker.get_experiment(exp_id) is None
    assert tracker.get_run_details(run_id) is None
    with pytest.raises(exceptions.ExperimentNotFound):
        tracker.load_results(exp_name)


def test_delete_experiment_by_id(tracker):
    """delete_experiment takes the name or the id."""
    exp_id = tracker.get_or_create_experiment("by-id")
    tracker.delete_experiment(exp_id)
    assert tracker.get_experiment(exp_id) is None


def test_delete_nonexistent_experiment_raises_error(tracker):
    """Deleting a non-existent experiment raises ExperimentNotFound."""
    with pytest.raises(exceptions.ExperimentNotFound):
        tracker.delete_experiment("nonexistent-experiment")


@fixed_020_bug
def test_experiment_ids_are_not_reused_after_a_delete(tracker):
    """0.2.0 numbered experiments by counting folders: after a delete, a new experiment
    took an id still in use and overwrote that experiment's name."""
    first = tracker.get_or_create_experiment("first")
    second = tracker.get_or_create_experiment("second")
    with tracker.start_run(experiment_id=second) as run_id:
        pass
    tracker.delete_experiment("first")
    third = tracker.get_or_create_experiment("third")
    assert third not in (first, second)
    assert tracker.get_experiment(second)["name"] == "second"
    assert list(tracker.load_results("second").index) == [run_id]
    assert sorted(e["name"] for e in tracker.list_experiments()) == ["second", "third"]
    tracker.delete_experiment("third")  # the newest: its id is not handed out again either
    fourth = tracker.get_or_create_experiment("fourth")
    assert fourth not in (first, second, third)
    assert tracker.get_experiment(third) is None


def test_delete_run_success(tracker):
    """A specific run can be deleted."""
    experiment_id = tracker.get_or_create_experiment("test-delete-run")
    with tracker.start_run(experiment_id=experiment_id) as run_id:
        pass

    assert tracker.get_run_details(run_id) is not None

    tracker.delete_run(run_id)

    assert tracker.get_run_details(run_id) is None
    assert tracker.get_run(run_id) is None
    assert tracker.load_results(experiment_id).empty


def test_delete_nonexistent_run_raises_error(tracker):
    """Deleting a non-existent run raises RunNotFound."""
    with pytest.raises(exceptions.RunNotFound):
        tracker.delete_run("nonexistent-run-id")


def _git(cwd, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false",
                    "-c", "core.hooksPath=/dev/null", "-c", "init.defaultBranch=main", *args],
                   cwd=cwd, check=True, capture_output=True)


@pytest.mark.parametrize("dirty", [False, True], ids=["clean", "dirty"])
def test_log_git_metadata_in_a_repository(tracker, tmp_path, dirty):
    """0.2.0 mocked `git`; here a real repository. 0.2.0 showed the result only in its own
    files (source_control.json), so what is checked is that runs in a clean or dirty
    repository start, log and finish."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    (tmp_path / "tracked.txt").write_text("v1")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "tracked.txt")
    _git(tmp_path, "commit", "-q", "-m", "one")
    if dirty:
        (tmp_path / "tracked.txt").write_text("v2")

    with tracker.start_run(experiment_name="git-test", log_git_meta=True) as run_id:
        tracker.log_param("p", 1)
    details = tracker.get_run_details(run_id)
    assert details["meta"]["status"] == "FINISHED" and details["params"] == {"p": 1}


def test_log_environment_success(tracker):
    """log_env=True stores the pip-installable requirements.txt as an artifact of the run."""
    with tracker.start_run(experiment_name="env-test", log_env=True) as run_id:
        pass

    assert "requirements.txt" in tracker.get_run_details(run_id)["artifacts"]
    with open(tracker.get_artifact_abspath(run_id, "requirements.txt")) as f:
        requirements = f.read()
    assert any(line.lower().startswith("pandas==") for line in requirements.splitlines())


def test_log_source_code_script(tracker, monkeypatch, tmp_path):
    """The executing script is automatically logged as an artifact."""
    dummy_script_path = tmp_path / "my_test_script.py"
    dummy_script_path.write_text("print('This is a test script.')")
    monkeypatch.setattr(sys, "argv", [str(dummy_script_path)])

    with tracker.start_run(experiment_name="code-log-test", log_code=True) as run_id:
        pass

    run_details = tracker.get_run_details(run_id)
    assert "my_test_script.py" in run_details["artifacts"]


def test_log_code_false_logs_no_script(tracker, monkeypatch, tmp_path):
    script = tmp_path / "quiet_script.py"
    script.write_text("print('x')")
    monkeypatch.setattr(sys, "argv", [str(script)])
    with tracker.start_run(experiment_name="no-code", log_code=False) as run_id:
        pass
    assert "quiet_script.py" not in tracker.get_run_details(run_id)["artifacts"]


def test_log_dataset_success(tracker, tmp_path):
    """log_dataset fingerprints a file inside a run (0.2.0 kept the result in data_meta.json only)."""
    dummy_data_path = tmp_path / "training_data.csv"
    dummy_data_path.write_text("feature1,feature2\n1,2\n3,4")

    with tracker.start_run(experiment_name="dataset-test") as run_id:
        tracker.log_dataset(str(dummy_data_path), name="primary_dataset")
        tracker.log_dataset(dummy_data_path.name, name="relative_path")  # relative to the working folder

    assert tracker.get_run_details(run_id)["meta"]["status"] == "FINISHED"


def test_log_dataset_file_not_found(tracker):
    """log_dataset raises ArtifactNotFound for a non-existent file."""
    with tracker.start_run(experiment_name="dataset-fail-test"):
        with pytest.raises(exceptions.ArtifactNotFound):
            tracker.log_dataset("path/to/nonexistent/file.csv", name="bad_data")


def test_log_dvc_input_success(tracker, tmp_path):
    """A .dvc file beside the data: logged without a warning."""
    data_path = tmp_path / "data.csv"
    dvc_file = tmp_path / "data.csv.dvc"
    dvc_content = {"outs": [{"md5": "abc123def456"}]}
    with open(dvc_file, "w") as f:
        yaml.dump(dvc_content, f)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with tracker.start_run(experiment_name="dvc-test", log_code=False, log_git_meta=False) as run_id:
            tracker.log_dvc_input(str(data_path), name="training_data")

    assert not [w for w in caught if "dvc" in str(w.message).lower()]
    assert tracker.get_run_details(run_id)["meta"]["status"] == "FINISHED"


def test_log_dvc_input_file_not_found(tracker):
    """No .dvc file: a UserWarning naming it, and the run goes on."""
    with tracker.start_run(experiment_name="dvc-fail-test") as run_id:
        with pytest.warns(UserWarning, match=r"path/to/nonexistent_data\.csv\.dvc"):
            tracker.log_dvc_input("path/to/nonexistent_data.csv", name="bad_data")
        tracker.log_metric("still_running", 1.0)

    details = tracker.get_run_details(run_id)
    assert details["meta"]["status"] == "FINISHED"
    assert details["metrics"] == {"still_running": 1.0}


def test_log_input_run(tracker):
    """Logging a dependency on another run works inside a run."""
    with tracker.start_run(experiment_name="lineage-test") as parent_run_id:
        pass

    with tracker.start_run(experiment_name="lineage-test") as child_run_id:
        tracker.log_input_run(name="feature_source", run_id=parent_run_id)

    assert tracker.get_run_details(child_run_id)["meta"]["status"] == "FINISHED"


def test_log_input_run_multiple_distinct_inputs(tracker):
    """Several different inputs in one run."""
    with tracker.start_run(experiment_name="multi-input-test") as parent_run_1:
        pass
    with tracker.start_run(experiment_name="multi-input-test") as parent_run_2:
        pass

    with tracker.start_run(experiment_name="multi-input-test") as child_run_id:
        tracker.log_input_run(name="feature_source", run_id=parent_run_1)
        tracker.log_input_run(name="config_source", run_id=parent_run_2)

    assert tracker.get_run_details(child_run_id)["meta"]["status"] == "FINISHED"


def test_log_input_run_appends_on_duplicate_name(tracker):
    """The same input name twice in one run is accepted (0.2.0 appended both)."""
    with tracker.start_run(experiment_name="append-test") as old_parent_id:
        pass
    with tracker.start_run(experiment_name="append-test") as new_parent_id:
        pass

    with tracker.start_run(experiment_name="append-test") as child_run_id:
        tracker.log_input_run(name="dataset", run_id=old_parent_id)
        tracker.log_input_run(name="dataset", run_id=new_parent_id)
        tracker.log_input_run(name="dataset", run_id=new_parent_id)

    assert tracker.get_run_details(child_run_id)["meta"]["status"] == "FINISHED"


def test_log_input_run_with_artifact_hashing(tracker, tmp_path):
    """An input run with a named artifact: accepted when the artifact exists, else ArtifactNotFound."""
    parent_exp_id = tracker.get_or_create_experiment("feature-engineering")
    dummy_artifact_path = tmp_path / "features.csv"
    dummy_artifact_path.write_text("feature,target\n1,0")

    with tracker.start_run(experiment_id=parent_exp_id) as parent_run_id:
        tracker.log_artifact(str(dummy_artifact_path))

    with tracker.start_run(experiment_name="model-training") as child_run_id:
        tracker.log_input_run(name="training_features", run_id=parent_run_id, artifact_name="features.csv")
        with pytest.raises(exceptions.ArtifactNotFound):
            tracker.log_input_run(name="other", run_id=parent_run_id, artifact_name="missing.csv")

    assert tracker.get_run_details(child_run_id)["meta"]["status"] == "FINISHED"
    with open(tracker.get_artifact_abspath(parent_run_id, "features.csv"), "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == hashlib.sha256(dummy_artifact_path.read_bytes()).hexdigest()


def test_log_input_run_unknown_run(tracker):
    with tracker.start_run(experiment_name="lineage-missing"):
        with pytest.raises(exceptions.RunNotFound):
            tracker.log_input_run(name="x", run_id="nonexistent-run-id")


def test_download_artifact(tracker, tmp_path):
    """An artifact can be downloaded from a run."""
    dummy_artifact_path = tmp_path / "test.txt"
    dummy_content = "hello world"
    dummy_artifact_path.write_text(dummy_content)

    with tracker.start_run(experiment_name="download-test") as run_id:
        tracker.log_artifact(str(dummy_artifact_path))

    download_dir = tmp_path / "downloads"
    downloaded_path = tracker.download_artifact(run_id, "test.txt", destination_path=str(download_dir))

    assert os.path.exists(downloaded_path)
    assert downloaded_path == str(download_dir / "test.txt")
    with open(downloaded_path, "r") as f:
        assert f.read() == dummy_content


def test_download_artifact_to_the_working_folder(tracker, tmp_path):
    source = tmp_path / "src" / "notes.txt"
    source.parent.mkdir()
    source.write_text("n")
    with tracker.start_run(experiment_name="download-default") as run_id:
        tracker.log_artifact(str(source))
    os.chdir(tmp_path / "src")
    source.unlink()
    path = tracker.download_artifact(run_id, "notes.txt")
    assert path == str(tmp_path / "src" / "notes.txt")
    assert source.read_text() == "n"


def test_run_tags_workflow(tracker):
    """Getting and setting run tags."""
    with tracker.start_run(experiment_name="tags-workflow-test") as run_id:
        initial_tags = {"status": "running", "validated": False}
        tracker.set_run_tags(initial_tags)

        tags = tracker.get_run_tags()
        assert tags == initial_tags

        tags["status"] = "complete"
        del tags["validated"]
        tags["new_tag"] = "value"

        tracker.set_run_tags(tags)

    run_details = tracker.get_run_details(run_id)
    final_tags = run_details["meta"]["tags"]

    assert final_tags["status"] == "complete"
    assert "validated" not in final_tags
    assert final_tags["new_tag"] == "value"


def test_get_run_tags_outside_a_run(tracker):
    with pytest.raises(exceptions.NoActiveRun):
        tracker.get_run_tags()
    with pytest.raises(exceptions.NoActiveRun):
        tracker.set_run_tags({"a": 1})
