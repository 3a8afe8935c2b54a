"""The DVC variant: DVC versions the file, runelog records DVC's hash for it.

Run inside a DVC project (`dvc init`, or `dvc init --no-scm` outside git).
The script writes the features, runs `dvc add` on them, and records the md5
from the `.dvc` file with `log_dvc_input`, so the run names the exact version
DVC can restore with `dvc checkout`.

    python examples/feature_store/make_features_dvc.py
"""

import subprocess
from pathlib import Path

from sklearn.datasets import load_iris

from runelog import get_tracker

FEATURE_PATH = Path("data") / "iris_features.parquet"


def main() -> str:
    tracker = get_tracker()
    with tracker.start_run(experiment_name="feature-sets-dvc", run_name="iris-features-dvc") as run_id:
        frame = load_iris(as_frame=True).frame
        frame["petal_ratio"] = frame["petal length (cm)"] / frame["petal width (cm)"]
        FEATURE_PATH.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(FEATURE_PATH, index=False)
        subprocess.run(["dvc", "add", str(FEATURE_PATH)], check=True, capture_output=True)
        tracker.log_dvc_input(FEATURE_PATH, name="iris_features")
        tracker.set_run_tags({"latest_feature_set": True})
    print(f"feature set {run_id[:8]} recorded with its DVC hash")
    return run_id


if __name__ == "__main__":
    main()
