"""The web UI, page by page through Streamlit's AppTest, against real stores."""

import importlib.util
import json
import os
import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from runelog import get_tracker
from runelog.cli import app as cli_app

from .pipeline import build_pipeline

APP = importlib.util.find_spec("runelog.ui.app").origin


@pytest.fixture
def store(tmp_path):
    """Two feature versions, a model trained on each (with metric histories), and a registered model."""
    root = tmp_path / "store"
    tracker = get_tracker(str(root))
    ids = {}
    for version in (1, 2):
        def train(t, version=version):
            t.log_params({"C": version * 10, "solver": "lbfgs"})
            for step in range(5):
                t.log_metrics({"loss": 1 / (step + version), "accuracy": 0.5 + 0.1 * step * version / 2}, step=step)

        built = build_pipeline(tracker, tmp_path, version=f"v{version}", model="iris-classifier",
                               model_tags={"stage": f"v{version}"}, alias="champion" if version == 2 else None,
                               train=train)
        ids[f"features{version}"], ids[f"model{version}"] = built.feature_run, built.model_run
    tracker.close()
    return root, ids


def app_for(root, **env) -> AppTest:
    os.environ["RUNELOG_HOME"] = str(root)
    for key, value in env.items():
        os.environ[key] = value
    return AppTest.from_file(APP, default_timeout=60)


@pytest.fixture(autouse=True)
def _clean_env():
    yield
    for key in ("RUNELOG_HOME", "RUNELOG_DATABASE_URL"):
        os.environ.pop(key, None)


def texts(at: AppTest) -> str:
    """Everything the page shows as text, for asserting on content."""
    parts = [e.value for e in (*at.markdown, *at.subheader, *at.header, *at.caption, *at.info, *at.warning, *at.error)]
    parts += [str(frame.value.to_dict()) for frame in at.dataframe]
    parts += [b.label for b in at.button]
    return "\n".join(map(str, parts))


def chart_mark(spec: dict) -> str:
    """The mark of a Streamlit chart (line charts come as layers)."""
    return (spec.get("mark") or spec["layer"][0]["mark"])["type"]


def goto(at: AppTest, page: str) -> AppTest:
    at.sidebar.radio(key="page").set_value(page).run()
    assert not at.exception, at.exception
    return at


def test_experiments_page_counts_runs_and_finds_the_best_metric(store):
    root, ids = store
    at = app_for(root).run()
    assert not at.exception
    table = at.dataframe[0].value.set_index("experiment")
    assert table.loc["models", "runs"] == 2 and table.loc["models", "FINISHED"] == 2
    assert table.loc["feature-sets", "runs"] == 2
    at.selectbox(key="exp_metric").set_value("accuracy").run()
    table = at.dataframe[0].value.set_index("experiment")
    assert table.loc["models", "best accuracy"] == pytest.approx(0.9)
    assert table.loc["models", "best run"] == ids["model2"][:8]


def test_runs_page_filters_plots_and_compares(store):
    root, ids = store
    at = goto(app_for(root).run(), "Runs")
    at.selectbox(key="runs_experiment").set_value("models").run()
    table = at.dataframe[0].value
    assert sorted(table["run"]) == sorted([ids["model1"][:8], ids["model2"][:8]])
    assert set(table["param_C"]) == {"10", "20"}
    at.text_input(key="runs_filter").set_value("params.C = 20").run()
    assert at.dataframe[0].value["run"].tolist() == [ids["model2"][:8]]
    at.text_input(key="runs_filter").set_value("").run()
    at.multiselect(key="runs_selected").set_value([ids["model1"], ids["model2"]]).run()
    at.selectbox(key="runs_metric").set_value("loss").run()
    assert not at.exception
    marks = [chart_mark(json.loads(chart.proto.spec)) for chart in at.get("vega_lite_chart")]
    assert sorted(marks) == ["bar", "line"]  # loss over steps for both runs, latest metrics side by side
    params = next(frame.value for frame in at.dataframe if "C" in frame.value.index)
    assert params.loc["C"].tolist() == ["10", "20"] and params.loc["solver"].tolist() == ["lbfgs", "lbfgs"]


