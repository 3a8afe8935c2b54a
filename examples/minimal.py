"""The smallest useful runelog script: one run, a param, a metric over steps.

    python examples/minimal.py
"""

import math

from runelog import get_tracker


def main() -> None:
    tracker = get_tracker()
    with tracker.start_run(experiment_name="minimal") as run_id:
        tracker.log_param("learning_rate", 0.1)
        for step in range(20):
            tracker.log_metric("loss", math.exp(-0.1 * step), step=step)
    print(f"run {run_id[:8]}: final loss {tracker.get_run(run_id)['loss']:.4f}")


if __name__ == "__main__":
    main()
