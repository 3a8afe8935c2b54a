"""Markdown out of the measurements: the machine header, the results, checks, scale and memory tables.

A cell is "median (min–max)" over the repeats. Ratios read "× better for
runelog" whichever way the unit points (calls/s up, seconds down).
"""

from __future__ import annotations

import os
import platform
import shlex
import statistics
import sys
from collections import Counter
from datetime import datetime, timezone

from .workloads import ENGINE_TITLES, MEMORY_LIMIT_MB, SCALE_W4_TARGET_MS, Row, Workload


def number(value: float) -> str:
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def _values(results: list, key: str) -> list[float]:
    return [r[key] for r in results if isinstance(r, dict) and isinstance(r.get(key), (int, float))]


def _median(results: list, key: str) -> float | None:
    values = _values(results, key)
    return statistics.median(values) if values else None


def cell(results: list, key: str) -> str:
    """median (min–max), plus how many repeats failed; the first failure goes to the notes."""
    values = _values(results, key)
    failed = [r for r in results if isinstance(r, str)]
    if not values:
        return _short(failed[0]) if failed else "—"
    text = number(statistics.median(values))
    if len(values) > 1:
        text += f" ({number(min(values))}–{number(max(values))})"
    if failed:
        text += f"; {len(failed)} failed"
    return text


def _short(text: str, limit: int = 60) -> str:
    """One line of at most `limit` characters: a table cell must not break the table."""
    text = " ".join(str(text).split()).replace("|", "/")
    return text if len(text) <= limit else text[:limit - 1] + "…"


def ratio(row: Row, ours: float | None, theirs: float | None) -> str:
    if not ours or not theirs:
        return "—"
    better = ours / theirs if row.higher_is_better else theirs / ours
    return f"{better:.3g}×"


def checks_ok(results: list) -> bool:
    return bool(results) and all(isinstance(r, dict) and r.get("checks", {}).get("ok", True) for r in results)


def verdict(met: bool | None) -> str:
    return {True: "✅ met", False: "❌ missed", None: "—"}[met]


# ------------------------------------------------------------------ the header


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> str:
    try:
        with open("/proc/meminfo") as fh:
            kib = int(fh.readline().split()[1])
        return f"{kib / (1 << 20):.0f} GiB"
    except (OSError, ValueError, IndexError):
        return "unknown"


def _checkout() -> str:
    """The commit measured, and whether the library had uncommitted changes (read-only git)."""
    import subprocess

    from .child import REPO

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "runelog", "migrations")
    return commit + (" + uncommitted changes to runelog/ or migrations/" if dirty else "")


def header(versions: dict, argv: list[str]) -> str:
    lines = [
        f"- date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {os.cpu_count()} CPUs (nproc), {_cpu_model()}, {_memory_gib()} RAM, "
        f"Linux {platform.release()}",
        f"- command: `{shlex.join(['python', '-m', 'benchmarks', *argv])}`",
        f"- runelog checkout: {_checkout()}",
        f"- load average when the report was written: {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
    ]
    for engine, found in versions.items():
        described = found if isinstance(found, str) else ", ".join(
            f"{k} {v}" for k, v in found.items() if k != "peak_rss_mb")
        lines.append(f"- {ENGINE_TITLES[engine]} interpreter: {described}")
    return "\n".join(lines)


# ------------------------------------------------------------------ the main table


