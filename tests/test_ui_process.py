"""`runelog ui` as a process: SIGTERM stops the Streamlit server, frees the port and leaves no process behind."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runelog import get_tracker

pytest.importorskip("streamlit")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def accepts(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def descendants(pid: int) -> set[int]:
    """Every live process below `pid`, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
def test_sigterm_to_runelog_ui_stops_the_server_and_frees_the_port(tmp_path):
    t = get_tracker(str(tmp_path / "project"))
    with t.start_run(experiment_name="ui", log_code=False):
        t.log_metric("m", 1.0)
    t.close()
    port = free_port()
    runelog = [sys.executable, "-c", "from runelog.cli import main; main()"]  # the console script's body
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNELOG_")}
    server = subprocess.Popen([*runelog, "--store", str(tmp_path / "project"), "ui", "--port", str(port)],
                              env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    below: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        while not accepts(port):
            assert server.poll() is None, "runelog ui exited before serving"
            assert time.monotonic() < deadline, "runelog ui did not start serving within 60 s"
            time.sleep(0.2)
        below = descendants(server.pid)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
        deadline = time.monotonic() + 5
        while accepts(port) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not accepts(port), "the port is still served after SIGTERM"
        with socket.socket() as s:  # and it can be bound again: nothing holds it
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
        left = {pid for pid in below if alive(pid)}
        assert not left, f"processes left behind: {left}"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        for pid in below:  # a failed run must not leave a server behind either
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
