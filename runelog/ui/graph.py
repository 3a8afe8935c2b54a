"""Lineage as a Graphviz picture: runs are nodes, input links are edges labelled with the bytes."""

from __future__ import annotations

from urllib.parse import urlencode

STATUS_COLOURS = {"FINISHED": "#2e7d32", "FAILED": "#c62828", "KILLED": "#ef6c00", "RUNNING": "#1565c0"}


def node_link(run_id: str) -> str:
    """The UI address that opens a run's page (used by clickable nodes)."""
    return "?" + urlencode({"page": "Run", "run": run_id})


def _quote(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def lineage_dot(center: dict, upstream: list[dict], downstream: list[dict]) -> str:
    """DOT source for a run, the runs it used (left) and the runs that used it (right).

    `center` is a run meta dict; the edge lists come from `get_lineage`. Data
    flows left to right: source run -> consumer run.
    """
    nodes: dict[str, tuple[str, str]] = {center["run_id"]: (center.get("experiment") or "", center["status"])}
    edges = []
    for edge in upstream:  # edge["run_id"] was used by edge["via_run_id"]
        if edge["run_id"]:
            nodes.setdefault(edge["run_id"], (edge["experiment"] or "", edge["status"]))
            edges.append((edge["run_id"], edge["via_run_id"], edge))
    for edge in downstream:  # edge["run_id"] used edge["via_run_id"]
        if edge["run_id"]:
            nodes.setdefault(edge["run_id"], (edge["experiment"] or "", edge["status"]))
            edges.append((edge["via_run_id"], edge["run_id"], edge))
    lines = ["digraph lineage {", "  rankdir=LR;", '  node [shape=box, style="rounded,filled", fillcolor="#f5f5f5", fontname="Helvetica"];']
    for run_id, (experiment, status) in nodes.items():
        pen = ", penwidth=3" if run_id == center["run_id"] else ""
        label = f"{experiment}\\n{run_id[:8]} {status}"
        lines.append(f'  {_quote(run_id)} [label="{label}", color="{STATUS_COLOURS.get(status, "#616161")}"'
                     f', URL={_quote(node_link(run_id))}, target="_self"{pen}];')
    seen = set()
    for source, consumer, edge in edges:
        key = (source, consumer, edge["input_name"], edge["sha256"])
        if key in seen:
            continue
        seen.add(key)
        artifact = edge["artifact_name"] or "(whole run)"
        label = f"{edge['input_name']}: {artifact} {(edge['sha256'] or '')[:10]}"
        lines.append(f"  {_quote(source)} -> {_quote(consumer)} [label={_quote(label)}];")
    lines.append("}")
    return "\n".join(lines)
