"""Reading runs: one run, runs of an experiment, results frames, metric histories."""

from __future__ import annotations

from .. import datasets, exceptions, lineage, results, runs
from .base import StoreHandle


class QueriesAPI(StoreHandle):
    def get_experiment_runs(self, experiment_id: str, sort_by: str | None = "timestamp",
                            ascending: bool = True) -> list[dict]:
        with self._read() as s:
            return results.experiment_runs(s, experiment_id, sort_by, ascending)

    def get_experiment_summaries(self, sort_by: str | None = None, ascending: bool = True) -> list[dict]:
        with self._read() as s:
            return results.experiment_summaries(s, sort_by, ascending)

    def get_run(self, run_id: str) -> dict | None:
        """A run's meta, `param_`-prefixed params and latest metric values; None if unknown."""
        try:
            with self._read() as s:
                run = runs.get_run_row(s, runs.resolve_run_id(s, run_id))
                params = {f"param_{k}": v for k, v in runs.params_of(s, run.id).items()}
                meta = dict(runs.run_meta(run), tags=runs.tags_of(s, run.id))
                return {**meta, **params, **runs.latest_metrics_of(s, run.id)}
        except exceptions.AmbiguousRunId:
            raise  # a prefix of several runs: say so rather than pretend there is none
        except exceptions.RunNotFound:  # unknown or malformed ("..", "/"): None, as in 0.2.0
            return None

    def get_run_details(self, run_id: str) -> dict | None:
        """meta, params, metrics (latest values), artifacts (names), datasets, inputs; None if unknown."""
        try:
            with self._read() as s:
                run = runs.get_run_row(s, runs.resolve_run_id(s, run_id))
                details = {
                    "meta": dict(runs.run_meta(run), tags=runs.tags_of(s, run.id)),
                    "params": runs.params_of(s, run.id),
                    "metrics": runs.latest_metrics_of(s, run.id),
                    "artifacts": [a["name"] for a in runs.artifacts_of(s, run.id)],
                    "datasets": datasets.datasets_of(s, run.id),
                    "inputs": lineage.inputs_of(s, run.id),
                }
                environment = runs.environment_of(run)
                if environment:
                    details["environment"] = environment
                return details
        except exceptions.AmbiguousRunId:
            raise
        except exceptions.RunNotFound:
            return None

    def find_runs(self, experiment: str, tags: dict | None = None, status: str | list[str] | None = None,
                  order_by: str = "start_time", descending: bool = True,
                  limit: int | None = None) -> list[dict]:
        """Runs of an experiment matching every tag given, newest first: one SQL query."""
        if order_by not in results.RUN_ORDER_COLUMNS:
            raise exceptions.InvalidSortKey(order_by, sorted(results.RUN_ORDER_COLUMNS))
        with self._read() as s:
            return results.find_runs(s, experiment, tags=tags, status=status, order_by=order_by,
                                     descending=descending, limit=limit)

    def latest_run(self, experiment: str, tags: dict | None = None,
                   status: str | list[str] | None = "FINISHED") -> str | None:
        """Id of the newest run of `experiment` carrying every tag given (FINISHED ones by default)."""
        with self._connection() as connection:
            return results.latest_run_id(connection, experiment, tags, status)

    def load_results(self, experiment_name_or_id: str, sort_by: str | None = None,
                     ascending: bool = True):
        """A DataFrame indexed by run_id: experiment_id, status, start/end time, param_*, metrics."""
        with self._connection() as connection:
            return results.load_results(connection, experiment_name_or_id, sort_by, ascending)

    def list_runs(self, experiment: str, tags: dict | None = None, status: str | list[str] | None = None,
                  sort_by: str | None = None, descending: bool = False,
                  limit: int | None = None) -> list[dict]:
        """Runs with their params and latest metrics as dicts (no pandas), filtered and sorted.

        `sort_by` is a run column (start_time, status, ...), `param_<key>`, or a metric key of the
        experiment; anything else raises InvalidSortKey (a ValueError) listing the valid choices.
        """
        with self._read() as s:
            rows = results.run_table(s, experiment, tags=tags, status=status, sort_by=sort_by,
                                     descending=descending, limit=limit)
            if sort_by is None or sort_by in results.RUN_ORDER_COLUMNS or _sort_keys(rows) >= {sort_by}:
                return rows
            # Not among these runs: valid if another run of the experiment has it (a filter hid it).
            everyone = results.run_table(s, experiment) if (tags or status) else rows
            choices = _sort_keys(everyone)
            if everyone and sort_by not in choices:  # an experiment with no runs has nothing to sort
                raise exceptions.InvalidSortKey(sort_by, sorted(results.RUN_ORDER_COLUMNS) + sorted(choices))
            return rows

    def experiment_overview(self, metric: str | None = None, lower_is_better: bool = False) -> list[dict]:
        """Every experiment with run counts by status, last run time, and its best value of `metric`."""
        with self._read() as s:
            return results.experiment_overview(s, metric, lower_is_better)

    def list_metric_keys(self, experiment: str | None = None) -> list[str]:
        """Metric keys logged in an experiment (or in the whole store)."""
        with self._read() as s:
            return results.metric_keys(s, experiment)

    def get_metric_summary(self, run_id: str) -> list[dict]:
        """Each metric of a run: latest value, its step, and the number of points."""
        with self._read() as s:
            return results.metric_summary(s, runs.resolve_run_id(s, run_id))

    def get_metric_history(self, run_id: str, key: str):
        """Every point of a metric: a DataFrame of step, value, timestamp."""
        with self._read() as s:
            return results.metric_history(s, runs.resolve_run_id(s, run_id), key)


def _sort_keys(rows: list[dict]) -> set[str]:
    """The value keys list_runs can sort these runs by: `param_<key>` and metric keys."""
    return {f"param_{k}" for r in rows for k in r["params"]} | {k for r in rows for k in r["metrics"]}
