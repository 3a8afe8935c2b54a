"""`python -m benchmarks`: run the workloads and print the markdown report on stdout.

Progress goes to stderr, so `python -m benchmarks … > report.md` keeps only the report.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import curves_report, report
from .child import REPO
from .curves import LARGE_BUDGET_S
from .curves_runner import measure_curves
from .runner import Runner
from .workloads import WORKLOADS, select

CURVE_IDS = {"w9", "w9l"}  # issue 15's long curves: measured by curves_runner, reported apart

DEFAULT_MLFLOW_PYTHON = REPO / ".venv-bench" / "bin" / "python"


def parse_args(argv: list[str]) -> argparse.Namespace:
    ids = sorted({w.id for w in WORKLOADS}, key=lambda i: (int(i[1:].rstrip("r")), i)) + ["W9", "W9L"]
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--workload", nargs="+", metavar="W",
                        help=f"only these ({', '.join(ids)}); default all but W9L")
    parser.add_argument("--compare", nargs="+", choices=["mlflow", "trackio"], default=[],
                        help="also run the workloads through MLflow (W1..W9) and trackio (W9 only)")
    parser.add_argument("--large", action="store_true",
                        help="also W9L: 10,000 runs × 4 keys × 1,000 steps, runelog and raw sqlite3 only")
    parser.add_argument("--large-budget", type=float, default=LARGE_BUDGET_S, metavar="S",
                        help=f"W9L: stop populating an engine after S seconds and project ({LARGE_BUDGET_S:.0f})")
    parser.add_argument("--database-url", help="runelog's metadata in this database (e.g. PostgreSQL); "
                                               "workloads needing a new store are skipped")
    parser.add_argument("--repeat", type=int, default=3, help="fresh-process measurements per workload (3)")
    parser.add_argument("--scale", action="store_true", help="W4, W5 and lineage at 2,000 / 20,000 / 200,000 runs")
    parser.add_argument("--memory", action="store_true", help="peak RSS of W5 at 20,000 runs and of a 1 GiB artifact")
    parser.add_argument("--mlflow-python", default=str(DEFAULT_MLFLOW_PYTHON),
                        help="interpreter with mlflow installed (default: .venv-bench/bin/python)")
    parser.add_argument("--trackio-python", default=str(DEFAULT_MLFLOW_PYTHON),
                        help="interpreter with trackio installed (default: .venv-bench/bin/python)")
    parser.add_argument("--profile", metavar="DIR",
                        help="cProfile runelog's timed regions into DIR/<workload>-<n>.pstats (+ .txt)")
    parser.add_argument("--tiny", action="store_true", help="tiny sizes: proves the harness runs (smoke test)")
    parser.add_argument("--in-process", action="store_true",
                        help="run single-process tasks inside this process (smoke test only: figures not comparable)")
    parser.add_argument("--json", metavar="FILE", help="also save the raw measurements as JSON")
    parser.add_argument("--no-main", action="store_true", help="skip the main table (with --scale/--memory)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    for engine in args.compare:
        python = getattr(args, f"{engine}_python")
        if not Path(python).exists():
            parser.error(f"--compare {engine} needs an interpreter with {engine}; {python} does not exist. "
                         "Make one: python -m venv .venv-bench && .venv-bench/bin/pip install -e '.[bench]'")
    named = [w for w in args.workload or [] if w.lower() not in CURVE_IDS]
    curves = {w.lower() for w in args.workload or []} & CURVE_IDS
    try:
        args.workloads = [] if args.no_main or (args.workload and not named) else select(named)
    except ValueError as exc:
        parser.error(str(exc))
    args.curves = not args.no_main and (not args.workload or "w9" in curves)
    args.large = args.large or "w9l" in curves
    if args.database_url and (args.curves or args.large):
        print("W9/W9L compare database files on disk: skipped with --database-url", file=sys.stderr)
        args.curves = args.large = False
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    pythons = {"runelog": sys.executable}
    if "mlflow" in args.compare:
        pythons["mlflow"] = args.mlflow_python
    pythons["sqlite"] = sys.executable
    main_engines = list(pythons)
    if args.curves or args.large:
        if "trackio" in args.compare:
            pythons["trackio"] = args.trackio_python
        pythons["designed"] = sys.executable
    with Runner(pythons, tiny=args.tiny, repeat=args.repeat, database_url=args.database_url,
                profile_dir=args.profile, in_process=args.in_process) as runner:
        versions = runner.versions()
        measured = [(workload, runner.measure(workload)) for workload in args.workloads]
        curves = [measure_curves(runner)] if args.curves else []
        if args.large:
            curves.append(measure_curves(runner, large=True, budget_s=args.large_budget))
        ladder = runner.ladder(args.scale, args.memory) if (args.scale or args.memory) else None
    if args.json:  # saved before rendering: a report bug must not lose an hour of measuring
        raw = {"argv": argv, "versions": versions, "ladder": ladder, "curves": curves,
               "measured": [{"workload": w.label, "results": r} for w, r in measured]}
        Path(args.json).write_text(json.dumps(raw, indent=1, default=str))
    document = report.document(versions, argv, measured, main_engines, ladder, args.repeat)
    report.print_document("\n".join([document] + [curves_report.section(c, args.repeat) for c in curves]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
