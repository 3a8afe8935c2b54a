"""Markdown for W9 / W9L: one row per figure, a column per engine, ratios, issue 15's targets.

Ratios read "× better for runelog", as in the main table: above 1 runelog wins.
W9L rows say at how many runs they were measured and, where the population
stopped early, what the full size would be if the figure grows linearly: a
projection, labelled as one.
"""

from __future__ import annotations

from collections import Counter

from dataclasses import replace

from .curves import FIGURES, LARGE_TARGETS, TITLES, TITLES_OF_FIGURES, TRACKIO_ISSUE
from .report import _median, _short, cell, number, ratio, verdict


# How each engine gives each figure (the engine modules' docstrings say more).
NOTES = {
    "runelog": [
        "load: start_run + log_params + set_run_tags, then log_metrics({4 keys}, step=i) per step "
        "(default buffering; W2's fastest public path); the run's end included",
        "results frame: tracker.load_results(experiment) (DataFrame) and tracker.find_runs(experiment) "
        "(RunInfo list), the first call in a fresh process, pandas imported beforehand",
        "history: tracker.get_metric_history(run_id, 'val/acc') (DataFrame), median of 50 calls",
        "latest: its `latest_metrics` SQL view, with sqlite3 on the store's file (read-only)",
    ],
    "mlflow": [
        "load: MlflowClient create_run + log_batch(params, tags) + log_batch of 1,000 metrics per call "
        "+ set_terminated, SQLAlchemy store on SQLite",
        "results frame: mlflow.search_runs (DataFrame); find_runs row: MlflowClient.search_runs "
        "(Run entities, max_results = runs)",
        "history: MlflowClient.get_metric_history(run_id, 'val/acc')",
        "latest: MLflow's own `latest_metrics` table (kept up to date by log_batch), with sqlite3",
    ],
    "trackio": [
        "load: trackio.init(project, name, config=params) + trackio.log({4 keys}, step=i) per step + "
        "trackio.finish(); trackio has no run tags (the 2 tags are not stored); its background thread "
        "writes the queued log calls in batches",
        "history: SQLiteStorage.get_metric_values(project, run, 'val/acc'), the call behind "
        "`trackio get metric` (trackio's Python Api has no metric reader)",
        "results frame and latest: no call or table gives every run's latest values (n/a)",
        "no network: strace of init/log/finish/reads shows no connect() (local SQLite under TRACKIO_DIR)",
    ],
    "designed": [
        "layout (issue 15): `series` (integer id per run and key, with the last step/value/timestamp) and "
        "`points` (series_id, step, value, timestamp) keyed (series_id, step) WITHOUT ROWID",
        "load: one transaction per run: run, params, tags, 4 series rows, executemany of the 4,000 "
        "points, the last values updated in the same transaction",
        "results frame: three SELECTs (runs, params, series' last values) into dicts, no pandas "
        "(one read serves both frame rows)",
        "history: SELECT step, value, timestamp FROM points WHERE series_id = ? ORDER BY step",
        "latest: SELECT count(*) FROM series",
    ],
}


def _cell(results: list, key: str) -> str:
    if results and all(isinstance(r, str) and r.startswith("n/a") for r in results):
        return "n/a"
    return cell(results, key)


def notes(found: dict) -> str:
    lines = []
    for engine in found["engines"]:
        lines += [f"- {TITLES[engine]}: {text}" for text in NOTES.get(engine, [])]
    return "\n".join(lines)


def _ratio(row, ours: float | None, theirs: float | None) -> str:
    """× better for runelog; far below 1 it reads 1/N (the other engine is N× better)."""
    if not ours or not theirs:
        return "—"
    better = ours / theirs if row.higher_is_better else theirs / ours
    return f"1/{number(1 / better)}" if better < 0.1 else ratio(row, ours, theirs)


def _results(found: dict, figure) -> dict[str, list]:
    if figure.task == "populate":
        return {e: [p] if isinstance(p, dict) else [p] for e, p in found["populate"].items()}
    return found["figures"][figure.id]


def _label(found: dict) -> str:
    return "W9L" if found["large"] else "W9"


