"""The model registry: versions of named models, their tags and aliases.

A model reference is one string: `name` (newest version), `name/3`,
`name@alias` or `name@latest` (runelog.registry reads it, by syntax alone).
The 0.2.0 calls keep 0.2.0's pair form, `(model_name, version)` with version
"latest", a number or "@alias", where the name is taken literally.
"""

from __future__ import annotations

import logging
from typing import Any

from .. import artifacts, codec, registry, runs
from ..types import ModelVersionInfo
from .base import StoreHandle

log = logging.getLogger("runelog")


class RegistryAPI(StoreHandle):
    def register_model(self, run_id: str, artifact_name: str, model_name: str,
                       tags: dict | None = None) -> str:
        """Register a run's artifact as the next version of `model_name`; returns the version.

        Tags take what `set_tag` takes (numpy values, nested lists and dicts, None, bools).
        """
        with self._write() as s:
            full_id = runs.resolve_run_id(s, run_id)  # the run first, then the artifact, as 0.2.0 checked
            codec.check_artifact_name(artifact_name)
            version = registry.register(s, full_id, artifact_name, model_name, tags)
        log.info("Registered model '%s' version %s.", model_name, version)
        return str(version)

    def get_model_version(self, reference: str, version: str | int | None = None) -> ModelVersionInfo:
        """The version a reference names: `get_model_version("clf@champion")`, `("clf/3")`, `("clf")`.

        With `version`, the 0.2.0 pair form: `get_model_version("clf", "@champion")`.
        Raises ModelNotFound, NoVersionsFound, ModelVersionNotFound (no such number or
        alias), InvalidModelVersion or InvalidAlias.
        """
        with self._read() as s:
            return registry.get_info(s, reference, version)

    def load_model(self, reference: str) -> Any:
        """Unpickle the model a reference names (`"clf"`, `"clf/3"`, `"clf@champion"`), bytes verified first."""
        found = self.get_model_version(reference)
        return artifacts.load_pickled(self._blobs, found.sha256,
                                      f"model '{found.model_name}' version {found.version}")

    def load_registered_model(self, model_name: str, version: str = "latest") -> Any:
        """Unpickle a registered model ("latest", a number, or "@alias"), only after its bytes
        are verified against the registry. The name is taken literally (0.2.0); see load_model."""
        found = self.get_model_version(model_name, "latest" if version is None else version)
        return artifacts.load_pickled(self._blobs, found.sha256,
                                      f"model '{found.model_name}' version {found.version}")

    def add_model_tags(self, model_name: str, version: str, tags: dict) -> dict:
        with self._write() as s:
            return registry.add_tags(s, model_name, version, tags)

    def remove_model_tags(self, model_name: str, version: str, keys: list[str]) -> dict:
        with self._write() as s:
            return registry.remove_tags(s, model_name, version, keys)

    def get_model_tags(self, model_name: str, version: str) -> dict:
        return dict(self.get_model_version(model_name, "latest" if version is None else version).tags)

    def set_model_alias(self, model_name: str, alias: str, version: str) -> str:
        """Point an alias ("champion") at a version; load it with version="@champion"."""
        with self._write() as s:
            return str(registry.set_alias(s, model_name, alias, version))

    def delete_model_alias(self, model_name: str, alias: str) -> None:
        with self._write() as s:
            registry.delete_alias(s, model_name, alias)

    def get_model_aliases(self, model_name: str) -> dict[str, ModelVersionInfo]:
        """{alias: the version it points at} of a registered model, in alias order."""
        with self._read() as s:
            return registry.alias_infos(s, model_name)

    def list_registered_models(self, ascending: bool = True) -> list[str]:
        with self._read() as s:
            return registry.list_models(s, ascending)

    def latest_model_versions(self) -> list[ModelVersionInfo]:
        """Every registered model's newest version (with its aliases), by model name; a few queries in all."""
        with self._read() as s:
            return registry.latest_versions(s)

    def get_model_versions(self, model_name: str, sort_by: str | None = "version",
                           ascending: bool = False) -> list[dict]:
        with self._read() as s:
            return registry.versions(s, model_name, sort_by, ascending)
