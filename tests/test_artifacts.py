"""Artifacts, models, the registry, datasets and input links, on real stores and files."""

import hashlib
import os
import sys
from types import SimpleNamespace

import pandas as pd
import pytest

from runelog import exceptions


def sha(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def blob_files(tracker):
    return sorted(p for p in tracker.location.blob_dir.rglob("*") if p.is_file())


@pytest.fixture
def files(tmp_path):
    (tmp_path / "a.txt").write_text("alpha")
    (tmp_path / "b.txt").write_text("alpha")  # same bytes, other name
    folder = tmp_path / "plots"
    (folder / "sub").mkdir(parents=True)
    (folder / "loss.png").write_bytes(b"png")
    (folder / "sub" / "acc.png").write_bytes(b"png2")
    return tmp_path


def test_log_artifact_file_is_stored_once_by_content(tracker, files, sql):
    with tracker.start_run(log_code=False) as r1:
        tracker.log_artifact(str(files / "a.txt"))
        tracker.log_artifact(str(files / "b.txt"))
    with tracker.start_run(log_code=False) as r2:
        tracker.log_artifact(str(files / "a.txt"))
    assert tracker.get_run_details(r1)["artifacts"] == ["a.txt", "b.txt"]
    assert tracker.get_run_details(r2)["artifacts"] == ["a.txt"]
    assert len(blob_files(tracker)) == 1
    assert sql("SELECT DISTINCT sha256, size FROM artifacts") == [(sha(files / "a.txt"), 5)]


def test_log_artifact_folder_logs_every_file_with_its_relative_name(tracker, files):
    with tracker.start_run(log_code=False) as run_id:
        tracker.log_artifact(str(files / "plots"))
    listed = {a.name: a for a in tracker.list_artifacts(run_id)}
    assert set(listed) == {"plots/loss.png", "plots/sub/acc.png"}
    assert listed["plots/loss.png"].size == 3
    out = tracker.download_artifact(run_id, "plots/sub/acc.png", str(files / "out"))
    assert open(out, "rb").read() == b"png2"
    assert out == str(files / "out" / "plots" / "sub" / "acc.png")


def test_log_artifact_of_a_missing_file_raises(tracker, files):
    with tracker.start_run():
        with pytest.raises(exceptions.ArtifactNotFound):
            tracker.log_artifact(str(files / "nope.txt"))


@pytest.fixture
def logged_a(tracker, files):
    """A run that logged a.txt ("alpha")."""
    with tracker.start_run(log_code=False) as run_id:
        tracker.log_artifact(str(files / "a.txt"))
    return run_id


def test_download_and_abspath_give_the_logged_bytes(tracker, files, logged_a):
    path = tracker.download_artifact(logged_a, "a.txt", str(files / "dl"))
    assert open(path).read() == "alpha"
    assert open(tracker.get_artifact_abspath(logged_a, "a.txt")).read() == "alpha"


def test_a_changed_blob_is_refused_by_download_and_abspath(tracker, files, logged_a):
    blob = tracker.get_artifact_abspath(logged_a, "a.txt")
    os.chmod(blob, 0o644)
    with open(blob, "w") as fh:
        fh.write("evil!")
    with pytest.raises(exceptions.BlobCorrupted, match="a.txt"):
        tracker.download_artifact(logged_a, "a.txt", str(files / "dl2"))
    assert not (files / "dl2" / "a.txt").exists()
    with pytest.raises(exceptions.BlobCorrupted):
        tracker.get_artifact_abspath(logged_a, "a.txt")


def test_a_deleted_blob_is_reported_missing_on_download(tracker, files, logged_a):
    os.remove(tracker.get_artifact_abspath(logged_a, "a.txt"))
    with pytest.raises(exceptions.BlobMissing):
        tracker.download_artifact(logged_a, "a.txt", str(files / "dl3"))


def test_download_default_destination_is_the_current_folder(tracker, files):
    with tracker.start_run(log_code=False) as run_id:
        tracker.log_artifact(str(files / "a.txt"))
    os.chdir(files / "plots")
    assert tracker.download_artifact(run_id, "a.txt") == str(files / "plots" / "a.txt")


@pytest.mark.parametrize("name", ["../escape.txt", "/etc/passwd", "a/../../x", "bad\x00name"])
def test_unsafe_names_are_refused_on_log_read_and_download(tracker, files, name):
    with tracker.start_run(log_code=False) as run_id:
        with pytest.raises(exceptions.InvalidArtifactName):
            tracker.log_artifact(str(files / "a.txt"), name=name)
    assert tracker.list_artifacts(run_id) == []
    with pytest.raises(exceptions.InvalidArtifactName):
        tracker.download_artifact(run_id, name, str(files / "dl"))
    with pytest.raises(exceptions.InvalidArtifactName):
        tracker.get_artifact_abspath(run_id, name)
    with pytest.raises(exceptions.InvalidArtifactName):
        tracker.delete_artifact(run_id, name)
    assert not (files / "escape.txt").exists()


@pytest.fixture
def two_artifacts(tracker, files):
    """A run that logged a.txt and loss.png, then deleted loss.png (by a run id prefix)."""
    with tracker.start_run(log_code=False) as run_id:
        tracker.log_artifact(str(files / "a.txt"))
        tracker.log_artifact(str(files / "plots" / "loss.png"))
    tracker.delete_artifact(run_id[:8], "loss.png")
    return run_id


def test_delete_artifact_forgets_the_name(tracker, two_artifacts):
    assert tracker.get_run_details(two_artifacts)["artifacts"] == ["a.txt"]


def test_deleting_an_artifact_twice_raises_not_found(tracker, two_artifacts):
    with pytest.raises(exceptions.ArtifactNotFound):
        tracker.delete_artifact(two_artifacts, "loss.png")


def test_gc_takes_the_blob_of_a_deleted_artifact(tracker, files, two_artifacts):
    assert tracker.gc(grace_seconds=0).blobs == [sha(files / "plots" / "loss.png")]


def test_download_through_a_symlink_out_of_the_destination_is_refused(tracker, files):
    with tracker.start_run(log_code=False) as run_id:
        tracker.log_artifact(str(files / "plots"))
    outside = files / "outside"
    outside.mkdir()
    dest = files / "dest"
    dest.mkdir()
    os.symlink(outside, dest / "plots")
    with pytest.raises(exceptions.InvalidArtifactName, match="symlink"):
        tracker.download_artifact(run_id, "plots/loss.png", str(dest))
    assert list(outside.iterdir()) == []


def test_log_code_stores_the_running_script(tracker, monkeypatch, files):
    script = files / "train.py"
    script.write_text("print('hi')\n")
    monkeypatch.setattr(sys, "argv", [str(script)])
    with tracker.start_run() as run_id:
        pass
    assert tracker.get_run_details(run_id)["artifacts"] == ["train.py"]


def test_log_code_false_stores_no_script(tracker, monkeypatch, files):
    script = files / "train.py"
    script.write_text("print('hi')\n")
    monkeypatch.setattr(sys, "argv", [str(script)])
    with tracker.start_run(log_code=False) as quiet:
        pass
    assert tracker.get_run_details(quiet)["artifacts"] == []


def test_log_env_records_environment_and_requirements(tracker, files):
    with tracker.start_run(log_env=True, log_code=False) as run_id:
        pass
    details = tracker.get_run_details(run_id)
    assert "requirements.txt" in details["artifacts"]
    assert "SQLAlchemy" in details["environment"]["packages"]
    text = open(tracker.download_artifact(run_id, "requirements.txt", str(files / "r"))).read()
    assert "SQLAlchemy==" in text


@pytest.fixture
def registered_lin(tracker):
    """A linear model (y = 2x) logged once and registered twice as `lin` (v1 tagged stage=dev, v2 by a
    run id prefix): its run id, the versions returned, and the blob files before registering."""
    from sklearn.linear_model import LinearRegression

    model = LinearRegression().fit([[0], [1], [2]], [0, 2, 4])
    with tracker.start_run(log_code=False) as run_id:
        tracker.log_model(model, "model.joblib")
    blobs_before = blob_files(tracker)
    versions = [tracker.register_model(run_id, "model.joblib", "lin", tags={"stage": "dev"}),
                tracker.register_model(run_id[:8], "model.joblib", "lin")]
    return SimpleNamespace(run_id=run_id, versions=versions, blobs_before=blobs_before)


def test_register_model_numbers_versions_from_one_and_takes_a_run_prefix(registered_lin):
    assert registered_lin.versions == ["1", "2"]


def test_registering_a_model_copies_no_bytes(tracker, sql, registered_lin):
    assert blob_files(tracker) == registered_lin.blobs_before  # registering copies nothing
    assert sql("SELECT count(*) FROM model_versions m JOIN artifacts a ON a.run_id = m.run_id "
               "WHERE m.sha256 = a.sha256") == [(2,)]


def test_load_registered_model_loads_the_latest_or_the_given_version(tracker, registered_lin):
    assert tracker.load_registered_model("lin").predict([[3]])[0] == pytest.approx(6)
    assert tracker.load_registered_model("lin", "1").predict([[1]])[0] == pytest.approx(2)


def test_registered_models_and_their_versions_are_listed_newest_first(tracker, registered_lin):
    assert tracker.list_registered_models() == ["lin"]
    versions = tracker.get_model_versions("lin")
    assert [v["version"] for v in versions] == ["2", "1"]
    assert versions[1]["source_run_id"] == registered_lin.run_id and versions[1]["tags"] == {"stage": "dev"}


def test_versions_of_an_unknown_model_are_an_empty_list(tracker, registered_lin):
    assert tracker.get_model_versions("nope") == []


@pytest.fixture
def tagged_model(tracker):
    """Model `m` version 1, registered with tags {"a": 1}."""
    with tracker.start_run(log_code=False) as run_id:
        tracker.log_model({"w": 1}, "m.joblib")
    tracker.register_model(run_id, "m.joblib", "m", tags={"a": 1})


def test_model_version_tags_are_added_read_and_removed(tracker, tagged_model):
    assert tracker.add_model_tags("m", "1", {"b": [1, 2]}) == {"a": 1, "b": [1, 2]}
    assert tracker.get_model_tags("m", "1") == {"a": 1, "b": [1, 2]}
    assert tracker.remove_model_tags("m", "1", ["a"]) == {"b": [1, 2]}


def test_tagging_an_unknown_model_version_raises_not_found(tracker, tagged_model):
    with pytest.raises(exceptions.ModelVersionNotFound):
        tracker.add_model_tags("m", "7", {"x": 1})


def test_tags_of_a_version_that_is_not_a_number_raise_invalid(tracker, tagged_model):
    with pytest.raises(exceptions.InvalidModelVersion):
        tracker.get_model_tags("m", "one")


@pytest.fixture
def logged_model(tracker):
    """A run that logged m.joblib (nothing registered yet)."""
    with tracker.start_run(log_code=False) as run_id:
        tracker.log_model({"w": 1}, "m.joblib")
    return run_id


def test_register_model_of_an_unknown_artifact_or_run_raises(tracker, logged_model):
    with pytest.raises(exceptions.ArtifactNotFound):
        tracker.register_model(logged_model, "other.joblib", "m")
    with pytest.raises(exceptions.RunNotFound):
        tracker.register_model("f" * 32, "m.joblib", "m")


def test_load_registered_model_of_an_unknown_model_raises(tracker, logged_model):
    with pytest.raises(exceptions.ModelNotFound):
        tracker.load_registered_model("m")


def test_load_registered_model_of_an_unknown_version_raises(tracker, logged_model):
    tracker.register_model(logged_model, "m.joblib", "m")
    with pytest.raises(exceptions.ModelVersionNotFound):
        tracker.load_registered_model("m", "3")


def test_registered_model_survives_deleting_its_run(tracker):
    with tracker.start_run(log_code=False) as run_id:
        tracker.log_model({"w": 42}, "m.joblib")
    tracker.register_model(run_id, "m.joblib", "m")
    tracker.delete_run(run_id)
    assert tracker.gc(grace_seconds=0).blobs == []  # the version still references the blob
    assert tracker.load_registered_model("m") == {"w": 42}
    assert tracker.get_model_versions("m")[0]["source_run_id"] is None


def test_gc_removes_unreferenced_blobs_only(tracker, files):
    with tracker.start_run(log_code=False) as keep:
        tracker.log_artifact(str(files / "a.txt"))
    with tracker.start_run(log_code=False) as drop:
        tracker.log_artifact(str(files / "plots" / "loss.png"))
    tracker.delete_run(drop)
    removed = tracker.gc(grace_seconds=0).blobs
    assert removed == [sha(files / "plots" / "loss.png")]
    assert open(tracker.download_artifact(keep, "a.txt", str(files / "k"))).read() == "alpha"


@pytest.fixture
def fingerprinted(tracker, files):
    """A run that fingerprinted a 3x2 parquet file as `features` and a.txt as `notes`:
    (run id, parquet path, the recorded datasets by name)."""
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "label": ["a", "b", "c"]})
    path = files / "features.parquet"
    frame.to_parquet(path)
    with tracker.start_run(log_code=False) as run_id:
        tracker.log_dataset(str(path), name="features")
        tracker.log_dataset(str(files / "a.txt"), name="notes")
    return run_id, path, {d["name"]: d for d in tracker.get_run_details(run_id)["datasets"]}


