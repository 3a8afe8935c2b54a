"""Errors of the model registry; 0.2.0's RegistryError stays the base its `except` clauses name."""

from __future__ import annotations

from .base import InvalidInput, NotFound, RunelogException


class RegistryError(RunelogException):
    """0.2.0's base of registry errors, kept for its `except` clauses; each subclass is also under one of
    NotFound / InvalidInput."""


class ModelVersionNotFound(NotFound):
    hint = "List its versions with tracker.get_model_versions(name)."
    hint_cli = "List its versions with `runelog registry get-versions NAME`."

    # None where the model itself is unknown (ModelNotFound) or the version text was invalid.
    model_name: str | None
    version: str | None

    def __init__(self, model_name: str, version: str):
        self.model_name = model_name
        self.version = version
        super().__init__(
            f"Model '{model_name}' version '{version}' not found. {self.hint}"
        )


class ModelNotFound(ModelVersionNotFound):
    """An unknown model, which has no versions either.

    0.2.0 raised ModelNotFound for it in load_registered_model and
    ModelVersionNotFound in add_model_tags/get_model_tags; one class that is
    both keeps either `except` clause working.
    """

    hint = "Register it first with tracker.register_model(run_id, artifact_name, model_name)."
    hint_cli = "See the registered models with `runelog registry list`; register one with `runelog registry register`."

    def __init__(self, model_name: str):
        self.model_name = model_name
        self.version = None
        RunelogException.__init__(self,
            f"Model '{model_name}' not found in registry. {self.hint}"
        )


class NoVersionsFound(ModelNotFound):
    version = "latest"

    hint = "Register one with tracker.register_model()."
    hint_cli = "Register one with `runelog registry register RUN ARTIFACT NAME`."

    def __init__(self, model_name: str):
        self.model_name = model_name
        RunelogException.__init__(self, f"No versions found for model '{model_name}'. {self.hint}")


class DuplicateModelRegistration(RegistryError, InvalidInput):
    """0.2.0's name, kept so code importing it runs; never raised: registering always makes a new version."""

    def __init__(self, model_name: str, version: str):
        self.model_name = model_name
        self.version = version
        super().__init__(f"Model '{model_name}' version '{version}' already exists.")


class InvalidModelVersion(RegistryError, ModelVersionNotFound, InvalidInput):
    """A version that is no whole number ("abc", "0", "²"): 0.2.0 said ModelVersionNotFound for it."""

    def __init__(self, version: str):
        self.version = version
        self.model_name = None
        RunelogException.__init__(self,
            f"Invalid model version format: '{version}'. Use a whole number such as '1', or 'latest'."
        )


class InvalidModelName(InvalidInput, ValueError):
    """A model name that could not be read back or typed: blank, or with a control character."""

    def __init__(self, name: str, reason: str):
        self.model_name = name
        super().__init__(f"The model name {name!r} {reason}; give the model a name you can type "
                         "(letters, digits, spaces inside, '-', '_', '.', '/').")


class InvalidAlias(InvalidInput, ValueError):
    def __init__(self, alias: str):
        self.alias = alias
        super().__init__(
            f"'{alias}' cannot be a model alias: start with a letter, then use letters, digits, '_', '-' or '.' "
            "(up to 100 characters; 'latest' is reserved)."
            + (f" A version number goes after '/': NAME/{alias}." if str(alias).isdigit() else "")
        )


class ModelSourceRunDeleted(NotFound):
    """A model version whose source run was deleted: the version stays, but it has no run to follow."""

    def __init__(self, model: str, version: str | None = None):
        self.model_name, self.version = model, version
        shown = f"{model}/{version}" if version else model
        super().__init__(
            f"The run that produced model '{shown}' was deleted, so it has no lineage or run to show. "
            "The registered version and its file are still there (tracker.load_registered_model).")
