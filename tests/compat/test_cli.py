"""runelog 0.2.0's tests/test_cli.py, ported to the `runelog` console script.

0.2.0's tests invoked its Typer app with a tracker injected as `obj`; here the
command runs on the store in the working folder, as a user runs it, and the
same store is read back through the public API. The CLI's wording may have
improved since 0.2.0 (issue 13: "the wording may be better"), so messages are
checked for what they must say (the id, "not found", "no runs"), not for
0.2.0's exact sentence. Exit codes are 0.2.0's. Dropped: the checks of
0.2.0's run folders (replaced by the API) and the mocks of `subprocess.run`
and `os.path.exists` in the examples test (replaced by checking that each
0.2.0 example command exists).
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
import yaml

from .target import MockModel, SCRIPT, fixed_020_bug, runelog_cli


def said(pattern: str, text: str) -> bool:
    return re.search(pattern, text, re.IGNORECASE | re.DOTALL) is not None


def no_traceback(result) -> None:
    assert "Traceback" not in result.output, result.output


class TestExperimentsCommands:
    def test_list_success(self, tracker):
        tracker.get_or_create_experiment("test-list-success")
        result = runelog_cli("experiments", "list")
        assert result.exit_code == 0, result.output
        assert "test-list-success" in result.stdout

    def test_list_sorted(self, tracker):
        for name in ("alpha-exp", "beta-exp"):
            tracker.get_or_create_experiment(name)
        for options in (["--sort-by", "name", "--desc"], ["-s", "name", "-d"]):
            result = runelog_cli("experiments", "list", *options)
            assert result.exit_code == 0, result.output
            assert result.stdout.index("beta-exp") < result.stdout.index("alpha-exp"), result.stdout
        result = runelog_cli("experiments", "list", "-s", "name")
        assert result.exit_code == 0, result.output
        assert result.stdout.index("alpha-exp") < result.stdout.index("beta-exp"), result.stdout

    def test_list_empty(self, tracker):
        result = runelog_cli("experiments", "list")
        assert result.exit_code == 0, result.output
        assert said(r"no experiments", result.output), result.output

    def test_get_success(self, tracker):
        exp_id = tracker.get_or_create_experiment("test-get-success")
        result = runelog_cli("experiments", "get", exp_id)
        assert result.exit_code == 0, result.output
        assert "test-get-success" in result.stdout

    def test_get_by_name(self, tracker):
        exp_id = tracker.get_or_create_experiment("by-name")
        with tracker.start_run(experiment_id=exp_id) as run_id:
            tracker.log_metric("accuracy", 0.5)
        result = runelog_cli("experiments", "get", "by-name")
        assert result.exit_code == 0, result.output
        assert "by-name" in result.stdout and run_id[:8] in result.stdout
        for options in (["--sort-by", "accuracy", "--desc"], ["-s", "accuracy", "-d"]):
            result = runelog_cli("experiments", "get", exp_id, *options)
            assert result.exit_code == 0, (options, result.output)
            assert run_id[:8] in result.stdout

    def test_get_not_found(self, tracker):
        result = runelog_cli("experiments", "get", "nonexistent-id")
        assert result.exit_code == 1
        assert said(r"nonexistent-id.*not found", result.output), result.output
        no_traceback(result)

    def test_export_success(self, tracker, tmp_path):
        exp_id = tracker.get_or_create_experiment("test-export")
        with tracker.start_run(experiment_id=exp_id) as run_id:
            tracker.log_metric("accuracy", 0.99)

        output_file = tmp_path / "export.csv"
        result = runelog_cli("experiments", "export", exp_id, "--output", str(output_file))

        assert result.exit_code == 0, result.output
        assert said(r"export", result.stdout), result.output
        assert output_file.exists()
        frame = pd.read_csv(output_file, index_col=0, converters={0: str})  # an id like 210e7969 is no number
        assert list(frame.index) == [run_id]
        assert frame.loc[run_id, "accuracy"] == 0.99

    def test_export_short_option_by_name(self, tracker, tmp_path):
        with tracker.start_run(experiment_name="short-o") as run_id:
            tracker.log_param("alpha", 0.5)
        result = runelog_cli("experiments", "export", "short-o", "-o", "out.csv")
        assert result.exit_code == 0, result.output
        frame = pd.read_csv(tmp_path / "out.csv", index_col=0, converters={0: str})
        assert list(frame.index) == [run_id] and frame.loc[run_id, "param_alpha"] == 0.5

    def test_export_empty(self, tracker, tmp_path):
        exp_id = tracker.get_or_create_experiment("test-export-empty")
        result = runelog_cli("experiments", "export", exp_id)
        assert result.exit_code == 0, result.output
        assert said(r"no runs", result.output), result.output
        assert list(tmp_path.glob("*.csv")) == []

    def test_export_not_found(self, tracker):
        result = runelog_cli("experiments", "export", "missing-experiment", "-o", "x.csv")
        assert result.exit_code == 1
        assert said(r"missing-experiment.*not found", result.output), result.output
        no_traceback(result)

    def test_delete_confirmed_and_cancelled(self, tracker):
        tracker.get_or_create_experiment("keep-me")
        tracker.get_or_create_experiment("drop-me")
        result = runelog_cli("experiments", "delete", "keep-me", input="n\n")
        assert result.exit_code == 0, result.output
        assert said(r"cancel|nothing", result.output), result.output
        result = runelog_cli("experiments", "delete", "drop-me", input="y\n")
        assert result.exit_code == 0, result.output
        assert said(r"deleted", result.output), result.output
        assert [e["name"] for e in tracker.list_experiments()] == ["keep-me"]

    def test_delete_not_found(self, tracker):
        result = runelog_cli("experiments", "delete", "nope", input="y\n")
        assert result.exit_code == 1
        assert said(r"nope.*not found", result.output), result.output
        no_traceback(result)


class TestRunsCommands:
    def test_list_success(self, tracker):
        exp_id = tracker.get_or_create_experiment("test-list-run-success")
        with tracker.start_run(experiment_id=exp_id) as run_id:
            tracker.log_param("alpha", 0.5)

        result = runelog_cli("runs", "list", exp_id)
        assert result.exit_code == 0, result.output
        assert run_id[:8] in result.stdout  # 0.2.0's ids had 8 characters: all of it

    def test_list_by_name_sorted(self, tracker):
        runs = {}
        for accuracy in (0.2, 0.9, 0.5):
            with tracker.start_run(experiment_name="sorted") as run_id:
                tracker.log_metric("accuracy", accuracy)
            runs[accuracy] = run_id[:8]
        for options, order in ((["--sort-by", "accuracy", "--desc"], (0.9, 0.5, 0.2)),
                               (["-s", "accuracy"], (0.2, 0.5, 0.9))):
            result = runelog_cli("runs", "list", "sorted", *options)
            assert result.exit_code == 0, result.output
            positions = [result.stdout.index(runs[a]) for a in order]
            assert positions == sorted(positions), (options, result.stdout)

    def test_list_empty(self, tracker):
        exp_id = tracker.get_or_create_experiment("test-list-run-empty")
        result = runelog_cli("runs", "list", exp_id)
        assert result.exit_code == 0, result.output
        assert said(r"no runs", result.output), result.output

    def test_list_not_found(self, tracker):
        result = runelog_cli("runs", "list", "no-such-experiment")
        assert result.exit_code == 1
        assert said(r"no-such-experiment.*not found", result.output), result.output
        no_traceback(result)

    def test_get_success(self, tracker):
        exp_id = tracker.get_or_create_experiment("test-get-run-success")
        with tracker.start_run(experiment_id=exp_id) as run_id:
            tracker.log_param("alpha", 0.5)
            tracker.log_metric("accuracy", 0.75)

        result = runelog_cli("runs", "get", run_id)
        assert result.exit_code == 0, result.output
        assert "alpha" in result.stdout and "0.5" in result.stdout
        assert "accuracy" in result.stdout and "0.75" in result.stdout

    def test_get_not_found(self, tracker):
        result = runelog_cli("runs", "get", "nonexistent-run")
        # 0.2.0 printed the error and exited 0; a non-zero status is the fix (see below).
        assert said(r"nonexistent-run.*not found", result.output), result.output
        no_traceback(result)

    @fixed_020_bug
    def test_get_not_found_exits_non_zero(self, tracker):
        """0.2.0 exited 0 after "Error: Run ... not found", so `runelog runs get X && ...` went on."""
        assert runelog_cli("runs", "get", "nonexistent-run").exit_code == 1

    def test_delete_run_success(self, tracker):
        exp_id = tracker.get_or_create_experiment("test-delete-run-success")
        with tracker.start_run(experiment_id=exp_id) as run_id:
            pass
        assert tracker.get_run_details(run_id) is not None

        result = runelog_cli("runs", "delete", run_id, input="y")
        assert result.exit_code == 0, result.output
        assert said(rf"{run_id[:8]}.*deleted", result.output), result.output
        assert tracker.get_run_details(run_id) is None

    def test_delete_run_not_found(self, tracker):
        result = runelog_cli("runs", "delete", "nonexistent-run", input="y\n")
        assert result.exit_code == 1
        assert said(r"nonexistent-run.*not found", result.output), result.output
        no_traceback(result)

    def test_delete_run_cancelled(self, tracker):
        exp_id = tracker.get_or_create_experiment("test-delete-run-cancelled")
        with tracker.start_run(experiment_id=exp_id) as run_id:
            pass

        result = runelog_cli("runs", "delete", run_id, input="n\n")
        assert result.exit_code == 0, result.output
        assert said(r"cancel|nothing", result.output), result.output
        assert tracker.get_run_details(run_id) is not None

    def test_download_artifact(self, tracker, tmp_path):
        (tmp_path / "report.txt").write_text("the report")
        with tracker.start_run(experiment_name="dl") as run_id:
            tracker.log_artifact(str(tmp_path / "report.txt"))
        result = runelog_cli("runs", "download-artifact", run_id, "report.txt", "-o", "out")
        assert result.exit_code == 0, result.output
        assert (tmp_path / "out" / "report.txt").read_text() == "the report"
        result = runelog_cli("runs", "download-artifact", run_id, "report.txt", "--output-path", "out2")
        assert result.exit_code == 0, result.output
        assert (tmp_path / "out2" / "report.txt").read_text() == "the report"

    def test_download_artifact_not_found(self, tracker):
        with tracker.start_run(experiment_name="dl") as run_id:
            pass
        result = runelog_cli("runs", "download-artifact", run_id, "missing.bin")
        assert result.exit_code == 1
        assert said(r"missing\.bin.*not found", result.output), result.output
        result = runelog_cli("runs", "download-artifact", "nonexistent-run", "missing.bin")
        assert result.exit_code == 1
        assert said(r"nonexistent-run.*not found", result.output), result.output
        no_traceback(result)

    def test_compare(self, tracker):
        ids = []
        for alpha, accuracy in ((0.1, 0.8), (0.2, 0.9)):
            with tracker.start_run(experiment_name="cmp") as run_id:
                tracker.log_param("alpha", alpha)
                tracker.log_metric("accuracy", accuracy)
            ids.append(run_id)
        result = runelog_cli("runs", "compare", *ids)
        assert result.exit_code == 0, result.output
        for text in ("alpha", "accuracy", "0.1", "0.2", "0.8", "0.9", ids[0][:8], ids[1][:8]):
            assert text in result.stdout, (text, result.stdout)

    def test_compare_needs_two_runs(self, tracker):
        with tracker.start_run(experiment_name="cmp") as run_id:
            pass
        assert runelog_cli("runs", "compare", run_id).exit_code in (1, 2)  # 2: a usage error, as click has it
        assert runelog_cli("runs", "compare", run_id, "nonexistent-run").exit_code == 1


class TestRegistryCommands:
    def test_register_success(self, tracker):
        exp_id = tracker.get_or_create_experiment("test-register-command")
        with tracker.start_run(experiment_id=exp_id) as run_id:
            tracker.log_model(MockModel(), "model.pkl")

        model_name = "cli-registered-model"
        result = runelog_cli("registry", "register", run_id, "model.pkl", model_name)

        assert result.exit_code == 0, result.output
        assert said(r"regist", result.stdout) and model_name in result.stdout, result.output
        assert model_name in tracker.list_registered_models()
        assert tracker.load_registered_model(model_name).val == 1

    def test_list_success(self, tracker):
        exp_id = tracker.get_or_create_experiment("test-list-registry-success")
        with tracker.start_run(experiment_id=exp_id) as run_id:
            tracker.log_model(MockModel(), "model.pkl")
        tracker.register_model(run_id, "model.pkl", "my-model")

        result = runelog_cli("registry", "list")
        assert result.exit_code == 0, result.output
        assert "my-model" in result.stdout

    def test_list_options(self, tracker):
        with tracker.start_run(experiment_name="reg") as run_id:
            tracker.log_model(MockModel(), "model.pkl")
        for name in ("alpha-model", "beta-model"):
            tracker.register_model(run_id, "model.pkl", name)
        for options in (["--sort-by", "name", "--desc"], ["-s", "version"], ["-s", "timestamp", "-d"]):
            result = runelog_cli("registry", "list", *options)
            assert result.exit_code == 0, (options, result.output)
            assert "alpha-model" in result.stdout and "beta-model" in result.stdout
        # (Not the order: 0.2.0's --desc sorted names ascending.)

    def test_list_empty(self, tracker):
        result = runelog_cli("registry", "list")
        assert result.exit_code == 0, result.output
        assert said(r"no (registered )?models", result.output), result.output

    def test_get_versions(self, tracker):
        with tracker.start_run(experiment_name="reg") as run_id:
            tracker.log_model(MockModel(), "model.pkl")
        tracker.register_model(run_id, "model.pkl", "versioned", tags={"stage": "dev"})
        tracker.register_model(run_id, "model.pkl", "versioned")
        result = runelog_cli("registry", "get-versions", "versioned")
        assert result.exit_code == 0, result.output
        assert run_id[:8] in result.stdout and "stage" in result.stdout and "dev" in result.stdout
        for options in (["--sort-by", "version"], ["-s", "registration_timestamp", "-d"]):
            assert runelog_cli("registry", "get-versions", "versioned", *options).exit_code == 0

    def test_get_versions_unknown_model(self, tracker):
        result = runelog_cli("registry", "get-versions", "no-model")
        assert result.exit_code == 0, result.output
        assert said(r"no.*versions.*no-model|no-model.*not found", result.output), result.output

    def test_tag_success(self, tracker):
        exp_id = tracker.get_or_create_experiment("test-tags")
        with tracker.start_run(experiment_id=exp_id) as run_id:
            tracker.log_model(MockModel(), "model.pkl")
        tracker.register_model(run_id, "model.pkl", "tag-model")

        result = runelog_cli("registry", "tag", "tag-model", "1", "--add", "status=production")
        assert result.exit_code == 0, result.output
        assert "status" in result.stdout
        assert "production" in result.stdout
        assert tracker.get_model_tags("tag-model", "1") == {"status": "production"}

    def test_tag_add_and_remove_short_options(self, tracker):
        with tracker.start_run(experiment_name="tags") as run_id:
            tracker.log_model(MockModel(), "model.pkl")
        tracker.register_model(run_id, "model.pkl", "tagged", tags={"old": "x", "keep": "y"})
        result = runelog_cli("registry", "tag", "tagged", "1", "-a", "stage=prod", "-a", "owner=ana", "-r", "keep")
        assert result.exit_code == 0, result.output
        tags = tracker.get_model_tags("tagged", "1")
        assert {k: tags[k] for k in ("old", "stage", "owner")} == {"old": "x", "stage": "prod", "owner": "ana"}

    @fixed_020_bug
    def test_tag_remove_removes(self, tracker):
        """0.2.0's `--remove KEY` said "Tag 'KEY' removed." and kept it: it saved by merging."""
        with tracker.start_run(experiment_name="tags") as run_id:
            tracker.log_model(MockModel(), "model.pkl")
        tracker.register_model(run_id, "model.pkl", "tagged", tags={"old": "x", "keep": "y"})
        result = runelog_cli("registry", "tag", "tagged", "1", "--remove", "old", "-a", "new=yes")
        assert result.exit_code == 0, result.output
        assert tracker.get_model_tags("tagged", "1") == {"keep": "y", "new": "yes"}

    def test_tag_not_found(self, tracker):
        result = runelog_cli("registry", "tag", "no-model", "1", "--add", "a=b")
        assert result.exit_code == 1
        assert said(r"no-model.*not found", result.output), result.output
        no_traceback(result)

    def test_register_run_not_found(self, tracker):
        result = runelog_cli("registry", "register", "nonexistent-run-id", "model.pkl", "test-model")
        assert result.exit_code != 0
        assert said(r"nonexistent-run-id.*not found", result.output), result.output
        no_traceback(result)

    def test_register_artifact_not_found(self, tracker):
        with tracker.start_run(experiment_name="reg") as run_id:
            pass
        result = runelog_cli("registry", "register", run_id, "model.pkl", "test-model")
        assert result.exit_code == 1
        assert said(r"model\.pkl.*not found", result.output), result.output
        assert tracker.list_registered_models() == []


