"""The root of every runelog error and the three bases callers catch: NotFound, InvalidInput, StoreError."""

from __future__ import annotations


class RunelogException(Exception):
    """Base class for all runelog errors.

    A message may end with advice for Python callers (`hint`); a class that also
    sets `hint_cli` gives the command line's advice instead, through cli_message().
    """

    hint = ""
    hint_cli = ""

    def cli_message(self) -> str:
        """The message as the command line shows it: CLI commands in place of Python calls."""
        text = str(self)
        if self.hint and self.hint_cli and self.hint in text:
            return text.replace(self.hint, self.hint_cli)
        return text


class NotFound(RunelogException):
    """Base of every "no such thing" error: experiment, run, artifact, model, dataset, store."""


class InvalidInput(RunelogException):
    """Base of every "the call was wrong" error: a bad argument, or a call made at the wrong time."""


class StoreError(RunelogException):
    """Base of every "the store itself is the problem" error: unreadable, damaged, too new, read-only."""


class ExtraNotInstalled(InvalidInput, ImportError):
    """A feature whose optional dependencies are not installed (`pip install "runelog[EXTRA]"`)."""

    def __init__(self, feature: str, package: str, extra: str):
        self.feature, self.package, self.extra = feature, package, extra
        InvalidInput.__init__(
            self, f"{feature} needs {package}, which the `{extra}` extra installs: pip install \"runelog[{extra}]\"")
        self.name = package

    def __str__(self) -> str:
        return str(self.args[0])
