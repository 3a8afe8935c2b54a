"""The lightweight feature store, end to end, as users run it: scripts in subprocesses on a fresh folder."""

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

from runelog import exceptions, get_tracker

from .conftest import REPO
from .pipeline import build_pipeline

# The two scripts of the reference workflow document, transcribed call for call.
SEED_MAKE_FEATURES = textwrap.dedent('''
    import os
    from sklearn.datasets import load_iris
    from runelog import get_tracker


    def main():
        tracker = get_tracker()

        with tracker.start_run(experiment_name="feature-sets") as run_id:
            print(f"Creating a new feature set in run: {run_id}")
            iris = load_iris(as_frame=True)
            df = iris.frame
            df["sepal_area"] = df["sepal length (cm)"] * df["sepal width (cm)"]
            output_dir = os.path.join("fstore", run_id)
            os.makedirs(output_dir, exist_ok=True)
            feature_path = os.path.join(output_dir, "iris_features.parquet")
            df.to_parquet(feature_path)
            tracker.log_artifact(feature_path)
            print(f"Feature set saved to '{feature_path}' and logged.")
            tracker.set_run_tags({"latest_feature_set": True})


    if __name__ == "__main__":
        main()
''')

SEED_TRAIN_WITH_FS = textwrap.dedent('''
    import pandas as pd
    from sklearn.model_selection import train_test_split
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score

    from runelog import get_tracker, exceptions

    FEATURE_EXPERIMENT = "feature-sets"
    ARTIFACT_FILENAME = "iris_features.parquet"


    def find_latest_feature_run(tracker) -> str:
        try:
            all_runs_df = tracker.load_results(FEATURE_EXPERIMENT)
            if all_runs_df.empty:
                print(f"Error: No runs found in experiment '{FEATURE_EXPERIMENT}'.")
                return None
            all_runs_df["start_time"] = pd.to_datetime(all_runs_df["start_time"])
            sorted_runs = all_runs_df.sort_values(by="start_time", ascending=False)
            latest_run_id = sorted_runs.index[0]
            print(f"Found latest feature set from run: {latest_run_id}")
            return latest_run_id
        except exceptions.ExperimentNotFound:
            print(f"Error: Experiment '{FEATURE_EXPERIMENT}' not found.")
            return None


    def main():
        tracker = get_tracker()
        feature_run_id = find_latest_feature_run(tracker)
        if not feature_run_id:
            print("Could not find a feature set to train on. Exiting.")
            return
        print(f"Downloading artifact '{ARTIFACT_FILENAME}' from run '{feature_run_id}'...")
        feature_path = tracker.download_artifact(feature_run_id, ARTIFACT_FILENAME)
        df = pd.read_parquet(feature_path)
        with tracker.start_run(experiment_name="production-models"):
            tracker.log_input_run(
                name="feature_set", run_id=feature_run_id, artifact_name=ARTIFACT_FILENAME
            )
            X = df.drop(columns=["target"])
            y = df["target"]
            X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=42)
            params = {"C": 50, "max_iter": 10_000}
            model = LogisticRegression(**params).fit(X_train, y_train)
            accuracy = accuracy_score(y_test, model.predict(X_test))
            tracker.log_metric("accuracy", accuracy)
            print(f"Model trained with accuracy: {accuracy:.4f}")


    if __name__ == "__main__":
        main()
''')


