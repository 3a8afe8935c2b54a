"""The UI reads through the API's one run query: a filter box in the CLI's language, no query
per run, and artifact bytes read only when one is opened."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from runelog import get_tracker

APP = importlib.util.find_spec("runelog.ui.app").origin


def log_runs(root: Path, count: int, start: int = 0) -> list[str]:
    tracker = get_tracker(str(root))
    ids = []
    for n in range(start, start + count):
        with tracker.start_run(experiment_name="models", run_name=f"m{n}", log_code=False) as run:
            tracker.log_params({"C": n, "solver": "lbfgs" if n % 2 else "saga"})
            tracker.log_metric("accuracy", n / 100)
            tracker.set_tag("stage", "prod" if n == 3 else "dev")
        ids.append(run)
    tracker.close()
    return ids


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNELOG_HOME", str(tmp_path))
    monkeypatch.delenv("RUNELOG_DATABASE_URL", raising=False)

    def open_page(page: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60).run()
        at.sidebar.radio(key="page").set_value(page).run()
        assert not at.exception, at.exception
        return at

    return open_page


@pytest.fixture
def statements():
    """Every SQL statement any engine sends, while the test runs (the app opens its own engine)."""
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    yield seen
    event.remove(Engine, "before_cursor_execute", count)


def test_the_filter_box_takes_the_cli_filter_language(tmp_path, app):
    ids = log_runs(tmp_path, 5)
    at = app("Runs")
    at.selectbox(key="runs_experiment").set_value("models").run()
    assert len(at.dataframe[0].value) == 5
    at.text_input(key="runs_filter").set_value("metrics.accuracy >= 0.01 and params.solver = 'lbfgs'").run()
    assert sorted(at.dataframe[0].value["run"]) == sorted([ids[1][:8], ids[3][:8]])
    at.text_input(key="runs_filter").set_value("tags.stage = 'prod'").run()
    assert at.dataframe[0].value["run"].tolist() == [ids[3][:8]]
    assert "1 of 5 runs" in at.caption[0].value


def test_a_bad_filter_shows_where_it_is_wrong(tmp_path, app):
    log_runs(tmp_path, 2)
    at = app("Runs")
    at.selectbox(key="runs_experiment").set_value("models").run()
    at.text_input(key="runs_filter").set_value("metrics.accuracy >> 0.5").run()
    assert not at.exception
    assert "cannot be read" in at.error[0].value
    shown = at.code[0].value
    assert "metrics.accuracy >> 0.5" in shown and "^" in shown  # the caret under the problem
    assert not at.dataframe


def test_the_runs_page_makes_no_query_per_run(tmp_path, app, statements):
    log_runs(tmp_path, 2)
    at = app("Runs")
    at.selectbox(key="runs_experiment").set_value("models").run()
    statements.clear()
    at.run()
    few = len(statements)
    log_runs(tmp_path, 20, start=2)
    statements.clear()
    at.run()
    assert len(at.dataframe[0].value) == 22
    assert len(statements) == few, statements


def test_artifacts_are_listed_from_metadata_and_read_only_when_opened(tmp_path, app):
    tracker = get_tracker(str(tmp_path))
    good, bad = tmp_path / "notes.txt", tmp_path / "weights.bin"
    good.write_text("hello from the run\n")
    bad.write_bytes(b"\x00\x01" * 100)
    with tracker.start_run(experiment_name="models", log_code=False) as run:
        tracker.log_artifact(str(good))
        tracker.log_artifact(str(bad))
    broken = Path(tracker.get_artifact_abspath(run, "weights.bin"))
    tracker.close()
    os.chmod(broken, 0o644)
    broken.write_bytes(b"tampered")  # its hash no longer matches: only opening it may find out
    at = app("Run")
    at.text_input(key="run_id").set_value(run).run()
    assert not at.exception and not at.error  # the page itself reads no artifact bytes
    listed = next(frame.value for frame in at.dataframe if "sha256" in frame.value.columns and "size" in frame.value.columns)
    assert sorted(listed["name"]) == ["notes.txt", "weights.bin"]
    assert not at.get("download_button")
    at.selectbox(key=f"artifact_{run}").set_value("notes.txt").run()
    assert [d.proto.label for d in at.get("download_button")] == ["Download"]
    assert "hello from the run" in at.code[0].value
    at.selectbox(key=f"artifact_{run}").set_value("weights.bin").run()
    assert at.error and "weights.bin" in at.error[0].value
    assert not at.get("download_button")


def test_compare_is_the_apis_comparison(tmp_path, app):
    ids = log_runs(tmp_path, 3)
    at = app("Runs")
    at.selectbox(key="runs_experiment").set_value("models").run()
    at.multiselect(key="runs_selected").set_value(ids[:2]).run()
    assert not at.exception
    metrics = next(frame.value for frame in at.dataframe if "best" in frame.value.columns)
    assert metrics.loc["accuracy", "best"] == f"{ids[1][:8]} m1"
    assert metrics.loc["accuracy", "better"] == "higher (assumed)"
    params = next(frame.value for frame in at.dataframe if "solver" in frame.value.index)
    assert params.loc["C"].tolist() == ["0", "1"]
