"""Run the bundled iris sweep through the Python API and print the ranking.

    python examples/sweep/run_sweep.py
"""

from pathlib import Path

from runelog import get_tracker
from runelog.sweep import run_sweep


def main() -> None:
    result = run_sweep(Path(__file__).with_name("iris_sweep.yaml"),
                       progress=lambda spec, error: print(f"{spec}: {'FAILED ' + error if error else 'done'}"),
                       raise_on_failure=False)
    ranking = get_tracker().list_runs(result.experiment_name, sort_by="accuracy_score", descending=True)
    for row in ranking:
        print(f"{row['run_name']:<12} accuracy {row['metrics'].get('accuracy_score', float('nan')):.3f}")
    if not result.ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
