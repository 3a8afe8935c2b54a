"""The UI's pages. Each takes a read-only tracker and draws with Streamlit; data comes only
through the public API."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from .. import exceptions
from ..formatting import short_id as short
from ..formatting import short_hash, size, timestamp
from ..types import RUN_STATUSES, LineageEdge
from .graph import lineage_dot

FILTER_EXAMPLE = "metrics.accuracy > 0.8 and params.solver = 'lbfgs' and attributes.status = 'FINISHED'"
PREVIEW_BYTES = 4096


# ------------------------------------------------------------ navigation


def sync_from_address() -> None:
    """Open the page and run named in the address (`?page=Run&run=<id>`), e.g. from a lineage node."""
    params = st.query_params
    wanted = params.get("page")
    if wanted in PAGES and st.session_state.get("_address") != dict(params):
        st.session_state.page = wanted
        if params.get("run"):
            st.session_state.run_id = params["run"]
        st.session_state._address = dict(params)


def go(page: str, run_id: str | None = None) -> None:
    """A button callback: switch page (and run) before the next rerun draws the widgets."""
    st.session_state.page = page
    if run_id is not None:
        st.session_state.run_id = run_id
        st.query_params.update({"page": page, "run": run_id})


def run_button(run_id: str, label: str, key: str) -> None:
    st.button(label, key=key, on_click=go, args=("Run", run_id))


def is_empty(tracker) -> bool:
    overview = tracker.experiment_overview()
    return not any(e["num_runs"] for e in overview) and not tracker.list_registered_models()


def when(iso: str | None) -> str:
    return timestamp(iso, empty="")


def quickstart() -> None:
    st.title("runelog")
    st.info("This store has no runs yet. Log one, then press Refresh.")
    st.code(
        "from runelog import get_tracker\n\n"
        "tracker = get_tracker()\n"
        'with tracker.start_run(experiment_name="first"):\n'
        '    tracker.log_param("lr", 0.01)\n'
        "    for step in range(10):\n"
        '        tracker.log_metric("loss", 1 / (step + 1), step=step)\n',
        language="python")
    st.markdown("Or try a bundled example: `runelog examples quickstart`, `runelog examples features`.")


# ------------------------------------------------------------ Experiments


def experiments_page(tracker) -> None:
    st.header("Experiments")
    keys = tracker.list_metric_keys()
    left, right = st.columns([3, 1])
    metric = left.selectbox("Best value of metric", ["(none)", *keys], key="exp_metric")
    lower = right.checkbox("Lower is better", key="exp_lower")
    chosen = None if metric == "(none)" else metric
    rows = []
    for e in tracker.experiment_overview(chosen, lower):
        row = {"id": e["experiment_id"], "experiment": e["name"], "runs": e["num_runs"]}
        row.update({s: e["status_counts"].get(s, 0) for s in RUN_STATUSES})
        row["last run"] = when(e["last_run"])
        if chosen:
            row[f"best {chosen}"] = e["best_value"]
            row["best run"] = short(e["best_run_id"]) if e["best_run_id"] else ""
        rows.append(row)
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


# ------------------------------------------------------------ Runs


def _runs_frame(rows: list[dict]) -> pd.DataFrame:
    table = []
    for r in rows:
        row = {"run": short(r["run_id"]), "name": r["run_name"] or "", "status": r["status"] + (" (stale)" if r["stale"] else ""),
               "started": when(r["start_time"]), "tags": ", ".join(f"{k}={v}" for k, v in r.get("tags", {}).items())}
        row.update({f"param_{k}": str(v) for k, v in r["params"].items()})
        row.update(r["metrics"])
        table.append(row)
    return pd.DataFrame(table)


def find_runs(tracker, experiment: str, text: str) -> list[dict]:
    """The runs the filter box asks for, by the API's one run query (params, metrics and tags
    included: no query per run). A bad filter raises InvalidFilter, which says where."""
    found = tracker.find_runs(experiment, filter=text.strip() or None)
    return [r.as_dict() for r in found]


def runs_page(tracker) -> None:
    st.header("Runs")
    experiments = [e for e in tracker.experiment_overview() if e["num_runs"]]
    names = [e["name"] for e in experiments]
    experiment = st.selectbox("Experiment", names, key="runs_experiment")
    if not experiment:
        st.info("No runs yet.")
        return
    total = next(e["num_runs"] for e in experiments if e["name"] == experiment)
    text = st.text_input("Filter (as in MLflow, and `runelog runs list --filter`)", key="runs_filter",
                         placeholder=FILTER_EXAMPLE)
    try:
        shown = find_runs(tracker, experiment, text)
    except exceptions.InvalidFilter as exc:  # the message shows the text with a caret under the problem
        st.error("This filter cannot be read:")
        st.code(str(exc), language=None)
        return
    st.caption(f"{len(shown)} of {total} runs. Click a column header to sort.")
    st.dataframe(_runs_frame(shown), hide_index=True, width="stretch")

    labels = {r["run_id"]: f"{short(r['run_id'])} {r['run_name'] or ''}".strip() for r in shown}
    selected = st.multiselect("Runs to plot and compare", list(labels), format_func=lambda r: labels[r],
                              key="runs_selected")
    keys = tracker.list_metric_keys(experiment)
    if selected and keys:
        metric = st.selectbox("Metric over steps", keys, key="runs_metric")
        curves = {labels[r]: tracker.get_metric_history(r, metric).set_index("step")["value"] for r in selected}
        st.line_chart(pd.DataFrame(curves))
    if len(selected) >= 2:
        _compare(tracker, selected, labels)
    if shown:
        st.subheader("Open a run")
        for r in shown[:20]:
            run_button(r["run_id"], f"Open {labels[r['run_id']]}", key=f"open_{r['run_id']}")


def _compare(tracker, selected: list[str], labels: dict) -> None:
    """The API's comparison (tracker.compare_runs), as the CLI's `runs compare` shows it."""
    st.subheader("Comparison")
    comparison = tracker.compare_runs(selected)
    names = [labels[r] for r in comparison.run_ids]
    params = pd.DataFrame.from_dict({key: ["" if v is None else str(v) for v in values]
                                     for key, values in comparison.params.items()}, orient="index", columns=names)
    differs = set(comparison.differing_params)
    st.markdown("Params (those that differ are highlighted)")
    st.dataframe(params.style.apply(lambda row: ["background-color: #fff3cd" if row.name in differs else "" for _ in row],
                                    axis=1), width="stretch")
    if not comparison.metrics:
        return
    metrics = pd.DataFrame.from_dict(comparison.metrics, orient="index", columns=names)
    st.markdown("Latest metric values")
    st.bar_chart(metrics.T)
    metrics["better"] = [("lower" if comparison.lower_is_better[k] else "higher")
                         + (" (assumed)" if comparison.direction_source[k] == "default" else "") for k in metrics.index]
    metrics["best"] = [", ".join(labels[r] for r in comparison.best_run_ids[k]) for k in metrics.index]
    st.dataframe(metrics, width="stretch")


# ------------------------------------------------------------ Run


def run_page(tracker) -> None:
    st.header("Run")
    run_id = st.text_input("Run id (or a unique prefix of at least 6 characters)", key="run_id")
    if not run_id:
        st.info("Pick a run on the Runs page, or paste its id.")
        return
    details = tracker.get_run_details(run_id)
    if details is None:
        st.warning(f"No run '{run_id}'.")
        return
    meta = details["meta"]
    full_id = meta["run_id"]
    experiment = tracker.get_experiment(meta["experiment_id"])
    meta["experiment"] = experiment["name"] if experiment else meta["experiment_id"]
    st.subheader(f"{meta['experiment']} / {meta['run_name'] or short(full_id)}")
    st.markdown(f"`{full_id}` **{meta['status']}**{' (stale)' if meta['stale'] else ''} · started "
                f"{when(meta['start_time'])} · ended {when(meta['end_time']) or '—'} · {meta['host']} pid {meta['pid']}")
    if meta["error"]:
        st.error(meta["error"])

    left, right = st.columns(2)
    left.markdown("**Params**")
    left.dataframe(pd.DataFrame({"param": list(details["params"]), "value": [str(v) for v in details["params"].values()]}),
                   hide_index=True, width="stretch")
    right.markdown("**Tags**")
    right.dataframe(pd.DataFrame({"tag": list(meta["tags"]), "value": [str(v) for v in meta["tags"].values()]}),
                    hide_index=True, width="stretch")

    summary = tracker.get_metric_summary(full_id)
    if summary:
        st.markdown("**Metrics**")
        st.dataframe(pd.DataFrame(summary), hide_index=True, width="stretch")
        columns = st.columns(min(3, len(summary)))
        for i, m in enumerate(summary):
            with columns[i % len(columns)]:
                st.caption(m["key"])
                st.line_chart(tracker.get_metric_history(full_id, m["key"]).set_index("step")["value"])

    _artifacts(tracker, full_id)
    if details["datasets"]:
        st.markdown("**Datasets**")
        st.dataframe(pd.DataFrame([{k: d[k] for k in ("name", "kind", "filename", "size", "sha256", "md5", "row_count",
                                                       "column_count", "path")} for d in details["datasets"]]),
                     hide_index=True, width="stretch")
    upstream = tracker.get_lineage(full_id)
    downstream = tracker.get_lineage(full_id, direction="downstream")
    _edges_table("Inputs", [e for e in upstream if e.depth == 1])
    _edges_table("Outputs (runs that used this one)", [e for e in downstream if e.depth == 1])
    if upstream or downstream:
        st.markdown("**Lineage** (click a node, or a button below, to open that run)")
        st.graphviz_chart(lineage_dot(meta, upstream, downstream))
        reached = {e.run_id: e for e in upstream + downstream if e.run_id}
        for other, edge in reached.items():
            run_button(other, f"Open {edge.experiment} {short(other)}", key=f"lineage_{other}")


def _edges_table(title: str, edges: list[LineageEdge]) -> None:
    if edges:
        st.markdown(f"**{title}**")
        st.dataframe(pd.DataFrame([{"input": e.input_name, "run": short(e.run_id), "experiment": e.experiment,
                                    "artifact": e.artifact_name, "sha256": e.sha256} for e in edges]),
                     hide_index=True, width="stretch")


def _artifacts(tracker, run_id: str) -> None:
    """Listed from the metadata alone; one artifact's bytes are read (and verified) only when asked."""
    artifacts = tracker.list_artifacts(run_id)
    if not artifacts:
        return
    st.markdown("**Artifacts**")
    st.dataframe(pd.DataFrame([{"name": a.name, "size": size(a.size), "sha256": short_hash(a.sha256)}
                               for a in artifacts]), hide_index=True, width="stretch")
    names = [a.name for a in artifacts]
    chosen = st.selectbox("Open an artifact (its hash is checked first)", names, index=None,
                          placeholder="Choose one to preview or download", key=f"artifact_{run_id}")
    if chosen is None:
        return
    try:
        path = Path(tracker.get_artifact_abspath(run_id, chosen))
        data = path.read_bytes()
    except (exceptions.RunelogException, OSError) as exc:  # a corrupt or missing blob: say so, offer nothing
        st.error(str(exc))
        return
    st.download_button("Download", data, file_name=Path(chosen).name, key=f"dl_{run_id}_{chosen}")
    head = data[:PREVIEW_BYTES]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if len(data) <= PREVIEW_BYTES or exc.start < len(head) - 3:  # not a character cut at the end
            st.caption(f"{size(len(data))} of binary data; no preview.")
            return
        text = head[:exc.start].decode("utf-8")
    more = f" (the first {size(PREVIEW_BYTES)} of {size(len(data))})" if len(data) > PREVIEW_BYTES else ""
    st.caption(f"Preview{more}")
    st.code(text, language=None)


