"""The exception classes, read over the source: every public one is raised somewhere, sits under one of
the three bases (or is a documented 0.2.0 name), and keeps its public import paths."""

from __future__ import annotations

import ast
import inspect
import pickle
from pathlib import Path

import pytest

import runelog
from runelog import exceptions

PACKAGE = Path(runelog.__file__).parent

# 0.2.0 names nothing raises any more, kept so that 0.2.0 code importing them runs (see the package docstring).
KEPT_FOR_0_2_0 = {"CorruptedMetadata", "DuplicateModelRegistration"}

# Classes under none of NotFound / InvalidInput / StoreError, and why (as tests/test_compat_api.py says).
OUTSIDE_THE_BASES = {
    "RunelogException": "the root",
    "RegistryError": "0.2.0's registry base; each of its subclasses is under one of the three",
    "SweepRunsFailed": "a summary of other runs' failures (each recorded with its own error)",
    "RunTerminated": "a SystemExit, so `except Exception` in user code does not swallow it",
}


# Added for raise sites in modules other helpers own (issue 14); each owner switches its site, then the
# entry goes. Until then a bare RunelogException stays in these files.
PENDING: dict[str, str] = {}  # class name -> where it will be raised, while a change is under way
PENDING_BARE: set[str] = set()


def public_classes() -> dict[str, type]:
    return {name: getattr(exceptions, name) for name in exceptions.__all__}


def raised_names() -> set[str]:
    """Names in a `raise` expression, or built in a `return` (factories such as BackupFailed.of,
    sqlite_file.translate), anywhere in the package: the CLI and the UI included."""
    names: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and node.exc is not None:
                tree = node.exc
            elif isinstance(node, ast.Return) and isinstance(node.value, (ast.Call, ast.IfExp)):
                tree = node.value
            else:
                continue
            for part in ast.walk(tree):
                if isinstance(part, ast.Name):
                    names.add(part.id)
                elif isinstance(part, ast.Attribute):
                    names.add(part.attr)
    return names


def test_every_public_exception_is_raised_somewhere():
    raised = raised_names()
    classes = public_classes()
    direct = {name for name in classes if name in raised}
    never = []
    for name, cls in classes.items():
        if name in direct or name in KEPT_FOR_0_2_0 or name in PENDING:
            continue
        if any(issubclass(other, cls) for other_name, other in classes.items() if other_name in direct):
            continue  # a base callers catch, such as NotFound or RegistryError
        never.append(name)
    assert never == [], f"never raised (remove them, or raise them): {never}"


def test_kept_0_2_0_names_are_documented():
    for name in KEPT_FOR_0_2_0:
        assert name in exceptions.__doc__


def test_every_exception_is_under_one_of_the_three_bases():
    bases = (exceptions.NotFound, exceptions.InvalidInput, exceptions.StoreError)
    for name, cls in public_classes().items():
        if name in OUTSIDE_THE_BASES:
            continue
        assert issubclass(cls, bases), name


def test_nothing_raises_a_bare_runelog_exception():
    for path in PACKAGE.rglob("*.py"):
        if path.relative_to(PACKAGE).as_posix() in PENDING_BARE:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                func = node.exc.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                assert name != "RunelogException", f"{path}:{node.lineno} raises a bare RunelogException"


def test_one_public_name_per_class():
    """Defined across the package's modules, each class is runelog.exceptions.X, as in 0.2.0."""
    for name, cls in public_classes().items():
        assert cls.__module__ == "runelog.exceptions", name
        assert cls.__qualname__ == name
        assert getattr(runelog.exceptions, name) is cls
    assert set(exceptions.__all__) == {name for name, value in inspect.getmembers(exceptions, inspect.isclass)
                                       if issubclass(value, BaseException)}


def test_an_error_survives_pickling():
    """Errors cross process boundaries (sweep workers): they must unpickle by their public name."""
    error = pickle.loads(pickle.dumps(exceptions.InvalidKey("the key is empty")))
    assert type(error) is exceptions.InvalidKey
    assert str(error) == "the key is empty"


@pytest.mark.parametrize("error, base, words", [
    (exceptions.SqlFileNotFound("q.sql"), exceptions.NotFound, ["q.sql", "does not exist"]),
    (exceptions.SqlFileNotText("q.sql"), exceptions.InvalidInput, ["q.sql", "UTF-8"]),
    (exceptions.ModelSourceRunDeleted("clf", "3"), exceptions.NotFound, ["clf/3", "deleted"]),
    (exceptions.ExtraNotInstalled("The UI", "Streamlit", "ui"), exceptions.InvalidInput, ['runelog[ui]']),
    (exceptions.InvalidDatabaseUrl("notaurl", "no scheme"), exceptions.InvalidInput, ["notaurl", "postgresql+psycopg://"]),
    (exceptions.DatabaseDriverNotInstalled("postgresql+psycopg://h/d", "psycopg", "No module named 'psycopg'"),
     exceptions.InvalidDatabaseUrl, ["psycopg", 'runelog[postgres]']),
])
def test_new_errors_name_the_thing_and_what_to_do(error, base, words):
    assert isinstance(error, base)
    for word in words:
        assert word in str(error)


def test_the_import_paths_0_2_0_used():
    from runelog.exceptions import ModelNotFound, RunelogException, RunNotFound  # noqa: F401

    assert runelog.RunNotFound is exceptions.RunNotFound
    assert issubclass(exceptions.DuplicateModelRegistration, exceptions.RegistryError)
    assert issubclass(exceptions.SweepFileNotFound, FileNotFoundError)
    assert issubclass(exceptions.StorageError, OSError)
