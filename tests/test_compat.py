"""A script written for runelog 0.2.0 runs unchanged, and sees the shapes 0.2.0 returned."""

import os
import subprocess
import sys
import textwrap

SCRIPT_0_2_0 = textwrap.dedent('''
    import os
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score

    from runelog import get_tracker, exceptions, RuneLog, __version__
    from runelog.exceptions import RunelogException, ExperimentNotFound, NoVersionsFound

    tracker = get_tracker()
    assert isinstance(tracker, RuneLog)

    X, y = make_classification(n_samples=200, random_state=0)
    experiment_id = tracker.get_or_create_experiment("example-experiment")

    with tracker.start_run(experiment_id=experiment_id, log_env=True) as run_id:
        tracker.log_parameter("solver", "liblinear")
        tracker.log_param("C", 1.0)
        model = LogisticRegression(solver="liblinear", C=1.0).fit(X, y)
        tracker.log_metric("accuracy", accuracy_score(y, model.predict(X)))
        tracker.log_model(model, "logreg.pkl")
        tracker.set_run_tags({"team": "core"})
        assert tracker.get_run_tags() == {"team": "core"}
        with open("notes.txt", "w") as fh:
            fh.write("remember this")
        tracker.log_artifact("notes.txt")

    with tracker.start_run(experiment_name="example-experiment"):
        tracker.log_metric("accuracy", 0.5)

    with tracker.start_run():  # the default experiment
        tracker.log_metric("loss", 1.0)

    # Reading, in the shapes 0.2.0 returned.
    experiments = tracker.list_experiments()
    assert {"experiment_id": "0", "name": "default-experiment"} in experiments
    assert tracker.get_experiment(experiment_id)["name"] == "example-experiment"
    details = tracker.get_run_details(run_id)
    assert set(details) >= {"meta", "params", "metrics", "artifacts"}
    assert details["params"] == {"solver": "liblinear", "C": 1.0}
    assert "logreg.pkl" in details["artifacts"] and "notes.txt" in details["artifacts"]
    assert details["meta"]["status"] == "FINISHED" and details["meta"]["experiment_id"] == experiment_id
    run = tracker.get_run(run_id)
    assert run["run_id"] == run_id and run["param_C"] == 1.0 and 0 < run["accuracy"] <= 1

    df = tracker.load_results("example-experiment", sort_by="accuracy", ascending=False)
    assert len(df) == 2 and df.index.name == "run_id" and df.index[0] == run_id
    assert {"experiment_id", "status", "start_time", "end_time", "param_C", "accuracy"} <= set(df.columns)
    assert tracker.load_results(experiment_id).shape == df.shape
    try:
        tracker.load_results("missing")
        raise AssertionError("expected ExperimentNotFound")
    except exceptions.ExperimentNotFound:
        pass

    runs = tracker.get_experiment_runs(experiment_id)
    assert len(runs) == 2 and all("timestamp" in r for r in runs)
    summaries = tracker.get_experiment_summaries()
    assert {s["name"]: s["num_runs"] for s in summaries}["example-experiment"] == 2

    # Artifacts and the registry.
    path = tracker.download_artifact(run_id, "notes.txt", "downloads")
    assert os.path.isabs(path) and open(path).read() == "remember this"
    assert os.path.exists(tracker.get_artifact_abspath(run_id, "logreg.pkl"))
    version = tracker.register_model(run_id, "logreg.pkl", "logreg", tags={"status": "candidate"})
    assert version == "1"
    tracker.add_model_tags("logreg", version, {"status": "production"})
    assert tracker.get_model_tags("logreg", version) == {"status": "production"}
    loaded = tracker.load_registered_model("logreg")
    assert (loaded.predict(X) == model.predict(X)).all()
    assert tracker.list_registered_models() == ["logreg"]
    (meta,) = tracker.get_model_versions("logreg")
    assert meta["model_name"] == "logreg" and meta["version"] == "1" and meta["source_run_id"] == run_id
    assert "registration_timestamp" in meta

    # Errors keep their 0.2.0 names.
    try:
        tracker.log_metric("outside", 1.0)
        raise AssertionError("expected NoActiveRun")
    except exceptions.NoActiveRun:
        pass
    try:
        tracker.load_registered_model("nope")
    except exceptions.ModelNotFound as exc:
        assert isinstance(exc, RunelogException)

    tracker.delete_run(run_id)
    assert tracker.get_run(run_id) is None
    tracker.delete_experiment("example-experiment")
    assert tracker.get_experiment(experiment_id) is None
    print("OK")
''')


def test_a_0_2_0_script_runs_unchanged(tmp_path):
    (tmp_path / "legacy.py").write_text(SCRIPT_0_2_0)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNELOG_")}
    result = subprocess.run([sys.executable, "legacy.py"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("OK")
    assert (tmp_path / ".runelog" / "runelog.db").is_file()
    assert not (tmp_path / ".mlruns").exists()
