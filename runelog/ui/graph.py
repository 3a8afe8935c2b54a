"""Lineage as a Graphviz picture: runs are nodes, input links are edges labelled with the bytes.

The DOT text is built by the `graphviz` package's Digraph, which quotes every
identifier and attribute; user text (experiment, input and artifact names) is
passed through `graphviz.escape` first, so quotes, backslashes and `<...>` stay
literal text and a name like `feat "v2"` cannot end a string early.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from ..formatting import short_hash, short_id
from ..types import LineageEdge

STATUS_COLOURS = {"FINISHED": "#2e7d32", "FAILED": "#c62828", "KILLED": "#ef6c00", "RUNNING": "#1565c0"}


def node_link(run_id: str) -> str:
    """The UI address that opens a run's page (used by clickable nodes)."""
    return "?" + urlencode({"page": "Run", "run": run_id})


def label(*lines: Any) -> str:
    """A DOT label showing `lines` as literal text, one per line (a newline inside a line is kept as one too)."""
    import graphviz

    shown = [part for line in lines for part in str(line).splitlines() or [""]]
    # escape() doubles backslashes; "\n" (backslash, n) is then DOT's own line break.
    return graphviz.nohtml("\\n".join(graphviz.escape(part) for part in shown))


def lineage_dot(center: dict, upstream: list[LineageEdge], downstream: list[LineageEdge]) -> str:
    """DOT source for a run, the runs it used (left) and the runs that used it (right).

    `center` is a run meta dict (with "experiment" for its label); the edge lists
    come from `get_lineage`. Data flows left to right: source run -> consumer run.
    """
    import graphviz

    nodes: dict[str, tuple[str, str]] = {center["run_id"]: (center.get("experiment") or "", center["status"])}
    links: list[tuple[str, str, LineageEdge]] = []
    for edge in upstream:  # edge.run_id was used by edge.via_run_id
        if edge.run_id:
            nodes.setdefault(edge.run_id, (edge.experiment or "", edge.status or ""))
            links.append((edge.run_id, edge.via_run_id, edge))
    for edge in downstream:  # edge.run_id used edge.via_run_id
        if edge.run_id:
            nodes.setdefault(edge.run_id, (edge.experiment or "", edge.status or ""))
            links.append((edge.via_run_id, edge.run_id, edge))
    graph = graphviz.Digraph("lineage", graph_attr={"rankdir": "LR"},
                             node_attr={"shape": "box", "style": "rounded,filled", "fillcolor": "#f5f5f5",
                                        "fontname": "Helvetica"})
    for run_id, (experiment, status) in nodes.items():
        extra = {"penwidth": "3"} if run_id == center["run_id"] else {}
        graph.node(run_id, label=label(experiment, f"{short_id(run_id)} {status}"),
                   color=STATUS_COLOURS.get(status, "#616161"), URL=node_link(run_id), target="_self", **extra)
    seen = set()
    for source, consumer, edge in links:
        key = (source, consumer, edge.input_name, edge.sha256)
        if key in seen:
            continue
        seen.add(key)
        text = f"{edge.input_name}: {edge.artifact_name or '(whole run)'} {short_hash(edge.sha256)}"
        graph.edge(source, consumer, label=label(text))
    return graph.source
