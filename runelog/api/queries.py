"""Reading runs: one run, runs of an experiment (find_runs and its 0.2.0-era forms), comparisons,
results frames, metric histories. Every call is a thin wrapper over runelog.queries, the one run query."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from .. import compare, datasets, exceptions, lineage, queries, results_frame, runs
from ..types import MetricPoint, RunComparison, RunInfo
from .base import StoreHandle


class QueriesAPI(StoreHandle):
    def get_experiment_runs(self, experiment_id: str, sort_by: str | None = "timestamp",
                            ascending: bool = True) -> list[dict]:
        with self._read() as s:
            return queries.experiment_runs(s, experiment_id, sort_by, ascending)

    def get_experiment_summaries(self, sort_by: str | None = None, ascending: bool = True) -> list[dict]:
        with self._read() as s:
            return queries.experiment_summaries(s, sort_by, ascending)

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
                    "artifacts": [a.name for a in runs.artifacts_of(s, run.id)],
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

    def find_runs(self, experiment: str, filter: str | None = None, order_by: str | list[str] | None = None,
                  limit: int | None = None, offset: int = 0, *, tags: dict | None = None,
                  status: str | list[str] | None = None) -> list[RunInfo]:
        """Runs of an experiment (name or id) as RunInfo, with params, tags and latest metric values.

        `filter` is MLflow's filter syntax (docs/querying.md), for example
        ``"metrics.val_acc > 0.9 and params.lr < 0.1 and tags.stage = 'prod'"``: metrics.,
        params., tags. and attributes. (status, run_name, run_id, start_time, end_time) keys;
        = != < <= > >= LIKE ILIKE IN NOT IN; AND, OR and parentheses; keys with / or spaces
        in backticks (metrics.`val/acc`). Metrics compare by their latest value.
        `order_by`: "metrics.val_acc DESC", "params.lr", "run_name", ... (a string, comma-separated
        terms, or a list); default newest first; runs missing a sort key come last.
        `limit` / `offset` page through that order (0 to 2^63-1). `tags={...}` keeps runs carrying
        every tag given (values compared by type); `status` one status or a list, in any case.

            best = tracker.find_runs("train", "metrics.val_acc > 0.9", order_by="metrics.val_acc DESC", limit=5)
            print([(r.id[:8], r.metrics["val_acc"], r.params["lr"]) for r in best])

        Raises ExperimentNotFound, InvalidFilter (with the position of the problem; also for more
        than 500 comparisons), InvalidValue (a bad limit, offset, status or tags).
        Every query takes the values as bound parameters; one query per table for the page.
        """
        with self._read() as s:
            return queries.find_runs(s, experiment, filter, order_by, limit, offset, tags=tags, status=status)

    def compare_runs(self, run_ids: list[str],
                     lower_is_better: bool | Mapping[str, bool] | Collection[str] | None = None) -> RunComparison:
        """Runs side by side: the params that differ, and per metric each run's latest value, the
        direction that counts as better, and the best run(s). Ids are full ids or unique prefixes.

        A metric's direction: `lower_is_better` when given (True/False for every metric, a dict
        {metric: bool}, a list of lower-is-better metrics or one name), else its name: loss, error, mse,
        rmse, mae and the like (val_loss, test/mse, error_rate) are lower-is-better, the rest higher.

            result = tracker.compare_runs([run_a, run_b])
            result.differing_params          # ('lr',)
            result.metrics["val_loss"]      # (0.31, 0.27): each run's latest value, in the order given
            result.best_run_ids["val_loss"] # (run_b,), direction in result.lower_is_better["val_loss"]

        Returns a frozen runelog.types.RunComparison (`.as_dict()` for JSON).
        Raises RunNotFound / AmbiguousRunId for an id, InvalidValue for an empty list.
        """
        with self._read() as s:
            return compare.compare_runs(s, run_ids, lower_is_better)

    def latest_run(self, experiment: str, tags: dict | None = None,
                   status: str | list[str] | None = "FINISHED") -> str | None:
        """Id of the newest run of `experiment` carrying every tag given (FINISHED ones by default)."""
        with self._connection() as connection:
            return queries.latest_run_id(connection, experiment, tags, status)

    def load_results(self, experiment_name_or_id: str, sort_by: str | None = None,
                     ascending: bool = True):
        """A DataFrame indexed by run_id: experiment_id, status, start/end time, param_*, metrics."""
        with self._connection() as connection:
            return results_frame.load_results(connection, experiment_name_or_id, sort_by, ascending)

    def list_runs(self, experiment: str, tags: dict | None = None, status: str | list[str] | None = None,
                  sort_by: str | None = None, descending: bool = False,
                  limit: int | None = None) -> list[dict]:
        """Runs with their params and latest metrics as dicts (no pandas), filtered and sorted.

        `sort_by` is a run column (start_time, status, ...), `param_<key>`, or a metric key of the
        experiment; anything else raises InvalidSortKey (a ValueError) listing the valid choices.
        """
        with self._read() as s:
            return queries.run_table(s, experiment, tags=tags, status=status, sort_by=sort_by,
                                     descending=descending, limit=limit)

    def experiment_overview(self, metric: str | None = None, lower_is_better: bool = False) -> list[dict]:
        """Every experiment with run counts by status, last run time, and its best value of `metric`."""
        with self._read() as s:
            return queries.experiment_overview(s, metric, lower_is_better)

    def list_metric_keys(self, experiment: str | None = None) -> list[str]:
        """Metric keys logged in an experiment (or in the whole store)."""
        with self._read() as s:
            return queries.metric_keys(s, experiment)

    def get_metric_summary(self, run_id: str) -> list[dict]:
        """Each metric of a run: latest value, its step, and the number of points."""
        with self._read() as s:
            return queries.metric_summary(s, runs.resolve_run_id(s, run_id))

    def get_metric_history(self, run_id: str, key: str):
        """Every point of a metric: a DataFrame of step, value, timestamp."""
        with self._read() as s:
            return queries.metric_history(s, runs.resolve_run_id(s, run_id), key)

    def get_metric_points(self, run_id: str, key: str) -> list[MetricPoint]:
        """Every point of a metric as MetricPoints (step, value, UTC timestamp), without pandas."""
        with self._read() as s:
            return queries.metric_points(s, runs.resolve_run_id(s, run_id), key)

