"""runelog 0.2.0's example scripts, copied unmodified into tests/compat/examples/, run as a
user runs them (`python script.py` in a project folder, a process each), and what
they recorded read back through the public API. (examples/sweep/ has its own test.)"""

from __future__ import annotations

import ast
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from runelog import get_tracker

EXAMPLES = Path(__file__).parent / "examples"


def run_example(relative: str, project: Path) -> str:
    """Copy one example into `project` (as a user would have it) and run it there."""
    script = project / Path(relative).name
    shutil.copy(EXAMPLES / relative, script)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNELOG_")}
    env.pop("PYTHONPATH", None)
    done = subprocess.run([sys.executable, "-u", script.name], cwd=project, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{relative} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


# SHA-256 of each file at tag v0.2.0 of gonz4lex/runelog: the copies are unmodified.
SHA256_0_2_0 = {
    "feature_store/make_features.py": "60989f1eebe3a4c53c882af1bde59198e23539ab4cefdd19d4ff40f44461e54d",
    "feature_store/train_with_fs.py": "886474ba979d0c8c72395bf7a8b39d323efc56f807c866c13ddf07f315fcae14",
    "minimal_tracking.py": "c85ed4973b91c983115fc697b627f850dcc1b3dc05b20d38b4d6fb60cda2736c",
    "train_model.py": "dbfb1244b712cc9d08629eb4e6f040eb4c3caff1883c8af14247122f91056ffb",
}


def test_the_copies_are_0_2_0s_files():
    found = {p.relative_to(EXAMPLES).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in EXAMPLES.rglob("*.py") if "sweep" not in p.parts}
    assert found == SHA256_0_2_0


@pytest.fixture
def project(tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    return folder


def test_minimal_tracking(project):
    out = run_example("minimal_tracking.py", project)
    assert "Minimal tracking complete." in out
    tracker = get_tracker(path=str(project))
    results = tracker.load_results("example-minimal-tracking")
    assert len(results) == 1
    run = results.iloc[0]
    assert run["param_experiment_type"] == "minimal"
    assert run["accuracy"] == pytest.approx(0.85)  # the last value logged
    assert run["status"] == "FINISHED"
    details = tracker.get_run_details(results.index[0])
    assert "minimal_tracking.py" in details["artifacts"]  # log_code=True by default


def test_train_model(project):
    out = run_example("train_model.py", project)
    tracker = get_tracker(path=str(project))

    run_id = re.search(r"Started Run: (\S+)", out).group(1)
    details = tracker.get_run_details(run_id)
    assert details["params"] == {"C": 1.0, "solver": "liblinear", "dataset_shape": [1000, 20]}
    accuracy = details["metrics"]["accuracy"]
    assert 0.5 < accuracy <= 1
    assert f"Logged model accuracy: {accuracy:.4f}" in out
    assert "model.pkl" in details["artifacts"]

    assert tracker.list_registered_models() == ["registered-train-example"]
    (version,) = tracker.get_model_versions("registered-train-example")
    assert version["version"] == "1" and version["source_run_id"] == run_id
    assert tracker.get_model_tags("registered-train-example", "1") == {"status": "winner", "scope": "global"}
    tags_line = re.search(r"Tags for 'registered-train-example' v1: (\{.*\})", out).group(1)
    assert ast.literal_eval(tags_line) == {"status": "winner", "scope": "global"}
    assert "Model loaded successfully: LogisticRegression" in out
    assert "--- Experiment Results ---" in out and run_id in out
    model = tracker.load_registered_model("registered-train-example")
    assert model.predict([[0.0] * 20]).shape == (1,)


def test_feature_store_make_then_train(project):
    out = run_example("feature_store/make_features.py", project)
    tracker = get_tracker(path=str(project))
    feature_run = re.search(r"Creating a new feature set in run: (\S+)", out).group(1)
    parquet = project.parent / "data" / "fstore" / feature_run / "iris_features.parquet"
    assert parquet.is_file()
    assert "iris_features.parquet" in tracker.get_run_details(feature_run)["artifacts"]
    assert tracker.get_run_details(feature_run)["meta"]["tags"] == {"latest_feature_set": True}

    out = run_example("feature_store/train_with_fs.py", project)
    assert f"Found latest feature set from run: {feature_run}" in out
    assert (project / "iris_features.parquet").read_bytes() == parquet.read_bytes()  # downloaded here
    accuracy = float(re.search(r"Model trained with accuracy: ([0-9.]+)", out).group(1))
    results = tracker.load_results("production-models")
    assert len(results) == 1
    assert results.iloc[0]["accuracy"] == pytest.approx(accuracy, abs=5e-5)
