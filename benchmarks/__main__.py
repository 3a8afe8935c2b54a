"""`python -m benchmarks`: run the workloads and print the markdown report on stdout.

Progress goes to stderr, so `python -m benchmarks … > report.md` keeps only the report.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import report
from .child import REPO
from .runner import Runner
from .workloads import WORKLOADS, select

DEFAULT_MLFLOW_PYTHON = REPO / ".venv-bench" / "bin" / "python"


def parse_args(argv: list[str]) -> argparse.Namespace:
    ids = sorted({w.id for w in WORKLOADS}, key=lambda i: (int(i[1:].rstrip("r")), i))
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--workload", nargs="+", metavar="W", help=f"only these ({', '.join(ids)}); default all")
    parser.add_argument("--compare", choices=["mlflow"], help="also run every workload through MLflow")
    parser.add_argument("--database-url", help="runelog's metadata in this database (e.g. PostgreSQL); "
                                               "workloads needing a new store are skipped")
    parser.add_argument("--repeat", type=int, default=3, help="fresh-process measurements per workload (3)")
    parser.add_argument("--scale", action="store_true", help="W4, W5 and lineage at 2,000 / 20,000 / 200,000 runs")
    parser.add_argument("--memory", action="store_true", help="peak RSS of W5 at 20,000 runs and of a 1 GiB artifact")
    parser.add_argument("--mlflow-python", default=str(DEFAULT_MLFLOW_PYTHON),
                        help="interpreter with mlflow installed (default: .venv-bench/bin/python)")
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
    if args.compare == "mlflow" and not Path(args.mlflow_python).exists():
        parser.error(f"--compare mlflow needs an interpreter with mlflow; {args.mlflow_python} does not exist. "
                     "Make one: python -m venv .venv-bench && .venv-bench/bin/pip install -e '.[bench]'")
    try:
        args.workloads = [] if args.no_main else select(args.workload)
    except ValueError as exc:
        parser.error(str(exc))
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    pythons = {"runelog": sys.executable}
    if args.compare == "mlflow":
        pythons["mlflow"] = args.mlflow_python
    pythons["sqlite"] = sys.executable
    with Runner(pythons, tiny=args.tiny, repeat=args.repeat, database_url=args.database_url,
                profile_dir=args.profile, in_process=args.in_process) as runner:
        versions = runner.versions()
        measured = [(workload, runner.measure(workload)) for workload in args.workloads]
        ladder = runner.ladder(args.scale, args.memory) if (args.scale or args.memory) else None
    if args.json:  # saved before rendering: a report bug must not lose an hour of measuring
        raw = {"argv": argv, "versions": versions, "ladder": ladder,
               "measured": [{"workload": w.label, "results": r} for w, r in measured]}
        Path(args.json).write_text(json.dumps(raw, indent=1, default=str))
    report.print_document(report.document(versions, argv, measured, list(pythons), ladder, args.repeat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
