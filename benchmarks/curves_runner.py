"""Runs W9 (and W9L with --large): populate one store per engine, then read it in fresh processes.

The population is untimed setup for the read figures, and itself the
"batched load" figure (one measurement per engine: W9's MLflow store takes
minutes to make). The reads alternate engines within every repeat, as the
main table's workloads do. W9L is populated in chunks of runs, each a
process, and stops after a time budget per engine: what it could not
populate is reported as a projection, never as a measurement.
"""

from __future__ import annotations

import importlib
import shutil
import time

from .curves import ENGINES, FIGURES, LARGE_BUDGET_S, LARGE_CHUNK_RUNS, LARGE_ENGINES, size
from .runner import ChildFailed, Runner

CALLS = {"full": 50, "tiny": 3}  # median of this many calls for the history and latest figures


def not_available(engine: str, figure_id: str) -> str | None:
    """The engine module's own reason why it cannot give this figure, if it says so."""
    module = importlib.import_module(f"benchmarks.on_{engine}")
    return getattr(module, "NOT_AVAILABLE", {}).get(figure_id)


def measure_curves(runner: Runner, large: bool = False, budget_s: float = LARGE_BUDGET_S) -> dict:
    mode = "tiny" if runner.tiny else ("large" if large else "full")
    shape = size(mode)
    if large and runner.tiny:
        shape["runs"] *= 3  # tiny W9L: three chunks, so chunking and projection are exercised
    wanted = LARGE_ENGINES if large else ENGINES
    engines = [e for e in wanted if e in runner.pythons]
    chunk = (shape["runs"] // 3 if runner.tiny else LARGE_CHUNK_RUNS) if large else shape["runs"]
    found: dict = {"large": large, "shape": shape, "engines": engines, "populate": {},
                   "figures": {f.id: {e: [] for e in engines} for f in FIGURES if f.task != "populate"}}
    stores: dict[str, tuple[str, str, int]] = {}
    try:
        for engine in engines:
            populated = _populate(runner, engine, shape, chunk, budget_s if large else None)
            found["populate"][engine] = populated
            if isinstance(populated, dict) and populated["runs"]:
                stores[engine] = (populated.pop("store"), populated.pop("experiment"), populated["runs"])
        calls = CALLS["tiny" if runner.tiny else "full"]
        for r in range(runner.repeat):
            for figure in FIGURES:
                if figure.task == "populate":
                    continue
                for engine in engines:
                    outcome = _read_once(runner, engine, figure, stores.get(engine), shape, calls)
                    found["figures"][figure.id][engine].append(outcome)
                    runner.log(f"[W9{'L' if large else ''}] {figure.id} {engine} {r + 1}/{runner.repeat}: "
                               f"{_brief(outcome)}")
    finally:
        for store, _, _ in stores.values():
            shutil.rmtree(store, ignore_errors=True)
    return found


def _populate(runner: Runner, engine: str, shape: dict, chunk: int, budget_s: float | None) -> dict | str:
    """Populate in chunks until every run is in, or the budget is spent (W9L); totals and the chunks."""
    store, experiment = str(runner.new_store(engine)), runner.experiment("curves")
    done, seconds, points = 0, 0.0, 0
    chunks: list[dict | str] = []
    wall = time.perf_counter()
    while done < shape["runs"]:
        count = min(chunk, shape["runs"] - done)
        runner.log(f"  W9: populating {engine}, runs {done:,}..{done + count - 1:,} "
                   f"({count * shape['keys'] * shape['steps']:,} points) …")
        try:
            result = runner.child(engine, "curves_populate", store=store, experiment=experiment, start=done,
                                  count=count, keys=shape["keys"], steps=shape["steps"])
        except ChildFailed as exc:
            if not done:
                shutil.rmtree(store, ignore_errors=True)
                return f"error: {exc}"
            chunks.append(f"error: {exc}")
            break
        done += count
        seconds += result["s"]
        points += result["points"]
        chunks.append({k: result[k] for k in ("s", "points_per_s", "bytes_per_point") if k in result})
        runner.log(f"  … {result['points_per_s']:,.0f} points/s, {result.get('bytes_per_point', 0):.1f} bytes/point")
        if budget_s is not None and time.perf_counter() - wall > budget_s and done < shape["runs"]:
            runner.log(f"  W9L: {engine} stopped at {done:,} of {shape['runs']:,} runs (budget {budget_s:.0f} s)")
            break
    last = [c for c in chunks if isinstance(c, dict)][-1]
    return {"store": store, "experiment": experiment, "runs": done, "points": points, "s": seconds,
            "points_per_s": points / seconds, "bytes_per_point": last.get("bytes_per_point"),
            "wall_s": time.perf_counter() - wall, "chunks": chunks}


def _read_once(runner: Runner, engine: str, figure, store: tuple[str, str, int] | None,
               shape: dict, calls: int) -> dict | str:
    reason = not_available(engine, figure.id)
    if reason:
        return reason
    if store is None:
        return "not populated"
    path, experiment, runs = store
    kwargs = {"store": path, "experiment": experiment, "runs": runs, **figure.options}
    if figure.task == "history":
        kwargs.update(steps=shape["steps"], calls=calls)
    elif figure.task == "latest":
        kwargs.update(keys=shape["keys"], calls=calls)
    try:
        outcome = runner.child(engine, f"curves_{figure.task}", **kwargs)
    except ChildFailed as exc:
        return f"error: {exc}"
    outcome[figure.id] = outcome[figure.row.figure]
    return outcome


def _brief(outcome: dict | str) -> str:
    if isinstance(outcome, str):
        return outcome
    value = next(v for k, v in outcome.items() if k.endswith("_ms") or k == "ms")
    checks = outcome.get("checks", {})
    return f"{value:,.4g} ms" + ("" if checks.get("ok", True) else f", CHECKS FAILED {checks}")
