"""The registry service: model tags through the one codec, typed versions, and query counts."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlalchemy import event
from typer.testing import CliRunner

from runelog import exceptions
from runelog.cli import app
from runelog.types import ModelVersionInfo


@pytest.fixture
def model_run(tracker):
    with tracker.start_run(log_code=False, log_git_meta=False) as run_id:
        tracker.log_model({"w": 1}, "model.joblib")
    return run_id


# ------------------------------------------------------------ tags: whatever set_tag takes


ODD_TAGS = {
    "np_int": np.int64(3),
    "np_float": np.float32(0.5),
    "np_bool": np.bool_(True),
    "np_array": np.array([1, 2, 3]),
    "none": None,
    "flag": False,
    "nested": {"a": [1, {"b": None}], "c": "é"},
    "set": {3, 1, 2},
    "big": 2**70,
}


def test_register_model_takes_the_tags_set_tag_takes_and_reads_them_back_the_same(tracker, model_run):
    with tracker.start_run(log_code=False, log_git_meta=False) as tagged_run:
        tracker.set_run_tags(ODD_TAGS)
    as_run_tags = tracker.get_run_tags(tagged_run)
    tracker.register_model(model_run, "model.joblib", "clf", tags=ODD_TAGS)
    assert tracker.get_model_tags("clf", "1") == as_run_tags
    assert tracker.get_model_version("clf").tags == as_run_tags
    assert tracker.get_model_versions("clf")[0]["tags"] == as_run_tags
    assert as_run_tags["np_int"] == 3 and type(as_run_tags["np_int"]) is int
    assert as_run_tags["np_array"] == [1, 2, 3] and as_run_tags["flag"] is False


def test_add_model_tags_takes_numpy_values_too(tracker, model_run):
    tracker.register_model(model_run, "model.joblib", "clf", tags={"keep": "x"})
    merged = tracker.add_model_tags("clf", "1", {"score": np.float64(0.25), "epochs": np.int32(7)})
    assert merged == {"keep": "x", "score": 0.25, "epochs": 7}
    assert tracker.get_model_tags("clf", "latest") == merged
    assert tracker.remove_model_tags("clf", "1", ["keep"]) == {"score": 0.25, "epochs": 7}
    assert tracker.get_model_version("clf/1").tags == {"score": 0.25, "epochs": 7}


@pytest.mark.parametrize("tags, error, said", [
    ({"bad": float("nan")}, exceptions.InvalidValue, "bad"),
    ({"bad": [1, float("inf")]}, exceptions.InvalidValue, "bad"),
    ({"bad": object()}, exceptions.InvalidValue, "bad"),
    ({"bad": {1: "a", "1": "b"}}, exceptions.InvalidValue, "bad"),
    ({3: "x"}, exceptions.InvalidKey, "3"),
    ({"": "x"}, exceptions.InvalidKey, "empty"),
])
def test_a_tag_that_cannot_be_stored_registers_nothing(tracker, model_run, tags, error, said):
    with pytest.raises(error, match=said):
        tracker.register_model(model_run, "model.joblib", "clf", tags=tags)
    assert tracker.list_registered_models() == []
    tracker.register_model(model_run, "model.joblib", "clf")
    with pytest.raises(error, match=said):
        tracker.add_model_tags("clf", "1", tags)
    assert tracker.get_model_tags("clf", "1") == {}


def test_stored_model_tags_are_one_json_object_plain_sql_reads(tracker, model_run, sql):
    tracker.register_model(model_run, "model.joblib", "clf", tags={"n": np.int64(3), "s": "é"})
    (stored,) = sql("SELECT tags FROM model_versions")
    assert json.loads(stored[0]) == {"n": 3, "s": "é"}


# ------------------------------------------------------------ typed results and 0.2.0 shapes


def test_get_model_version_is_typed_and_as_dict_is_the_0_2_0_shape(tracker, model_run):
    assert tracker.register_model(model_run, "model.joblib", "clf", tags={"stage": "dev"}) == "1"
    tracker.set_model_alias("clf", "champion", "1")
    found = tracker.get_model_version("clf")
    assert isinstance(found, ModelVersionInfo)
    assert (found.model_name, found.version, found.run_id, found.aliases) == ("clf", 1, model_run, ("champion",))
    (listed,) = tracker.get_model_versions("clf")
    assert found.as_dict() == listed
    assert {"model_name": "clf", "version": "1", "source_run_id": model_run, "tags": {"stage": "dev"}}.items() \
        <= listed.items()
    aliases = tracker.get_model_aliases("clf")
    assert list(aliases) == ["champion"] and aliases["champion"] == found


def test_latest_model_versions_gives_each_model_its_newest_version_with_aliases(tracker, model_run):
    for name in ("b", "a", "b", "c", "b"):
        tracker.register_model(model_run, "model.joblib", name)
    tracker.set_model_alias("b", "prod", "3")
    tracker.set_model_alias("b", "old", "1")
    latest = tracker.latest_model_versions()
    assert [(v.model_name, v.version, v.aliases) for v in latest] == [("a", 1, ()), ("b", 3, ("prod",)), ("c", 1, ())]
    assert tracker.latest_model_versions() == [tracker.get_model_version(m) for m in ("a", "b", "c")]


def test_no_models_no_latest_versions(tracker):
    assert tracker.latest_model_versions() == []


# ------------------------------------------------------------ a constant number of queries


def count_statements(engine, call) -> int:
    seen = []

    def note(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return len(seen)


def register_many(tracker, run_id, models: range, versions: int = 2) -> None:
    for n in models:
        for _ in range(versions):
            tracker.register_model(run_id, "model.joblib", f"m{n:03d}")
        tracker.set_model_alias(f"m{n:03d}", "prod", "1")


def test_latest_model_versions_takes_the_same_queries_for_2_or_40_models(tracker, model_run):
    register_many(tracker, model_run, range(2))
    few = count_statements(tracker._engine, tracker.latest_model_versions)
    register_many(tracker, model_run, range(2, 40))
    many = count_statements(tracker._engine, tracker.latest_model_versions)
    assert few == many <= 3  # the two reads, and what opening a read session costs
    assert len(tracker.latest_model_versions()) == 40


def test_the_cli_registry_list_takes_the_same_queries_for_2_or_40_models(tracker, model_run, store_options):
    from sqlalchemy.engine import Engine

    if "path" not in store_options:
        pytest.skip("the CLI here runs on a local store folder")
    runner = CliRunner()

    def listing():
        result = runner.invoke(app, ["--store", store_options["path"], "registry", "list", "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    register_many(tracker, model_run, range(2))
    few = count_statements(Engine, listing)
    register_many(tracker, model_run, range(2, 40))
    many = count_statements(Engine, listing)
    assert few == many
    shown = listing()
    assert len(shown) == 40 and all(m["version"] == "2" and m["aliases"] == [] for m in shown)


def test_versions_are_read_in_chunks_of_bound_ids_with_the_same_result(tracker, model_run, monkeypatch):
    from runelog import registry

    for _ in range(5):
        tracker.register_model(model_run, "model.joblib", "clf")
    tracker.set_model_alias("clf", "a", "1")
    tracker.set_model_alias("clf", "b", "5")
    whole = tracker.get_model_versions("clf")
    monkeypatch.setattr(registry, "_CHUNK", 2)  # 5 versions: three chunks
    assert tracker.get_model_versions("clf") == whole
    assert [(v["version"], v["aliases"]) for v in whole] == [("5", ["b"]), ("4", []), ("3", []), ("2", []),
                                                             ("1", ["a"])]


@pytest.mark.parametrize("name, said", [(" ", "blank"), ("", "empty"), ("a\nb", "control character"),
                                        ("tab\there", "control character")])
def test_a_model_name_nobody_could_type_is_refused_and_nothing_registered(tracker, model_run, name, said):
    with pytest.raises(exceptions.InvalidInput, match=said):
        tracker.register_model(model_run, "model.joblib", name)
    assert tracker.list_registered_models() == []
