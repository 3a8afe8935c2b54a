"""runelog 0.2.0's tests/test_runner.py, ported to the public `run_sweep`.

0.2.0's tests called the private `_load_data` and `_run_single_experiment`
and patched `runelog.runner.get_tracker`. Here each case is a real sweep
file run by `from runelog.runner import run_sweep` (0.2.0's module path) on
the store in the working folder, and what it recorded is read back with the
public API.
"""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from runelog import get_tracker


@pytest.fixture
def run_sweep():
    from runelog.runner import run_sweep

    return run_sweep


def write_config(path, dataset, validation, metrics, runs, experiment_name="Runner Test", metric_params=None):
    config = {"experiment_name": experiment_name, "dataset": dataset, "validation": validation,
              "evaluation": {"metrics": metrics, **({"metric_params": metric_params} if metric_params else {})},
              "runs": runs}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.dump(config))
    return str(path)


LINEAR = [{"id": "linear", "model_class": "sklearn.linear_model.LinearRegression"}]


@pytest.fixture
def csv_data(tmp_path):
    """A small regression data set as a CSV file in the working folder."""
    path = tmp_path / "test_data.csv"
    pd.DataFrame({"feature": range(10), "noise": [0, 1] * 5,
                  "target": [x * 2 + (x % 3) for x in range(10)]}).to_csv(path, index=False)
    return path


def only_run(experiment):
    results = get_tracker().load_results(experiment)
    assert len(results) == 1, results
    return results.iloc[0]


def test_load_data_from_sklearn(run_sweep, tmp_path):
    """A scikit-learn loader as the data set source."""
    config = write_config(tmp_path / "conf.yaml", {"source": "sklearn.datasets.load_iris"},
                          {"strategy": "train_test_split", "params": {"test_size": 0.2, "random_state": 0}},
                          ["accuracy_score"],
                          [{"id": "tree", "model_class": "sklearn.tree.DecisionTreeClassifier",
                            "model_params": {"max_depth": 2, "random_state": 0}}])
    run_sweep(config)
    run = only_run("Runner Test")
    assert 0.5 < run["accuracy_score"] <= 1.0
    assert run["param_max_depth"] == 2


def test_load_data_from_csv(run_sweep, tmp_path, csv_data):
    """A local CSV file with a target column as the data set source."""
    config = write_config(tmp_path / "conf.yaml", {"source": str(csv_data), "target_column": "target"},
                          {"strategy": "train_test_split", "params": {"test_size": 0.3, "random_state": 0}},
                          ["mean_squared_error"], LINEAR)
    run_sweep(config)
    assert isinstance(only_run("Runner Test")["mean_squared_error"], float)


def test_relative_csv_path_is_read_from_the_working_folder(run_sweep, tmp_path, csv_data):
    """0.2.0 opened a relative `source` from the working folder (the YAML may sit elsewhere)."""
    config = write_config(tmp_path / "configs" / "conf.yaml", {"source": csv_data.name, "target_column": "target"},
                          {"strategy": "train_test_split", "params": {"test_size": 0.3, "random_state": 0}},
                          ["mean_squared_error"], LINEAR)
    run_sweep(config)
    assert isinstance(only_run("Runner Test")["mean_squared_error"], float)


def test_run_single_experiment_split(run_sweep, tmp_path, csv_data):
    """The train_test_split strategy logs each metric as a float."""
    config = write_config(tmp_path / "conf.yaml", {"source": str(csv_data), "target_column": "target"},
                          {"strategy": "train_test_split", "params": {"test_size": 0.2}},
                          ["mean_squared_error", "r2_score"], LINEAR)
    run_sweep(config)
    run = only_run("Runner Test")
    assert isinstance(run["mean_squared_error"], float) and run["mean_squared_error"] >= 0
    assert isinstance(run["r2_score"], float)


def test_run_single_experiment_cv(run_sweep, tmp_path, csv_data):
    """The cross_validation strategy logs the mean over the folds."""
    config = write_config(tmp_path / "conf.yaml", {"source": str(csv_data), "target_column": "target"},
                          {"strategy": "cross_validation", "params": {"n_splits": 3}},
                          ["mean_squared_error"], LINEAR)
    run_sweep(config)
    assert isinstance(only_run("Runner Test")["mean_squared_error"], float)


def test_metric_params(run_sweep, tmp_path):
    config = write_config(tmp_path / "conf.yaml", {"source": "sklearn.datasets.load_iris"},
                          {"strategy": "cross_validation", "params": {"n_splits": 3}},
                          ["accuracy_score", "f1_score"],
                          [{"id": "tree", "model_class": "sklearn.tree.DecisionTreeClassifier",
                            "model_params": {"max_depth": 3, "random_state": 0}}],
                          metric_params={"f1_score": {"average": "macro"}})
    run_sweep(config)
    run = only_run("Runner Test")
    assert 0 < run["f1_score"] <= 1 and 0 < run["accuracy_score"] <= 1


def test_run_single_experiment_invalid_strategy(run_sweep, tmp_path, csv_data):
    """An unknown validation strategy raises ValueError ("Unknown validation strategy")."""
    config = write_config(tmp_path / "conf.yaml", {"source": str(csv_data), "target_column": "target"},
                          {"strategy": "invalid_strategy"}, [], LINEAR)
    with pytest.raises(ValueError, match="Unknown validation strategy"):
        run_sweep(config)


@pytest.fixture
def sweep_config_file(tmp_path):
    """0.2.0's own sweep config of this test."""
    config_data = {
        "experiment_name": "My Sweep Test",
        "dataset": {"source": "sklearn.datasets.load_iris"},
        "validation": {"strategy": "train_test_split", "params": {"test_size": 0.2}},
        "evaluation": {"metrics": ["accuracy_score"]},
        "runs": [
            {
                "id": "logistic_regression",
                "model_class": "sklearn.linear_model.LogisticRegression",
                "model_params": {"C": 1.0},
            }
        ],
    }
    config_path = tmp_path / "config.yaml"
    with open(config_path, "w") as f:
        yaml.dump(config_data, f)
    return str(config_path)


def test_run_sweep_full_workflow(run_sweep, sweep_config_file, tmp_path):
    """The whole sweep: one experiment, one run with its params and metrics, progress reported."""
    messages = []

    run_sweep(sweep_config_file, progress_handler=messages.append)

    tracker = get_tracker(path=str(tmp_path))
    experiments = tracker.list_experiments()
    assert len(experiments) == 1
    assert experiments[0]["name"] == "My Sweep Test"

    results = tracker.load_results(experiments[0]["experiment_id"])
    assert len(results) == 1
    assert "param_C" in results.columns
    assert "accuracy_score" in results.columns
    run = results.iloc[0]
    assert run["param_C"] == 1.0
    assert run["param_run_config_id"] == "logistic_regression"
    assert run["param_model_class"] == "sklearn.linear_model.LogisticRegression"
    assert run["param_validation_strategy"] == "train_test_split"
    assert run["status"] == "FINISHED"

    assert len(messages) > 0
    assert all(isinstance(m, str) for m in messages)


def test_run_sweep_progress_handler_positional(run_sweep, sweep_config_file):
    """`run_sweep(path, print)`: the handler is the second positional argument."""
    messages = []
    run_sweep(sweep_config_file, messages.append)
    assert len(messages) > 0
    assert len(get_tracker().load_results("My Sweep Test")) == 1
