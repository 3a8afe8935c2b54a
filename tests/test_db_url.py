"""Database URLs and store locations: checked by the library (not only the CLI), read by make_url."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import runelog
from runelog import exceptions
from runelog import location as locations
from runelog import sqlite_file

from .conftest import REPO


@pytest.mark.parametrize("url, words", [
    ("notaurl", ["'notaurl'", "not a database URL", "postgresql+psycopg://"]),
    ("foo://host/db", ["SQLite or PostgreSQL", "'foo'"]),
    ("mysql://host/db", ["SQLite or PostgreSQL", "'mysql'"]),
    ("postgresql+nodriver://host/db", ["unknown driver", "postgresql+nodriver"]),
])
def test_a_url_runelog_cannot_use_is_refused_by_get_tracker(tmp_path, url, words):
    with pytest.raises(exceptions.InvalidDatabaseUrl) as info:
        runelog.get_tracker(str(tmp_path), database_url=url)
    assert isinstance(info.value, (exceptions.InvalidInput, ValueError))
    for word in words:
        assert word in str(info.value)
    assert not (tmp_path / ".runelog").exists()  # nothing was made


def test_the_environment_variable_is_checked_the_same_way(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNELOG_DATABASE_URL", "notaurl")
    with pytest.raises(exceptions.InvalidDatabaseUrl, match="notaurl"):
        runelog.get_tracker(str(tmp_path))
    assert not (tmp_path / ".runelog").exists()


def test_a_missing_driver_names_it_and_hides_the_password(tmp_path):
    with pytest.raises(exceptions.DatabaseDriverNotInstalled) as info:
        runelog.get_tracker(str(tmp_path), database_url="postgresql+psycopg2://me:s3cret@db.example/runs")
    text = str(info.value)
    assert "psycopg2" in text and 'pip install "runelog[postgres]"' in text
    assert "s3cret" not in text and "me:***@db.example" in text
    assert isinstance(info.value, (exceptions.InvalidDatabaseUrl, ImportError))


def test_a_url_naming_psycopg_when_psycopg_is_missing(tmp_path):
    """psycopg not installed (blocked in a fresh interpreter): a clear error, not SQLAlchemy's traceback."""
    code = (
        "import sys\n"
        "sys.modules['psycopg'] = None\n"  # `import psycopg` now raises ImportError
        "import runelog\n"
        "from runelog import exceptions\n"
        "try:\n"
        "    runelog.get_tracker(database_url='postgresql+psycopg://postgres@127.0.0.1:1/test')\n"
        "except exceptions.DatabaseDriverNotInstalled as exc:\n"
        "    print(type(exc).__name__, '|', exc)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNELOG_")}
    env["PYTHONPATH"] = str(REPO)
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("DatabaseDriverNotInstalled | The database driver 'psycopg'")
    assert 'pip install "runelog[postgres]"' in result.stdout


def test_check_database_url_returns_the_parsed_url():
    url = locations.check_database_url("postgresql+psycopg://me:pw@db.example:5433/runs")
    assert (url.get_backend_name(), url.host, url.port, url.database) == ("postgresql", "db.example", 5433, "runs")
    assert locations.check_database_url("sqlite:////tmp/x.db").database == "/tmp/x.db"
    with pytest.raises(exceptions.InvalidDatabaseUrl, match="not a database URL"):
        locations.check_database_url("")


@pytest.mark.parametrize("url, expected", [
    ("sqlite:////abs/folder/runelog.db", Path("/abs/folder/runelog.db")),
    ("sqlite:///relative.db", Path("relative.db")),
    ("sqlite+pysqlite:////abs/other.db", Path("/abs/other.db")),
    ("sqlite:////abs/with%3Fquestion.db", Path("/abs/with?question.db")),
    ("sqlite://", None),  # in memory: no file
    ("postgresql+psycopg://postgres@127.0.0.1:5432/test", None),
])
def test_the_sqlite_file_of_a_url(url, expected):
    assert locations.locate("/somewhere", url).sqlite_path == expected


def test_a_server_url_is_shown_without_its_password():
    where = locations.locate("/somewhere", "postgresql+psycopg://me:s3cret@db.example/runs", "/shared/blobs")
    assert where.shown_url == "postgresql+psycopg://me:***@db.example/runs"
    assert where.home is None and where.blob_dir == Path("/shared/blobs/blobs")


def test_a_store_folder_with_url_characters_in_its_name(tmp_path):
    """The default URL is built as a URL object, so '?', '#' and '%' in a folder name stay part of the path."""
    folder = tmp_path / "a?b#c%d e"
    where = locations.locate(folder)
    assert where.sqlite_path == folder.resolve() / ".runelog" / "runelog.db"
    tracker = runelog.get_tracker(str(folder))
    try:
        with tracker.start_run(experiment_name="e", log_code=False):
            tracker.log_metric("m", 1.0)
    finally:
        tracker.close()
    assert (folder / ".runelog" / "runelog.db").is_file()


def test_the_creation_lock_excludes_another_process(tmp_path):
    """sqlite_file.file_lock (filelock) held here: another process cannot take it until it is released."""
    lock = tmp_path / "runelog.db.lock"
    code = ("import sys\nfrom filelock import FileLock, Timeout\n"
            "try:\n    FileLock(sys.argv[1]).acquire(timeout=0.2)\nexcept Timeout:\n    print('held')\n"
            "else:\n    print('free')\n")

    def other() -> str:
        return subprocess.run([sys.executable, "-c", code, str(lock)], capture_output=True, text=True,
                              timeout=60).stdout.strip()

    with sqlite_file.file_lock(lock):
        assert other() == "held"
    assert other() == "free"
    assert lock.exists()  # left in place: removing a lock file others may hold open would split the lock
