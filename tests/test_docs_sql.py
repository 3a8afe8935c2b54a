"""docs/sql.md stays true: every recipe runs with the rows it promises, every table and view is described."""

import hashlib
import re

import pytest
from sqlalchemy import create_engine, inspect, text

from .conftest import REPO

DOC = (REPO / "docs" / "sql.md").read_text()


def recipes() -> dict[str, str]:
    found = re.findall(r"^### (.+?)\n.*?```sql\n(.*?)```", DOC, flags=re.S | re.M)
    return {title.strip(): sql for title, sql in found}


@pytest.fixture
def store(tracker, tmp_path):
    """Two feature versions, a model trained on each, a failed feature run, and an unrelated baseline."""
    ids = {}
    for version in ("v1", "v2"):
        path = tmp_path / version / "feat.parquet"
        path.parent.mkdir()
        path.write_bytes(f"features {version}".encode())
        with tracker.start_run(experiment_name="feature-sets", log_code=False) as run_id:
            tracker.log_artifact(str(path))
            tracker.log_dataset(str(path), "features")
            tracker.set_run_tags({"latest_feature_set": True})
        ids["f" + version] = run_id
        ids["sha" + version] = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(RuntimeError):
        with tracker.start_run(experiment_name="feature-sets", log_code=False):
            tracker.set_run_tags({"latest_feature_set": True})
            raise RuntimeError("half-built feature set")
    for version, accuracy in (("v1", 0.8), ("v2", 0.9)):
        with tracker.start_run(experiment_name="production-models", log_code=False) as run_id:
            tracker.log_input_run("feature_set", ids["f" + version], artifact_name="feat.parquet")
            tracker.log_metric("accuracy", accuracy / 2)
            tracker.log_metric("accuracy", accuracy)
            tracker.log_model({"version": version}, "model.joblib")
        tracker.register_model(run_id, "model.joblib", "clf")
        ids["m" + version] = run_id
    with tracker.start_run(experiment_name="baseline", log_code=False) as run_id:
        tracker.log_metric("accuracy", 0.5)
    ids["baseline"] = run_id
    tracker.flush()
    return ids


def run(tracker, query, **params):
    engine = create_engine(tracker.location.database_url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(query), params)]
    finally:
        engine.dispose()


def test_every_recipe_returns_the_rows_it_describes(tracker, store):
    found = recipes()
    s = store
    expected = {
        "Latest run by tag": (lambda rows: [r[0] for r in rows] == [s["fv2"]], {}),
        "A run's full lineage": (
            lambda rows: rows == [(1, s["fv2"], "feature-sets", "feature_set", "feat.parquet", s["shav2"])],
            {"run_id": s["mv2"]}),
        "Models trained on a given file": (
            lambda rows: rows == [("clf", 1, s["mv1"], "feat.parquet")], {"sha256": s["shav1"]}),
        "Runs whose input has since changed": (
            lambda rows: rows == [(s["mv1"], "feature_set", "feat.parquet", s["shav1"][:12], s["shav2"][:12])], {}),
        "Best run by a metric, per experiment": (
            lambda rows: rows == [("baseline", s["baseline"], 0.5), ("production-models", s["mv2"], 0.9)], {}),
        "Which model versions were trained on which feature file": (
            lambda rows: rows == [("clf", 1, "feat.parquet", s["shav1"][:12], s["fv1"][:8]),
                                  ("clf", 2, "feat.parquet", s["shav2"][:12], s["fv2"][:8])], {}),
    }
    assert set(found) == set(expected), "a recipe was added or renamed: give it an expectation here"
    for title, query in found.items():
        check, params = expected[title]
        rows = run(tracker, query, **params)
        assert check(rows), f"{title}: {rows}"


def test_the_demo_query_file_is_the_documented_recipe():
    shipped = (REPO / "examples" / "feature_store" / "models_by_feature_file.sql").read_text()
    body = "\n".join(line for line in shipped.splitlines() if not line.startswith("--"))
    assert " ".join(body.split()) == " ".join(recipes()["Which model versions were trained on which feature file"].split())


def test_every_table_view_and_column_is_documented(tracker):
    engine = create_engine(tracker.location.database_url)
    inspector = inspect(engine)
    names = inspector.get_table_names() + inspector.get_view_names()
    assert {"runs", "run_summary"} <= set(names)
    for name in names:
        row = next((line for line in DOC.splitlines() if line.startswith(f"| `{name}` |")), None)
        assert row is not None, f"{name} is not described in docs/sql.md"
        for column in inspector.get_columns(name):
            assert f"`{column['name']}`" in row, f"{name}.{column['name']} is not described in docs/sql.md"
    engine.dispose()
