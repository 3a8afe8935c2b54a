"""Run the bundled iris sweep through the Python API and print the ranking.

    python examples/sweep/run_sweep.py
"""

from pathlib import Path

from runelog import get_tracker
from runelog.sweep import run_sweep


def main() -> None:
    result = run_sweep(Path(__file__).with_name("iris_sweep.yaml"),
                       progress=lambda done, total: print(f"{done}/{total} runs done"),
                       raise_on_failure=False)
    ranking = get_tracker().find_runs(result.experiment_name, order_by="metrics.accuracy_score DESC")
    for run in ranking:
        print(f"{run.run_name:<12} accuracy {run.metrics.get('accuracy_score', float('nan')):.3f}")
    for spec_id, error in result.failed:
        print(f"{spec_id}: FAILED {error}")
    if not result.ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
