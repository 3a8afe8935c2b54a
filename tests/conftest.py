"""Shared fixtures: every test gets a real store in its own temporary folder."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

from runelog import get_tracker

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """Run each test inside its own folder with no runelog environment leaking in."""
    for var in ("RUNELOG_HOME", "RUNELOG_DATABASE_URL", "RUNELOG_ARTIFACT_ROOT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def tracker(tmp_path):
    t = get_tracker(str(tmp_path / "store"))
    yield t
    t.close()


@pytest.fixture
def sql(tmp_path):
    """Plain sqlite3 on the tracker's database, as a user would query it."""
    connections = []

    def query(statement: str, params=()):
        conn = sqlite3.connect(tmp_path / "store" / ".runelog" / "runelog.db")
        connections.append(conn)
        return conn.execute(statement, params).fetchall()

    yield query
    for conn in connections:
        conn.close()


def python() -> str:
    return sys.executable
