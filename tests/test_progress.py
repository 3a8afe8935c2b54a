"""Progress bars appear for big artifacts on a terminal, and never in pipes or logs."""

import os
import pty
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import os, sys
    from runelog import get_tracker
    with open("big.bin", "wb") as fh:
        fh.truncate(65 * 1024 * 1024)  # just over the 64 MiB threshold
    with open("small.bin", "wb") as fh:
        fh.write(b"x" * 1024)
    t = get_tracker(".")
    with t.start_run(log_code=False) as run_id:
        t.log_artifact("big.bin")
        t.log_artifact("small.bin")
    t.download_artifact(run_id, "big.bin", "out")
    t.download_artifact(run_id, "small.bin", "out")
    print("DONE", file=sys.stderr)
""")


def run_on(tmp_path, terminal: bool) -> str:
    (tmp_path / "script.py").write_text(SCRIPT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNELOG_")}
    if not terminal:
        done = subprocess.run([sys.executable, "script.py"], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stderr
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "script.py"], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                            stderr=follower, stdin=subprocess.DEVNULL)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=120) == 0
    os.close(leader)
    return b"".join(chunks).decode(errors="replace")


def test_big_artifacts_show_progress_on_a_terminal(tmp_path):
    shown = run_on(tmp_path, terminal=True)
    assert "logging big.bin" in shown and "downloading big.bin" in shown
    assert "small.bin" not in shown
    assert "DONE" in shown


def test_no_progress_output_when_not_a_terminal(tmp_path):
    assert run_on(tmp_path, terminal=False).strip() == "DONE"
