"""The command line keeps runelog 0.2.0's habits and says plainly what it did (issue 13, items 8-21;
issue 12, item 15): one test per item, through typer's CliRunner or the real console script."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from runelog import __version__, exceptions, get_tracker
from runelog.cli import app
from runelog import find_store
from runelog.formatting import parse_assignment

runner = CliRunner()
EXE = shutil.which("runelog", path=os.path.dirname(sys.executable)) or "runelog"


def cli(*args, cwd=None, columns=None, stdin=None):
    """The installed console script, as a user runs it (no RUNELOG_* from the test's environment)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNELOG_")}
    if columns:
        env["COLUMNS"] = str(columns)
    return subprocess.run([EXE, *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=60, input=stdin)


def invoke(*args, stdin=None):
    result = runner.invoke(app, [str(a) for a in args], input=stdin)
    assert "Traceback" not in result.output, result.output
    return result


def no_traceback(result):
    text = getattr(result, "stderr", "") + getattr(result, "stdout", "")
    assert "Traceback" not in text, text
    return result


@pytest.fixture
def store(tmp_path):
    """A store with two experiments: 'exp' (three runs with params, metrics and tags) and 'empty'."""
    root = tmp_path / "project"
    tracker = get_tracker(str(root))
    ids = []
    for i, (lr, loss, candidate) in enumerate(((0.1, 0.5, True), (0.2, 0.3, "true"), (0.3, 0.4, False))):
        with tracker.start_run(experiment_name="exp", run_name=f"run-{i}", log_code=False) as run_id:
            tracker.log_params({"lr": lr, "layers": 2, "optimizer": "adam" if i else 3})
            tracker.log_metric("lr", lr / 10)  # a metric with the same key as a param
            tracker.log_metrics({"val/loss": loss, "acc": 1 - loss})
            tracker.set_run_tags({"candidate": candidate, "stage": "dev"})
        ids.append(run_id)
    tracker.get_or_create_experiment("empty")
    tracker.close()
    return root, ids


@pytest.fixture
def narrow(monkeypatch):
    """Set the width the in-process command line renders at, as COLUMNS does for the real one."""
    from runelog.cli import common

    def set_width(columns: int) -> None:
        monkeypatch.setattr(common.console, "_width", columns)

    return set_width


def no_store_above(path: Path) -> None:
    if find_store(path) is not None:
        pytest.skip(f"a .runelog/ folder above {path} would be found")


# ------------------------------------------------------------ item 8: 0.2.0's spellings


def test_item8_short_help_and_version_flags(tmp_path):
    helped = no_traceback(cli("-h", cwd=tmp_path))
    assert helped.returncode == 0 and "experiments" in helped.stdout and "Usage" in helped.stdout
    sub = invoke("runs", "list", "-h")
    assert sub.exit_code == 0 and "--sort-by" in sub.output
    version = cli("-v", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.strip() == f"runelog {__version__}"


def test_item8_registry_list_sort_by_and_desc(store):
    root, ids = store
    tracker = get_tracker(str(root))
    with tracker.start_run(log_code=False) as run_id:
        tracker.log_model({"w": 1}, "model.joblib")
    for name in ("beta", "alpha", "gamma"):
        tracker.register_model(run_id, "model.joblib", name)
    tracker.register_model(run_id, "model.joblib", "alpha")  # alpha is at version 2, registered last

    def order(*options):
        result = invoke("--store", root, "registry", "list", *options, "--json")
        assert result.exit_code == 0, result.output
        return [m["model_name"] for m in json.loads(result.output)]

    assert order() == ["alpha", "gamma", "beta"]  # 0.2.0's default: newest registration first
    assert order("--sort-by", "name", "--desc") == ["gamma", "beta", "alpha"]
    assert order("-s", "name", "--asc") == ["alpha", "beta", "gamma"]
    assert order("--sort-by", "version", "--desc")[0] == "alpha"
    assert order("--sort-by", "timestamp", "-d") == ["alpha", "gamma", "beta"]
    table = invoke("--store", root, "registry", "list", "--sort-by", "name", "--desc").output
    assert table.index("gamma") < table.index("beta") < table.index("alpha")
    bad = invoke("--store", root, "registry", "list", "--sort-by", "size")
    assert bad.exit_code == 2 and "name" in bad.output and "timestamp" in bad.output


def test_item8_examples_keep_their_020_names(monkeypatch):
    """tests/test_cli.py runs both for real; here: each 0.2.0 name runs the script of its new name."""
    from runelog.cli import examples

    started = []
    monkeypatch.setattr(examples.subprocess, "run",
                        lambda command, env: started.append(command[1]) or subprocess.CompletedProcess(command, 0))
    for old, new in (("make-features", "features"), ("train-with-fs", "train-fs")):
        assert invoke("examples", old).exit_code == 0
        assert invoke("examples", new).exit_code == 0
        assert started[-2] == started[-1] and started[-1].endswith(examples.EXAMPLES[new][0])
    assert invoke("examples", "nope").exit_code == 2


# ------------------------------------------------------------ item 9: empty results say so


def test_item9_empty_results_say_so(tmp_path):
    root = tmp_path / "fresh"
    tracker = get_tracker(str(root))
    for experiment in tracker.list_experiments():  # whatever a new store holds, list none
        tracker.delete_experiment(experiment["experiment_id"])
    assert invoke("--store", root, "experiments", "list").output.strip().startswith("No experiments found")
    models = invoke("--store", root, "registry", "list")
    assert models.exit_code == 0 and "No models found in the registry" in models.output
    versions = invoke("--store", root, "registry", "get-versions", "nope")  # 0.2.0: a message, exit 0
    assert versions.exit_code == 0 and "No versions found for model 'nope'" in versions.output
    tracker.get_or_create_experiment("nothing-yet")
    runs = invoke("--store", root, "runs", "list", "nothing-yet")
    assert runs.exit_code == 0 and "No runs found in experiment 'nothing-yet'" in runs.output
    filtered = invoke("--store", root, "runs", "list", "nothing-yet", "--status", "failed")
    assert filtered.exit_code == 0 and "No runs match these filters" in filtered.output
    got = invoke("--store", root, "experiments", "get", "nothing-yet")
    assert got.exit_code == 0 and "has no runs" in got.output and "nothing-yet" in got.output
    assert json.loads(invoke("--store", root, "runs", "list", "nothing-yet", "--json").output) == []


def test_item9_exporting_an_empty_experiment_writes_nothing(store, tmp_path, monkeypatch):
    root, _ = store
    monkeypatch.chdir(tmp_path)
    before = set(tmp_path.iterdir())
    result = invoke("--store", root, "experiments", "export", "empty")
    assert result.exit_code == 0 and "has no runs to export; no file was written" in result.output
    named = invoke("--store", root, "experiments", "export", "empty", "-o", tmp_path / "x.json")
    assert named.exit_code == 0 and "no file was written" in named.output
    assert set(tmp_path.iterdir()) == before


# ------------------------------------------------------------ items 10 and 20: exports


def test_item10_export_format_follows_the_suffix(store, tmp_path):
    import pandas as pd

    root, ids = store
    for name in ("runs.json", "runs.parquet", "runs.csv"):
        result = invoke("--store", root, "experiments", "export", "exp", "-o", tmp_path / name)
        assert result.exit_code == 0, result.output
    records = json.loads((tmp_path / "runs.json").read_text())  # real JSON, not CSV
    assert [r["run_id"] for r in records] == ids  # oldest first
    assert [r["run_name"] for r in records] == ["run-0", "run-1", "run-2"]
    assert [r["tag_candidate"] for r in records] == [True, "true", False]
    assert records[0]["param_lr"] == 0.1 and records[1]["val/loss"] == 0.3
    parquet = pd.read_parquet(tmp_path / "runs.parquet")
    assert list(parquet.index) == ids and list(parquet["run_name"]) == ["run-0", "run-1", "run-2"]
    assert list(parquet["tag_stage"]) == ["dev"] * 3 and parquet["acc"].max() == pytest.approx(0.7)
    csv = pd.read_csv(tmp_path / "runs.csv", index_col="run_id", converters={"run_id": str})
    assert list(csv.index) == ids and {"run_name", "tag_candidate", "tag_stage", "param_lr", "lr"} <= set(csv.columns)
    assert (tmp_path / "runs.csv").read_bytes()[:6] == b"run_id"


@pytest.mark.parametrize("name", ["runs.xlsx", "runs", "runs.txt"])
def test_item10_other_suffixes_are_refused(store, tmp_path, name):
    root, _ = store
    result = invoke("--store", root, "experiments", "export", "exp", "-o", tmp_path / name)
    assert result.exit_code == 2
    assert ".csv" in result.output and ".json" in result.output and ".parquet" in result.output
    assert not (tmp_path / name).exists()


def test_item20_export_without_output_writes_name_export_csv(store, tmp_path):
    root, ids = store
    tracker = get_tracker(str(root))
    with tracker.start_run(experiment_name="my model", log_code=False) as run_id:
        tracker.log_metric("acc", 1.0)
    result = invoke("--store", root, "experiments", "export", "my model")  # the tests run in tmp_path
    assert result.exit_code == 0 and "my_model_export.csv" in result.output, result.output
    assert (tmp_path / "my_model_export.csv").read_text().splitlines()[1].startswith(run_id)
    exp_id = next(e["experiment_id"] for e in tracker.list_experiments() if e["name"] == "exp")
    by_id = invoke("--store", root, "experiments", "export", exp_id)
    assert by_id.exit_code == 0 and (tmp_path / "exp_export.csv").exists()  # named by name, not by id


# ------------------------------------------------------------ item 11: ids and names in tables


def _ids_in(text: str) -> list[str]:
    return re.findall(r"\b[0-9a-f]{5,}…?", text)


def test_item11_run_ids_are_never_cut_below_8_characters(store, tmp_path, narrow):
    root, ids = store
    tracker = get_tracker(str(root))
    with tracker.start_run(experiment_name="exp", run_name="a-rather-long-run-name-that-takes-room",
                           log_code=False) as long_run:
        tracker.log_params({f"param_number_{i}": i for i in range(8)})
        tracker.log_metrics({f"metric_number_{i}": i / 7 for i in range(8)})
    ids.append(long_run)
    for columns in (80, 60, 30):
        narrow(columns)
        for command in (["runs", "list", "exp"], ["experiments", "get", "exp"],
                        ["runs", "compare", *[i[:8] for i in ids]], ["registry", "list"]):
            result = invoke("--store", root, *command)
            assert result.exit_code == 0, result.output
            for run_id in ids if command[0] != "registry" else []:
                assert run_id[:8] in result.output, (command, columns, result.output)
            assert all(len(shown) >= 8 and "…" not in shown for shown in _ids_in(result.output)), result.output
    real = no_traceback(cli("--store", root, "runs", "list", "exp", cwd=tmp_path, columns=80))
    assert all(run_id[:8] in real.stdout for run_id in ids), real.stdout
    assert max(map(len, real.stdout.splitlines())) <= 80  # it fits: columns are dropped instead
    assert "not shown at this width" in real.stdout


def test_item11_wide_and_json_show_whole_ids_and_tags(store, tmp_path):
    root, ids = store
    wide = no_traceback(cli("--store", root, "runs", "list", "exp", "--wide", cwd=tmp_path, columns=80))
    assert all(run_id in wide.stdout for run_id in ids), wide.stdout
    assert max(map(len, wide.stdout.splitlines())) <= 80
    rows = json.loads(invoke("--store", root, "runs", "list", "exp", "--json").output)
    assert [r["run_id"] for r in rows] == ids
    assert [r["tags"] for r in rows] == [{"candidate": True, "stage": "dev"}, {"candidate": "true", "stage": "dev"},
                                         {"candidate": False, "stage": "dev"}]


def test_item11_get_commands_name_the_experiment(store):
    root, ids = store
    exp_id = next(e["experiment_id"] for e in get_tracker(str(root)).list_experiments() if e["name"] == "exp")
    by_id = invoke("--store", root, "experiments", "get", exp_id)
    assert by_id.exit_code == 0 and "Experiment exp" in by_id.output and f"id {exp_id}" in by_id.output
    run = invoke("--store", root, "runs", "get", ids[0])
    assert run.exit_code == 0 and f"experiment exp (id {exp_id})" in run.output
    assert json.loads(invoke("--store", root, "runs", "get", ids[0], "--json").output)["experiment_name"] == "exp"


def test_item11_param_and_metric_with_one_key_get_distinct_headers(store, narrow):
    root, _ = store
    narrow(200)
    result = invoke("--store", root, "runs", "list", "exp")
    header = next(line for line in result.output.splitlines() if "status" in line)
    cells = [c.strip() for c in re.split(r"[┃│|]", header) if c.strip()]
    assert "lr" in cells and "param_lr" in cells, header
    assert len(cells) == len(set(cells))


# ------------------------------------------------------------ item 12: bad options are refused


def test_item12_bad_status_and_sort_key_exit_2_with_the_choices(store):
    root, _ = store
    status = invoke("--store", root, "runs", "list", "exp", "--status", "DONE")
    assert status.exit_code == 2
    assert all(s in status.output.lower() for s in ("running", "finished", "failed", "killed"))
    assert invoke("--store", root, "runs", "list", "exp", "--status", "finished").exit_code == 0
    sort = invoke("--store", root, "runs", "list", "exp", "--sort-by", "nope")
    assert sort.exit_code == 2
    for choice in ("start_time", "run_name", "param_lr", "val/loss"):
        assert choice in sort.output
    assert invoke("--store", root, "experiments", "get", "exp", "--sort-by", "nope").exit_code == 2
    assert invoke("--store", root, "runs", "list", "exp", "--sort-by", "val/loss").exit_code == 0


def test_item12_api_refuses_unknown_sort_keys(tracker):
    """On both backends (conftest's `tracker`): list_runs and find_runs refuse what they cannot sort by."""
    ids = []
    for i, acc in enumerate((0.2, 0.9, 0.5)):
        with tracker.start_run(experiment_name="exp", log_code=False) as run_id:
            tracker.log_param("lr", i / 10)
            tracker.log_metric("acc", acc)
            tracker.set_tag("candidate", i == 1)
        ids.append(run_id)
    tracker.get_or_create_experiment("empty")
    with pytest.raises(exceptions.InvalidSortKey) as raised:
        tracker.list_runs("exp", sort_by="nope")
    assert isinstance(raised.value, ValueError) and isinstance(raised.value, exceptions.RunelogException)
    assert "param_lr" in str(raised.value) and "acc" in str(raised.value)
    with pytest.raises(ValueError):
        tracker.find_runs("exp", order_by="nope")
    # A key that only runs hidden by the filter have is still a valid key.
    assert tracker.list_runs("exp", sort_by="acc", tags={"candidate": "nobody"}) == []
    rows = tracker.list_runs("exp", sort_by="acc", descending=True)
    assert [r["run_id"] for r in rows] == [ids[1], ids[2], ids[0]]
    assert [r["tags"] for r in rows] == [{"candidate": True}, {"candidate": False}, {"candidate": False}]
    assert tracker.list_runs("empty", sort_by="anything") == []  # nothing to sort


# ------------------------------------------------------------ item 13: the README's commands


def test_item13_store_options_after_the_command_name(store, tmp_path):
    root, ids = store
    for command in (["runs", "list", "exp"], ["experiments", "list"], ["verify"], ["registry", "list"],
                    ["runs", "get", ids[0]], ["lineage", ids[0]], ["db", "current"]):
        after = invoke(*command, "--store", root)
        assert after.exit_code == 0, (command, after.output)
        assert after.output == invoke("--store", root, *command).output, command
    real = no_traceback(cli("runs", "list", "exp", "--store", root, "--json", cwd=tmp_path))
    assert [r["run_id"] for r in json.loads(real.stdout)] == ids
    url = f"sqlite:///{root / '.runelog' / 'runelog.db'}"
    by_url = invoke("runs", "list", "exp", "--database-url", url, "--json")
    assert [r["run_id"] for r in json.loads(by_url.output)] == ids
    current = invoke("db", "current", "--database-url", url)
    assert "up to date" in current.output and url in current.output


def _all_commands():
    import typer.main

    def walk(command, path):
        yield path, command
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, [*path, name])

    return list(walk(typer.main.get_command(app), []))


def test_item13_every_command_takes_the_store_options_and_help_shows_no_bool(tmp_path):
    commands = _all_commands()
    assert len(commands) > 25
    for path, command in commands:
        options = {opt for p in command.params for opt in p.opts}
        assert {"--store", "--database-url"} <= options, path
        helped = runner.invoke(app, [*path, "--help"], terminal_width=120)
        assert helped.exit_code == 0, (path, helped.output)
        assert "<bool>" not in helped.output, (path, helped.output)
    ui = invoke("ui", "--store", tmp_path / "nowhere", "--port", "0")
    assert ui.exit_code == 2 and "--port" in ui.output and "No such option" not in ui.output


def test_item13_errors_point_to_commands_not_python_calls(store):
    root, ids = store
    for args in (["registry", "tag", "nope", "1", "--add", "a=b"], ["registry", "alias", "nope", "champion", "1"],
                 ["runs", "download-artifact", ids[0], "missing.txt"], ["runs", "list", "no-such-experiment"],
                 ["lineage", "--model", "nope@3"]):
        result = invoke("--store", root, *args)
        assert result.exit_code == 1, (args, result.output)
        assert "tracker." not in result.output and "runelog " in result.output, (args, result.output)
    for cls in vars(exceptions).values():  # every hint meant for Python has one for the command line
        if isinstance(cls, type) and issubclass(cls, exceptions.RunelogException) and "tracker." in cls.hint:
            assert cls.hint_cli and "tracker." not in cls.hint_cli, cls


def test_item13_no_traceback_for_usage_and_system_errors(store, tmp_path):
    root, _ = store
    usage = no_traceback(cli("runs", "list", cwd=tmp_path))
    assert usage.returncode == 2 and "Missing argument" in usage.stderr
    missing_folder = invoke("--store", root, "experiments", "export", "exp", "-o", tmp_path / "no" / "such" / "x.csv")
    assert missing_folder.exit_code == 1 and missing_folder.output.startswith("error:"), missing_folder.output
    for url in ("nonsense://x", "postgresql+nosuchdriver://u@h/db"):  # before or after the command's name
        assert invoke("--database-url", url, "db", "current").exit_code == 2
        bad_url = invoke("runs", "list", "exp", "--database-url", url)
        assert bad_url.exit_code == 2 and "--database-url" in bad_url.output
    missing_file = tmp_path / "nowhere" / "runelog.db"
    gone = invoke("runs", "list", "exp", "--database-url", f"sqlite:///{missing_file}")
    assert gone.exit_code == 1 and str(missing_file) in " ".join(gone.output.split()).replace(" ", "")
    assert not missing_file.parent.exists()


# ------------------------------------------------------------ item 14: key=value means the same everywhere


def test_item14_one_key_value_parser():
    assert parse_assignment("candidate=true") == ("candidate", True)
    assert parse_assignment("candidate=True") == ("candidate", True)
    assert parse_assignment('candidate="true"') == ("candidate", "true")
    assert parse_assignment("stage=prod") == ("stage", "prod")
    assert parse_assignment("n=3") == ("n", 3) and parse_assignment("x=0.5") == ("x", 0.5)
    assert parse_assignment("shape=[1, 2]") == ("shape", [1, 2])
    assert parse_assignment("v=None") == ("v", None) and parse_assignment("v=null") == ("v", None)
    assert parse_assignment("v=NaN") == ("v", "NaN")
    assert parse_assignment("url=a=b") == ("url", "a=b")
    for bad in ("novalue", "=3"):
        with pytest.raises(exceptions.RunelogException):
            parse_assignment(bad)


def test_item14_cli_ui_and_api_find_the_same_runs(store):
    from runelog.ui.views import find_runs

    root, ids = store
    tracker = get_tracker(str(root))

    def cli_ids(*tags):
        args = [a for t in tags for a in ("--tag", t)]
        result = invoke("--store", root, "runs", "list", "exp", *args, "--json")
        assert result.exit_code == 0, result.output
        return [r["run_id"] for r in json.loads(result.output)]

    def ui_ids(text):  # the UI's filter box: the language of `runs list --filter`
        return sorted(r["run_id"] for r in find_runs(tracker, "exp", text))

    api = [r["run_id"] for r in tracker.list_runs("exp", tags={"candidate": True})]
    assert api == [ids[0]]
    assert cli_ids("candidate=true") == ui_ids("tags.candidate = true") == api
    assert cli_ids('candidate="true"') == [ids[1]]  # the string "true"
    assert cli_ids("candidate=False") == ui_ids("tags.candidate = false") == [ids[2]]
    assert cli_ids("stage=dev", "candidate=true") == ui_ids("tags.stage = 'dev' and tags.candidate = true") == [ids[0]]
    assert ui_ids("") == sorted(ids) and ui_ids("tags.nope = 'x'") == []
    assert invoke("--store", root, "runs", "list", "exp", "--tag", "novalue").exit_code == 2


# ------------------------------------------------------------ item 15: runs compare and direction


def test_item15_compare_marks_the_best_only_with_a_known_direction(store, monkeypatch):
    import io

    from rich.console import Console

    from runelog.cli import runs as runs_cli

    root, ids = store

    def compare(*options):
        screen = io.StringIO()
        monkeypatch.setattr(runs_cli, "console", Console(file=screen, force_terminal=True, width=200,
                                                         color_system="standard"))
        result = invoke("--store", root, "runs", "compare", *ids, *options)
        assert result.exit_code == 0, result.output
        lines = screen.getvalue().splitlines()
        return {key: [line for line in lines if re.search(rf"│ {re.escape(key)} ", line)][-1]  # the metric row
                for key in ("val/loss", "acc", "lr")}

    green = "\x1b[1;32m"
    plain = compare()
    assert f"{green}0.3000" in plain["val/loss"] and "lower (name ends in loss)" in plain["val/loss"]
    assert green not in plain["acc"] and "unknown" in plain["acc"]  # 0.2.0 painted the highest green
    assert green not in plain["lr"]
    told = compare("--higher-is-better", "acc", "--lower-is-better", "lr")
    assert f"{green}0.7000" in told["acc"] and "higher (--higher-is-better)" in told["acc"]
    assert f"{green}0.0100" in told["lr"] and "lower (--lower-is-better)" in told["lr"]
    overridden = compare("--higher-is-better", "val/loss")
    assert f"{green}0.5000" in overridden["val/loss"]
    both = invoke("--store", root, "runs", "compare", *ids, "--higher-is-better", "acc", "--lower-is-better", "acc")
    assert both.exit_code == 2


# ------------------------------------------------------------ item 21: "n" changes nothing, exit 0


def test_item21_answering_no_changes_nothing_and_exits_0(store, tmp_path):
    root, ids = store
    tracker = get_tracker(str(root))
    (tmp_path / "f.txt").write_text("x")
    with tracker.start_run(log_code=False) as doomed:
        tracker.log_artifact(str(tmp_path / "f.txt"))
    tracker.delete_run(doomed)
    for command in (["runs", "delete", ids[0]], ["experiments", "delete", "exp"], ["gc", "--grace", "0s"]):
        result = invoke("--store", root, *command, stdin="n\n")
        assert result.exit_code == 0, (command, result.output)
        assert "nothing was changed" in result.output, (command, result.output)
    assert [r["run_id"] for r in tracker.list_runs("exp")] == ids
    assert len(list(tracker.location.blob_dir.rglob("*/*"))) == 1


# ------------------------------------------------------------ issue 12 item 15: finding the store


READ_COMMANDS = [["verify"], ["runs", "list", "exp"], ["experiments", "list"], ["runs", "get", "abcdef12"],
                 ["lineage", "abcdef12"], ["experiments", "export", "exp"], ["experiments", "get", "exp"],
                 ["registry", "list"], ["runs", "compare", "abcdef12", "abcdef34"], ["gc", "--yes"],
                 ["runs", "reap", "--yes"], ["runs", "delete", "abcdef12", "--yes"], ["sql", "SELECT 1"]]


def test_issue12_item15_commands_on_a_mistyped_store_create_nothing(tmp_path):
    typo = tmp_path / "mistyped"
    for command in READ_COMMANDS:
        result = invoke("--store", typo, *command)
        assert result.exit_code == 1, (command, result.output)
        said = " ".join(result.output.split())
        assert "no runelog store" in said.lower() or "no store here" in said.lower(), (command, said)
        assert str(typo) in said.replace(" ", "") or str(typo) in said, (command, said)
        assert not typo.exists() and not (tmp_path / ".runelog").exists(), command
    real = no_traceback(cli("--store", typo, "verify", cwd=tmp_path))
    assert real.returncode == 1 and "All 0 blobs verified" not in real.stdout and str(typo) in real.stderr
    assert not typo.exists()


def test_issue12_item15_the_nearest_store_above_is_used_like_git(store, tmp_path, monkeypatch):
    root, ids = store
    deep = root / "src" / "models"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    listed = invoke("runs", "list", "exp", "--json")
    assert [r["run_id"] for r in json.loads(listed.output)] == ids
    current = invoke("db", "current")
    assert f"store: {root / '.runelog'}" in " ".join(current.output.split()) and "nearest" in current.output
    assert not (deep / ".runelog").exists()
    explicit = invoke("db", "current", "--store", root)
    assert f"store: {root / '.runelog'} (from --store)" in " ".join(explicit.output.split())
    # The API keeps 0.2.0's rule: here, or $RUNELOG_HOME; it does not look upwards.
    api = get_tracker()
    assert api.location.home == deep / ".runelog"
    api.close()


def test_issue12_item15_no_store_anywhere(tmp_path):
    no_store_above(tmp_path)
    result = invoke("runs", "list", "exp")  # the tests run in tmp_path
    said = " ".join(result.output.split())
    assert result.exit_code == 1 and "No runelog store in" in said and str(tmp_path) in said.replace(" ", "")
    assert not (tmp_path / ".runelog").exists()
    # Listing in a project with no store yet is 0.2.0's empty list (exit 0), creating nothing.
    for command, empty in ((["experiments", "list"], "No experiments found"),
                           (["registry", "list"], "No models found")):
        listed = invoke(*command)
        said = " ".join(listed.output.split())
        assert listed.exit_code == 0 and empty in said and "no .runelog/ store" in said, (command, said)
        assert json.loads(invoke(*command, "--json").output) == []
    assert not (tmp_path / ".runelog").exists()
    # A command that writes may start a store in the current folder.
    made = invoke("db", "upgrade")
    assert made.exit_code == 0 and (tmp_path / ".runelog" / "runelog.db").is_file()
    assert "none found" in invoke("db", "current").output or "nearest" in invoke("db", "current").output
    assert invoke("experiments", "list").exit_code == 0


# ------------------------------------------------------------ item 17: the README works as written

README = Path(__file__).resolve().parent.parent / "README.md"


def _block(after_heading: str, language: str) -> str:
    text = README.read_text()
    section = text[text.index(after_heading):]
    start = section.index(f"```{language}\n") + len(language) + 4
    return section[start:section.index("```", start)]


def test_item17_readme_quickstart_and_its_sql_run_as_written(tmp_path):
    import sqlite3

    code = _block("## Quickstart", "python")
    assert "model = " in code.split("tracker.log_model(model")[0]  # the model it logs is defined first
    for _ in range(2):  # two runs, in the test's own folder (conftest changes into tmp_path)
        namespace = {}
        exec(compile(code, "README.md quickstart", "exec"), namespace)
        namespace["tracker"].close()
    shell = _block("## Ask the database directly", "bash")
    assert shell.startswith("sqlite3 .runelog/runelog.db ")
    query = shell.split('"', 1)[1].rsplit('"', 1)[0].replace('\\"', '"')
    with sqlite3.connect(tmp_path / ".runelog" / "runelog.db") as conn:
        rows = conn.execute(query).fetchall()
    assert len(rows) == 2 and len({r[0] for r in rows}) == 2  # one row per run, not one per point
    assert all(step == 9 and 0.8 < accuracy <= 1 for _, _, accuracy, step in rows)


def test_item17_every_readme_command_line_names_real_commands_and_options():
    import typer.main

    root = typer.main.get_command(app)
    text = README.read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)  # every shell block, the CLI section's first
    lines = [line.split("#")[0] for block in blocks for line in block.splitlines()]
    lines += re.findall(r"`(runelog [^`]*)`", text)
    checked = 0
    for line in lines:
        words = line.split()
        if not words or words[0] != "runelog":
            continue
        node, parent, alternative = root, None, False
        for word in words[1:]:
            word = word.strip("[]")
            subcommands = getattr(node, "commands", {})
            if word == "|":
                alternative = True
            elif alternative and re.fullmatch(r"[a-z][a-z-]*", word) and parent is not None:
                assert word in parent.commands, (line, word)  # `db current | upgrade | history`
            elif word in subcommands:
                node, parent = subcommands[word], node
            elif word.startswith("-") and word not in ("-", "--"):
                for option in re.findall(r"--?[a-z][a-z-]*", word):
                    known = {o for p in node.params for o in (*p.opts, *p.secondary_opts)}
                    assert option in known | {"-h", "--help"}, (line, option, sorted(known))
        checked += 1
    assert checked > 25


def test_issue12_item15_a_dry_run_import_creates_no_store(tmp_path):
    no_store_above(tmp_path)
    old = tmp_path / "old-project"
    (old / ".mlruns" / "0").mkdir(parents=True)
    (old / ".mlruns" / "0" / "meta.json").write_text(json.dumps({"experiment_id": "0", "name": "default"}))
    dry = invoke("import-legacy", old, "--dry-run")
    assert "Dry run: nothing was changed" in dry.output, dry.output
    assert not (tmp_path / ".runelog").exists()
    done = invoke("import-legacy", old)  # the real import starts a store here
    assert done.exit_code == dry.exit_code and (tmp_path / ".runelog" / "runelog.db").is_file()


def test_item13_store_options_after_the_command_on_postgresql(pg_database, tmp_path):
    tracker = get_tracker(database_url=pg_database, artifact_root=str(tmp_path / "blobs"))
    with tracker.start_run(experiment_name="exp", log_code=False) as run_id:
        tracker.set_tag("candidate", True)
        tracker.log_metric("acc", 0.5)
    tracker.close()
    listed = invoke("runs", "list", "exp", "--tag", "candidate=true", "--database-url", pg_database, "--json")
    assert listed.exit_code == 0, listed.output
    assert [(r["run_id"], r["tags"]) for r in json.loads(listed.output)] == [(run_id, {"candidate": True})]
    current = invoke("db", "current", "--database-url", pg_database)
    assert current.exit_code == 0 and "up to date" in current.output and "from --database-url" in current.output
    assert not (tmp_path / ".runelog").exists()  # nothing local was made for a server store


def test_item10_json_export_keeps_infinities_apart_from_missing_values(tmp_path):
    t = get_tracker(str(tmp_path))
    with t.start_run(experiment_name="inf", log_code=False, log_git_meta=False):
        t.log_metric("loss", float("inf"))
        t.log_metric("gain", float("-inf"))
    with t.start_run(experiment_name="inf", log_code=False, log_git_meta=False):
        t.log_metric("acc", 0.5)
    t.close()
    result = invoke("--store", tmp_path, "experiments", "export", "inf", "-o", str(tmp_path / "x.json"))
    assert result.exit_code == 0, result.output

    def refuse(constant):
        raise ValueError(f"not strict JSON: {constant}")

    rows = json.loads((tmp_path / "x.json").read_text(), parse_constant=refuse)
    by_acc = {row["acc"] is None: row for row in rows}
    assert by_acc[True]["loss"] == "Infinity" and by_acc[True]["gain"] == "-Infinity"
    assert by_acc[False]["loss"] is None and by_acc[False]["acc"] == 0.5  # missing stays null