class TestAFolderWithoutAStoreYet:
    """0.2.0's commands worked in any folder: a new project simply had nothing in it yet."""

    def test_experiments_list(self, tmp_path):
        result = runelog_cli("experiments", "list")
        assert result.exit_code == 0, result.output
        assert said(r"no experiments", result.output), result.output

    def test_registry_list(self, tmp_path):
        result = runelog_cli("registry", "list")
        assert result.exit_code == 0, result.output
        assert said(r"no (registered )?models", result.output), result.output

    def test_runs_get(self, tmp_path):
        result = runelog_cli("runs", "get", "0123abcd")
        assert said(r"0123abcd.*not found", result.output), result.output
        no_traceback(result)


class TestExamplesCommands:
    """0.2.0's test mocked subprocess.run to see which script each command ran; here each
    of 0.2.0's example commands must exist (the scripts themselves run in test_examples.py)."""

    @pytest.mark.parametrize("command", ["minimal", "train", "sweep", "make-features", "train-with-fs"])
    def test_example_commands_exist(self, command):
        result = runelog_cli("examples", command, "--help")
        assert result.exit_code == 0, result.output


class TestTopLevel:
    @pytest.mark.parametrize("option", ["--help", "-h"])
    def test_help(self, option):
        result = runelog_cli(option)
        assert result.exit_code == 0, result.output
        for command in ("experiments", "runs", "registry", "examples", "sweep", "ui"):
            assert command in result.stdout, command

    @pytest.mark.parametrize("option", ["--version", "-v"])
    def test_version(self, option):
        result = runelog_cli(option)
        assert result.exit_code == 0, result.output
        assert re.search(r"\d+\.\d+\.\d+", result.stdout), result.output

    def test_ui_command_exists(self):
        assert runelog_cli("ui", "--help").exit_code == 0

    def test_sweep_options_exist(self):
        result = runelog_cli("sweep", "--help")
        assert result.exit_code == 0, result.output
        assert "--config" in result.stdout and "-c" in result.stdout

    def test_sweep_command(self, tracker, tmp_path):
        """`runelog sweep --config FILE` and `-c FILE` run the sweep; a failing one exits 1."""
        config = {"experiment_name": "cli-sweep", "dataset": {"source": "sklearn.datasets.load_iris"},
                  "validation": {"strategy": "train_test_split", "params": {"test_size": 0.3, "random_state": 0}},
                  "evaluation": {"metrics": ["accuracy_score"]},
                  "runs": [{"id": "tree", "model_class": "sklearn.tree.DecisionTreeClassifier",
                            "model_params": {"max_depth": 2, "random_state": 0}}]}
        (tmp_path / "conf.yaml").write_text(yaml.dump(config))
        for option in ("--config", "-c"):
            result = runelog_cli("sweep", option, "conf.yaml")
            assert result.exit_code == 0, result.output
        results = tracker.load_results("cli-sweep")
        assert len(results) == 2 and (results["accuracy_score"] > 0.5).all()

        config["validation"] = {"strategy": "invalid_strategy"}
        (tmp_path / "bad.yaml").write_text(yaml.dump(config))
        result = runelog_cli("sweep", "-c", "bad.yaml")
        assert result.exit_code == 1
        assert "Unknown validation strategy" in result.output, result.output
        no_traceback(result)

    def test_the_installed_console_script(self, tracker, tmp_path):
        """The real `runelog` executable of this environment, as a separate process."""
        assert SCRIPT.exists(), SCRIPT
        result = runelog_cli("experiments", "list", mode="subprocess")
        assert result.exit_code == 0, result.output
        assert said(r"no experiments", result.output), result.output
        with tracker.start_run(experiment_name="from-the-api") as run_id:
            tracker.log_metric("accuracy", 0.5)
        result = runelog_cli("runs", "list", "from-the-api", mode="subprocess", cwd=tmp_path)
        assert result.exit_code == 0, result.output
        assert run_id[:8] in result.stdout
