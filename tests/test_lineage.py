"""Lineage queries: multi-hop, diamonds, cycles, and the questions asked of exact bytes."""

import hashlib
import json

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


def test_a_chain_50_deep_upstream_and_downstream(tracker, tmp_path):
    chain = [new_run(tracker)]
    for i in range(50):
        chain.append(new_run(tracker, inputs=[(f"step{i}", chain[-1], None)]))
    upstream = tracker.get_lineage(chain[-1])
    assert [e["depth"] for e in upstream] == list(range(1, 51))
    assert [e["run_id"] for e in upstream] == chain[-2::-1]
    assert [e["via_run_id"] for e in upstream] == chain[:0:-1]
    downstream = tracker.get_lineage(chain[0], direction="downstream")
    assert [e["run_id"] for e in downstream] == chain[1:]
    assert [e["run_id"] for e in tracker.get_lineage(chain[-1], depth=3)] == chain[-2:-5:-1]
    assert upstream[0]["experiment"] == "pipeline" and upstream[0]["status"] == "FINISHED"


def test_a_diamond_lists_each_edge_once(tracker):
    top = new_run(tracker)
    left = new_run(tracker, inputs=[("in", top, None)])
    right = new_run(tracker, inputs=[("in", top, None)])
    bottom = new_run(tracker, inputs=[("left", left, None), ("right", right, None)])
    edges = tracker.get_lineage(bottom)
    assert sorted((e["via_run_id"], e["run_id"], e["depth"]) for e in edges) == sorted([
        (bottom, left, 1), (bottom, right, 1), (left, top, 2), (right, top, 2)])
    down = tracker.get_lineage(top, direction="downstream")
    assert sorted((e["run_id"], e["depth"]) for e in down) == sorted([(left, 1), (right, 1), (bottom, 2), (bottom, 2)])
    assert len({(e["via_run_id"], e["run_id"]) for e in down}) == len(down)


def test_cycles_end(tracker, sql):
    a = new_run(tracker)
    b = new_run(tracker, inputs=[("in", a, None)])
    with tracker.start_run(log_code=False) as selfish:
        tracker.log_input_run("me", selfish)  # a run may name itself; the walk must still end
    # A cycle can also be written by hand: a -> b -> a.
    sql("INSERT INTO input_links (run_id, name, source_run_id, created_at) VALUES (?, 'loop', ?, '2026-01-01')", (a, b))
    assert [(e["run_id"], e["depth"]) for e in tracker.get_lineage(b)] == [(a, 1), (b, 2)]
    assert [(e["run_id"], e["depth"]) for e in tracker.get_lineage(selfish)] == [(selfish, 1)]


def test_lineage_arguments_are_checked(tracker):
    run = new_run(tracker)
    with pytest.raises(ValueError):
        tracker.get_lineage(run, direction="sideways")
    with pytest.raises(ValueError):
        tracker.get_lineage(run, depth=0)
    with pytest.raises(exceptions.RunNotFound):
        tracker.get_lineage("0" * 32)
    assert tracker.get_lineage(run) == []


def test_deleted_source_runs_keep_their_edge_and_hash(tracker, tmp_path):
    data = tmp_path / "d.bin"
    data.write_bytes(b"bytes")
    source = new_run(tracker, artifact=data)
    consumer = new_run(tracker, inputs=[("data", source, "d.bin")])
    tracker.delete_run(source)
    (edge,) = tracker.get_lineage(consumer)
    assert edge["run_id"] is None and edge["sha256"] == hashlib.sha256(b"bytes").hexdigest()
    assert tracker.get_run_details(consumer)["inputs"][0]["artifact_hash_sha256"] == edge["sha256"]


def test_runs_using_and_models_trained_on(tracker, tmp_path):
    data = tmp_path / "features.parquet"
    data.write_bytes(b"feature bytes")
    digest = hashlib.sha256(b"feature bytes").hexdigest()
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

    uses = {(u["run_id"], u["how"]) for u in tracker.runs_using(digest)}
    assert uses == {(features, "artifact"), (checker, "dataset"), (trainer, "input")}
    assert tracker.runs_using("0" * 64) == []
    with pytest.raises(exceptions.InvalidArtifactName):
        tracker.runs_using("not-a-digest")

    by_file = [(m["version"], m["run_id"]) for m in tracker.models_trained_on(digest)]
    assert by_file == [("1", trainer), ("2", finetune)]
    assert tracker.models_trained_on(path=str(data)) == tracker.models_trained_on(digest)
    assert [m["version"] for m in tracker.models_trained_on(features[:8])] == ["1", "2"]
    assert [m["version"] for m in tracker.models_trained_on(trainer)] == ["2"]
    assert tracker.models_trained_on(unrelated) == []


def test_views_answer_common_questions(tracker, sql):
    with tracker.start_run(experiment_name="exp", run_name="r1", log_code=False) as run_id:
        tracker.set_run_tags({"latest_feature_set": True, "team": "core"})
        tracker.log_metric("acc", 0.5)
        tracker.log_metric("acc", 0.9)
        tracker.log_metric("loss", float("nan"))
    ((experiment, name, status, tags),) = sql(
        "SELECT experiment_name, run_name, status, tags FROM run_summary WHERE run_id = ?", (run_id,))
    assert (experiment, name, status, json.loads(tags)) == ("exp", "r1", "FINISHED",
                                                           {"latest_feature_set": True, "team": "core"})
    assert sql("SELECT key, value, step FROM latest_metrics WHERE run_id = ? ORDER BY key", (run_id,)) == [
        ("acc", 0.9, 1), ("loss", None, 0)]
    with tracker.start_run(log_code=False) as untagged:
        pass
    assert [json.loads(t) for (t,) in sql("SELECT tags FROM run_summary WHERE run_id = ?", (untagged,))] == [{}]