def test_log_dataset_copies_no_bytes(tracker, fingerprinted):
    assert blob_files(tracker) == []


def test_a_parquet_fingerprint_has_hash_size_shape_schema_and_path(fingerprinted):
    _, path, datasets = fingerprinted
    fp = datasets["features"]
    assert fp["sha256"] == sha(path) and fp["size"] == path.stat().st_size
    assert (fp["row_count"], fp["column_count"]) == (3, 2)
    assert [c["name"] for c in fp["schema"]] == ["x", "label"]
    assert fp["schema"][0]["type"] == "double" and "string" in fp["schema"][1]["type"]
    assert fp["filename"] == "features.parquet" and fp["path"] == str(path)


def test_a_file_that_is_not_parquet_is_fingerprinted_by_its_hash_alone(files, fingerprinted):
    _, _, datasets = fingerprinted
    assert datasets["notes"]["row_count"] is None and datasets["notes"]["sha256"] == sha(files / "a.txt")


def test_verify_dataset_accepts_the_same_bytes(tracker, fingerprinted):
    run_id, path, datasets = fingerprinted
    assert tracker.verify_dataset(run_id, "features", str(path))["sha256"] == datasets["features"]["sha256"]


def test_verify_dataset_refuses_changed_bytes_naming_the_run(tracker, fingerprinted):
    run_id, path, _ = fingerprinted
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(exceptions.DatasetMismatch, match=run_id):
        tracker.verify_dataset(run_id, "features", str(path))


