"""Scripts written for runelog 0.2.0 keep working: issue 13, items 1-6, 18, 19 (and issue 12, 16-17).

Each test attacks one promise the way a 0.2.0 script (or a notebook) would
hit it; API tests use the `tracker` fixture, so they run on SQLite and on
PostgreSQL.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from datetime import datetime
from pathlib import Path

import pytest

import runelog
from runelog import exceptions

from .conftest import REPO

# The exception classes runelog 0.2.0 re-exported from the package (its runelog/__init__.py).
EXCEPTIONS_0_2_0 = [
    "RunelogException", "ExperimentNotFound", "RunNotFound", "ModelNotFound", "ModelVersionNotFound",
    "ArtifactNotFound", "NoActiveRun", "InvalidExperimentId", "InvalidRunId", "RegistryError",
    "DuplicateModelRegistration", "InvalidModelVersion", "CorruptedMetadata", "InsufficientPermissions",
    "StorageError", "NoVersionsFound",
]

BAD_RUN_IDS = ["doesnotexist", "nonexistent-run-id", "..", ".", "/", "../..", "", "   ", "0" * 40]


def python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run code in a fresh interpreter, as a user's script (no test imports loaded)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNELOG_")}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


# ---------------------------------------------------------------- item 1: 0.2.0's module paths


def test_item1_the_module_path_0_2_0_documented_imports(tmp_path):
    script = (
        "from runelog.runelog import RuneLog, get_tracker, exceptions\n"
        "import runelog.tracker\n"
        "assert RuneLog is runelog.tracker.RuneLog\n"
        "t = get_tracker()\n"
        "assert isinstance(t, RuneLog)\n"
        "with t.start_run(experiment_name='e') as run_id:\n"
        "    t.log_metric('m', 1.0)\n"
        "try:\n"
        "    t.delete_run('doesnotexist')\n"
        "except exceptions.RunNotFound:\n"
        "    print('ok', len(run_id))\n"
        "r = RuneLog(path='other')\n"
        "print(r.list_experiments())\n"
    )
    result = python(script, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["ok 32", "[]"]


# ---------------------------------------------------------------- item 18: package-level names


def test_item18_every_exception_0_2_0_exported_is_importable_from_the_package(tmp_path):
    # A fresh interpreter: `from runelog import X` must not depend on anything imported before.
    names = ", ".join(EXCEPTIONS_0_2_0)
    result = python(f"from runelog import {names}\nfrom runelog import get_tracker, RuneLog, exceptions\n"
                    "print(RunNotFound.__module__)", tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "runelog.exceptions"
    for name in EXCEPTIONS_0_2_0:
        assert getattr(runelog, name) is getattr(exceptions, name)
        assert issubclass(getattr(runelog, name), runelog.RunelogException)


# Classes that are deliberately under none of NotFound / InvalidInput / StoreError, and why.
OUTSIDE_THE_BASES = {
    "RunelogException": "the root",
    "RegistryError": "0.2.0's registry base; each of its subclasses is under one of the three",
    "SweepRunsFailed": "a summary of other runs' failures (each recorded with its own error)",
}


def test_item18_every_error_is_under_one_of_the_three_bases():
    import inspect

    for name, cls in inspect.getmembers(exceptions, inspect.isclass):
        if not issubclass(cls, exceptions.RunelogException):
            continue
        if name in OUTSIDE_THE_BASES:
            continue
        assert issubclass(cls, (exceptions.NotFound, exceptions.InvalidInput, exceptions.StoreError)), name


# ---------------------------------------------------------------- item 2: unknown and malformed run ids


def test_item2_unknown_and_malformed_run_ids_behave_as_in_0_2_0(tracker, tmp_path):
    model = tmp_path / "model.pkl"
    model.write_bytes(b"weights")
    with tracker.start_run(experiment_name="e", log_code=False) as run_id:
        tracker.log_artifact(str(model))
    for bad in BAD_RUN_IDS:
        # get_run and get_run_details return None, as for any unknown id.
        assert tracker.get_run(bad) is None, bad
        assert tracker.get_run_details(bad) is None, bad
        # Everything else raises RunNotFound (InvalidRunId is one), which a 0.2.0 `except` catches.
        calls = {
            "delete_run": lambda: tracker.delete_run(bad),
            "download_artifact": lambda: tracker.download_artifact(bad, "model.pkl", str(tmp_path / "out")),
            "get_artifact_abspath": lambda: tracker.get_artifact_abspath(bad, "model.pkl"),
            "register_model": lambda: tracker.register_model(bad, "model.pkl", "m"),
        }
        for name, call in calls.items():
            with pytest.raises(exceptions.RunNotFound):
                call()
        with tracker.start_run(experiment_name="e", log_code=False):
            with pytest.raises(exceptions.RunNotFound):
                tracker.log_input_run("upstream", bad)
    # Nothing was deleted, registered or written on the way.
    assert tracker.get_run(run_id)["status"] == "FINISHED"
    assert tracker.list_registered_models() == []
    assert not (tmp_path / "out").exists()
    assert len(tracker.load_results("e")) == 1 + len(BAD_RUN_IDS)


def test_item2_invalid_run_id_is_a_run_not_found():
    assert issubclass(exceptions.InvalidRunId, exceptions.RunNotFound)
    assert issubclass(exceptions.AmbiguousRunId, exceptions.RunNotFound)
    error = exceptions.InvalidRunId("..")
    assert error.run_id == ".." and "'..'" in str(error)
