"""Every public call of 0.2.0, in the situations where it failed or found nothing: the same
exception class (or a subclass), or the same empty answer (None, [], an empty frame).
Not in 0.2.0's own tests; written here so that the run against 0.2.0 proves each row."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

import runelog
from runelog import exceptions

from .target import MockModel

NAMES_0_2_0 = ["RunelogException", "ExperimentNotFound", "RunNotFound", "ModelNotFound", "ModelVersionNotFound",
               "ArtifactNotFound", "NoActiveRun", "InvalidExperimentId", "InvalidRunId", "RegistryError",
               "DuplicateModelRegistration", "InvalidModelVersion", "CorruptedMetadata",
               "InsufficientPermissions", "StorageError", "NoVersionsFound"]


@dataclass
class World:
    tracker: object
    run: str
    folder: Path


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A store with experiment "exp" holding one run (artifact a.txt, model model.pkl), and model "m" v1."""
    folder = tmp_path_factory.mktemp("errors")
    (folder / "a.txt").write_text("a")
    (folder / "data.csv").write_text("x\n1\n")
    (folder / "data.csv.dvc").write_text("outs:\n- md5: 0123456789abcdef0123456789abcdef\n  path: data.csv\n")
    tracker = runelog.get_tracker(path=str(folder))
    with tracker.start_run(experiment_name="exp", log_code=False, log_git_meta=False) as run:
        tracker.log_artifact(str(folder / "a.txt"))
        tracker.log_model(MockModel(), "model.pkl")
    tracker.register_model(run, "model.pkl", "m")
    yield World(tracker, run, folder)
    close = getattr(tracker, "close", None)
    if close is not None:
        close()


@pytest.mark.parametrize("name", NAMES_0_2_0)
def test_exception_names_at_the_top_of_the_package(name):
    """0.2.0's `from runelog import RunNotFound` (and the rest of its re-exports)."""
    cls = getattr(runelog, name)
    assert cls is getattr(exceptions, name)
    assert issubclass(cls, exceptions.RunelogException)


def test_exception_hierarchy_of_0_2_0():
    assert issubclass(exceptions.DuplicateModelRegistration, exceptions.RegistryError)
    assert issubclass(exceptions.InvalidModelVersion, exceptions.RegistryError)
    assert issubclass(exceptions.NoVersionsFound, exceptions.ModelNotFound)
    assert issubclass(exceptions.RunelogException, Exception)


