"""Version a feature set.

Builds iris features with an engineered column, writes them as parquet under
`fstore/<run_id>/`, and records the file two ways: a fingerprint (SHA-256,
size, rows, columns, schema; no copy) and an artifact (a copy in the blob
store, the fallback when the local file is gone). The run is tagged
`latest_feature_set=True` so training can find the newest version.

    python examples/feature_store/make_features.py [--add-sepal-area]
"""

import argparse
from pathlib import Path

from sklearn.datasets import load_iris

from runelog import get_tracker

FEATURE_EXPERIMENT = "feature-sets"
FEATURE_FILE = "iris_features.parquet"
DATASET_NAME = "iris_features"


def build_features(add_sepal_area: bool):
    frame = load_iris(as_frame=True).frame
    frame["petal_ratio"] = frame["petal length (cm)"] / frame["petal width (cm)"]
    if add_sepal_area:
        frame["sepal_area"] = frame["sepal length (cm)"] * frame["sepal width (cm)"]
    return frame


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--add-sepal-area", action="store_true", help="a second feature version")
    args = parser.parse_args(argv)

    tracker = get_tracker()
    with tracker.start_run(experiment_name=FEATURE_EXPERIMENT, run_name="iris-features") as run_id:
        features = build_features(args.add_sepal_area)
        folder = Path("fstore") / run_id
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / FEATURE_FILE
        features.to_parquet(path, index=False)

        tracker.log_params({"source": "sklearn load_iris", "columns": list(features.columns)})
        tracker.log_dataset(path, name=DATASET_NAME)
        tracker.log_artifact(path)
        tracker.set_run_tags({"latest_feature_set": True})
    print(f"feature set {run_id[:8]}: {len(features)} rows x {features.shape[1]} columns in {path}")
    return run_id


if __name__ == "__main__":
    main()