def run_script(path, cwd, *args, check=True):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNELOG_")}
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    result = subprocess.run([sys.executable, str(path), *args], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=300)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_the_reference_scripts_run_unmodified_and_leave_a_pinned_lineage_link(tmp_path):
    (tmp_path / "make_features.py").write_text(SEED_MAKE_FEATURES)
    (tmp_path / "train_with_fs.py").write_text(SEED_TRAIN_WITH_FS)
    run_script("make_features.py", tmp_path)
    trained = run_script("train_with_fs.py", tmp_path)
    assert "Model trained with accuracy" in trained.stdout

    (parquet,) = (tmp_path / "fstore").glob("*/iris_features.parquet")
    feature_run = parquet.parent.name
    tracker = get_tracker(str(tmp_path))
    (model_run,) = tracker.load_results("production-models").index
    assert tracker.get_run_details(model_run)["inputs"] == [{
        "name": "feature_set", "run_id": feature_run,
        "experiment_id": tracker.get_run(feature_run)["experiment_id"],
        "artifact_name": "iris_features.parquet", "artifact_hash_sha256": sha256(parquet)}]
    assert sha256(tmp_path / "iris_features.parquet") == sha256(parquet)  # the downloaded copy


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory):
    """The project's example scripts run twice (the second feature set adds sepal area) in one folder."""
    folder = tmp_path_factory.mktemp("examples")
    examples = REPO / "examples" / "feature_store"
    first = run_script(examples / "make_features.py", folder)
    run_script(examples / "train_with_fs.py", folder)
    run_script(examples / "make_features.py", folder, "--add-sepal-area")
    second_train = run_script(examples / "train_with_fs.py", folder)
    tracker = get_tracker(str(folder))
    feature_runs = [r.as_dict() for r in tracker.find_runs("feature-sets", order_by="start_time ASC")]
    yield SimpleNamespace(first=first, second_train=second_train, tracker=tracker, feature_runs=feature_runs)
    tracker.close()


@pytest.mark.slow  # the fixture runs four example scripts, over 12 s: run by `make test-slow` (and CI)
def test_project_examples_second_training_verifies_its_features_and_registers_v2(two_versions):
    assert "verified against its fingerprint" in two_versions.second_train.stdout
    assert "iris-classifier v2" in two_versions.second_train.stdout


@pytest.mark.slow
def test_project_examples_make_one_feature_run_each_and_print_its_id(two_versions):
    feature_runs = two_versions.feature_runs
    assert len(feature_runs) == 2 and two_versions.first.stdout.startswith(f"feature set {feature_runs[0]['run_id'][:8]}")


@pytest.mark.slow
def test_project_examples_fingerprint_the_newest_feature_file(two_versions):
    (fp,) = two_versions.tracker.get_run_details(two_versions.feature_runs[1]["run_id"])["datasets"]
    assert (fp["row_count"], fp["column_count"]) == (150, 7)
    assert {c["name"] for c in fp["schema"]} >= {"petal_ratio", "sepal_area", "target"}
    assert fp["sha256"] == sha256(fp["path"])


@pytest.mark.slow
def test_project_examples_register_two_versions_newest_first(two_versions):
    versions = two_versions.tracker.get_model_versions("iris-classifier")
    assert [v["version"] for v in versions] == ["2", "1"]


@pytest.mark.slow
def test_project_examples_v2_lineage_pins_the_newest_feature_bytes(two_versions):
    tracker, newest_features = two_versions.tracker, two_versions.feature_runs[1]["run_id"]
    (fp,) = tracker.get_run_details(newest_features)["datasets"]
    newest_version = tracker.get_model_versions("iris-classifier")[0]
    (edge,) = tracker.get_lineage(newest_version["source_run_id"])
    assert (edge.run_id, edge.sha256) == (newest_features, fp["sha256"])


@pytest.mark.slow
def test_project_examples_models_trained_on_each_feature_set(two_versions):
    tracker, feature_runs = two_versions.tracker, two_versions.feature_runs
    (fp,) = tracker.get_run_details(feature_runs[1]["run_id"])["datasets"]
    assert [m.version for m in tracker.models_trained_on(path=fp["path"])] == [2]
    assert [m.version for m in tracker.models_trained_on(feature_runs[0]["run_id"])] == [1]


def test_training_falls_back_to_the_artifact_when_the_local_file_is_gone(tmp_path):
    examples = REPO / "examples" / "feature_store"
    run_script(examples / "make_features.py", tmp_path)
    shutil.rmtree(tmp_path / "fstore")
    trained = run_script(examples / "train_with_fs.py", tmp_path)
    assert "downloaded artifact copy" in trained.stdout


