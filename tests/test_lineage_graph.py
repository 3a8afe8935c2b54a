"""The lineage graph's DOT text, with names that broke hand-built DOT; and the typed lineage services.

The `dot` binary may be absent, so the DOT is checked by structure: a small
reader splits it into tokens by DOT's own rules (in a quoted string only `\\"`
is an escape), parses the statements, and decodes each label back; every
label must read back as exactly the text it was built from.
"""

from __future__ import annotations

import re
import shutil

import pytest

from runelog import lineage
from runelog.types import LineageEdge, ModelVersionInfo
from runelog.ui.graph import lineage_dot

NASTY = ['feat "v2"', "back\\slash\\", 'both \\" of them', "two\nlines", "<b>bold</b>", "{braces}; -> [x]",
         "\\n is not a newline", "tab\there", "", "'single'", "é ünï 图", "<<html>>"]


# ------------------------------------------------------------ reading DOT back

TOKEN = re.compile(r'\s+|"(?:[^"\\]|\\.)*"|->|[{}\[\];=,]|[^\s"{}\[\];=,]+', re.DOTALL)


def tokens(dot: str) -> list[str]:
    found, at = [], 0
    while at < len(dot):
        match = TOKEN.match(dot, at)
        assert match and match.end() > at, f"unreadable DOT at {at}: {dot[at:at + 40]!r}"
        if not match.group().isspace():
            found.append(match.group())
        at = match.end()
    return found


def unquote(token: str) -> str:
    """A DOT string's text as Graphviz shows it: \\" is ", \\\\ is \\, \\n is a line break."""
    if not token.startswith('"'):
        return token
    body, out, i = token[1:-1], [], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append({'"': '"', "\\": "\\", "n": "\n"}.get(nxt, "\\" + nxt))
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


def parse(dot: str) -> tuple[dict[str, dict], list[tuple[str, str, dict]]]:
    """(nodes by id with their attributes, edges) of a `digraph NAME { ... }` as graphviz writes it."""
    toks = tokens(dot)
    assert toks[0] == "digraph" and toks[2] == "{" and toks[-1] == "}", toks[:3] + toks[-1:]
    nodes: dict[str, dict] = {}
    edges: list[tuple[str, str, dict]] = []
    i, body = 3, toks[:-1]
    while i < len(body):
        first = unquote(body[i])
        i += 1
        second = None
        if i < len(body) and body[i] == "->":
            second, i = unquote(body[i + 1]), i + 2
        attrs: dict[str, str] = {}
        if i < len(body) and body[i] == "[":
            i += 1
            while body[i] != "]":
                key, eq, value = body[i], body[i + 1], body[i + 2]
                assert eq == "=", body[i:i + 3]
                attrs[key] = unquote(value)
                i += 3
                if body[i] in (",", ";"):
                    i += 1
            i += 1
        if i < len(body) and body[i] == ";":
            i += 1
        if second is not None:
            edges.append((first, second, attrs))
        elif first not in ("graph", "node", "edge"):
            nodes[first] = attrs
    return nodes, edges


def edge(run_id, via, name, experiment="e", artifact="a.txt", sha="ab" * 32, depth=1) -> LineageEdge:
    return LineageEdge(depth=depth, run_id=run_id, via_run_id=via, input_name=name, experiment=experiment,
                       run_name=None, status="FINISHED", artifact_name=artifact, sha256=sha)


# ------------------------------------------------------------ the DOT text


@pytest.mark.parametrize("name", NASTY)
def test_any_experiment_input_or_artifact_name_reads_back_exactly(name):
    center = {"run_id": "c" * 32, "status": "FINISHED", "experiment": name}
    upstream = [edge("u" * 32, "c" * 32, name, experiment=name, artifact=name)]
    downstream = [edge("d" * 32, "c" * 32, name, experiment=name, artifact=None, sha=None)]
    nodes, edges = parse(lineage_dot(center, upstream, downstream))
    assert set(nodes) == {"c" * 32, "u" * 32, "d" * 32}
    assert nodes["c" * 32]["label"] == f"{name}\ncccccccc FINISHED"
    assert nodes["u" * 32]["label"] == f"{name}\nuuuuuuuu FINISHED"
    assert nodes["c" * 32]["penwidth"] == "3" and "penwidth" not in nodes["u" * 32]
    assert nodes["u" * 32]["URL"] == "?page=Run&run=" + "u" * 32
    assert [(s, t, a["label"]) for s, t, a in edges] == [
        ("u" * 32, "c" * 32, f"{name}: {name or '(whole run)'} {'ab' * 6}"),
        ("c" * 32, "d" * 32, f"{name}: (whole run) "),
    ]


