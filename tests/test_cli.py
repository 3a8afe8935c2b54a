"""The command line, run as users run it: the installed console script in a subprocess."""

import os
import shutil
import subprocess
import sys


from runelog import __version__, db


def runelog(*args, cwd):
    exe = shutil.which("runelog", path=os.path.dirname(sys.executable)) or "runelog"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNELOG_")}
    return subprocess.run([exe, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def test_version_comes_from_the_package(tmp_path):
    result = runelog("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"runelog {__version__}"
    assert __version__ != "0.0.0+unknown"


def test_db_current_and_upgrade(tmp_path):
    store = tmp_path / "s"
    empty = runelog("--store", str(store), "db", "current", cwd=tmp_path)
    assert empty.returncode == 0 and "(empty)" in empty.stdout
    assert not (store / ".runelog" / "runelog.db").exists()  # looking changes nothing
    up = runelog("--store", str(store), "db", "upgrade", cwd=tmp_path)
    assert up.returncode == 0 and f"to {db.HEAD_REVISION}" in up.stdout
    again = runelog("--store", str(store), "db", "upgrade", cwd=tmp_path)
    assert "Already at" in again.stdout
    current = runelog("--store", str(store), "db", "current", cwd=tmp_path)
    assert "up to date" in current.stdout
    history = runelog("db", "history", cwd=tmp_path)
    assert db.HEAD_REVISION in history.stdout


def test_user_errors_are_one_red_line_and_exit_1(tmp_path):
    bad = tmp_path / ".runelog" / "runelog.db"
    bad.parent.mkdir()
    bad.write_text("not a database at all" * 50)
    result = runelog("db", "current", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("error:") and "not a SQLite database" in result.stderr
    debug = runelog("--debug", "db", "current", cwd=tmp_path)
    assert "Traceback" in debug.stderr


def test_usage_errors_exit_2(tmp_path):
    result = runelog("db", "no-such-command", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
