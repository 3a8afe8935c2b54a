"""Quickstart: train a small classifier epoch by epoch and track everything in runelog.

Run it with `make demo`, or `python examples/quickstart.py` inside the venv.
The store is `.runelog/` under $RUNELOG_HOME (default: the current folder).
"""

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from runelog import get_tracker

EXPERIMENT = "quickstart"
MODEL_NAME = "breast-cancer-sgd"


def main() -> None:
    tracker = get_tracker()
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)

    params = {"alpha": 1e-4, "epochs": 15, "loss": "log_loss", "random_state": 0}
    with tracker.start_run(experiment_name=EXPERIMENT, run_name="sgd-baseline") as run_id:
        tracker.log_params(params)
        scaler = StandardScaler().fit(X_train)
        X_train_s, X_test_s = scaler.transform(X_train), scaler.transform(X_test)
        clf = SGDClassifier(loss=params["loss"], alpha=params["alpha"], random_state=params["random_state"])
        classes = np.unique(y_train)
        for epoch in range(params["epochs"]):
            clf.partial_fit(X_train_s, y_train, classes=classes)
            tracker.log_metrics({
                "train_loss": log_loss(y_train, clf.predict_proba(X_train_s)),
                "test_accuracy": accuracy_score(y_test, clf.predict(X_test_s)),
            }, step=epoch)

        model = make_pipeline(scaler, clf)
        tracker.log_model(model, "model.joblib")
        tracker.set_tag("stage", "baseline")
        print(f"run {run_id}: test accuracy {accuracy_score(y_test, model.predict(X_test)):.3f}")

    version = tracker.register_model(run_id, "model.joblib", MODEL_NAME, tags={"data": "breast_cancer"})
    reloaded = tracker.load_registered_model(MODEL_NAME, version)
    print(f"registered {MODEL_NAME} v{version}; reloaded accuracy {accuracy_score(y_test, reloaded.predict(X_test)):.3f}")

    results = tracker.load_results(EXPERIMENT, sort_by="start_time")
    print(results[["status", "param_alpha", "param_epochs", "train_loss", "test_accuracy"]].to_string())


if __name__ == "__main__":
    main()
