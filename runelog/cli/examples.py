"""`runelog examples NAME`: run a bundled example script in the current folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import typer

from .common import state

app = typer.Typer(help="Run the bundled examples against the selected store.", no_args_is_help=True)

EXAMPLES = {
    "minimal": ("minimal.py", "One run: a param and a metric over steps."),
    "train": ("quickstart.py", "Train a small classifier epoch by epoch, log the model, register it."),
    "quickstart": ("quickstart.py", "The same as `train` (the script `make demo` starts with)."),
    "sweep": ("sweep/run_sweep.py", "Three classifiers on iris from one sweep YAML."),
    "features": ("feature_store/make_features.py", "Version an iris feature set (parquet + fingerprint)."),
    "train-fs": ("feature_store/train_with_fs.py", "Train on the newest feature set, with lineage."),
    "features-dvc": ("feature_store/make_features_dvc.py", "Version the feature set with DVC (needs `dvc init`)."),
}

_PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}


def _examples_dir() -> Path:
    from .. import examples

    return Path(examples.__file__).parent


def _run(script: str, ctx: typer.Context) -> None:
    env = dict(os.environ)
    if state.store:
        env["RUNELOG_HOME"] = str(Path(state.store).resolve())
    if state.database_url:
        env["RUNELOG_DATABASE_URL"] = state.database_url
    result = subprocess.run([sys.executable, str(_examples_dir() / script), *ctx.args], env=env)
    raise typer.Exit(result.returncode)


# runelog 0.2.0's names for two of them; they keep working, out of --help.
ALIASES = {"make-features": "features", "train-with-fs": "train-fs"}


def _register(name: str, script: str, help_text: str, hidden: bool = False) -> None:
    @app.command(name, help=help_text, context_settings=_PASS_THROUGH, hidden=hidden)
    def command(ctx: typer.Context) -> None:
        _run(script, ctx)


for _name, (_script, _help) in EXAMPLES.items():
    _register(_name, _script, _help)
for _alias, _name in ALIASES.items():
    _register(_alias, EXAMPLES[_name][0], f"The same as `{_name}` (runelog 0.2.0's name).", hidden=True)
