"""The reliability tests exercise SQLite's own behaviour (files, locks, WAL): SQLite only.

PostgreSQL's parallel writers are covered in tests/test_postgres.py.
"""

import pytest

from runelog import get_tracker


@pytest.fixture
def tracker(tmp_path):
    t = get_tracker(str(tmp_path / "store"))
    yield t
    t.close()
