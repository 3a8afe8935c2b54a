"""Lineage queries: multi-hop, diamonds, cycles, and the questions asked of exact bytes."""

import hashlib
import json
from types import SimpleNamespace

import pytest

from runelog import exceptions


def new_run(tracker, experiment="pipeline", inputs=(), artifact=None):
    """A finished run that consumed `inputs` [(name, run_id, artifact_name)] and logged `artifact`."""
    with tracker.start_run(experiment_name=experiment, log_code=False, log_git_meta=False) as run_id:
        for name, source, artifact_name in inputs:
            tracker.log_input_run(name, source, artifact_name=artifact_name)
        if artifact is not None:
            tracker.log_artifact(str(artifact))
    return run_id


@pytest.fixture(scope="module")
def chain(module_store):
    """51 runs in a line, each the input of the next: (tracker, run ids oldest first). Tests only read."""
    tracker = module_store()
    runs = [new_run(tracker)]
    for i in range(50):
        runs.append(new_run(tracker, inputs=[(f"step{i}", runs[-1], None)]))
    return tracker, runs


def test_upstream_lists_every_ancestor_nearest_first_with_its_depth(chain):
    tracker, runs = chain
    upstream = tracker.get_lineage(runs[-1])
    assert [e.depth for e in upstream] == list(range(1, 51))
    assert [e.run_id for e in upstream] == runs[-2::-1]


def test_each_upstream_edge_names_the_run_that_consumed_it(chain):
    tracker, runs = chain
    assert [e.via_run_id for e in tracker.get_lineage(runs[-1])] == runs[:0:-1]


def test_downstream_lists_every_descendant_nearest_first(chain):
    tracker, runs = chain
    downstream = tracker.get_lineage(runs[0], direction="downstream")
    assert [e.run_id for e in downstream] == runs[1:]


def test_depth_limits_the_walk(chain):
    tracker, runs = chain
    assert [e.run_id for e in tracker.get_lineage(runs[-1], depth=3)] == runs[-2:-5:-1]


def test_lineage_edges_carry_the_experiment_and_status(chain):
    tracker, runs = chain
    upstream = tracker.get_lineage(runs[-1])
    assert upstream[0].experiment == "pipeline" and upstream[0].status == "FINISHED"


@pytest.fixture
def diamond(tracker):
    """top feeds left and right, which both feed bottom: (top, left, right, bottom)."""
    top = new_run(tracker)
    left = new_run(tracker, inputs=[("in", top, None)])
    right = new_run(tracker, inputs=[("in", top, None)])
    bottom = new_run(tracker, inputs=[("left", left, None), ("right", right, None)])
    return top, left, right, bottom


def test_a_diamond_upstream_lists_each_edge_once(tracker, diamond):
    top, left, right, bottom = diamond
    edges = tracker.get_lineage(bottom)
    assert sorted((e.via_run_id, e.run_id, e.depth) for e in edges) == sorted([
        (bottom, left, 1), (bottom, right, 1), (left, top, 2), (right, top, 2)])


def test_a_diamond_downstream_reaches_the_bottom_by_both_paths_each_edge_once(tracker, diamond):
    top, left, right, bottom = diamond
    down = tracker.get_lineage(top, direction="downstream")
    assert sorted((e.run_id, e.depth) for e in down) == sorted([(left, 1), (right, 1), (bottom, 2), (bottom, 2)])
    assert len({(e.via_run_id, e.run_id) for e in down}) == len(down)


def test_a_cycle_written_by_hand_ends(tracker, sql):
    a = new_run(tracker)
    b = new_run(tracker, inputs=[("in", a, None)])
    # A cycle can be written by hand: a -> b -> a.
    sql("INSERT INTO input_links (run_id, name, source_run_id, created_at) VALUES (?, 'loop', ?, '2026-01-01')", (a, b))
    assert [(e.run_id, e.depth) for e in tracker.get_lineage(b)] == [(a, 1), (b, 2)]


def test_a_run_that_names_itself_as_input_ends(tracker):
    with tracker.start_run(log_code=False) as selfish:
        tracker.log_input_run("me", selfish)  # a run may name itself; the walk must still end
    assert [(e.run_id, e.depth) for e in tracker.get_lineage(selfish)] == [(selfish, 1)]


def test_lineage_arguments_are_checked(tracker):
    run = new_run(tracker)
    with pytest.raises(ValueError):
        tracker.get_lineage(run, direction="sideways")
    with pytest.raises(ValueError):
        tracker.get_lineage(run, depth=0)
    with pytest.raises(exceptions.RunNotFound):
        tracker.get_lineage("0" * 32)


def test_a_run_without_inputs_has_no_lineage(tracker):
    assert tracker.get_lineage(new_run(tracker)) == []


