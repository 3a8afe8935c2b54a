"""The built wheel carries the migrations, and the example scripts run as users run them."""

import os
import shutil
import site
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from runelog import db

from .conftest import REPO


def build_wheel(tmp_path: Path) -> Path:
    # Build from a copy so the checkout gets no build/ or egg-info litter.
    src = tmp_path / "src"
    src.mkdir()
    for name in ("runelog", "migrations", "examples"):
        shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "alembic.ini"):
        shutil.copy(REPO / name, src / name)
    out = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(src)],
                   check=True, capture_output=True)
    (wheel,) = out.glob("runelog-*.whl")
    return wheel


@pytest.mark.slow  # over 12 s: run by `make test-slow` (and CI)
def test_wheel_installs_into_a_fresh_venv_and_opens_a_new_store(tmp_path):
    wheel = build_wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    assert "runelog/migrations/env.py" in names
    assert "runelog/migrations/script.py.mako" in names
    assert any(n.startswith("runelog/migrations/versions/0001_") for n in names)
    assert "runelog/examples/feature_store/train_with_fs.py" in names
    assert "runelog/examples/feature_store/models_by_feature_file.sql" in names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    vpy = venv / "bin" / "python"
    subprocess.run([str(vpy), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
                   check=True, capture_output=True)
    # The dependencies come from the test environment; runelog itself only from the wheel.
    purelib = subprocess.run([str(vpy), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    Path(purelib, "test-deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    script = (
        "import runelog, sys\n"
        "from runelog import get_tracker, db\n"
        "assert 'venv' in runelog.__file__, runelog.__file__\n"
        "assert 'venv' in str(db.migrations_dir()), db.migrations_dir()\n"
        "t = get_tracker('.')\n"
        "with t.start_run(experiment_name='wheel', log_code=False):\n"
        "    t.log_metric('m', 1.0)\n"
        "print(sorted(r for r, *_ in db.history()))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNELOG_") and k != "PYTHONPATH"}
    run = subprocess.run([str(vpy), "-c", script], cwd=outside, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert db.HEAD_REVISION in run.stdout
    with sqlite3.connect(outside / ".runelog" / "runelog.db") as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (db.HEAD_REVISION,)
        assert conn.execute("SELECT count(*) FROM metrics").fetchone() == (1,)
    cli = subprocess.run([str(venv / "bin" / "runelog"), "db", "current"], cwd=outside, env=env,
                         capture_output=True, text=True)
    assert cli.returncode == 0 and "up to date" in cli.stdout, cli.stderr
    for example in ("features", "train-fs"):
        ran = subprocess.run([str(venv / "bin" / "runelog"), "examples", example], cwd=outside, env=env,
                             capture_output=True, text=True)
        assert ran.returncode == 0, ran.stderr
    assert "iris-classifier v1" in ran.stdout


def test_quickstart_example_runs_and_leaves_a_registered_model(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNELOG_")}
    env["RUNELOG_HOME"] = str(tmp_path)
    run = subprocess.run([sys.executable, str(REPO / "examples" / "quickstart.py")], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "registered breast-cancer-sgd v1" in run.stdout
    with sqlite3.connect(tmp_path / ".runelog" / "runelog.db") as conn:
        assert conn.execute("SELECT count(*) FROM metrics WHERE key = 'test_accuracy'").fetchone() == (15,)
        assert conn.execute(
            "SELECT r.status FROM model_versions v JOIN runs r ON r.id = v.run_id").fetchall() == [("FINISHED",)]


def test_every_subpackage_is_listed_for_the_wheel():
    """A package folder missing from pyproject's list is missing from the wheel (the sweep runner once was)."""
    import tomllib

    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "runelog").rglob("__init__.py")
             if "__pycache__" not in p.parts}
    assert found, "no packages found under runelog/"
    assert found - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
