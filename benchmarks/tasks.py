"""Workloads whose procedure is the same for every engine; the engine supplies the body.

W7 times whole new interpreters; W8/W8r start several logging processes at
once and then count, through the engine's own read API, what arrived.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import tempfile
import time

from . import child, measure


def _engine(name: str):
    return importlib.import_module(f"benchmarks.on_{name}")


def startup(engine: str, store: str, experiment: str, **options) -> dict:
    """W7: `python -c "import <package>"`, then a new process making a new store + one run + one metric."""
    module = _engine(engine)
    args = ", ".join(repr(v) for v in (store, experiment))
    return {
        "import_s": measure.time_python(f"import {module.PACKAGE}", cwd=store),
        "new_store_s": measure.time_python(
            f"from benchmarks import on_{engine}; on_{engine}.one_metric({args})", cwd=store),
    }


def parallel(engine: str, store: str, experiment: str, processes: int, calls: int, **options) -> dict:
    """W8/W8r: `processes` processes log `calls` points each into one store, all at once.

    The time is the wall time from starting the first process to the end of
    the last, interpreter start-up included. Output goes to files, not pipes,
    so that a chatty process cannot block on a full pipe and skew the time.
    """
    worker = child.command(sys.executable, engine, "metric_worker",
                           dict(store=store, experiment=experiment, calls=calls, **options))
    outputs = [tempfile.TemporaryFile() for _ in range(processes)]
    start = time.perf_counter()
    procs = [subprocess.Popen(worker, cwd=store, env=child.environment(), stdout=out, stderr=out)
             for out in outputs]
    codes = [p.wait() for p in procs]
    seconds = time.perf_counter() - start
    failures = []
    for code, out in zip(codes, outputs, strict=True):
        out.seek(0)
        text = out.read().decode(errors="replace")
        if code != 0:
            failures.append(child.error_line(text) if text.strip() else f"exit {code}")
        out.close()
    checks = {"expected_points": processes * calls, "errors": len(failures)}
    try:
        checks.update(_engine(engine).verify(store, experiment, **options))
    except Exception as exc:  # the store cannot even be read back: that is the finding
        checks.update(store_opens=False, points=0, error=f"{type(exc).__name__}: {exc}"[:300])
    checks["ok"] = (not failures and checks.get("points") == processes * calls
                    and checks.get("experiments") == 1 and checks.get("schema_ok", False))
    return {"s": seconds, "checks": checks, "failures": failures[:3]}