def test_deleted_source_runs_keep_their_edge_and_hash(tracker, tmp_path):
    data = tmp_path / "d.bin"
    data.write_bytes(b"bytes")
    source = new_run(tracker, artifact=data)
    consumer = new_run(tracker, inputs=[("data", source, "d.bin")])
    tracker.delete_run(source)
    (edge,) = tracker.get_lineage(consumer)
    assert edge.run_id is None and edge.sha256 == hashlib.sha256(b"bytes").hexdigest()
    assert tracker.get_run_details(consumer)["inputs"][0]["artifact_hash_sha256"] == edge.sha256


@pytest.fixture(scope="module")
def uses(module_store, tmp_path_factory):
    """A feature file logged as an artifact (features), fingerprinted (checker) and pinned as an
    input (trainer); finetune trained on trainer; unrelated on nothing; each registered as `clf`.
    Tests only read."""
    tracker = module_store()
    data = tmp_path_factory.mktemp("uses") / "features.parquet"
    data.write_bytes(b"feature bytes")
    features = new_run(tracker, "features", artifact=data)
    with tracker.start_run(experiment_name="checks", log_code=False) as checker:
        tracker.log_dataset(str(data), "features")
    with tracker.start_run(experiment_name="models", log_code=False) as trainer:
        tracker.log_input_run("feature_set", features, artifact_name="features.parquet")
        tracker.log_model({"w": 1}, "model.joblib")
    with tracker.start_run(experiment_name="models", log_code=False) as finetune:
        tracker.log_input_run("base", trainer)
        tracker.log_model({"w": 2}, "model.joblib")
    with tracker.start_run(experiment_name="models", log_code=False) as unrelated:
        tracker.log_model({"w": 3}, "model.joblib")
    for run in (trainer, finetune, unrelated):
        tracker.register_model(run, "model.joblib", "clf")
    return SimpleNamespace(tracker=tracker, data=data, digest=hashlib.sha256(b"feature bytes").hexdigest(),
                           features=features, checker=checker, trainer=trainer, finetune=finetune,
                           unrelated=unrelated)


def test_runs_using_finds_the_artifact_the_dataset_and_the_input(uses):
    found = {(u.run_id, u.how) for u in uses.tracker.runs_using(uses.digest)}
    assert found == {(uses.features, "artifact"), (uses.checker, "dataset"), (uses.trainer, "input")}


def test_runs_using_bytes_nobody_logged_is_empty(uses):
    assert uses.tracker.runs_using("0" * 64) == []


def test_runs_using_refuses_what_is_not_a_digest(uses):
    with pytest.raises(exceptions.InvalidArtifactName):
        uses.tracker.runs_using("not-a-digest")


def test_models_trained_on_a_file_include_those_trained_downstream_of_it(uses):
    by_file = [(m.version, m.run_id) for m in uses.tracker.models_trained_on(uses.digest)]
    assert by_file == [(1, uses.trainer), (2, uses.finetune)]


def test_models_trained_on_a_path_are_those_trained_on_its_hash(uses):
    assert uses.tracker.models_trained_on(path=str(uses.data)) == uses.tracker.models_trained_on(uses.digest)


def test_models_trained_on_a_run_prefix_are_those_downstream_of_the_run(uses):
    assert [m.version for m in uses.tracker.models_trained_on(uses.features[:8])] == [1, 2]
    assert [m.version for m in uses.tracker.models_trained_on(uses.trainer)] == [2]


def test_models_trained_on_a_run_nothing_used_is_empty(uses):
    assert uses.tracker.models_trained_on(uses.unrelated) == []


@pytest.fixture
def summarised_run(tracker):
    """A run in `exp` named r1 with two tags, two acc points and a NaN loss."""
    with tracker.start_run(experiment_name="exp", run_name="r1", log_code=False) as run_id:
        tracker.set_run_tags({"latest_feature_set": True, "team": "core"})
        tracker.log_metric("acc", 0.5)
        tracker.log_metric("acc", 0.9)
        tracker.log_metric("loss", float("nan"))
    return run_id


def test_run_summary_view_gives_experiment_name_status_and_tags(sql, summarised_run):
    ((experiment, name, status, tags),) = sql(
        "SELECT experiment_name, run_name, status, tags FROM run_summary WHERE run_id = ?", (summarised_run,))
    assert (experiment, name, status, json.loads(tags)) == ("exp", "r1", "FINISHED",
                                                           {"latest_feature_set": True, "team": "core"})


def test_latest_metrics_view_gives_the_last_point_and_nan_as_null(sql, summarised_run):
    assert sql("SELECT key, value, step FROM latest_metrics WHERE run_id = ? ORDER BY key", (summarised_run,)) == [
        ("acc", 0.9, 1), ("loss", None, 0)]


def test_run_summary_tags_of_an_untagged_run_are_an_empty_object(tracker, sql):
    with tracker.start_run(log_code=False) as untagged:
        pass
    assert [json.loads(t) for (t,) in sql("SELECT tags FROM run_summary WHERE run_id = ?", (untagged,))] == [{}]