def test_training_refuses_a_changed_feature_file(tmp_path):
    examples = REPO / "examples" / "feature_store"
    run_script(examples / "make_features.py", tmp_path)
    (parquet,) = (tmp_path / "fstore").glob("*/iris_features.parquet")
    data = bytearray(parquet.read_bytes())
    data[100] ^= 0x01
    parquet.write_bytes(bytes(data))
    trained = run_script(examples / "train_with_fs.py", tmp_path, check=False)
    assert trained.returncode != 0 and "DatasetMismatch" in trained.stderr
    assert get_tracker(str(tmp_path)).list_registered_models() == []


def test_dvc_variant_records_the_md5_that_dvc_add_wrote(tmp_path):
    dvc = shutil.which("dvc", path=os.path.dirname(sys.executable))
    assert dvc, "dvc is part of the dev extra"
    subprocess.run([dvc, "init", "--no-scm", "-q"], cwd=tmp_path, check=True)
    run_script(REPO / "examples" / "feature_store" / "make_features_dvc.py", tmp_path)
    data = tmp_path / "data" / "iris_features.parquet"
    dvc_file = (tmp_path / "data" / "iris_features.parquet.dvc").read_text()
    tracker = get_tracker(str(tmp_path))
    (run,) = tracker.find_runs("feature-sets-dvc")
    (recorded,) = tracker.get_run_details(run.run_id)["datasets"]
    assert recorded["kind"] == "dvc"
    assert recorded["md5"] == hashlib.md5(data.read_bytes()).hexdigest()
    assert f"md5: {recorded['md5']}" in dvc_file


@pytest.fixture(scope="module")
def pinned(module_store, tmp_path_factory):
    """The shared pipeline, and a run whose input `whole_run` names the feature run but no artifact.
    Tests only read."""
    built = build_pipeline(module_store(), tmp_path_factory.mktemp("inputs"))
    with built.tracker.start_run(experiment_name="m", log_code=False) as whole:
        built.tracker.log_input_run("whole_run", built.feature_run)
    return built, whole


def test_verify_input_gives_the_pinned_hash(pinned):
    built, _ = pinned
    assert built.tracker.verify_input(built.model_run, built.input)["sha256"] == built.sha256


def test_verify_input_of_a_file_with_the_pinned_bytes_names_the_source_run(pinned):
    built, _ = pinned
    assert built.tracker.verify_input(built.model_run, built.input, str(built.data))["source_run_id"] == built.feature_run


def test_verify_input_of_a_changed_file_is_a_mismatch_naming_the_source_run(pinned, tmp_path):
    built, _ = pinned
    copy = tmp_path / "copy.parquet"
    copy.write_bytes(b"PAR1 pretend parquet, changed")
    with pytest.raises(exceptions.DatasetMismatch, match=built.feature_run):
        built.tracker.verify_input(built.model_run, built.input, str(copy))


def test_verify_input_of_an_input_without_an_artifact_is_not_pinned(pinned):
    built, whole = pinned
    with pytest.raises(exceptions.InputNotPinned):
        built.tracker.verify_input(whole, "whole_run")


def test_verify_input_of_an_unknown_input_name_is_not_found(pinned):
    built, _ = pinned
    with pytest.raises(exceptions.InputNotFound):
        built.tracker.verify_input(built.model_run, "nope")


def test_verify_input_refuses_a_pinned_blob_whose_bytes_changed(pipeline):
    blob = pipeline.tracker.get_artifact_abspath(pipeline.feature_run, pipeline.artifact)
    os.chmod(blob, 0o644)
    Path(blob).write_bytes(b"tampered")
    with pytest.raises(exceptions.BlobCorrupted):
        pipeline.tracker.verify_input(pipeline.model_run, pipeline.input)


def test_demo_sql_answers_which_models_used_which_file(tmp_path):
    examples = REPO / "examples" / "feature_store"
    run_script(examples / "make_features.py", tmp_path)
    run_script(examples / "train_with_fs.py", tmp_path)
    query = (examples / "models_by_feature_file.sql").read_text()
    with sqlite3.connect(tmp_path / ".runelog" / "runelog.db") as conn:
        rows = conn.execute(query).fetchall()
    (parquet,) = (tmp_path / "fstore").glob("*/iris_features.parquet")
    assert rows == [("iris-classifier", 1, "iris_features.parquet", sha256(parquet)[:12], parquet.parent.name[:8])]
