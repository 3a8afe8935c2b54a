"""The compat suite stands alone: it also runs, copied, inside the 0.2.0 wheel's venv
(test_against_020.py), where tests/conftest.py is not there."""

from __future__ import annotations

import pytest

from .target import AGAINST_020


def pytest_configure(config):
    import runelog

    version = runelog.__version__
    if AGAINST_020 and version != "0.2.0":
        raise pytest.UsageError(f"RUNELOG_COMPAT_TARGET=0.2.0 but runelog {version} is imported "
                                f"from {runelog.__file__}")
    if not AGAINST_020 and version == "0.2.0":
        raise pytest.UsageError("runelog 0.2.0 is imported; set RUNELOG_COMPAT_TARGET=0.2.0 to test it")
    config.addinivalue_line("markers", "slow: long tests; CI runs them separately")


@pytest.fixture(autouse=True)
def _own_folder(tmp_path, monkeypatch):
    """Each test in a folder of its own (the store a bare `get_tracker()` opens), no runelog env."""
    for var in ("RUNELOG_HOME", "RUNELOG_DATABASE_URL", "RUNELOG_ARTIFACT_ROOT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def tracker(tmp_path):
    """A tracker on a fresh store in the test's folder, opened the 0.2.0 way."""
    import runelog

    t = runelog.RuneLog(path=str(tmp_path))
    yield t
    close = getattr(t, "close", None)  # 0.2.0 had nothing to close
    if close is not None:
        close()
