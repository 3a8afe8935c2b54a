"""The benchmark harness still runs: every workload at a tiny size, no timing asserted.

Figures are not checked (this machine and CI are shared and noisy); what is
checked is that every workload produced a figure, that its correctness checks
passed, and that the report renders. MLflow is not needed: --compare is not used.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from benchmarks.__main__ import main
from benchmarks.workloads import WORKLOADS

from .conftest import REPO


@pytest.fixture(scope="module")
def tiny_report() -> str:
    """One in-process run of the whole harness (W7/W8 still start their own processes)."""
    with pytest.MonkeyPatch.context() as mp:
        for var in ("RUNELOG_HOME", "RUNELOG_DATABASE_URL", "RUNELOG_ARTIFACT_ROOT"):
            mp.delenv(var, raising=False)
        captured: list[str] = []
        mp.setattr("benchmarks.report.print_document", captured.append)
        assert main(["--tiny", "--in-process", "--repeat", "1", "--scale", "--memory", "--large"]) == 0
    return captured[0]


def _row(report: str, label: str) -> list[str]:
    line = next(line for line in report.splitlines() if line.startswith(f"| {label}:"))
    return [c.strip() for c in line.strip("|").split("|")]


@pytest.mark.parametrize("workload", WORKLOADS, ids=lambda w: w.label)
def test_every_workload_produces_a_figure(tiny_report, workload):
    cells = _row(tiny_report, workload.label)
    ours = cells[2]
    assert ours[0].isdigit(), f"{workload.label}: runelog cell is {ours!r}"
    if "sqlite" in workload.engines:
        assert cells[3][0].isdigit(), f"{workload.label}: raw sqlite3 cell is {cells[3]!r}"


def test_correctness_checks_pass_and_nothing_failed(tiny_report):
    checks = tiny_report.split("## Correctness checks", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in checks.splitlines() if line.startswith("| W")]
    assert {line.split("|")[1].strip() for line in rows} == {"W4", "W5", "W8", "W8r"}
    parallel_ok = re.compile(r"1× (\d+)/\1 points, 0 failed processes, 1 experiment\(s\), integrity ok.*")
    for line in rows:
        for cell in line.strip("|").split("|")[1:]:
            assert cell.strip() == "1× ok" or parallel_ok.fullmatch(cell.strip()), line
    assert "error:" not in tiny_report and "error(s)" not in tiny_report


def test_scale_and_memory_sections_render(tiny_report):
    scale = tiny_report.split("## Scale", 1)[1]
    assert "| runelog | 120 |" in scale and "| raw sqlite3 | 120 |" in scale
    memory = tiny_report.split("## Memory", 1)[1]
    # In-process, the RSS is pytest's own: only that the rows render is checked.
    assert "| W5 load_results of 20 runs |" in memory and "| log_artifact of a 2 MiB file" in memory


def test_cli_measures_in_fresh_processes(tmp_path):
    """The real path: `python -m benchmarks` spawning one child process per measurement."""
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--tiny", "--repeat", "1", "--workload", "W1"],
                          cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert _row(done.stdout, "W1 commit per call")[2][0].isdigit(), done.stdout


def _curve_rows(report: str, label: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip("|").split("|")] for line in report.splitlines()
            if line.startswith(f"| {label}: ")]


@pytest.mark.parametrize("label", ["W9", "W9L"])
def test_long_curves_give_every_figure_for_runelog_and_the_designed_layout(tiny_report, label):
    """Issue 15's shape: each figure has a runelog and a raw-sqlite3 (designed) number, reads check out."""
    from benchmarks.curves import FIGURES

    rows = _curve_rows(tiny_report, label)
    assert len(rows) == len(FIGURES)
    for cells in rows:
        assert cells[2][0].isdigit() and cells[3][0].isdigit(), cells
    section = tiny_report.split(f"## {label}: ", 1)[1].split("\n## ", 1)[0]
    assert "- every read returned the expected number of rows" in section


def test_large_curves_stop_at_the_budget_and_say_what_is_projected():
    """W9L with no time left after the first chunk: measured on what exists, the rest labelled linear."""
    captured: list[str] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("benchmarks.report.print_document", captured.append)
        assert main(["--tiny", "--in-process", "--repeat", "1", "--workload", "W9L", "--large-budget", "0"]) == 0
    section = captured[0].split("## W9L: ", 1)[1]
    assert "| runelog | 4 | 400 |" in section and "(linear)" in section
    assert _curve_rows(captured[0], "W9L") and not _curve_rows(captured[0], "W9")