def test_verify_dataset_of_an_unknown_name_raises(tracker, fingerprinted):
    run_id, path, _ = fingerprinted
    with pytest.raises(exceptions.DatasetNotFound):
        tracker.verify_dataset(run_id, "nope", str(path))


def test_log_dataset_of_missing_file_raises(tracker, files):
    with tracker.start_run():
        with pytest.raises(exceptions.ArtifactNotFound):
            tracker.log_dataset(str(files / "missing.parquet"), "x")


def test_log_dvc_input_reads_the_md5(tracker, files):
    data = files / "data.csv"
    data.write_text("a,b\n1,2\n")
    (files / "data.csv.dvc").write_text(
        "outs:\n- md5: 1f2e3d4c5b6a79881f2e3d4c5b6a7988\n  size: 8\n  hash: md5\n  path: data.csv\n")
    with tracker.start_run(log_code=False) as run_id:
        tracker.log_dvc_input(str(data), name="raw")
    (dvc,) = tracker.get_run_details(run_id)["datasets"]
    assert (dvc["kind"], dvc["name"], dvc["md5"], dvc["size"]) == ("dvc", "raw", "1f2e3d4c5b6a79881f2e3d4c5b6a7988", 8)


# A missing .dvc file warns and records the file's SHA-256 instead, as in 0.2.0: tests/test_compat_api.py (item 5).
@pytest.mark.parametrize("content", ["outs: [\n", "outs: []\n", "just text\n", "outs:\n- path: x\n"])
def test_missing_or_malformed_dvc_file_is_a_clear_error(tracker, files, content):
    data = files / "d.csv"
    data.write_text("x")
    (files / "d.csv.dvc").write_text(content)
    with tracker.start_run(log_code=False) as run_id:
        with pytest.raises(exceptions.DvcFileError, match="d.csv.dvc"):
            tracker.log_dvc_input(str(data), name="raw")
    assert tracker.get_run_details(run_id)["datasets"] == []


