"""Running real worker processes against a store, for the reliability tests."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path


def script(tmp_path: Path, name: str, source: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def ctrl_c_as_a_terminal_gives_it() -> None:
    """preexec_fn: SIGINT at its default in the child, as a shell's foreground job has it.

    A job started in the background of a non-interactive shell (`make test &`) inherits
    SIGINT ignored, and Python keeps it ignored; the scripts these tests start stand
    for a user's script run from a terminal, where Ctrl-C arrives.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def spawn(path: Path, *args, cwd=None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNELOG_")}
    return subprocess.Popen([sys.executable, str(path), *map(str, args)], cwd=cwd or path.parent, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=ctrl_c_as_a_terminal_gives_it)


def start_together(seconds: float = 1.5) -> float:
    """A wall-clock moment a little ahead, for processes to wait for and then start at once."""
    return time.time() + seconds


WAIT_FOR_START = """
import sys, time
start = float(sys.argv[2])
while time.time() < start:
    time.sleep(0.001)
"""
