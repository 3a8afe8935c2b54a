"""The model registry: versions of named models, their tags and aliases."""

from __future__ import annotations

import logging
from typing import Any

from .. import artifacts, codec, registry, runs
from .base import StoreHandle

log = logging.getLogger("runelog")


class RegistryAPI(StoreHandle):
    def register_model(self, run_id: str, artifact_name: str, model_name: str,
                       tags: dict | None = None) -> str:
        """Register a run's artifact as the next version of `model_name`; returns the version."""
        with self._write() as s:
            full_id = runs.resolve_run_id(s, run_id)  # the run first, then the artifact, as 0.2.0 checked
            codec.check_artifact_name(artifact_name)
            version = registry.register(s, full_id, artifact_name, model_name, tags)
        log.info("Registered model '%s' version %s.", model_name, version)
        return str(version)

    def load_registered_model(self, model_name: str, version: str = "latest") -> Any:
        """Unpickle a registered model ("latest", a number, or "@alias"), only after its bytes
        are verified against the registry."""
        with self._read() as s:
            row = registry.get_version(s, model_name, version)
            digest, number = row.sha256, row.version
        return artifacts.load_pickled(self._blobs, digest, f"model '{model_name}' version {number}")

    def add_model_tags(self, model_name: str, version: str, tags: dict) -> dict:
        with self._write() as s:
            return registry.add_tags(s, model_name, version, tags)

    def remove_model_tags(self, model_name: str, version: str, keys: list[str]) -> dict:
        with self._write() as s:
            return registry.remove_tags(s, model_name, version, keys)

    def get_model_tags(self, model_name: str, version: str) -> dict:
        with self._read() as s:
            return registry.version_dict(model_name, registry.get_version(s, model_name, version))["tags"]

    def set_model_alias(self, model_name: str, alias: str, version: str) -> str:
        """Point an alias ("champion") at a version; load it with version="@champion"."""
        with self._write() as s:
            return str(registry.set_alias(s, model_name, alias, version))

    def delete_model_alias(self, model_name: str, alias: str) -> None:
        with self._write() as s:
            registry.delete_alias(s, model_name, alias)

    def get_model_aliases(self, model_name: str) -> dict[str, str]:
        """{alias: version} of a registered model."""
        with self._read() as s:
            return registry.aliases(s, model_name)

    def list_registered_models(self, ascending: bool = True) -> list[str]:
        with self._read() as s:
            return registry.list_models(s, ascending)

    def get_model_versions(self, model_name: str, sort_by: str | None = "version",
                           ascending: bool = False) -> list[dict]:
        with self._read() as s:
            return registry.versions(s, model_name, sort_by, ascending)
