"""`runelog runs list --filter ... --order-by ...`: the API's run query on the command line."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from runelog import get_tracker
from runelog.cli import app

runner = CliRunner()


def invoke(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    return result


@pytest.fixture
def store(tmp_path):
    """Four runs of 'exp': accuracy 0.6 to 0.9, lr 0.1 to 0.4, one tagged stage=prod, one FAILED."""
    tracker = get_tracker(str(tmp_path))
    ids = []
    for n in range(4):
        try:
            with tracker.start_run(experiment_name="exp", run_name=f"run-{n}", log_code=False) as run:
                ids.append(run)
                tracker.log_params({"lr": (n + 1) / 10, "optimizer": "adam"})
                tracker.log_metrics({"val/acc": 0.6 + n / 10, "loss": 1 - n / 10})
                tracker.set_tag("stage", "prod" if n == 2 else "dev")
                if n == 3:
                    raise RuntimeError("diverged")
        except RuntimeError:
            pass
    tracker.close()
    return tmp_path, ids


def listed(root, *options) -> list[str]:
    result = invoke("--store", root, "runs", "list", "exp", *options, "--json")
    assert result.exit_code == 0, result.output
    return [run["run_id"] for run in json.loads(result.output)]


def test_filter_selects_runs_by_metrics_params_tags_and_status(store):
    root, ids = store
    assert sorted(listed(root, "--filter", "metrics.`val/acc` > 0.75")) == sorted(ids[2:])
    assert listed(root, "--filter", "params.lr < 0.25 and metrics.loss < 1") == [ids[1]]
    assert listed(root, "--filter", "tags.stage = 'prod'") == [ids[2]]
    assert listed(root, "--filter", "attributes.status = 'FAILED'") == [ids[3]]
    assert listed(root, "--filter", "run_name LIKE 'run-%' and params.optimizer = 'sgd'") == []


def test_order_by_and_limit(store):
    root, ids = store
    assert listed(root, "--order-by", "metrics.loss") == ids[::-1]
    assert listed(root, "--order-by", "params.lr DESC", "--limit", "2") == [ids[3], ids[2]]
    assert listed(root, "--filter", "attributes.status = 'FINISHED'", "--order-by", "metrics.`val/acc` DESC") \
        == [ids[2], ids[1], ids[0]]


def test_the_table_shows_the_filtered_runs(store):
    root, ids = store
    result = invoke("--store", root, "runs", "list", "exp", "--filter", "tags.stage = 'prod'", "--wide")
    assert result.exit_code == 0 and ids[2] in result.output and ids[0] not in result.output
    nothing = invoke("--store", root, "runs", "list", "exp", "--filter", "metrics.loss > 5")
    assert nothing.exit_code == 0 and "No runs match these filters" in nothing.output


def test_a_bad_filter_is_one_clean_error_that_shows_where(store):
    root, _ = store
    result = invoke("--store", root, "runs", "list", "exp", "--filter", "metrics.loss >> 1")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith("error: Invalid filter at column")
    text_line = next(i for i, line in enumerate(lines) if "metrics.loss >> 1" in line)
    caret = lines[text_line + 1]
    assert caret.strip() == "^"
    assert lines[text_line][caret.index("^")] == ">"  # the caret sits under the problem
    bad_order = invoke("--store", root, "runs", "list", "exp", "--order-by", "metrics.loss SIDEWAYS")
    assert bad_order.exit_code == 1 and bad_order.output.startswith("error:")


def test_tag_and_status_narrow_a_filter_but_sort_by_does_not_mix_with_it(store):
    root, ids = store
    assert listed(root, "--filter", "metrics.loss < 1", "--tag", "stage=prod") == [ids[2]]
    assert listed(root, "--order-by", "metrics.loss", "--status", "FINISHED", "--status", "failed") == ids[::-1]
    for older in (["--sort-by", "loss"], ["--desc"]):
        result = invoke("--store", root, "runs", "list", "exp", "--filter", "metrics.loss < 1", *older)
        assert result.exit_code == 2, (older, result.output)
        assert "not both" in result.output
    # The older options keep working on their own.
    assert len(listed(root, "--tag", "stage=prod")) == 1
    assert len(listed(root, "--status", "FAILED", "--sort-by", "loss", "--desc")) == 1
