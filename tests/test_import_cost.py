"""What a training script pays for: logging a run loads neither pandas, lark nor PostgreSQL's dialect.

Timings belong to the benchmarks (W7); this checks the cause of a slow start, which does not vary with load.
"""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import json, sys, tempfile
from runelog import get_tracker
tracker = get_tracker(tempfile.mkdtemp())
with tracker.run("cost", tags={"a": 1}) as run:
    run.log_params({"lr": 0.1})
    for step in range(3):
        run.log_metrics({"loss": 1.0 / (step + 1)}, step=step)
tracker.latest_run("cost", tags={"a": 1})
tracker.close()
print(json.dumps(sorted(sys.modules)))
"""

HEAVY = ("pandas", "pyarrow", "numpy", "lark", "joblib", "sqlglot", "sqlalchemy.dialects.postgresql", "rich",
         "typer", "streamlit")


def test_logging_a_run_loads_no_heavy_module(tmp_path):
    found = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=tmp_path,
                           check=True)
    modules = json.loads(found.stdout.strip().splitlines()[-1])
    loaded = sorted({heavy for heavy in HEAVY for m in modules if m == heavy or m.startswith(heavy + ".")})
    assert loaded == [], f"the logging path imports {loaded}: import them inside the functions that need them"



READER = """
import json, sys, tempfile
from runelog import get_tracker
tracker = get_tracker(tempfile.mkdtemp())
with tracker.run("cost") as run:
    run.log_metric("acc", 0.5)
tracker.load_results("cost"); tracker.list_runs("cost"); tracker.get_experiment_runs("1")
tracker.find_runs("cost"); tracker.latest_run("cost")
print(json.dumps(sorted(sys.modules)))
"""


def test_reading_runs_without_a_filter_never_loads_the_grammar(tmp_path):
    found = subprocess.run([sys.executable, "-c", READER], capture_output=True, text=True, cwd=tmp_path, check=True)
    modules = json.loads(found.stdout.strip().splitlines()[-1])
    assert not [m for m in modules if m == "lark" or m.startswith("lark.")]