@pytest.fixture
def feature_run(tracker, files):
    """A run in `features` that logged a.txt."""
    with tracker.start_run(experiment_name="features", log_code=False) as run_id:
        tracker.log_artifact(str(files / "a.txt"))
    return run_id


def test_log_input_run_pins_the_artifact_hash_or_records_only_the_run(tracker, files, feature_run):
    with tracker.start_run(experiment_name="models", log_code=False) as train_run:
        tracker.log_input_run("feature_set", feature_run[:8], artifact_name="a.txt")
        tracker.log_input_run("just_the_run", feature_run)
    inputs = tracker.get_run_details(train_run)["inputs"]
    assert inputs == [
        {"name": "feature_set", "run_id": feature_run, "experiment_id": tracker.get_run(feature_run)["experiment_id"],
         "artifact_name": "a.txt", "artifact_hash_sha256": sha(files / "a.txt")},
        {"name": "just_the_run", "run_id": feature_run, "experiment_id": tracker.get_run(feature_run)["experiment_id"],
         "artifact_name": None, "artifact_hash_sha256": None},
    ]


def test_log_input_run_of_a_missing_artifact_or_an_unknown_run_raises_and_records_nothing(tracker, feature_run):
    with tracker.start_run(experiment_name="models", log_code=False) as train_run:
        with pytest.raises(exceptions.ArtifactNotFound):
            tracker.log_input_run("bad", feature_run, artifact_name="missing.txt")
        with pytest.raises(exceptions.RunNotFound):
            tracker.log_input_run("bad", "e" * 32)
    assert tracker.get_run_details(train_run)["inputs"] == []


