"""The reliability tests exercise SQLite's own behaviour (files, locks, WAL): SQLite only.

PostgreSQL's parallel writers are covered in tests/test_postgres.py.
"""

import gc
import os
import subprocess

import pytest

from runelog import get_tracker

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture
def tracker(tmp_path):
    t = get_tracker(str(tmp_path / "store"))
    yield t
    t.close()


@pytest.fixture
def tmpfs(tmp_path, open_trackers):
    """`tmpfs(size, name)` mounts a real small filesystem under tmp_path (for full-disk and
    read-only cases); every mount is undone afterwards. Needs root, as CI has: in CI a mount
    that fails fails the test, elsewhere it is skipped."""
    mounts = []

    def mount(size: str, name: str = "mnt"):
        folder = tmp_path / name
        folder.mkdir()
        if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                                                str(folder)]).returncode != 0:
            if IN_CI:
                pytest.fail("cannot mount a tmpfs; CI runs as root and needs it")
            pytest.skip("mounting a tmpfs needs root")
        mounts.append(folder)
        return folder

    yield mount
    open_trackers.close_all()  # the test's trackers let go of the mount before it goes
    gc.collect()  # closes any other connection still open on a mount
    for folder in mounts:
        if subprocess.run(["umount", str(folder)]).returncode != 0:
            subprocess.run(["umount", "-l", str(folder)])
