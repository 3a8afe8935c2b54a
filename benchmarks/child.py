"""The entry point of one measured process: `python -m benchmarks.child ENGINE TASK JSON`.

ENGINE picks `benchmarks.on_<engine>`; TASK is a function there (or, for
workloads that are the same on every engine, in `tasks.py`) called with the
JSON object as keyword arguments. The process prints one line
`RESULT {...}`: the task's figures plus its own peak RSS. A fresh process per
measurement is the point: nothing cached by one measurement helps the next.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import sys
from pathlib import Path

MARK = "RESULT "
REPO = Path(__file__).resolve().parent.parent

# A user's own store settings must not leak into a benchmark; --database-url is the explicit way.
_STRIPPED = ("RUNELOG_HOME", "RUNELOG_DATABASE_URL", "RUNELOG_ARTIFACT_ROOT", "MLFLOW_TRACKING_URI")


def command(python: str, engine: str, task: str, kwargs: dict) -> list[str]:
    return [python, "-m", "benchmarks.child", engine, task, json.dumps(kwargs)]


def environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The child's environment: this one, plus the repository on PYTHONPATH (any interpreter
    can then import `benchmarks`), minus store settings."""
    env = {k: v for k, v in os.environ.items() if k not in _STRIPPED}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(extra or {})
    return env


def error_line(output: str) -> str:
    """The line of a traceback that names the exception (not SQLAlchemy's trailing help link)."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    for line in reversed(lines):
        head = line.split(":", 1)[0]
        if head.endswith(("Error", "Exception", "Exit", "Interrupt", "Failed")):
            return line[:300]
    return lines[-1][:300] if lines else "no output"


def parse(stdout: str) -> dict:
    for line in reversed(stdout.splitlines()):
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])
    raise ValueError("the child printed no RESULT line")


def run(engine: str, task: str, kwargs: dict) -> dict:
    """Call the task in this process (what a child does; the smoke test may do it too)."""
    from . import measure

    module = importlib.import_module(f"benchmarks.on_{engine}")
    function = getattr(module, task, None)
    if function is None:
        from . import tasks

        function = functools.partial(getattr(tasks, task), engine)
    result = dict(function(**kwargs) or {})
    result["peak_rss_mb"] = measure.peak_rss_mb()
    measure.dump_profile()
    return result


def main(argv: list[str]) -> None:
    engine, task, kwargs = argv[0], argv[1], json.loads(argv[2])
    print(MARK + json.dumps(run(engine, task, kwargs)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