def test_which_runs_consumed_these_bytes_is_a_plain_sql_query(tracker, files, sql, feature_run):
    with tracker.start_run(experiment_name="models", log_code=False) as train_run:
        tracker.log_input_run("feature_set", feature_run, artifact_name="a.txt")
    assert sql("SELECT run_id FROM input_links WHERE sha256 = ?", (sha(files / "a.txt"),)) == [(train_run,)]


def test_model_aliases_point_at_versions_and_move(tracker):
    with tracker.start_run(log_code=False) as run_id:
        tracker.log_model({"v": 1}, "one.joblib")
        tracker.log_model({"v": 2}, "two.joblib")
    tracker.register_model(run_id, "one.joblib", "clf")
    tracker.register_model(run_id, "two.joblib", "clf")
    assert tracker.set_model_alias("clf", "champion", "1") == "1"
    tracker.set_model_alias("clf", "challenger", "latest")
    assert tracker.load_registered_model("clf", "@champion") == {"v": 1}
    assert {a: v.version for a, v in tracker.get_model_aliases("clf").items()} == {"challenger": 2, "champion": 1}
    assert [v["aliases"] for v in tracker.get_model_versions("clf")] == [["challenger"], ["champion"]]
    tracker.set_model_alias("clf", "champion", "2")  # moving an alias
    assert tracker.load_registered_model("clf", "@champion") == {"v": 2}
    tracker.delete_model_alias("clf", "challenger")
    assert {a: v.version for a, v in tracker.get_model_aliases("clf").items()} == {"champion": 2}
    with pytest.raises(exceptions.ModelVersionNotFound):
        tracker.load_registered_model("clf", "@challenger")
    with pytest.raises(exceptions.InvalidAlias):
        tracker.set_model_alias("clf", "latest", "1")
    with pytest.raises(exceptions.InvalidAlias):
        tracker.set_model_alias("clf", "2bad", "1")
    with pytest.raises(exceptions.ModelVersionNotFound):
        tracker.set_model_alias("clf", "ok", "9")


# ------------------------------------------------------------ names that could not be downloaded (issue 12, item 19)


@pytest.mark.parametrize("name", ["n" * 256, "é" * 200, "ok/" + "é" * 128 + "/f.txt"])
def test_a_name_part_longer_than_255_bytes_is_refused_when_logged(tracker, files, name):
    with tracker.start_run(log_code=False) as run_id:
        with pytest.raises(exceptions.InvalidArtifactName, match="255"):
            tracker.log_artifact(str(files / "a.txt"), name=name)
        with pytest.raises(exceptions.InvalidArtifactName, match="255"):
            tracker.log_model({"w": 1}, name)
    assert tracker.list_artifacts(run_id) == []


