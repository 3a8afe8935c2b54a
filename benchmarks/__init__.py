"""runelog's benchmark harness (issue 6): `python -m benchmarks --help`.

Every measurement runs in a fresh Python process (`benchmarks.child`), so
import caches, SQLAlchemy's statement cache and the page cache of one
measurement do not flatter the next. Modules, one job each:

    workloads.py   what is measured: the W1..W8r table, sizes, targets, the issue's figures
    on_runelog.py  the workloads through runelog's public API
    on_mlflow.py   the same through MLflow's tracking API (SQLAlchemy store on SQLite)
    on_sqlite.py   the raw sqlite3 reference: the floor the library sits on
    on_designed.py raw sqlite3 with issue 15's layout (series + points WITHOUT ROWID): W9's floor
    on_trackio.py  W9 through trackio (Hugging Face's local tracker)
    curves.py      W9 / W9L (issue 15): long metric curves, their figures, sizes and targets
    curves_runner.py  populates one store per engine, then reads it in fresh processes
    curves_report.py  W9 / W9L as markdown: a column per engine, ratios, projections
    tasks.py       workloads whose logic is the same for every engine (W7, W8)
    measure.py     timers, disk usage, peak RSS, test files, helper processes
    child.py       the entry point of one measured process
    runner.py      spawns the children (alternating engines), prepares stores, repeats
    report.py      markdown tables and the machine header
"""
