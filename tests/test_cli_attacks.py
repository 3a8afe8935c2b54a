"""Defects an outside tester found in the command line, each reproduced first (typer's CliRunner,
and a real subprocess where a real signal is needed)."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from runelog import get_tracker
from runelog.cli import app

runner = CliRunner()


def invoke(root, *args):
    result = runner.invoke(app, ["--store", str(root), *args], env={"COLUMNS": "250"})
    assert "Traceback" not in result.output, result.output
    return result


@pytest.fixture
def marked_up(tmp_path):
    """A store whose every name is Rich markup: "[/x]" crashes Rich, "[bold red]nm[/]" restyles."""
    tracker = get_tracker(str(tmp_path))
    with tracker.run("[/x]", name="[bold red]nm[/]", tags={"t": "[/]"}) as run:
        run.log_params({"p": "[link=file:///etc/passwd]click[/link]"})
        run.log_metric("[/m]", 1)
        run.log_text("x", "[/a].txt")
    tracker.register_model(run.id, "[/a].txt", "[/model]")
    tracker.close()
    return tmp_path, run.id


@pytest.mark.parametrize("command, expected", [
    (["experiments", "list"], ["[/x]"]),
    (["experiments", "get", "[/x]"], ["[/x]", "[bold red]nm[/]", "[/m]"]),
    (["runs", "list", "[/x]"], ["[bold red]nm[/]", "[/m]"]),
    (["runs", "list", "[/x]", "--filter", ""], ["[bold red]nm[/]", "[/m]"]),
    (["runs", "list", "[/x]", "--filter", "tags.t = '[/]'"], ["[bold red]nm[/]", "[/m]"]),
    (["runs", "get", "RUN"], ["[/x]", "[bold red]nm[/]", "[/m]", "[/]", "[link=file:///etc/passwd]click[/link]",
                              "[/a].txt"]),
    (["registry", "list"], ["[/model]"]),
    (["registry", "show", "[/model]"], ["[/model]", "[/a].txt"]),
    (["registry", "get-versions", "[/model]"], ["[/model]", "[/a].txt"]),
    (["sql", "SELECT '[/x]' AS \"[/c]\""], ["[/x]", "[/c]"]),
    (["sql", "SELECT '[red]hidden[/red]'"], ["[red]hidden[/red]"]),
])
def test_stored_markup_is_printed_literally(marked_up, command, expected):
    root, run_id = marked_up
    result = invoke(root, *[run_id if part == "RUN" else part for part in command])
    assert result.exit_code == 0, result.output
    for text in expected:
        assert text in result.output, (text, result.output)


def test_compare_prints_markup_literally(marked_up):
    root, run_id = marked_up
    tracker = get_tracker(str(root))
    with tracker.run("[/x]", name=":fire:") as other:
        other.log_params({"p": "[/y]"})
        other.log_metric("[/m]", 2)
    tracker.close()
    result = invoke(root, "runs", "compare", run_id, other.id)
    assert result.exit_code == 0, result.output
    for text in ("[link=file:///etc/passwd]click[/link]", "[/y]", "[/m]"):
        assert text in result.output
    listing = invoke(root, "runs", "list", "[/x]")
    assert ":fire:" in listing.output  # no emoji substitution either


def test_messages_with_stored_names_are_literal(marked_up):
    root, _ = marked_up
    result = invoke(root, "registry", "get-versions", "[/none]")
    assert result.exit_code == 0 and "'[/none]'" in result.output
    result = invoke(root, "runs", "list", "[/x]", "--status", "FAILED")
    assert result.exit_code == 0 and "'[/x]'" in result.output
    backslash = invoke(root, "registry", "get-versions", "C:\\models\\")
    assert "'C:\\models\\'." in backslash.output  # printed once, not doubled


# ---------------------------------------------------------------- D8: one order with or without --filter


@pytest.fixture
def three_runs(tmp_path):
    tracker = get_tracker(str(tmp_path))
    ids = []
    for i in range(3):
        with tracker.run("exp", tags={"stage": i}) as run:
            run.log_metric("acc", i / 10)
        ids.append(run.id)
        time.sleep(0.01)
    tracker.close()
    return tmp_path, ids


def test_filter_does_not_change_the_order(three_runs):
    root, ids = three_runs
    plain = [r["run_id"] for r in json.loads(invoke(root, "runs", "list", "exp", "--json").output)]
    assert plain == ids  # as 0.2.0: oldest first
    for query in ([], ["--filter", ""], ["--filter", "metrics.acc >= 0"], ["--tag", "stage=1"]):
        rows = [r["run_id"] for r in json.loads(invoke(root, "runs", "list", "exp", "--json", *query).output)]
        assert rows == [i for i in ids if i in rows], query
    ordered = json.loads(invoke(root, "runs", "list", "exp", "--json", "--filter", "",
                                "--order-by", "metrics.acc DESC").output)
    assert [r["run_id"] for r in ordered] == ids[::-1]


# ---------------------------------------------------------------- D12, D15, D16, D17, D18, D21


def test_sql_json_keeps_repeated_column_names(three_runs):
    root, _ = three_runs
    result = invoke(root, "sql", "SELECT 1 AS a, 2 AS a, 3 AS a_2", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [{"a": 1, "a_3": 2, "a_2": 3}]
    assert json.loads(invoke(root, "sql", "SELECT 1 AS a, 2 AS a", "--json").output) == [{"a": 1, "a_2": 2}]


def test_lineage_without_arguments_says_what_is_missing(three_runs):
    root, _ = three_runs
    result = invoke(root, "lineage")
    assert result.exit_code == 2
    assert "not both" not in result.output and "RUN" in result.output and "--model" in result.output


def test_sql_without_a_query_says_what_is_missing(three_runs):
    root, _ = three_runs
    result = invoke(root, "sql")
    assert result.exit_code == 2 and "not both" not in result.output


def test_sql_file_that_is_a_folder(three_runs, tmp_path):
    root, _ = three_runs
    folder = tmp_path / "queries"
    folder.mkdir()
    result = invoke(root, "sql", "--file", str(folder))
    assert result.exit_code == 2
    assert "folder" in result.output and "does not exist" not in result.output


def test_table_valued_pragma_reads_are_allowed(three_runs):
    root, _ = three_runs
    result = invoke(root, "sql", "SELECT name FROM pragma_table_info('runs')", "--json")
    assert result.exit_code == 0, result.output
    assert {"id", "experiment_id", "status"} <= {r["name"] for r in json.loads(result.output)}
    refused = invoke(root, "sql", "SELECT * FROM pragma_optimize")
    assert refused.exit_code == 1 and "pragma_optimize" in refused.output and "sqlite_master" not in refused.output


def test_sql_that_writes_is_still_refused(three_runs):
    root, _ = three_runs
    for query in ("SELECT * FROM pragma_writable_schema", "PRAGMA writable_schema=1", "DELETE FROM runs"):
        result = invoke(root, "sql", query)
        assert result.exit_code != 0, query
    assert len(json.loads(invoke(root, "runs", "list", "exp", "--json").output)) == 3


@pytest.mark.parametrize("value", ["1e999", "[1e999]", '{"a": -1e999}'])
def test_a_tag_filter_value_no_number_can_hold_is_read_as_text(three_runs, value):
    root, _ = three_runs
    result = invoke(root, "runs", "list", "exp", "--tag", f"stage={value}")
    assert result.exit_code == 0, result.output  # like NaN: the text, which no run's tag holds
    assert "Nothing was recorded" not in result.output and "stored" not in result.output


def test_sort_by_with_filter_names_the_real_conflict(three_runs):
    root, _ = three_runs
    result = invoke(root, "runs", "list", "exp", "--filter", "", "--sort-by", "acc")
    assert result.exit_code == 2
    assert "--sort-by" in result.output and "--filter" in result.output
    assert "--order-by or --sort-by" not in result.output


# ---------------------------------------------------------------- D25: compare --json has the comparison


def test_compare_json_has_the_comparison(three_runs):
    root, ids = three_runs
    tracker = get_tracker(str(root))
    with tracker.run("exp") as run:
        run.log_metric("acc", float("nan"))
    tracker.close()
    result = invoke(root, "runs", "compare", ids[0], run.id, "--json", "--comparison")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["run_ids"] == [ids[0], run.id]
    assert document["metrics"]["acc"]["values"] == {ids[0]: 0.0, run.id: "NaN"}
    assert [r["run_id"] for r in document["runs"]] == [ids[0], run.id]
    plain = json.loads(invoke(root, "runs", "compare", ids[0], run.id, "--json").output)
    assert [d["meta"]["run_id"] for d in plain] == [ids[0], run.id]  # the 0.2.0-era list is unchanged


# ---------------------------------------------------------------- D4: Ctrl-C (or SIGTERM) stops a running query


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_a_running_sql_query(three_runs, signum, status):
    root, _ = three_runs
    exe = shutil.which("runelog", path=os.path.dirname(sys.executable)) or "runelog"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNELOG_")}
    query = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<1000000000) "
             "SELECT count(*) FROM c")
    process = subprocess.Popen([exe, "--store", str(root), "sql", query], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(3)  # well into the query (it takes minutes)
        assert process.poll() is None
        started = time.monotonic()
        process.send_signal(signum)
        out, err = process.communicate(timeout=20)
        assert time.monotonic() - started < 5
    finally:
        process.kill()  # a process that did not stop is not left running
        process.wait()
    assert process.returncode == status, (out, err)
    assert "Traceback" not in err and "closed database" not in err
    assert len(err.strip().splitlines()) == 1 and "interrupt" in err.lower()


# ---------------------------------------------------------------- D13: exports keep values apart


@pytest.fixture
def exported(tmp_path):
    tracker = get_tracker(str(tmp_path))
    with tracker.run("exp", tags={"b": True}) as first:
        first.log_params({"d": {"k": 1}, "f": 0.1, "flag": True})
        first.log_metric("m", float("nan"))
        first.log_metric("i", float("inf"))
    with tracker.run("exp") as second:
        second.log_params({"f": "0.1"})
        second.log_metric("z", 1)
    tracker.close()
    for name in ("runs.csv", "runs.json"):
        assert invoke(tmp_path, "experiments", "export", "exp", "-o", str(tmp_path / name)).exit_code == 0
    return tmp_path, first.id, second.id


def test_json_export_writes_a_logged_nan_as_nan(exported):
    root, first, second = exported

    def refuse(constant):
        raise ValueError(constant)

    rows = {r["run_id"]: r for r in json.loads((root / "runs.json").read_text(), parse_constant=refuse)}
    assert rows[first]["m"] == "NaN" and rows[first]["i"] == "Infinity"
    assert rows[second]["m"] is None  # never logged: still null
    assert rows[first]["start_time"].endswith("+00:00")


def test_csv_export_writes_params_and_tags_as_json_text(exported):
    import csv

    root, first, second = exported
    with open(root / "runs.csv", newline="", encoding="utf-8") as handle:
        rows = {r["run_id"]: r for r in csv.DictReader(handle)}
    assert rows[first]["param_d"] == '{"k": 1}' and rows[first]["param_flag"] == "true"
    assert rows[first]["param_f"] == "0.1" and rows[second]["param_f"] == '"0.1"'
    assert rows[first]["tag_b"] == "true" and rows[second]["tag_b"] == ""  # no such tag: empty
    assert rows[first]["start_time"].endswith("+00:00") and rows[first]["end_time"].endswith("+00:00")


def test_a_store_path_with_markup_is_printed_literally(tmp_path):
    store = tmp_path / "[bold]s[/]"
    result = invoke(store, "db", "current")
    assert result.exit_code == 0, result.output
    assert "[bold]s[/]" in result.output.replace("\n", "")