@pytest.mark.parametrize("name", ["n" * 255, "é" * 127 + "x", "日本" * 42])
def test_the_longest_allowed_names_download(tracker, files, name):
    with tracker.start_run(log_code=False) as run_id:
        tracker.log_artifact(str(files / "a.txt"), name=f"{name}/{name}")
    out = tracker.download_artifact(run_id, f"{name}/{name}", str(files / "dl"))
    assert open(out).read() == "alpha"


@pytest.fixture
def open_run_with_file_x_and_d_e_f(tracker, files):
    """An open run that logged a file as `x` and one as `d/e/f`; yields its id with the run still open."""
    with tracker.start_run(log_code=False) as run_id:
        tracker.log_artifact(str(files / "a.txt"), name="x")
        tracker.log_artifact(str(files / "a.txt"), name="d/e/f")
        yield run_id


def test_a_name_below_a_logged_file_is_refused_and_records_nothing(tracker, files, open_run_with_file_x_and_d_e_f):
    with pytest.raises(exceptions.InvalidArtifactName, match="both a file 'x' and a folder"):
        tracker.log_artifact(str(files / "b.txt"), name="x/y")
    with pytest.raises(exceptions.InvalidArtifactName, match="both a file 'x'"):
        tracker.log_artifact(str(files / "plots"), name="x")  # a folder under the file's name
    assert [a.name for a in tracker.list_artifacts(open_run_with_file_x_and_d_e_f)] == ["d/e/f", "x"]


def test_a_file_named_like_a_logged_folder_is_refused_and_records_nothing(tracker, files,
                                                                          open_run_with_file_x_and_d_e_f):
    with pytest.raises(exceptions.InvalidArtifactName, match="both a file 'd/e'"):
        tracker.log_artifact(str(files / "b.txt"), name="d/e")
    with pytest.raises(exceptions.InvalidArtifactName, match="both a file 'd'"):
        tracker.log_artifact(str(files / "b.txt"), name="d")
    assert [a.name for a in tracker.list_artifacts(open_run_with_file_x_and_d_e_f)] == ["d/e/f", "x"]


def test_the_same_name_again_replaces_and_a_longer_name_is_no_clash(tracker, files, open_run_with_file_x_and_d_e_f):
    tracker.log_artifact(str(files / "b.txt"), name="x")  # the same name again replaces it
    tracker.log_artifact(str(files / "a.txt"), name="xy/z")  # a longer name is no clash
    assert [a.name for a in tracker.list_artifacts(open_run_with_file_x_and_d_e_f)] == ["d/e/f", "x", "xy/z"]


def test_a_name_that_clashes_in_one_run_is_free_in_another(tracker, files):
    with tracker.start_run(log_code=False):
        tracker.log_artifact(str(files / "a.txt"), name="x")
    with tracker.start_run(log_code=False) as other:
        tracker.log_artifact(str(files / "a.txt"), name="x/y")  # another run: no clash
    assert tracker.download_artifact(other, "x/y", str(files / "dl")) == str(files / "dl" / "x" / "y")


def test_a_big_folder_clashing_with_a_logged_file_records_nothing(tracker, files):
    folder = files / "many"
    folder.mkdir()
    for i in range(60):
        (folder / f"{i}.txt").write_text(str(i))
    with tracker.start_run(log_code=False) as run_id:
        tracker.log_artifact(str(files / "a.txt"), name="many/7.txt/inner")
        with pytest.raises(exceptions.InvalidArtifactName, match="both a file 'many/7.txt'"):
            tracker.log_artifact(str(folder))
    assert [a.name for a in tracker.list_artifacts(run_id)] == ["many/7.txt/inner"]


# ------------------------------------------------------------ all or nothing (issue 12, item 17)


