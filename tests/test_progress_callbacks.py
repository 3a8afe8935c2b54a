"""The one progress signature, progress(done, total), and the CLI's bars built on it."""

import os
import pty
import subprocess
import sys

from runelog import get_tracker
from runelog.progress import Reporter


def test_a_reporter_calls_progress_with_absolute_counts():
    calls = []
    report = Reporter(lambda done, total: calls.append((done, total)), total=3)
    report.advance()
    report.advance(2)
    assert calls == [(0, 3), (1, 3), (3, 3)]
    unknown = []
    counter = Reporter(lambda done, total: unknown.append((done, total)))
    counter.advance()
    counter.set_total(1)
    assert unknown == [(0, None), (1, None), (1, 1)]
    Reporter(None, total=5).advance()  # no callback: nothing to call, no error


def on_terminal(args: list[str], cwd) -> tuple[int, str]:
    """Run the command line with stderr on a pseudo-terminal, so its bars draw."""
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNELOG_")}
    proc = subprocess.Popen([sys.executable, "-c", "from runelog.cli import main; main()", *args], cwd=cwd,
                            env=env, stdout=subprocess.PIPE, stderr=follower, stdin=subprocess.DEVNULL)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    out = proc.stdout.read().decode()
    code = proc.wait(timeout=120)
    os.close(leader)
    return code, out + b"".join(chunks).decode(errors="replace")


def test_verify_on_a_terminal_counts_blobs(tmp_path):
    """The bar once got each blob's hash as its step (a TypeError on a terminal only)."""
    tracker = get_tracker(str(tmp_path))
    for n in range(3):
        data = tmp_path / f"file{n}.txt"
        data.write_text(f"contents {n}")
        with tracker.start_run(experiment_name="e", log_code=False):
            tracker.log_artifact(str(data))
    tracker.close()
    code, shown = on_terminal(["--store", str(tmp_path), "verify"], tmp_path)
    assert code == 0, shown
    assert "All 3 blobs verified" in shown
