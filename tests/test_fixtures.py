"""The shared fixtures keep their promises: trackers get closed, reused databases come back empty."""

from sqlalchemy import create_engine, text

from runelog import get_tracker


def test_every_tracker_the_test_opens_is_noted_for_closing(open_trackers, tmp_path):
    tracker = get_tracker(str(tmp_path / "s"))
    assert open_trackers.trackers[-1] is tracker


def test_close_all_checkpoints_and_closing_again_is_harmless(open_trackers, tmp_path):
    tracker = get_tracker(str(tmp_path / "s"))
    with tracker.start_run(log_code=False):
        tracker.log_metric("m", 1.0)
    open_trackers.close_all()
    wal = tmp_path / "s" / ".runelog" / "runelog.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    assert open_trackers.trackers == []
    tracker.close()


def test_the_pipeline_fixture_links_the_model_to_the_pinned_feature_bytes(pipeline):
    (edge,) = pipeline.tracker.get_lineage(pipeline.model_run)
    assert (edge.run_id, edge.sha256) == (pipeline.feature_run, pipeline.sha256)
    assert pipeline.tracker.load_registered_model(pipeline.model, f"@{pipeline.alias}") == {"version": "v1"}


def test_a_postgres_database_given_back_comes_back_empty_with_fresh_ids(postgres, tmp_path):
    name = postgres.take()
    tracker = get_tracker(database_url=postgres.url_for(name), artifact_root=str(tmp_path / "b"))
    with tracker.start_run(experiment_name="first", log_code=False):
        tracker.log_metric("m", 1.0)
    tracker.close()
    postgres.give_back(name)
    assert postgres.take() == name  # reused
    tracker = get_tracker(database_url=postgres.url_for(name), artifact_root=str(tmp_path / "b"))
    assert tracker.list_experiments() == []
    assert tracker.get_or_create_experiment("again") == "1"
    tracker.close()
    postgres.give_back(name)


def test_a_postgres_database_whose_shape_changed_is_dropped_not_reused(postgres):
    name = postgres.take()
    engine = create_engine(postgres.url_for(name))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE left_behind (x int)"))
    engine.dispose()
    postgres.give_back(name)
    other = postgres.take()
    assert other != name
    postgres.give_back(other)
