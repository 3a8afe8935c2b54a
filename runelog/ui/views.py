"""The UI's pages. Each takes a read-only tracker and draws with Streamlit; data comes only
through the public API."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from .graph import lineage_dot

STATUSES = ["FINISHED", "FAILED", "KILLED", "RUNNING"]


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


def short(run_id: str | None) -> str:
    return run_id[:8] if run_id else "(deleted)"


def when(iso: str | None) -> str:
    return iso[:19].replace("T", " ") if iso else ""


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
        row.update({s: e["status_counts"].get(s, 0) for s in STATUSES})
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


def _matches(row: dict, statuses: list[str], tag: str, param: str) -> bool:
    if statuses and row["status"] not in statuses:
        return False
    for text, values in ((tag, row.get("tags", {})), (param, row["params"])):
        if text.strip() and not _has(values, text):
            return False
    return True


def _has(values: dict, text: str) -> bool:
    """`key` (present at all) or `key=value`, read by the command line's parser and compared as the
    API compares tags, so `candidate=True` here, `--tag candidate=true` and tags={"candidate": True} agree."""
    from ..codec import encode_value, parse_assignment
    from ..exceptions import RunelogException

    if "=" not in text:
        return text.strip() in values
    try:
        key, wanted = parse_assignment(text)
    except RunelogException:
        return False
    return key in values and encode_value(key, values[key]) == encode_value(key, wanted)


def runs_page(tracker) -> None:
    st.header("Runs")
    experiments = [e for e in tracker.experiment_overview() if e["num_runs"]]
    names = [e["name"] for e in experiments]
    experiment = st.selectbox("Experiment", names, key="runs_experiment")
    if not experiment:
        st.info("No runs yet.")
        return
    rows = tracker.list_runs(experiment)
    for r in rows:
        r["tags"] = tracker.get_run_tags(r["run_id"])
    c1, c2, c3 = st.columns(3)
    statuses = c1.multiselect("Status", STATUSES, key="runs_status")
    tag = c2.text_input("Tag (key or key=value)", key="runs_tag")
    param = c3.text_input("Param (key or key=value)", key="runs_param")
    shown = [r for r in rows if _matches(r, statuses, tag, param)]
    st.caption(f"{len(shown)} of {len(rows)} runs. Click a column header to sort.")
    st.dataframe(_runs_frame(shown), hide_index=True, width="stretch")

    labels = {r["run_id"]: f"{short(r['run_id'])} {r['run_name'] or ''}".strip() for r in shown}
    selected = st.multiselect("Runs to plot and compare", list(labels), format_func=labels.get, key="runs_selected")
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
    st.subheader("Comparison")
    details = {labels[r]: tracker.get_run_details(r) for r in selected}
    keys = sorted({k for d in details.values() for k in d["params"]})
    params = pd.DataFrame({label: [str(d["params"].get(k, "")) for k in keys] for label, d in details.items()}, index=keys)
    differs = params.nunique(axis=1) > 1
    st.markdown("Params (those that differ are highlighted)")
    st.dataframe(params.style.apply(lambda row: ["background-color: #fff3cd" if differs[row.name] else "" for _ in row],
                                    axis=1), width="stretch")
    metrics = pd.DataFrame({label: d["metrics"] for label, d in details.items()})
    if not metrics.empty:
        st.markdown("Latest metric values")
        st.bar_chart(metrics.T)
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
    st.subheader(f"{meta['experiment']} / {meta['run_name'] or full_id[:8]}")
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
    _edges_table("Inputs", [e for e in upstream if e["depth"] == 1])
    _edges_table("Outputs (runs that used this one)", [e for e in downstream if e["depth"] == 1])
    if upstream or downstream:
        st.markdown("**Lineage** (click a node, or a button below, to open that run)")
        st.graphviz_chart(lineage_dot(meta, upstream, downstream))
        reached = {e["run_id"]: e for e in upstream + downstream if e["run_id"]}
        for other, edge in reached.items():
            run_button(other, f"Open {edge['experiment']} {short(other)}", key=f"lineage_{other}")


def _edges_table(title: str, edges: list[dict]) -> None:
    if edges:
        st.markdown(f"**{title}**")
        st.dataframe(pd.DataFrame([{"input": e["input_name"], "run": short(e["run_id"]), "experiment": e["experiment"],
                                    "artifact": e["artifact_name"], "sha256": e["sha256"]} for e in edges]),
                     hide_index=True, width="stretch")


def _artifacts(tracker, run_id: str) -> None:
    artifacts = tracker.list_artifacts(run_id)
    if not artifacts:
        return
    st.markdown("**Artifacts**")
    for a in artifacts:
        name_col, size_col, hash_col, button_col = st.columns([4, 1, 2, 2])
        name_col.write(a["name"])
        size_col.write(f"{a['size']:,} B")
        hash_col.code(a["sha256"][:12])
        with tempfile.TemporaryDirectory() as folder:  # copied out verified, as download_artifact does
            try:
                data = Path(tracker.download_artifact(run_id, a["name"], folder)).read_bytes()
            except Exception as exc:  # a corrupt or missing blob: say so, offer nothing
                button_col.error(type(exc).__name__)
                continue
        button_col.download_button("Download", data, file_name=Path(a["name"]).name, key=f"dl_{a['name']}")


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
                                "sha256": v["sha256"][:12], "tags": ", ".join(f"{k}={t}" for k, t in v["tags"].items())}
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
