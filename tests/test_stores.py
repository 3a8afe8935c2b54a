"""runelog.stores: which store a face means, found without opening or creating anything."""

from pathlib import Path

import pytest

from runelog import exceptions, get_tracker, stores


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.delenv("RUNELOG_HOME", raising=False)
    monkeypatch.delenv("RUNELOG_DATABASE_URL", raising=False)
    root = tmp_path / "project"
    get_tracker(str(root)).close()
    deep = root / "src" / "models"
    deep.mkdir(parents=True)
    return root, deep


def test_the_nearest_store_above_is_found_like_git(project, monkeypatch):
    root, deep = project
    assert stores.find_store(deep) == root and stores.find_store(root) == root
    monkeypatch.chdir(deep)
    choice = stores.choose_store()
    assert choice.chosen_by == stores.FOUND_ABOVE and Path(choice.path) == root and choice.exists
    assert choice.describe() == f"store: {root / '.runelog'} (the nearest .runelog/ above the current folder)"
    assert not (deep / ".runelog").exists()


def test_a_given_path_then_runelog_home_win(project, tmp_path, monkeypatch):
    root, deep = project
    monkeypatch.chdir(deep)
    other = tmp_path / "other"
    given = stores.choose_store(str(other))
    assert given.chosen_by == stores.GIVEN and not given.exists
    assert given.describe("--store").endswith("(from --store)")
    with pytest.raises(exceptions.StoreNotFound) as raised:
        given.require()
    assert not isinstance(raised.value, exceptions.NoStoreFound) and str(other) in str(raised.value)
    monkeypatch.setenv("RUNELOG_HOME", str(root))
    assert stores.choose_store().chosen_by == stores.FROM_ENV
    assert stores.choose_store(str(root)).describe().endswith("(from RUNELOG_HOME)")
    assert not other.exists()


def test_no_store_anywhere(tmp_path, monkeypatch):
    monkeypatch.delenv("RUNELOG_HOME", raising=False)
    monkeypatch.delenv("RUNELOG_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    if stores.find_store(tmp_path) is not None:
        pytest.skip("a .runelog/ folder above the temporary folder would be found")
    choice = stores.choose_store()
    assert choice.chosen_by == stores.CURRENT_FOLDER and choice.path is None
    assert "none found" in choice.describe()
    with pytest.raises(exceptions.NoStoreFound):
        choice.require()
    assert not (tmp_path / ".runelog").exists()


def test_schema_status_changes_nothing(project):
    root, _ = project
    choice = stores.choose_store(str(root))
    revision, head = stores.schema_status(choice)
    assert revision == head and any(r[0] == head for r in stores.schema_history())
    assert stores.upgrade_schema(choice) == (head, head)


def test_a_database_url_is_checked_and_shown_without_its_password():
    with pytest.raises(exceptions.InvalidDatabaseUrl):
        stores.check_database_url("nonsense://x")
    choice = stores.choose_store(database_url="postgresql+psycopg://alice:secret@db.example/runs")
    assert "secret" not in choice.describe() and "alice:***@db.example" in choice.describe()
    assert choice.exists  # a server database always counts as there
