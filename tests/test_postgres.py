"""Team mode: the same models, migrations and workflow on a real PostgreSQL server.

Skipped without RUNELOG_TEST_DATABASE_URL (see conftest.py); `.ci/run` sets it.
"""

import os
import subprocess
import sys
import textwrap
import time

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from runelog import db, exceptions, get_tracker
from runelog.cli import app
from runelog.models import Base

from .conftest import REPO


@pytest.fixture
def empty_database(postgres):
    name = f"runelog_empty_{os.getpid()}_{time.monotonic_ns()}"
    url = postgres.create(name, template=None)
    yield url
    postgres.drop(name)


def differences(url):
    engine = create_engine(url)
    with engine.connect() as conn:
        found = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    engine.dispose()
    return found


def revision(url):
    engine = create_engine(url)
    with engine.connect() as conn:
        found = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    return found


def test_migrations_from_empty_down_to_base_and_back_match_the_models(empty_database):
    engine = db.make_engine(empty_database)
    db.upgrade(engine, "head")
    assert differences(empty_database) == []
    db.downgrade(engine, "base")
    with engine.connect() as conn:
        tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars().all()
    assert tables == ["alembic_version"]
    db.upgrade(engine, "head")
    assert differences(empty_database) == [] and revision(empty_database) == db.HEAD_REVISION
    engine.dispose()


def test_a_server_database_is_never_migrated_implicitly(empty_database, tmp_path):
    with pytest.raises(exceptions.SchemaOutdated, match="runelog db upgrade"):
        get_tracker(database_url=empty_database, artifact_root=str(tmp_path))
    engine = db.make_engine(empty_database)
    db.upgrade(engine, "0001")
    engine.dispose()
    with pytest.raises(exceptions.SchemaOutdated) as outdated:
        get_tracker(database_url=empty_database, artifact_root=str(tmp_path))
    assert "'0001'" in str(outdated.value) and f"'{db.HEAD_REVISION}'" in str(outdated.value)
    assert revision(empty_database) == "0001"

    result = CliRunner().invoke(app, ["--database-url", empty_database, "db", "upgrade"])
    assert result.exit_code == 0 and f"to {db.HEAD_REVISION}" in result.output
    tracker = get_tracker(database_url=empty_database, artifact_root=str(tmp_path))
    with tracker.start_run(log_code=False) as run_id:
        tracker.log_metric("m", 1.0)
    assert tracker.get_run(run_id)["m"] == 1.0
    tracker.close()

    engine = create_engine(empty_database)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffff9999'"))
    engine.dispose()
    with pytest.raises(exceptions.SchemaTooNew, match="ffff9999"):
        get_tracker(database_url=empty_database, artifact_root=str(tmp_path))
    cli = CliRunner().invoke(app, ["--database-url", empty_database, "db", "current"])
    assert "ffff9999" in cli.output


WRITER = textwrap.dedent("""
    import sys, time
    from runelog import get_tracker
    start = float(sys.argv[3])
    while time.time() < start:
        time.sleep(0.001)
    tracker = get_tracker(database_url=sys.argv[1], artifact_root=sys.argv[2])
    with tracker.start_run(experiment_name="team", log_code=False, log_git_meta=False):
        for i in range(2000):
            tracker.log_metric("m", float(i), step=i)
""")


def test_eight_parallel_writers_lose_nothing(pg_database, tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    start = time.time() + 2
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNELOG_")}
    procs = [subprocess.Popen([sys.executable, str(script), pg_database, str(tmp_path / "blobs"), str(start)],
                              env=env, stderr=subprocess.PIPE, text=True) for _ in range(8)]
    errors = [p.communicate(timeout=240)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, errors
    engine = create_engine(pg_database)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM metrics")).scalar() == 16000
        assert conn.execute(text("SELECT count(DISTINCT run_id) FROM metrics")).scalar() == 8
        assert conn.execute(text("SELECT count(*) FROM experiments WHERE name = 'team'")).scalar() == 1
        assert conn.execute(text("SELECT DISTINCT status FROM runs")).scalars().all() == ["FINISHED"]
    engine.dispose()


REGISTER = textwrap.dedent("""
    import sys
    from runelog import get_tracker
    tracker = get_tracker(database_url=sys.argv[1], artifact_root=sys.argv[2])
    for _ in range(5):
        tracker.register_model(sys.argv[3], "model.joblib", "shared-model")
""")


def test_concurrent_registrations_get_distinct_versions(pg_database, tmp_path):
    tracker = get_tracker(database_url=pg_database, artifact_root=str(tmp_path / "blobs"))
    with tracker.start_run(log_code=False) as run_id:
        tracker.log_model({"w": 1}, "model.joblib")
    script = tmp_path / "register.py"
    script.write_text(REGISTER)
    procs = [subprocess.Popen([sys.executable, str(script), pg_database, str(tmp_path / "blobs"), run_id],
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, errors
    versions = sorted(int(v["version"]) for v in tracker.get_model_versions("shared-model"))
    assert versions == list(range(1, 21))


WORKFLOW = [("make_features.py", []), ("train_with_fs.py", []),
            ("make_features.py", ["--add-sepal-area"]), ("train_with_fs.py", [])]


def run_workflow(cwd, env):
    """Two feature versions and a model trained on each, as the examples do it."""
    for script, args in WORKFLOW:
        done = subprocess.run([sys.executable, str(REPO / "examples" / "feature_store" / script), *args],
                              cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr


@pytest.mark.slow  # over 12 s: run by `make test-slow` (and CI)
def test_feature_store_workflow_gives_the_same_lineage_on_both_backends(pg_database, tmp_path):
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("RUNELOG_")}
    outcomes = {}
    for backend in ("sqlite", "postgresql"):
        folder = tmp_path / backend
        folder.mkdir()
        env = dict(base_env)
        if backend == "postgresql":
            env.update(RUNELOG_DATABASE_URL=pg_database, RUNELOG_ARTIFACT_ROOT=str(tmp_path / "pg-blobs"))
        run_workflow(folder, env)
        options = ({"path": str(folder)} if backend == "sqlite"
                   else {"database_url": pg_database, "artifact_root": str(tmp_path / "pg-blobs")})
        tracker = get_tracker(**options)
        newest = tracker.get_model_versions("iris-classifier")[0]
        (edge,) = tracker.get_lineage(newest["source_run_id"])
        fingerprint = tracker.get_run_details(edge.run_id)["datasets"][0]
        outcomes[backend] = {
            "versions": [v["version"] for v in tracker.get_model_versions("iris-classifier")],
            "edge": (edge.depth, edge.experiment, edge.input_name, edge.artifact_name, edge.sha256),
            "fingerprint": (fingerprint["sha256"], fingerprint["row_count"], fingerprint["column_count"]),
            "models_on_file": [m.version for m in tracker.models_trained_on(edge.sha256)],
        }
        tracker.close()
    assert outcomes["sqlite"] == outcomes["postgresql"]
    assert outcomes["sqlite"]["versions"] == ["2", "1"] and outcomes["sqlite"]["models_on_file"] == [2]
