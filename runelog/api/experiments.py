"""Experiments and runs as things to create, list and delete."""

from __future__ import annotations

import os
from pathlib import Path

from .. import exceptions, queries, results_frame, runs
from .base import StoreHandle


class ExperimentsAPI(StoreHandle):
    def get_or_create_experiment(self, name: str) -> str:
        with self._write() as s:
            return str(runs.get_or_create_experiment(s, name))

    def list_experiments(self) -> list[dict]:
        """Every experiment's id and name (0.2.0's shape)."""
        with self._read() as s:
            return [{"experiment_id": e["experiment_id"], "name": e["name"]}
                    for e in queries.experiment_summaries(s)]

    def get_experiment(self, experiment_id: str) -> dict | None:
        """An experiment's id and name, or None if there is none with that id."""
        with self._read() as s:
            return runs.experiment_by_id(s, experiment_id)

    def delete_experiment(self, experiment_name_or_id: str) -> None:
        """Delete an experiment with all its runs. Their blobs go at the next `gc()`."""
        with self._write() as s:
            experiment = runs.resolve_experiment(s, experiment_name_or_id)
            if self._active is not None and self._active.experiment_id == str(experiment.id):
                raise exceptions.ExperimentHasActiveRun(experiment.name, self._active.id)
            runs.delete_experiment(s, experiment)
        self._experiment_ids.clear()

    def export_runs(self, experiment: str, path: str | os.PathLike | None = None) -> tuple[Path, int]:
        """Write one row per run (name, status, times, params, tags, latest metrics), oldest first.

        The format follows the suffix of `path`: .csv, .json or .parquet (checked
        before anything is read; default `<experiment name>_export.csv`). Returns
        (path, runs written); an experiment with no runs writes no file.
        """
        from .. import exporting

        if path is not None:
            exporting.format_of(path)
        with self._read() as s:  # the services directly: a mixin uses StoreHandle only, not its siblings
            rows = queries.run_table(s, experiment)
        if path is None:
            with self._read() as s:
                name = runs.resolve_experiment(s, experiment).name
            path = f"{name.replace(' ', '_').replace('/', '_')}_export.csv"
        if not rows:
            return Path(path), 0
        with self._connection() as connection:
            results = results_frame.load_results(connection, experiment)
        frame = exporting.runs_frame(results, rows)
        exporting.write_frame(frame, path)
        return Path(path), len(frame)

    def delete_run(self, run_id: str) -> None:
        """Delete a run and its records. Its blobs go at the next `gc()` if nothing else uses them."""
        with self._write() as s:
            full_id = runs.resolve_run_id(s, run_id)
            if self._active is not None and full_id == self._active.id:
                raise exceptions.RunIsActive(full_id)
            runs.delete_run(s, full_id)
