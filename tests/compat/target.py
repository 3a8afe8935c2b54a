"""What the compat suite runs against, and how it calls the `runelog` command.

The suite encodes what runelog 0.2.0 did. It runs in-process against this
package, and test_against_020.py runs the same modules inside a venv that has
the real 0.2.0 wheel installed, with RUNELOG_COMPAT_TARGET=0.2.0. There, the
checks marked `fixed_020_bug` (0.2.0 bugs this package fixes on purpose, listed
in docs/migrating.md) are skipped.

The `runelog` console script is called through its entry point in this
process (fast), or as a real process when RUNELOG_COMPAT_CLI=subprocess.
Either way stdin, stdout, stderr and argv are the script's own, at 80 columns.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

AGAINST_020 = os.environ.get("RUNELOG_COMPAT_TARGET") == "0.2.0"
CLI_MODE = os.environ.get("RUNELOG_COMPAT_CLI", "in-process")

fixed_020_bug = pytest.mark.skipif(
    AGAINST_020, reason="checks a fix of a 0.2.0 bug (docs/migrating.md); 0.2.0 had the bug")

SCRIPT = Path(sys.executable).parent / ("runelog.exe" if os.name == "nt" else "runelog")


class MockModel:
    """A picklable stand-in for a trained model (0.2.0's tests used this shape)."""

    def __init__(self, val=1):
        self.val = val


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """What a person at the terminal reads: both streams."""
        return self.stdout + self.stderr


def _environment() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNELOG_") or k == "RUNELOG_COMPAT_TARGET"}
    env.update(COLUMNS="80", LINES="40")
    return env


def _entry_point():
    """The function the `runelog` console script calls (from the installed distribution's metadata)."""
    from importlib.metadata import entry_points

    import runelog

    found = [ep for ep in entry_points(group="console_scripts", name="runelog")
             if ep.dist is None or ep.dist.version == runelog.__version__]
    assert found, f"no `runelog` console script for runelog {runelog.__version__}"
    return found[0].load()


def runelog_cli(*args: str, input: str | None = None, cwd: str | os.PathLike | None = None,
                mode: str | None = None) -> Result:
    """Run `runelog ARGS...` with `input` on stdin, as a user at a shell would."""
    args = tuple(str(a) for a in args)
    if (mode or CLI_MODE) == "subprocess":
        done = subprocess.run([str(SCRIPT), *args], input=input or "", capture_output=True, text=True,
                              cwd=cwd, env=_environment(), timeout=300)
        return Result(done.returncode, done.stdout, done.stderr)

    main = _entry_point()
    saved = sys.argv, sys.stdin, sys.stdout, sys.stderr, sys.excepthook, dict(os.environ), os.getcwd()
    main_module = sys.modules["__main__"]
    package = getattr(main_module, "__package__", None)
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        os.environ.clear()
        os.environ.update(_environment())
        if cwd is not None:
            os.chdir(cwd)
        sys.argv = [str(SCRIPT), *args]
        main_module.__package__ = None  # so that usage lines say `runelog`, not `python -m pytest`
        sys.stdin = io.StringIO(input or "")
        sys.stdout, sys.stderr = out, err
        try:
            main()
        except SystemExit as stop:
            if stop.code is None or isinstance(stop.code, int):
                code = stop.code or 0
            else:  # sys.exit("message"): printed, exit status 1
                print(stop.code, file=err)
                code = 1
        except Exception:  # what the interpreter does with an uncaught exception
            traceback.print_exc(file=err)
            code = 1
    finally:
        sys.argv, sys.stdin, sys.stdout, sys.stderr, sys.excepthook, environ, cwd_before = saved
        os.environ.clear()
        os.environ.update(environ)
        os.chdir(cwd_before)
        main_module.__package__ = package
    return Result(code, out.getvalue(), err.getvalue())
