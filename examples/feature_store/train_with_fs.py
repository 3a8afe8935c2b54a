"""Train on the newest feature set and record exactly which bytes were used.

1. Find the newest finished feature run tagged `latest_feature_set=True`
   (one indexed SQL query).
2. Use the local parquet file if it is still there, after checking it against
   the fingerprint the feature run recorded (no copy); otherwise download the
   artifact copy, which is verified on the way out.
3. Record the input link (feature run + the artifact's SHA-256), train, log
   metrics and the model, and register it.

    python examples/feature_store/train_with_fs.py
"""

import tempfile
from pathlib import Path

import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split

from runelog import get_tracker

FEATURE_EXPERIMENT = "feature-sets"
MODEL_EXPERIMENT = "production-models"
FEATURE_FILE = "iris_features.parquet"
DATASET_NAME = "iris_features"
MODEL_NAME = "iris-classifier"


def feature_file(tracker, feature_run: str) -> tuple[str, str]:
    """A path to the feature set's bytes, and how it was obtained."""
    recorded = {d["name"]: d for d in tracker.get_run_details(feature_run)["datasets"]}
    local = recorded[DATASET_NAME]["path"]
    if Path(local).is_file():
        tracker.verify_dataset(feature_run, DATASET_NAME, local)  # DatasetMismatch if it changed
        return local, "local file, verified against its fingerprint"
    folder = tempfile.mkdtemp(prefix="runelog-features-")
    return tracker.download_artifact(feature_run, FEATURE_FILE, folder), "downloaded artifact copy"


def main() -> str:
    tracker = get_tracker()
    feature_run = tracker.latest_run(FEATURE_EXPERIMENT, tags={"latest_feature_set": True})
    if feature_run is None:
        raise SystemExit("No feature set found: run make_features.py first.")
    path, how = feature_file(tracker, feature_run)
    print(f"training on feature set {feature_run[:8]} ({how})")
    frame = pd.read_parquet(path)

    with tracker.start_run(experiment_name=MODEL_EXPERIMENT, run_name="iris-logreg") as run_id:
        tracker.log_input_run("feature_set", feature_run, artifact_name=FEATURE_FILE)
        X, y = frame.drop(columns=["target"]), frame["target"]
        X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=42, stratify=y)
        params = {"C": 10.0, "max_iter": 5000}
        tracker.log_params({**params, "features": list(X.columns)})
        model = LogisticRegression(**params).fit(X_train, y_train)
        predictions = model.predict(X_test)
        tracker.log_metrics({"accuracy": accuracy_score(y_test, predictions),
                             "f1_macro": f1_score(y_test, predictions, average="macro")})
        tracker.log_model(model, "model.joblib")
    version = tracker.register_model(run_id, "model.joblib", MODEL_NAME,
                                     tags={"feature_run": feature_run})
    print(f"model run {run_id[:8]} registered as {MODEL_NAME} v{version}")
    return run_id


if __name__ == "__main__":
    main()
