"""The compat suite run against the real runelog 0.2.0, so that it encodes what 0.2.0 did.

A venv with the 0.2.0 wheel installed (its own `runelog` console script included)
is built once and cached beside the wheel (~/.cache/runelog-tests). It reuses
this environment's installed packages (pytest, pandas, scikit-learn, typer, ...)
through a .pth file, but not this runelog: 0.2.0 sits in the venv's own
site-packages, which come first. The tests of tests/compat/ are copied to a
temp folder and run there with RUNELOG_COMPAT_TARGET=0.2.0; the checks of
0.2.0 bugs that this package fixes skip themselves. Outside CI, when the wheel
cannot be downloaded, this test is skipped; in CI (CI=true) it fails instead.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from ..test_legacy_import import CACHE, WHEEL_SHA256, ensure_wheel

HERE = Path(__file__).parent
IN_CI = os.environ.get("CI", "").lower() == "true"


def wheel_or_skip() -> Path:
    try:
        return ensure_wheel()
    except pytest.skip.Exception as skipped:
        if IN_CI:
            pytest.fail(f"CI must test the compat suite against runelog 0.2.0, but: {skipped}")
        raise


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def venv_020(wheel: Path) -> Path:
    """The cached venv with runelog 0.2.0 installed over this environment's packages."""
    shared = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    key = hashlib.sha256("\n".join([WHEEL_SHA256, sys.version, sys.prefix, *shared]).encode()).hexdigest()[:12]
    venv = CACHE / f"venv-runelog-0.2.0-{key}"
    done = venv / ".complete"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder at a time
        if done.exists():
            return venv
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                       capture_output=True, timeout=300)
        python = venv_python(venv)
        site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              check=True, capture_output=True, text=True).stdout.strip()
        Path(site, "_shared_site_packages.pth").write_text("".join(f"{p}\n" for p in shared))
        install = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                                  "--no-index", "--disable-pip-version-check", "-q", str(wheel)],
                                 capture_output=True, text=True, timeout=300)
        assert install.returncode == 0, install.stderr
        check = subprocess.run([str(python), "-c", "import runelog; print(runelog.__version__, runelog.__file__)"],
                               capture_output=True, text=True, cwd=venv)
        assert check.stdout.split()[0] == "0.2.0" and str(venv) in check.stdout, check.stdout + check.stderr
        done.write_text("ok\n")
    return venv


def copy_suite(target: Path) -> Path:
    """tests/compat/ without this module, as a stand-alone package (`compat`)."""
    suite = target / "compat"
    shutil.copytree(HERE, suite, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", Path(__file__).name))
    (target / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider -ra\n")
    return suite


@pytest.mark.slow
def test_the_compat_suite_passes_against_runelog_0_2_0(tmp_path):
    venv = venv_020(wheel_or_skip())
    suite = copy_suite(tmp_path)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RUNELOG_", "PYTEST_", "PYTHON")) and k != "VIRTUAL_ENV"}
    env.update(RUNELOG_COMPAT_TARGET="0.2.0", VIRTUAL_ENV=str(venv),
               PATH=f"{venv_python(venv).parent}{os.pathsep}{env.get('PATH', '')}")
    done = subprocess.run([str(venv_python(venv)), "-m", "pytest", "-q", str(suite),
                           "--basetemp", str(tmp_path / "basetemp")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1800)
    report = done.stdout[-6000:] + done.stderr[-3000:]
    assert done.returncode == 0, f"the compat suite fails against runelog 0.2.0:\n{report}"
    assert " passed" in done.stdout and " error" not in done.stdout.splitlines()[-1], report