def test_run_page_shows_everything_and_lineage_opens_other_runs(store):
    root, ids = store
    at = goto(app_for(root).run(), "Run")
    at.text_input(key="run_id").set_value(ids["model2"][:8]).run()
    shown = texts(at)
    assert "models / model-v2" in shown and ids["model2"] in shown
    summary = next(frame.value for frame in at.dataframe if "count" in frame.value.columns).set_index("key")
    assert summary.loc["loss", "count"] == 5 and summary.loc["loss", "value"] == pytest.approx(1 / 6)
    assert "model.joblib" in shown
    at.selectbox(key=f"artifact_{ids['model2']}").set_value("model.joblib").run()
    assert [d.proto.label for d in at.get("download_button")] == ["Download"]
    dot = at.get("graphviz_chart")[0].proto.spec
    assert ids["features2"] in dot and ids["model2"] in dot and "feature_set: features.parquet" in dot
    assert f"?page=Run&run={ids['features2']}" in dot  # the node links to that run's page
    at.button(key=f"lineage_{ids['features2']}").click().run()
    assert at.text_input(key="run_id").value == ids["features2"]
    shown = texts(at)
    assert "feature-sets / features-v2" in shown and "Outputs" in shown
    datasets = next(frame.value for frame in at.dataframe if "row_count" in frame.value.columns)
    assert datasets["name"].tolist() == ["features"]


def test_run_page_opens_from_the_address(store):
    root, ids = store
    at = app_for(root)
    at.query_params["page"] = "Run"
    at.query_params["run"] = ids["model1"]
    at.run()
    assert "models / model-v1" in texts(at)


def test_registry_page_shows_versions_source_runs_and_data_lineage(store):
    root, ids = store
    at = goto(app_for(root).run(), "Registry")
    versions = at.dataframe[0].value
    assert versions["version"].tolist() == ["2", "1"]
    assert versions["source run"].tolist() == [ids["model2"][:8], ids["model1"][:8]]
    assert versions["tags"].tolist() == ["stage=v2", "stage=v1"]
    assert versions["aliases"].tolist() == ["champion", ""]
    at.selectbox(key="registry_version").set_value("1").run()
    assert ids["features1"] in at.get("graphviz_chart")[0].proto.spec
    at.button(key="registry_source").click().run()
    assert at.sidebar.radio(key="page").value == "Run" and "model-v1" in texts(at)


def test_empty_and_missing_stores_show_a_quickstart_and_create_nothing(tmp_path):
    at = app_for(tmp_path / "nothing-here").run()
    assert not at.exception and "no runs yet" in texts(at)
    assert not (tmp_path / "nothing-here" / ".runelog").exists()
    get_tracker(str(tmp_path / "empty")).close()
    at = app_for(tmp_path / "empty").run()
    assert "no runs yet" in texts(at)


def test_a_store_that_cannot_be_opened_shows_the_error_not_a_traceback(tmp_path):
    bad = tmp_path / "bad" / ".runelog" / "runelog.db"
    bad.parent.mkdir(parents=True)
    bad.write_text("definitely not sqlite" * 100)
    at = app_for(tmp_path / "bad").run()
    assert not at.exception
    assert "not a SQLite database" in at.error[0].value


def test_the_ui_reads_without_blocking_writers_and_refresh_shows_new_runs(store):
    root, _ = store
    at = goto(app_for(root).run(), "Runs")
    at.selectbox(key="runs_experiment").set_value("models").run()
    writer = get_tracker(str(root), metric_buffer=0)
    with writer.start_run(experiment_name="models", run_name="model-v3", log_code=False) as run:
        writer.log_metric("loss", 0.1)  # commits while the UI has the store open
    at.sidebar.button[0].click().run()
    assert run[:8] in at.dataframe[0].value["run"].tolist()


def test_ui_command_without_streamlit_names_the_extra(tmp_path):
    probe = ("import sys\nsys.modules['streamlit'] = None\n"
             "from runelog.cli import main\nsys.argv = ['runelog', 'ui']\nmain()\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 1
    assert 'pip install "runelog[ui]"' in result.stderr and "Traceback" not in result.stderr


def test_ui_command_help():
    result = CliRunner().invoke(cli_app, ["ui", "--help"])
    assert result.exit_code == 0 and "--port" in result.output