def table(found: dict) -> str:
    engines = found["engines"]
    others = [e for e in engines if e != "runelog"]
    head = (["figure", "unit"] + [TITLES[e] for e in engines] + [f"runelog vs {TITLES[e]}" for e in others]
            + ["target (issue 15)", "met?"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for figure in FIGURES:
        results = _results(found, figure)
        row = figure.row
        if found["large"]:
            target, text = LARGE_TARGETS.get(figure.id, (None, "—"))
            row = replace(row, target=target, target_text=text)
        cells = [f"{_label(found)}: {TITLES_OF_FIGURES[figure.id]}", row.unit]
        cells += [_cell(results.get(e, []), row.figure) for e in engines]
        ours = _median(results.get("runelog", []), row.figure)
        cells += [_ratio(row, ours, _median(results.get(e, []), row.figure)) for e in others]
        ok = all(isinstance(r, dict) and r.get("checks", {}).get("ok", True) for r in results.get("runelog", []))
        measured = any(isinstance(r, dict) for r in results.get("runelog", []))
        complete = not found["large"] or all(
            isinstance(p, dict) and p["runs"] >= found["shape"]["runs"] for p in found["populate"].values())
        met = row.met(ours, ok) if measured and complete else None
        cells += [row.target_text, verdict(met) if complete else "at the size measured: see below"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def populated_table(found: dict) -> str:
    """How each store was made: runs, points, seconds, and (W9L) the projection to the full size."""
    shape = found["shape"]
    full_points = shape["runs"] * shape["keys"] * shape["steps"]
    lines = ["| engine | runs populated | points | populate s | points/s (chunks: min–max) | bytes/point | store MB | "
             "projected: populate s at full size | projected: store GB at full size |",
             "|---|---|---|---|---|---|---|---|---|"]
    for engine, p in found["populate"].items():
        if not isinstance(p, dict):
            lines.append(f"| {TITLES[engine]} | {_short(p)} |" + " — |" * 7)
            continue
        bpp = p.get("bytes_per_point")
        complete = p["runs"] >= shape["runs"]
        projected_s = "measured" if complete else f"{number(p['s'] * full_points / p['points'])} (linear)"
        projected_gb = (f"{number(bpp * full_points / 1e9)}" + ("" if complete else " (linear)")) if bpp else "—"
        rates = [c["points_per_s"] for c in p["chunks"] if isinstance(c, dict)]
        spread = f" ({number(min(rates))}–{number(max(rates))})" if len(rates) > 1 else ""
        lines.append(f"| {TITLES[engine]} | {p['runs']:,} | {p['points']:,} | {number(p['s'])} | "
                     f"{number(p['points_per_s'])}{spread} | {number(bpp) if bpp else '—'} | "
                     f"{number(bpp * p['points'] / 1e6) if bpp else '—'} | {projected_s} | {projected_gb} |")
    return "\n".join(lines)


def checks(found: dict) -> str:
    lines = []
    for figure in FIGURES:
        if figure.task == "populate":
            continue
        for engine, outcomes in found["figures"][figure.id].items():
            counted = Counter("ok" if isinstance(o, dict) and o.get("checks", {}).get("ok")
                              else (_short(o, 160) if isinstance(o, str) else f"FAILED {o.get('checks')}")
                              for o in outcomes)
            if set(counted) != {"ok"} and not all(t.startswith("n/a") for t in counted):
                lines.append(f"- {figure.id}, {TITLES[engine]}: "
                             + "; ".join(f"{n}× {text}" for text, n in counted.items()))
    return "\n".join(lines) or "- every read returned the expected number of rows"


def issue_table() -> str:
    lines = ["| figure | runelog | MLflow 3.17 | trackio 0.43 | raw sqlite3, designed |", "|---|---|---|---|---|"]
    for figure in FIGURES:
        if any(figure.row.issue) or figure.id in TRACKIO_ISSUE:
            ours, mlflow, designed = (x or "—" for x in figure.row.issue)
            lines.append(f"| {TITLES_OF_FIGURES[figure.id]} ({figure.row.unit}) | {ours} | {mlflow} | "
                         f"{TRACKIO_ISSUE.get(figure.id, 'n/a')} | {designed} |")
    return "\n".join(lines)


def section(found: dict, repeat: int) -> str:
    shape = found["shape"]
    points = shape["runs"] * shape["keys"] * shape["steps"]
    name = _label(found)
    parts = [f"## {name}: {shape['runs']:,} runs × {shape['keys']} keys × {shape['steps']:,} steps "
             f"({points:,} points), 5 params and 2 tags per run",
             f"Reads: median of {repeat} fresh processes (min–max). Batched load and bytes per point: "
             "one population per engine.", "", table(found), "", "### How each store was made",
             populated_table(found), "", "### Checks", checks(found), "",
             "### How each engine does it", notes(found), ""]
    if not found["large"]:
        parts += ["### Issue 15's figures (for orientation)", issue_table(), ""]
    return "\n".join(parts)


def render_saved(path: str, repeat: int = 3) -> str:
    """The W9/W9L sections again from a `--json` file (the machine header stays the run's own)."""
    import json

    with open(path) as fh:
        saved = json.load(fh)
    return "\n".join(section(found, repeat) for found in saved.get("curves", []))


if __name__ == "__main__":
    import sys

    print(render_saved(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3))
