"""`runelog registry ...`"""

from __future__ import annotations

from enum import Enum
from typing import Optional

import typer

from .. import formatting
from .common import Table, console, fmt_time, literal, parse_pairs, print_json, short, show, tracker, tracker_if_any

app = typer.Typer(help="Register models and manage their versions and tags.", no_args_is_help=True)

Json = typer.Option(False, "--json", help="Print one JSON document instead of a table.")


def _tags(tags: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in tags.items()) or "—"


@app.command("register")
def register(run: str = typer.Argument(..., help="Run id or unique prefix."),
             artifact: str = typer.Argument(..., help="The model artifact's name, e.g. model.joblib."),
             name: str = typer.Argument(..., help="The model name to register under."),
             tag: Optional[list[str]] = typer.Option(None, "--tag", help="KEY=VALUE (repeatable).")) -> None:
    """Register a run's artifact as the next version of a model (no copy is made)."""
    version = tracker().register_model(run, artifact, name, tags=parse_pairs(tag, "--tag"))
    console.print(f"Registered {literal(name)} version {version}.")


class ModelSort(str, Enum):
    name = "name"
    version = "version"
    timestamp = "timestamp"


_MODEL_SORT_KEYS = {
    "name": lambda v: v.model_name.lower(),
    "version": lambda v: v.version,
    "timestamp": lambda v: v.created_at.isoformat() if v.created_at else "",
}


@app.command("list")
def list_models(sort_by: ModelSort = typer.Option(ModelSort.timestamp, "--sort-by", "-s", case_sensitive=False,
                                                  help="Sort by the model's name, its newest version number, "
                                                       "or when that version was registered."),
                desc: bool = typer.Option(True, "--desc/--asc", "-d", help="Descending (the default) or ascending."),
                as_json: bool = Json) -> None:
    """Every registered model with its newest version (newest registration first)."""
    t = tracker_if_any()
    latest = t.latest_model_versions() if t else []
    latest.sort(key=_MODEL_SORT_KEYS[sort_by.value], reverse=desc)
    if as_json:
        return print_json([v.as_dict() for v in latest])
    if not latest:
        where = "" if t else " (there is no .runelog/ store in this folder or above it yet)"
        console.print(f"No models found in the registry{where}. Register one with "
                      "`runelog registry register RUN ARTIFACT NAME`.", style="yellow")
        return
    table = Table("model", "latest version", "registered", "source run", "tags", title="Registered models")
    for v in latest:
        row = v.as_dict()
        table.add_row(v.model_name, row["version"], fmt_time(row["registration_timestamp"]),
                      short(v.run_id), _tags(v.tags))
    show(table)


@app.command("show")
def show_version(reference: str = typer.Argument(..., metavar="MODEL",
                                                 help="NAME (newest), NAME/3, NAME@ALIAS or NAME@latest."),
                 as_json: bool = Json) -> None:
    """One model version, named by a reference: what `load_model(MODEL)` would load."""
    v = tracker().get_model_version(reference)
    if as_json:
        return print_json(v.as_dict())
    row = v.as_dict()
    table = Table("field", "value", title=f"{v.model_name} version {v.version}")
    for field, value in (("aliases", ", ".join(v.aliases) or "—"), ("registered", fmt_time(row["registration_timestamp"])),
                         ("source run", v.run_id or "(deleted)"), ("artifact", v.artifact_name),
                         ("sha256", v.sha256), ("tags", _tags(v.tags))):
        table.add_row(field, value)
    show(table)


@app.command("get-versions")
def get_versions(name: str = typer.Argument(..., help="Model name."),
                 sort_by: str = typer.Option("version", "--sort-by", "-s", help="version or registration_timestamp."),
                 desc: bool = typer.Option(True, "--desc/--asc", "-d", help="Newest first (default)."),
                 as_json: bool = Json) -> None:
    """Every version of a model."""
    t = tracker()
    versions = t.get_model_versions(name, sort_by=sort_by, ascending=not desc)
    if as_json:
        return print_json(versions)
    if not versions:  # as 0.2.0: an empty answer, said plainly, not an error
        console.print(f"No versions found for model '{literal(name)}'. See the registered models with "
                      "`runelog registry list`.", style="yellow")
        return
    table = Table("version", "aliases", "registered", "source run", "artifact", "sha256", "tags",
                  title=f"Versions of {name}")
    for v in versions:
        table.add_row(v["version"], ", ".join(v["aliases"]), fmt_time(v["registration_timestamp"]),
                      short(v["source_run_id"]), v["artifact_name"], formatting.short_hash(v["sha256"]), _tags(v["tags"]))
    show(table)


@app.command("tag")
def tag(name: str = typer.Argument(..., help="Model name."),
        version: str = typer.Argument(..., help="Version number, latest, or @ALIAS."),
        add: Optional[list[str]] = typer.Option(None, "--add", "-a", help="KEY=VALUE to set (repeatable)."),
        remove: Optional[list[str]] = typer.Option(None, "--remove", "-r", help="KEY to remove (repeatable).")) -> None:
    """Add or remove tags of a model version."""
    t = tracker()
    tags = t.get_model_tags(name, version)
    if remove:
        tags = t.remove_model_tags(name, version, remove)
    if add:
        tags = t.add_model_tags(name, version, parse_pairs(add, "--add"))
    console.print(f"{literal(name)} v{literal(version)} tags: {literal(_tags(tags))}")


@app.command("alias")
def alias(name: str = typer.Argument(..., help="Model name."),
          alias_name: str = typer.Argument(..., metavar="ALIAS", help="The alias, e.g. champion."),
          version: Optional[str] = typer.Argument(None, help="Version to point it at (omit with --delete)."),
          delete: bool = typer.Option(False, "--delete", help="Remove the alias.")) -> None:
    """Point an alias at a model version (`load_registered_model(name, "@alias")`), or remove it."""
    t = tracker()
    if delete:
        t.delete_model_alias(name, alias_name)
        console.print(f"Removed alias {literal(alias_name)} of {literal(name)}.")
        return
    if version is None:
        raise typer.BadParameter("give the VERSION to point the alias at, or --delete", param_hint="VERSION")
    number = t.set_model_alias(name, alias_name, version)
    console.print(f"{literal(name)}@{literal(alias_name)} -> version {number}")