def test_a_graph_of_many_nasty_names_is_one_well_formed_digraph():
    center = {"run_id": "0" * 32, "status": "RUNNING", "experiment": 'feat "v2"'}
    upstream = [edge(f"{i:032x}", "0" * 32, name, experiment=name, artifact=name) for i, name in enumerate(NASTY, 1)]
    dot = lineage_dot(center, upstream, [])
    nodes, edges = parse(dot)
    assert len(nodes) == len(NASTY) + 1 and len(edges) == len(NASTY)
    assert [a["label"].split(": ")[0] for _, _, a in edges] == NASTY
    if shutil.which("dot"):  # where Graphviz is installed, it reads the text too
        import graphviz

        assert graphviz.Source(dot).pipe(format="svg").startswith(b"<?xml")


def test_the_same_input_twice_is_one_arrow_and_deleted_runs_are_left_out():
    center = {"run_id": "c" * 32, "status": "FINISHED", "experiment": "e"}
    twice = [edge("u" * 32, "c" * 32, "x"), edge("u" * 32, "c" * 32, "x", depth=2), edge(None, "c" * 32, "gone")]
    nodes, edges = parse(lineage_dot(center, twice, []))
    assert len(edges) == 1 and set(nodes) == {"c" * 32, "u" * 32}


# ------------------------------------------------------------ a real store, end to end


def test_a_real_experiment_named_feat_v2_draws(tracker, tmp_path):
    data = tmp_path / "f.csv"
    data.write_text("a\n1\n")
    with tracker.start_run(experiment_name='feat "v2"', log_code=False, log_git_meta=False) as features:
        tracker.log_artifact(str(data), name='odd "name" <x>.csv')
    with tracker.start_run(experiment_name="train <{x}>", log_code=False, log_git_meta=False) as train:
        tracker.log_input_run("in\nput", features, 'odd "name" <x>.csv')
    upstream = tracker.get_lineage(train)
    center = {"run_id": train, "status": "FINISHED", "experiment": "train <{x}>"}
    nodes, edges = parse(lineage_dot(center, upstream, []))
    assert nodes[features]["label"].startswith('feat "v2"\n')
    assert nodes[train]["label"].startswith("train <{x}>\n")
    ((source, target, attrs),) = edges
    assert (source, target) == (features, train)
    assert attrs["label"].startswith('in\nput: odd "name" <x>.csv ')


# ------------------------------------------------------------ the typed lineage services


def test_the_lineage_services_return_typed_results(tracker, tmp_path):
    data = tmp_path / "f.csv"
    data.write_text("a\n1\n")
    with tracker.start_run(experiment_name="features", log_code=False, log_git_meta=False) as features:
        tracker.log_artifact(str(data))
        tracker.log_dataset(str(data), "raw")
    with tracker.start_run(experiment_name="train", log_code=False, log_git_meta=False) as train:
        tracker.log_input_run("features", features, "f.csv")
        tracker.log_model({"w": 1}, "model.joblib")
    tracker.register_model(train, "model.joblib", "clf")
    tracker.set_model_alias("clf", "prod", "1")
    from runelog import datasets

    with tracker._read() as s:
        (up,) = lineage.edges(s, train)
        used = lineage.byte_uses(s, up.sha256)
        (model,) = lineage.model_versions_from(s, run_id=features)
        (by_bytes,) = lineage.model_versions_from(s, sha256=up.sha256)
        (fingerprint,) = datasets.dataset_infos(s, features)
    assert isinstance(up, LineageEdge) and (up.run_id, up.via_run_id, up.depth) == (features, train, 1)
    assert up.experiment == "features" and up.input_name == "features" and len(up.sha256) == 64
    assert {(u.run_id, u.how) for u in used} == {(features, "artifact"), (features, "dataset"), (train, "input")}
    assert isinstance(model, ModelVersionInfo) and (model.model_name, model.version, model.aliases) == ("clf", 1, ("prod",))
    assert by_bytes == model == tracker.get_model_version("clf")
    assert (fingerprint.run_id, fingerprint.name, fingerprint.sha256) == (features, "raw", up.sha256)
    assert tracker.get_lineage(train) == [up] and tracker.runs_using(up.sha256) == used
    assert tracker.models_trained_on(features) == [model]
    assert tracker.get_run_details(features)["datasets"] == [fingerprint.as_dict()]