# ------------------------------------------------------------ Registry


def registry_page(tracker) -> None:
    st.header("Registry")
    models = tracker.list_registered_models()
    if not models:
        st.info("No registered models yet: tracker.register_model(run_id, 'model.joblib', 'name').")
        return
    model = st.selectbox("Model", models, key="registry_model")
    versions = tracker.get_model_versions(model)
    st.dataframe(pd.DataFrame([{"version": v["version"], "aliases": ", ".join(v["aliases"]),
                                "registered": when(v["registration_timestamp"]),
                                "source run": short(v["source_run_id"]), "artifact": v["artifact_name"],
                                "sha256": short_hash(v["sha256"]), "tags": ", ".join(f"{k}={t}" for k, t in v["tags"].items())}
                               for v in versions]), hide_index=True, width="stretch")
    version = st.selectbox("Version", [v["version"] for v in versions], key="registry_version")
    chosen = next(v for v in versions if v["version"] == version)
    if chosen["source_run_id"] is None:
        st.warning("The source run of this version was deleted; its bytes are still registered.")
        return
    run_button(chosen["source_run_id"], f"Open source run {short(chosen['source_run_id'])}", key="registry_source")
    upstream = tracker.get_lineage(chosen["source_run_id"])
    st.markdown("**Trained on**")
    if not upstream:
        st.caption("No recorded inputs.")
        return
    _edges_table("Data lineage", upstream)
    source = tracker.get_run(chosen["source_run_id"])
    experiment = tracker.get_experiment(source["experiment_id"])
    center = {"run_id": source["run_id"], "status": source["status"],
              "experiment": experiment["name"] if experiment else ""}
    st.graphviz_chart(lineage_dot(center, upstream, []))


PAGES = {"Experiments": experiments_page, "Runs": runs_page, "Run": run_page, "Registry": registry_page}