RAISES = {
    "load_results(missing)": (lambda w: w.tracker.load_results("missing"), "ExperimentNotFound"),
    "load_results(unknown id)": (lambda w: w.tracker.load_results("99"), "ExperimentNotFound"),
    "delete_experiment(missing)": (lambda w: w.tracker.delete_experiment("missing"), "ExperimentNotFound"),
    "delete_run(unknown)": (lambda w: w.tracker.delete_run("nonexistent-run-id"), "RunNotFound"),
    "delete_run(hex-looking unknown)": (lambda w: w.tracker.delete_run("0123abcd"), "RunNotFound"),
    "register_model(unknown run)": (lambda w: w.tracker.register_model("nonexistent-run-id", "model.pkl", "x"),
                                    "RunNotFound"),
    "register_model(missing artifact)": (lambda w: w.tracker.register_model(w.run, "missing.pkl", "x"),
                                         "ArtifactNotFound"),
    "load_registered_model(missing)": (lambda w: w.tracker.load_registered_model("missing"), "ModelNotFound"),
    "load_registered_model(missing, '1')": (lambda w: w.tracker.load_registered_model("missing", "1"),
                                            "ModelNotFound"),
    "load_registered_model(m, '99')": (lambda w: w.tracker.load_registered_model("m", version="99"),
                                       "ModelVersionNotFound"),
    "add_model_tags(missing model)": (lambda w: w.tracker.add_model_tags("missing", "1", {"a": 1}),
                                      "ModelVersionNotFound"),
    "add_model_tags(missing version)": (lambda w: w.tracker.add_model_tags("m", "99", {"a": 1}),
                                        "ModelVersionNotFound"),
    "get_model_tags(missing model)": (lambda w: w.tracker.get_model_tags("missing", "1"), "ModelVersionNotFound"),
    "get_model_tags(missing version)": (lambda w: w.tracker.get_model_tags("m", "99"), "ModelVersionNotFound"),
    "get_artifact_abspath(unknown run)": (lambda w: w.tracker.get_artifact_abspath("nonexistent-run-id", "a.txt"),
                                          "RunNotFound"),
    "get_artifact_abspath(missing artifact)": (lambda w: w.tracker.get_artifact_abspath(w.run, "missing.txt"),
                                               "ArtifactNotFound"),
    "download_artifact(unknown run)": (lambda w: w.tracker.download_artifact("nonexistent-run-id", "a.txt",
                                                                             str(w.folder / "dl")), "RunNotFound"),
    "download_artifact(missing artifact)": (lambda w: w.tracker.download_artifact(w.run, "missing.txt",
                                                                                  str(w.folder / "dl")),
                                            "ArtifactNotFound"),
    # Outside a run.
    "log_param": (lambda w: w.tracker.log_param("p", 1), "NoActiveRun"),
    "log_metric": (lambda w: w.tracker.log_metric("m", 1.0), "NoActiveRun"),
    "log_artifact": (lambda w: w.tracker.log_artifact(str(w.folder / "a.txt")), "NoActiveRun"),
    "log_model": (lambda w: w.tracker.log_model(MockModel(), "x.pkl"), "NoActiveRun"),
    "log_dataset": (lambda w: w.tracker.log_dataset(str(w.folder / "data.csv"), "d"), "NoActiveRun"),
    "log_dvc_input": (lambda w: w.tracker.log_dvc_input(str(w.folder / "data.csv"), "d"), "NoActiveRun"),
    "log_input_run": (lambda w: w.tracker.log_input_run("in", w.run), "NoActiveRun"),
    "set_run_tags": (lambda w: w.tracker.set_run_tags({"a": 1}), "NoActiveRun"),
    "get_run_tags": (lambda w: w.tracker.get_run_tags(), "NoActiveRun"),
}


@pytest.mark.parametrize("case", list(RAISES))
def test_raises_what_0_2_0_raised(world, case):
    call, name = RAISES[case]
    with pytest.raises(getattr(exceptions, name)):
        call(world)


def test_raises_inside_a_run(world):
    tracker = world.tracker
    with tracker.start_run(experiment_name="inside", log_code=False, log_git_meta=False):
        with pytest.raises(exceptions.ArtifactNotFound):
            tracker.log_artifact(str(world.folder / "missing.txt"))
        with pytest.raises(exceptions.ArtifactNotFound):
            tracker.log_dataset(str(world.folder / "missing.csv"), "d")
        with pytest.raises(exceptions.RunNotFound):
            tracker.log_input_run("in", "nonexistent-run-id")
        with pytest.raises(exceptions.ArtifactNotFound):
            tracker.log_input_run("in", world.run, artifact_name="missing.txt")


EMPTY = {
    "get_run(unknown)": (lambda w: w.tracker.get_run("nonexistent-run-id"), None),
    "get_run_details(unknown)": (lambda w: w.tracker.get_run_details("nonexistent-run-id"), None),
    "get_run(hex-looking unknown)": (lambda w: w.tracker.get_run("0123abcd"), None),
    "get_experiment(unknown id)": (lambda w: w.tracker.get_experiment("99"), None),
    "get_experiment(a name)": (lambda w: w.tracker.get_experiment("no-such-name"), None),
    "get_model_versions(missing)": (lambda w: w.tracker.get_model_versions("missing"), []),
    "get_experiment_runs(unknown id)": (lambda w: w.tracker.get_experiment_runs("99"), []),
}


@pytest.mark.parametrize("case", list(EMPTY))
def test_finds_nothing_as_0_2_0_did(world, case):
    call, expected = EMPTY[case]
    assert call(world) == expected


def test_an_empty_store(tmp_path):
    tracker = runelog.get_tracker(path=str(tmp_path / "empty"))
    assert tracker.list_experiments() == []
    assert tracker.list_registered_models() == []
    assert tracker.get_experiment_summaries() == []
    assert tracker.get_experiment("0") is None
