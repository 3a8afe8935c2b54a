"""Lineage questions: what a run used, what used it, which models came from which bytes."""

from __future__ import annotations

import os

from .. import lineage, runs
from ..types import ByteUse, LineageEdge, ModelVersionInfo
from ..blobs import check_digest, hash_file
from .base import StoreHandle


class LineageAPI(StoreHandle):
    def get_lineage(self, run_id: str, direction: str = "upstream", depth: int | None = None) -> list[LineageEdge]:
        """Runs upstream (what it used) or downstream (what used it) of a run, through any number of hops."""
        with self._read() as s:
            return lineage.edges(s, runs.resolve_run_id(s, run_id), direction, depth)

    def runs_using(self, sha256: str) -> list[ByteUse]:
        """Every run that logged, fingerprinted or consumed the bytes with this SHA-256."""
        with self._read() as s:
            return lineage.byte_uses(s, check_digest(sha256))

    def models_trained_on(self, run_id_or_sha256: str | None = None, *,
                          path: str | os.PathLike | None = None) -> list[ModelVersionInfo]:
        """Model versions trained downstream of a run, or on a file's exact bytes (a SHA-256 or a path)."""
        if path is not None:
            run_id_or_sha256 = hash_file(path)[0]
        if not isinstance(run_id_or_sha256, str):
            raise TypeError("Give a run id, a SHA-256, or path=.")
        with self._read() as s:
            if len(run_id_or_sha256) == 64:
                return lineage.model_versions_from(s, sha256=check_digest(run_id_or_sha256))
            return lineage.model_versions_from(s, run_id=runs.resolve_run_id(s, run_id_or_sha256))
