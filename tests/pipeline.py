"""The feature run -> model run -> registered model pipeline that many tests start from.

Built in one place so that every test reads the same shape of store: a feature run that
logged a dataset file (as an artifact and as a fingerprint) and a tag, a model run that
pinned that artifact with `log_input_run`, and the model registered from it.
`tests/conftest.py` offers it as the `pipeline` fixture; fixtures that need two versions
or extra logging call `build_pipeline` themselves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FEATURE_TAGS = {"latest_feature_set": True}


def feature_bytes(version: str = "v1") -> bytes:
    """What the feature file of `version` holds."""
    return f"PAR1 features {version}".encode()


@dataclass(frozen=True)
class Pipeline:
    """What `build_pipeline` made: the ids, names and the pinned hash tests assert against."""

    tracker: Any
    feature_run: str
    model_run: str
    data: Path  # the local feature file
    artifact: str  # its artifact name in the feature run
    input: str  # the input name in the model run
    sha256: str  # the hash the model run pinned
    feature_experiment: str
    model_experiment: str
    model: str  # registered model name
    version: str  # registered version, as register_model returned it
    alias: str | None


def build_pipeline(tracker, folder: Path, *, version: str = "v1", artifact: str = "features.parquet",
                   feature_experiment: str = "feature-sets", model_experiment: str = "models",
                   model: str = "clf", model_tags: dict | None = None, alias: str | None = None,
                   featurize: Callable[[Any], None] | None = None,
                   train: Callable[[Any], None] | None = None) -> Pipeline:
    """Log one feature set and one model trained on it; `featurize` / `train` log more inside each run.

    Runs are named `features-<version>` and `model-<version>`; the file is `folder/<version>/<artifact>`,
    so calling this twice with two versions gives two feature sets and two model versions.
    """
    data = Path(folder) / version / artifact
    data.parent.mkdir(parents=True, exist_ok=True)
    data.write_bytes(feature_bytes(version))
    with tracker.start_run(experiment_name=feature_experiment, run_name=f"features-{version}",
                           log_code=False, log_git_meta=False) as feature_run:
        tracker.log_artifact(str(data))
        tracker.log_dataset(str(data), "features")
        tracker.set_run_tags(FEATURE_TAGS)
        if featurize is not None:
            featurize(tracker)
    with tracker.start_run(experiment_name=model_experiment, run_name=f"model-{version}",
                           log_code=False, log_git_meta=False) as model_run:
        tracker.log_input_run("feature_set", feature_run, artifact_name=artifact)
        if train is not None:
            train(tracker)
        tracker.log_model({"version": version}, "model.joblib")
    registered = tracker.register_model(model_run, "model.joblib", model, tags=model_tags)
    if alias is not None:
        tracker.set_model_alias(model, alias, registered)
    tracker.flush()
    return Pipeline(tracker=tracker, feature_run=feature_run, model_run=model_run, data=data,
                    artifact=artifact, input="feature_set", sha256=hashlib.sha256(data.read_bytes()).hexdigest(),
                    feature_experiment=feature_experiment, model_experiment=model_experiment,
                    model=model, version=registered, alias=alias)