def test_log_model_of_something_unpicklable_is_a_clear_error_and_records_nothing(tracker):
    import pickle

    with tracker.start_run(log_code=False) as run_id:
        for thing in (lambda x: x, (i for i in range(3))):
            with pytest.raises(exceptions.ModelNotSerialisable, match="cannot be pickled") as caught:
                tracker.log_model(thing, "model.joblib")
            assert isinstance(caught.value, (pickle.PicklingError, exceptions.RunelogException))
        assert issubclass(exceptions.ModelNotSerialisable, pickle.PicklingError)  # what 0.2.0 raised
    assert tracker.list_artifacts(run_id) == []
    assert blob_files(tracker) == []
    assert [p for p in tracker.location.tmp_dir.rglob("*") if p.is_file()] == []


def test_a_folder_with_an_unreadable_file_records_nothing(tracker, files):
    """A file whose read fails half-way through the folder, even for root: /proc/self/mem gives EIO."""
    folder = files / "outputs"
    folder.mkdir()
    (folder / "a.txt").write_text("first")
    (folder / "b.txt").write_text("second")
    os.symlink("/proc/self/mem", folder / "c.bin")
    (folder / "d.txt").write_text("after")
    with tracker.start_run(log_code=False) as run_id:
        tracker.log_artifact(str(files / "a.txt"))
        with pytest.raises(exceptions.ArtifactUnreadable, match="c.bin") as caught:
            tracker.log_artifact(str(folder))
        assert isinstance(caught.value, OSError)
    assert [a.name for a in tracker.list_artifacts(run_id)] == ["a.txt"]
    assert tracker.gc(grace_seconds=0).temp_files == []  # no scratch left behind
    assert tracker.verify().ok


