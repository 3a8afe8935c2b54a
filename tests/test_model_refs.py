"""Model references: one resolver for the API, the CLI and the UI.

`name` (newest), `name/3`, `name@alias`, `name@latest`, and 0.2.0's pair
`(model_name, version)`. The text alone decides what a reference means.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from runelog import exceptions, get_tracker
from runelog.cli import app
from runelog.registry import ModelRef, parse_reference
from runelog.types import ModelVersionInfo

runner = CliRunner()


def cli(store, *args):
    return runner.invoke(app, ["--store", str(store), *args])


@pytest.fixture
def clf(tracker):
    """Model `clf` versions 1..3, each from its own run that used input `features-N`; champion -> 2."""
    with tracker.start_run(experiment_name="features", log_code=False, log_git_meta=False) as features:
        tracker.log_model({"rows": 10}, "features.joblib")
    for n in (1, 2, 3):
        with tracker.start_run(experiment_name="train", log_code=False, log_git_meta=False):
            tracker.log_input_run(f"features-{n}", features, "features.joblib")
            tracker.log_model({"v": n}, "model.joblib")
            run_id = tracker._active_run().id
        assert tracker.register_model(run_id, "model.joblib", "clf") == str(n)
    tracker.set_model_alias("clf", "champion", "2")
    return tracker


# ------------------------------------------------------------ the syntax, with no store


@pytest.mark.parametrize("text, parsed", [
    ("clf", ModelRef("clf")),
    ("clf/3", ModelRef("clf", number=3)),
    ("clf/03", ModelRef("clf", number=3)),
    ("clf@champion", ModelRef("clf", alias="champion")),
    ("clf@latest", ModelRef("clf")),
    ("team/clf", ModelRef("team/clf")),  # a "/" not followed by digits alone is part of the name
    ("team/clf/2", ModelRef("team/clf", number=2)),
    ("x/3@latest", ModelRef("x/3")),  # how to name a model called "x/3"
    ("x/3/1", ModelRef("x/3", number=1)),
    ("a@b@latest", ModelRef("a@b")),  # how to name a model called "a@b"
    ("a@b/2", ModelRef("a@b", number=2)),
    ("a@b@champion", ModelRef("a@b", alias="champion")),
    ("a@b/c", ModelRef("a@b/c")),  # the last "@" is followed by a "/": no alias, a bare name
    ("my model@v1.2-rc_1", ModelRef("my model", alias="v1.2-rc_1")),
    ("modèle ünï/7", ModelRef("modèle ünï", number=7)),
])
def test_a_reference_means_one_thing(text, parsed):
    assert parse_reference(text) == parsed


@pytest.mark.parametrize("name, version, parsed", [
    ("clf", "latest", ModelRef("clf")),
    ("clf", "3", ModelRef("clf", number=3)),
    ("clf", 3, ModelRef("clf", number=3)),
    ("clf", "@champion", ModelRef("clf", alias="champion")),
    ("clf", "@latest", ModelRef("clf")),
    ("a@b", "latest", ModelRef("a@b")),  # the pair takes the name literally, as 0.2.0 did
    ("x/3", "1", ModelRef("x/3", number=1)),
])
def test_the_0_2_0_pair_takes_the_name_literally(name, version, parsed):
    assert parse_reference(name, version) == parsed


@pytest.mark.parametrize("text, error", [
    ("clf/0", exceptions.InvalidModelVersion),
    ("clf/1234567890", exceptions.InvalidModelVersion),
    ("clf@3", exceptions.InvalidAlias),  # version 3 is "clf/3"
    ("clf@", exceptions.InvalidAlias),
    ("clf@-x", exceptions.InvalidAlias),
    ("", exceptions.InvalidKey),
    (3, exceptions.InvalidKey),
    (None, exceptions.InvalidKey),
    ("a\x00b", exceptions.InvalidKey),
])
def test_a_malformed_reference_is_refused(text, error):
    with pytest.raises(error):
        parse_reference(text)


# ------------------------------------------------------------ the API


FORMS = [("clf", 3), ("clf/1", 1), ("clf/2", 2), ("clf@champion", 2), ("clf@latest", 3)]
PAIRS = [(("clf", "latest"), 3), (("clf", "1"), 1), (("clf", 2), 2), (("clf", "@champion"), 2),
         (("clf", "@latest"), 3)]


@pytest.mark.parametrize("reference, number", FORMS)
def test_every_reference_form_finds_and_loads_its_version(clf, reference, number):
    found = clf.get_model_version(reference)
    assert isinstance(found, ModelVersionInfo)
    assert (found.model_name, found.version) == ("clf", number)
    assert found.aliases == (("champion",) if number == 2 else ())
    assert clf.load_model(reference) == {"v": number}
    assert found.as_dict() == clf.get_model_versions("clf")[3 - number]  # the 0.2.0 dict, the same data


@pytest.mark.parametrize("pair, number", PAIRS)
def test_every_pair_form_finds_and_loads_its_version(clf, pair, number):
    assert clf.get_model_version(*pair).version == number
    assert clf.load_registered_model(*pair) == {"v": number}
    assert clf.get_model_tags(*pair) == {}


def test_a_version_holds_its_run_artifact_and_bytes(clf):
    found = clf.get_model_version("clf@champion")
    (artifact,) = clf.list_artifacts(found.run_id)
    assert (found.artifact_name, found.sha256) == ("model.joblib", artifact.sha256)
    assert found.created_at is not None and found.tags == {}


@pytest.mark.parametrize("reference, error, version", [
    ("nope", exceptions.ModelNotFound, None),
    ("nope/1", exceptions.ModelNotFound, None),
    ("nope@champion", exceptions.ModelNotFound, None),
    ("nope@3", exceptions.ModelNotFound, None),  # an unknown model is said first, as 0.2.0 did
    ("clf/9", exceptions.ModelVersionNotFound, "9"),
    ("clf@ghost", exceptions.ModelVersionNotFound, "@ghost"),
    ("clf/0", exceptions.InvalidModelVersion, "0"),
    ("clf@3", exceptions.InvalidAlias, None),
])
def test_unknown_models_versions_and_aliases_are_named(clf, reference, error, version):
    with pytest.raises(error) as raised:
        clf.get_model_version(reference)
    with pytest.raises(error):
        clf.load_model(reference)
    if error is exceptions.ModelVersionNotFound:
        assert not isinstance(raised.value, exceptions.ModelNotFound)
        assert raised.value.version == version and "clf" in str(raised.value)


def test_a_missing_alias_in_the_pair_form_is_a_missing_version(clf):
    with pytest.raises(exceptions.ModelVersionNotFound, match="@ghost"):
        clf.load_registered_model("clf", "@ghost")
    with pytest.raises(exceptions.ModelNotFound):
        clf.load_registered_model("clf@champion")  # the pair form: no model has that name


def test_an_empty_alias_in_the_pair_form_is_named_as_given(clf):
    with pytest.raises(exceptions.ModelVersionNotFound, match="version '@' not found"):
        clf.load_registered_model("clf", "@")


ODD_NAMES = ["team/clf", "x/3", "a@b", "feat \"v2\"", "back\\slash", "modèle ünï", "spaces in it", "<b>{x}</b>"]


@pytest.mark.parametrize("name", ODD_NAMES)
def test_any_registered_name_is_reachable_by_reference_and_by_pair(tracker, name):
    with tracker.start_run(log_code=False, log_git_meta=False) as run_id:
        tracker.log_model({"name": name}, "model.joblib")
    tracker.register_model(run_id, "model.joblib", name)
    tracker.register_model(run_id, "model.joblib", name)
    tracker.set_model_alias(name, "prod", "1")
    assert tracker.load_registered_model(name) == {"name": name}  # 0.2.0: the name as given
    assert tracker.get_model_version(f"{name}@latest").version == 2
    assert tracker.get_model_version(f"{name}/1").version == 1
    assert tracker.get_model_version(f"{name}@prod").version == 1
    assert tracker.load_model(f"{name}@prod") == {"name": name}
    assert tracker.get_model_version(name, "@prod").version == 1


def test_a_bare_name_that_reads_as_a_reference_means_the_reference(tracker):
    with tracker.start_run(log_code=False, log_git_meta=False) as run_id:
        tracker.log_model({"m": 1}, "model.joblib")
    tracker.register_model(run_id, "model.joblib", "x/3")
    tracker.register_model(run_id, "model.joblib", "a@b")
    with pytest.raises(exceptions.ModelNotFound, match="'x'"):
        tracker.get_model_version("x/3")  # model x, version 3: the text decides, not the store
    with pytest.raises(exceptions.ModelNotFound, match="'a'"):
        tracker.get_model_version("a@b")
    tracker.register_model(run_id, "model.joblib", "x")
    with pytest.raises(exceptions.ModelVersionNotFound):
        tracker.get_model_version("x/3")


# ------------------------------------------------------------ the CLI


@pytest.fixture
def store(clf, store_options):
    if "path" not in store_options:
        pytest.skip("the CLI tests here use a local store folder")
    return store_options["path"]


@pytest.mark.parametrize("reference, number", FORMS)
def test_the_cli_shows_every_reference_form(store, reference, number):
    shown = cli(store, "registry", "show", reference, "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["version"] == str(number)
    table = cli(store, "registry", "show", reference)
    assert table.exit_code == 0 and f"clf version {number}" in table.output


@pytest.mark.parametrize("reference, number", FORMS)
def test_lineage_starts_from_every_reference_form(store, reference, number):
    result = cli(store, "lineage", "--model", reference, "--json")
    assert result.exit_code == 0, result.output
    (edge,) = json.loads(result.stdout)
    assert edge["input_name"] == f"features-{number}"
    tree = cli(store, "lineage", "--model", reference)
    assert tree.exit_code == 0 and f"features-{number}" in tree.output


def test_lineage_of_clf_at_champion_is_the_drift_bug_fixed(store):
    result = cli(store, "lineage", "--model", "clf@champion", "--json")
    assert result.exit_code == 0, result.output
    assert [e["input_name"] for e in json.loads(result.stdout)] == ["features-2"]


@pytest.mark.parametrize("reference, said", [
    ("nope", "Model 'nope' not found"), ("clf/9", "version '9' not found"),
    ("clf@ghost", "version '@ghost' not found"), ("clf@3", "cannot be a model alias"),
])
def test_the_cli_names_what_is_missing(store, reference, said):
    for args in (["registry", "show", reference], ["lineage", "--model", reference]):
        result = cli(store, *args)
        assert result.exit_code == 1, (args, result.output)
        assert said in " ".join(result.output.split()) and "Traceback" not in result.output


def test_lineage_of_a_model_whose_run_was_deleted_says_so(store):
    tracker = get_tracker(store)
    tracker.delete_run(tracker.get_model_version("clf/1").run_id)
    result = cli(store, "lineage", "--model", "clf/1")
    assert result.exit_code == 1 and "was deleted" in result.output
    tracker.close()
