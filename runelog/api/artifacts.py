"""Artifacts and datasets out of the store: list, locate, download, delete, verify."""

from __future__ import annotations

import os
from pathlib import Path

from .. import artifacts, codec, datasets, exceptions, lineage, runs
from ..types import ArtifactInfo
from .base import StoreHandle


class ArtifactsAPI(StoreHandle):
    def list_artifacts(self, run_id: str) -> list[ArtifactInfo]:
        """Each artifact of a run (name, sha256, size, created_at), by name."""
        with self._read() as s:
            return runs.artifacts_of(s, runs.resolve_run_id(s, run_id))

    def _artifact(self, run_id: str, artifact_name: str) -> tuple[str, str, int]:
        """(full run id, sha256, size) of a run's artifact."""
        with self._read() as s:
            full_id = runs.resolve_run_id(s, run_id)  # the run first: 0.2.0 said RunNotFound before anything
            codec.check_artifact_name(artifact_name)
            row = runs.artifact_row(s, full_id, artifact_name)
            return full_id, row.sha256, row.size

    def get_artifact_abspath(self, run_id: str, artifact_name: str) -> str:
        """Path of the artifact's (read-only) blob, after checking its bytes."""
        full_id, digest, _ = self._artifact(run_id, artifact_name)
        self._blobs.verify(digest, f"artifact '{artifact_name}' of run {full_id}")
        return str(self._blobs.path(digest))

    def download_artifact(self, run_id: str, artifact_name: str, destination_path: str = ".") -> str:
        """Copy an artifact to `destination_path/artifact_name`, verifying its hash on the way.

        The name of a folder logged with `log_artifact(folder)` downloads the whole
        folder (every artifact under `<name>/`) and returns the folder's path. A
        symlink in the destination that leads outside it is refused.
        """
        name = artifact_name.rstrip("/") if isinstance(artifact_name, str) and artifact_name != "/" else artifact_name
        codec.check_artifact_name(name)
        with self._read() as s:
            full_id = runs.resolve_run_id(s, run_id)
            try:
                rows = [runs.artifact_row(s, full_id, name)]
            except exceptions.ArtifactNotFound:  # a folder logged with log_artifact(folder)
                rows = runs.artifact_rows(s, full_id, runs.artifacts_under(s, full_id, name))
                if not rows:
                    raise
            found = [(row.name, row.sha256, row.size) for row in rows]
        artifacts.download(self._blobs, full_id, found, destination_path)
        return str(Path(destination_path).resolve().joinpath(*name.split("/")))  # as 0.2.0 returned it

    def delete_artifact(self, run_id: str, artifact_name: str) -> None:
        """Forget an artifact of a run. Its blob goes at the next `gc()` if nothing else uses it."""
        codec.check_artifact_name(artifact_name)
        with self._write() as s:
            runs.delete_artifact(s, runs.resolve_run_id(s, run_id), artifact_name)

    def verify_dataset(self, run_id: str, name: str, local_path: str | os.PathLike) -> dict:
        """Re-hash `local_path` against the fingerprint `run_id` logged as `name`; DatasetMismatch if not equal."""
        with self._read() as s:
            row = datasets.get_fingerprint(s, runs.resolve_run_id(s, run_id), name)
        return datasets.verify_file(row, local_path)

    def verify_input(self, run_id: str, name: str, local_path: str | os.PathLike | None = None) -> dict:
        """Check the bytes an input link pinned: a local copy if given, else the stored blob.

        Raises DatasetMismatch (local file differs), BlobCorrupted or BlobMissing.
        """
        with self._read() as s:
            link = lineage.input_link(s, runs.resolve_run_id(s, run_id), name)
            size = runs.artifact_size(s, link.source_run_id, link.artifact_name, link.sha256)
        pinned = link.sha256
        if pinned is None:
            raise exceptions.InputNotPinned(name, link.run_id)
        if local_path is None:
            self._blobs.verify(pinned, f"input '{name}' of run {link.run_id}")
        else:
            artifacts.check_local_copy(local_path, pinned, lambda actual, actual_size: exceptions.DatasetMismatch(
                name, str(local_path), link.source_run_id or "(deleted)", pinned, actual, size, actual_size))
        return {"name": link.name, "run_id": link.run_id, "source_run_id": link.source_run_id,
                "artifact_name": link.artifact_name, "sha256": link.sha256}