UNPRIVILEGED = """
import os, sys
from pathlib import Path
from runelog import exceptions, get_tracker
work, folder = Path(sys.argv[1]), sys.argv[2]
tracker = get_tracker(str(work / "store"))
with tracker.start_run(log_code=False, log_git_meta=False) as run_id:
    tracker.log_artifact(str(work / "warm-up.txt"))  # everything imported while the stdlib is readable
    for path in [work, *work.rglob("*")]:
        os.chown(path, 65534, 65534)
    os.setgid(65534); os.setuid(65534)  # nobody: permission checks apply again
    try:
        tracker.log_artifact(folder)
    except PermissionError as exc:  # what 0.2.0 raised; now also a RunelogException
        assert isinstance(exc, exceptions.ArtifactUnreadable), type(exc)
        print(exc)
    print([a.name for a in tracker.list_artifacts(run_id)])
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to the 'nobody' user")
def test_a_folder_with_a_file_without_read_permission_records_nothing(tmp_path):
    import subprocess
    import tempfile

    work = tempfile.mkdtemp(prefix="runelog-nobody-")
    try:
        os.chmod(work, 0o777)
        folder = os.path.join(work, "outputs")
        os.mkdir(folder)
        for name, mode in (("a.txt", 0o644), ("b.txt", 0o000), ("c.txt", 0o644)):
            with open(os.path.join(folder, name), "w") as fh:
                fh.write(name)
            os.chmod(os.path.join(folder, name), mode)
        with open(os.path.join(work, "warm-up.txt"), "w") as fh:
            fh.write("logged before")
        result = subprocess.run([sys.executable, "-c", UNPRIVILEGED, work, folder],
                                capture_output=True, text=True, cwd=work, timeout=120)
        assert result.returncode == 0, result.stderr
        message, listed = result.stdout.strip().splitlines()
        assert "Cannot read" in message and "b.txt" in message and listed == "['warm-up.txt']"
    finally:
        import shutil
        shutil.rmtree(work, ignore_errors=True)


# ------------------------------------------------------------ downloads (item 5; issue 13, item 16)


@pytest.fixture
def plots_and_a_symlinked_dest(tracker, files):
    """A run that logged the plots folder, and a destination whose `plots` is a symlink to `outside`:
    (run id, dest, outside)."""
    with tracker.start_run(log_code=False) as run_id:
        tracker.log_artifact(str(files / "plots"))
    outside = files / "outside"
    outside.mkdir()
    dest = files / "dest"
    dest.mkdir()
    os.symlink(outside, dest / "plots")
    return run_id, dest, outside


def test_a_symlink_deep_in_the_destination_creates_nothing_outside(tracker, plots_and_a_symlinked_dest):
    run_id, dest, outside = plots_and_a_symlinked_dest
    for name in ("plots/sub/acc.png", "plots/sub", "plots"):  # a file below it, and whole folders
        with pytest.raises(exceptions.InvalidArtifactName, match="symlink"):
            tracker.download_artifact(run_id, name, str(dest))
    assert list(outside.iterdir()) == []


def test_a_symlink_that_stays_inside_the_destination_is_followed(tracker, plots_and_a_symlinked_dest):
    run_id, dest, _ = plots_and_a_symlinked_dest
    (dest / "real").mkdir()
    os.replace(dest / "plots", dest / "gone")
    os.symlink(dest / "real", dest / "plots")  # a symlink that stays inside the destination is fine
    tracker.download_artifact(run_id, "plots/sub/acc.png", str(dest))
    assert (dest / "real" / "sub" / "acc.png").read_bytes() == b"png2"


@pytest.fixture
def outputs_run(tracker, files):
    """A run that logged the plots folder as `outputs` and a.txt as `outputs-extra.txt`."""
    with tracker.start_run(log_code=False) as run_id:
        tracker.log_artifact(str(files / "plots"), name="outputs")
        tracker.log_artifact(str(files / "a.txt"), name="outputs-extra.txt")
    return run_id


def test_a_logged_folder_downloads_whole_by_its_name(tracker, files, outputs_run):
    out = tracker.download_artifact(outputs_run, "outputs", str(files / "dl"))
    assert out == str(files / "dl" / "outputs")
    got = sorted(p.relative_to(out).as_posix() for p in (files / "dl" / "outputs").rglob("*") if p.is_file())
    assert got == ["loss.png", "sub/acc.png"]
    assert (files / "dl" / "outputs" / "sub" / "acc.png").read_bytes() == b"png2"


def test_a_sub_folder_downloads_by_its_name_with_a_trailing_slash(tracker, files, outputs_run):
    assert tracker.download_artifact(outputs_run, "outputs/sub/", str(files / "dl2")) == str(files / "dl2" / "outputs" / "sub")
    assert (files / "dl2" / "outputs" / "sub" / "acc.png").read_bytes() == b"png2"


def test_names_that_only_look_like_the_folder_are_not_found_and_download_nothing(tracker, files, outputs_run):
    for unknown in ("output", "Outputs", "outputs/nope", "outputs-extra"):
        with pytest.raises(exceptions.ArtifactNotFound):
            tracker.download_artifact(outputs_run, unknown, str(files / "dl3"))
    assert not (files / "dl3").exists()


def test_a_folder_download_onto_a_file_of_its_name_is_blocked(tracker, files, outputs_run):
    (files / "dl4").mkdir()
    (files / "dl4" / "outputs").write_text("in the way")
    with pytest.raises(exceptions.DownloadBlocked, match="needs a folder"):
        tracker.download_artifact(outputs_run, "outputs", str(files / "dl4"))


def test_a_folder_download_checks_every_file(tracker, files):
    with tracker.start_run(log_code=False) as run_id:
        tracker.log_artifact(str(files / "plots"))
    blob = tracker.get_artifact_abspath(run_id, "plots/sub/acc.png")
    os.chmod(blob, 0o644)
    with open(blob, "wb") as fh:
        fh.write(b"evil")
    with pytest.raises(exceptions.BlobCorrupted, match="acc.png"):
        tracker.download_artifact(run_id, "plots", str(files / "dl"))
    assert not (files / "dl" / "plots" / "sub" / "acc.png").exists()


def test_cli_downloads_a_folder_by_its_name(tracker, files, store_options):
    from typer.testing import CliRunner

    from runelog.cli import app

    if "path" not in store_options:
        pytest.skip("the CLI test runs on the SQLite store")
    with tracker.start_run(log_code=False) as run_id:
        tracker.log_artifact(str(files / "plots"), name="outputs")
    tracker.close()
    runner = CliRunner()
    args = ["--store", store_options["path"], "runs", "download-artifact", run_id[:8]]
    result = runner.invoke(app, [*args, "outputs", "-o", str(files / "cli")])
    assert result.exit_code == 0, result.output
    assert (files / "cli" / "outputs" / "sub" / "acc.png").read_bytes() == b"png2"
    missing = runner.invoke(app, [*args, "nothing-here", "-o", str(files / "cli")])
    assert missing.exit_code == 1 and "Traceback" not in missing.output and "nothing-here" in missing.output