def main_table(measured: list[tuple[Workload, dict]], engines: list[str]) -> str:
    mlflow = "mlflow" in engines
    head = ["workload", "unit", "runelog"] + (["MLflow"] if mlflow else []) + ["raw sqlite3"]
    head += (["runelog vs MLflow"] if mlflow else []) + ["runelog vs raw", "target", "met?"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for workload, results in measured:
        ours = results.get("runelog", [])
        for row in workload.rows:
            cells = [f"{workload.label}: {workload.title}" if row is workload.rows[0] else f"{workload.label} (cont.)",
                     row.unit, cell(ours, row.figure)]
            if mlflow:
                cells.append(cell(results.get("mlflow", []), row.figure))
            cells.append(cell(results.get("sqlite", []), row.figure))
            median = _median(ours, row.figure)
            if mlflow:
                cells.append(ratio(row, median, _median(results.get("mlflow", []), row.figure)))
            cells.append(ratio(row, median, _median(results.get("sqlite", []), row.figure)))
            cells.append(row.target_text)
            measured_any = any(isinstance(r, dict) for r in ours)
            cells.append(verdict(row.met(median, checks_ok(ours)) if measured_any else None))
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def issue_table(workloads: list[Workload]) -> str:
    """The figures the issue reported, for orientation (other machine, other day)."""
    lines = ["| workload | unit | runelog 0.2.0 | MLflow 3.17 | raw sqlite3 | target |", "|---|---|---|---|---|---|"]
    for workload in workloads:
        for row in workload.rows:
            if any(row.issue):
                lines.append(f"| {workload.label} | {row.unit} | " + " | ".join(x or "—" for x in row.issue)
                             + f" | {row.target_text} |")
    return "\n".join(lines)


def _describe_checks(checks: dict) -> str:
    if "points" in checks:
        text = (f"{checks.get('points', 0):,}/{checks.get('expected_points', 0):,} points, "
                f"{checks.get('errors', 0)} failed processes, {checks.get('experiments', '?')} experiment(s), "
                f"{checks.get('schema', 'schema ?')}")
        if checks.get("error"):
            text += f", store unreadable: {_short(checks['error'], 120)}"
        return text
    if checks.get("ok"):
        return "ok"
    return _short(", ".join(f"{k}={v}" for k, v in checks.items() if k != "ok"), 120)


def checks_table(measured: list[tuple[Workload, dict]], engines: list[str]) -> str:
    lines = ["| workload | " + " | ".join(ENGINE_TITLES[e] for e in engines) + " |",
             "|---|" + "---|" * len(engines)]
    for workload, results in measured:
        if not any(isinstance(r, dict) and "checks" in r for rs in results.values() for r in rs):
            continue
        cells = []
        for engine in engines:
            outcomes = Counter(_describe_checks(r["checks"]) if isinstance(r, dict) and "checks" in r
                               else _short(r if isinstance(r, str) else "no checks")
                               for r in results.get(engine, []))
            cells.append("; ".join(f"{n}× {text}" for text, n in outcomes.items()) or "—")
        lines.append(f"| {workload.label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def notes(measured: list[tuple[Workload, dict]]) -> str:
    """How each engine does each workload, the warm W5 figure, and the first error of each cell."""
    lines = []
    for workload, results in measured:
        for engine, how in workload.notes.items():
            lines.append(f"- {workload.label}, {ENGINE_TITLES[engine]}: {how}")
        for engine, rs in results.items():
            warm = _values(rs, "warm_s")
            if warm:
                lines.append(f"- {workload.label}, {ENGINE_TITLES[engine]}: warm calls (same process) "
                             f"{number(statistics.median(warm))} s")
            later = [x for r in rs if isinstance(r, dict) for x in r.get("later_s", [])]
            if later:
                lines.append(f"- {workload.label}, {ENGINE_TITLES[engine]}: first log "
                             f"{number(statistics.median(_values(rs, 'first_s')))} s, later logs "
                             f"{number(statistics.median(later))} s")
            failures = [f for r in rs if isinstance(r, dict) for f in r.get("failures", [])]
            errors = [r for r in rs if isinstance(r, str)] + failures
            if errors:
                lines.append(f"- {workload.label}, {ENGINE_TITLES[engine]}: {len(errors)} error(s), first: "
                             f"`{_short(errors[0], 300)}`")
    return "\n".join(lines)


# ------------------------------------------------------------------ --scale and --memory


def scale_table(ladder: dict) -> str:
    depth = ladder["depth"]
    lines = [f"| engine | runs | populate: s (runs/s) | W4 latest tagged, ms | W5 load_results, s "
             f"| W5 ms per 1,000 runs | lineage {depth}-deep: SQL, ms | get_lineage(), ms |",
             "|---|---|---|---|---|---|---|---|"]
    for engine, steps in ladder["scale"].items():
        for runs, step in steps.items():
            populate = step.get("populate")
            pop = (f"{number(populate['s'])} ({number(populate['runs_per_s'])})"
                   if isinstance(populate, dict) else _short(str(populate)))
            w5 = _median(step.get("W5", []), "s")
            per_k = number(w5 * 1e6 / runs) if w5 else "—"
            lines.append(f"| {ENGINE_TITLES[engine]} | {runs:,} | {pop} | {cell(step.get('W4', []), 'ms')} | "
                         f"{cell(step.get('W5', []), 's')} | {per_k} | {cell(step.get('lineage', []), 'ms')} | "
                         f"{cell(step.get('lineage', []), 'api_ms')} |")
    return "\n".join(lines)


def scale_verdicts(ladder: dict) -> str:
    steps = ladder["scale"].get("runelog", {})
    if not steps:
        return ""
    largest = max(steps)
    w4 = _median(steps[largest].get("W4", []), "ms")
    lines = [f"- W4 at {largest:,} runs: {number(w4) if w4 else '—'} ms, target ≤ {SCALE_W4_TARGET_MS:g} ms: "
             f"{verdict(w4 <= SCALE_W4_TARGET_MS if w4 else None)}"]
    per_run = {runs: _median(step.get("W5", []), "s") / runs for runs, step in steps.items()
               if _median(step.get("W5", []), "s")}
    failed = [runs for runs in steps if runs not in per_run]
    if failed:
        lines.append(f"- W5 produced no figure at {', '.join(f'{r:,}' for r in failed)} runs "
                     f"(see the table): ❌ missed")
    if len(per_run) > 1:
        smallest, biggest = min(per_run), max(per_run)
        growth = per_run[biggest] / per_run[smallest]
        lines.append(f"- W5 time per run at {biggest:,} runs is {growth:.2f}× that at {smallest:,} runs "
                     f"(linear would be 1×; taken as linear within 1.5×): {verdict(growth <= 1.5)}")
    return "\n".join(lines)


def memory_table(ladder: dict) -> str:
    memory = ladder["memory"]
    lines = ["| measurement | peak RSS, MB | limit | met? |", "|---|---|---|---|"]
    if "idle" in memory:
        lines.append(f"| floor: a tracker opened, pandas imported | {cell(memory['idle'], 'peak_rss_mb')} | — | — |")
    if "W5" in memory:
        lines.append(f"| W5 load_results of {memory['W5']['runs']:,} runs | "
                     f"{cell(memory['W5']['results'], 'peak_rss_mb')} | — | — |")
    if "artifact" in memory:
        results = memory["artifact"]["results"]
        peak = _values(results, "peak_rss_mb")
        met = max(peak) < MEMORY_LIMIT_MB if peak and len(peak) == len(results) else (False if results else None)
        lines.append(f"| log_artifact of a {memory['artifact']['mib']:,} MiB file "
                     f"({cell(results, 's')} s) | {cell(results, 'peak_rss_mb')} | < {MEMORY_LIMIT_MB} | "
                     f"{verdict(met)} |")
    return "\n".join(lines)


def document(versions: dict, argv: list[str], measured: list[tuple[Workload, dict]], engines: list[str],
             ladder: dict | None, repeat: int) -> str:
    parts = ["## Environment", header(versions, argv), ""]
    if measured:
        parts += [f"## Results (median of {repeat}, min–max in brackets; each measurement a fresh process)",
                  main_table(measured, engines), "", "## Correctness checks", checks_table(measured, engines),
                  "", "## How each engine does it, and notes", notes(measured), "",
                  "## The issue's figures (for orientation)", issue_table([w for w, _ in measured]), ""]
    if ladder and ladder["scale"]:
        parts += ["## Scale", scale_table(ladder), "", scale_verdicts(ladder), ""]
    if ladder and ladder["memory"]:
        parts += ["## Memory (peak RSS of the measuring process)", memory_table(ladder), ""]
    return "\n".join(parts)


def print_document(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
