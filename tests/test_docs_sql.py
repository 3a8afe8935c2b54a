"""docs/sql.md stays true: every recipe runs with the rows it promises, every table and view is described."""

import re

import pytest
from sqlalchemy import create_engine, inspect, text

from .conftest import REPO
from .pipeline import build_pipeline

DOC = (REPO / "docs" / "sql.md").read_text()


def recipes() -> dict[str, str]:
    found = re.findall(r"^### (.+?)\n.*?```sql\n(.*?)```", DOC, flags=re.S | re.M)
    return {title.strip(): sql for title, sql in found}


@pytest.fixture
def store(tracker, tmp_path):
    """Two feature versions, a model trained on each, a failed feature run, and an unrelated baseline."""
    ids = {}
    for version, accuracy in (("v1", 0.8), ("v2", 0.9)):
        def train(t, accuracy=accuracy):
            t.log_metric("accuracy", accuracy / 2)
            t.log_metric("accuracy", accuracy)

        built = build_pipeline(tracker, tmp_path, version=version, artifact="feat.parquet",
                               model_experiment="production-models", train=train)
        ids["f" + version], ids["m" + version], ids["sha" + version] = built.feature_run, built.model_run, built.sha256
    with pytest.raises(RuntimeError):
        with tracker.start_run(experiment_name="feature-sets", log_code=False):
            tracker.set_run_tags({"latest_feature_set": True})
            raise RuntimeError("half-built feature set")
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
