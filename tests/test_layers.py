"""The layering holds: faces > user API > services > storage > shared (see .importlinter).

`lint-imports` checks the package against the contracts; a throwaway package built
from a copy of the same contracts proves that each rule can fail (lazy imports
inside functions included); examples/ (outside the package's folder) is checked
here by reading its imports; and the size limits of issue 14 hold.
"""

from __future__ import annotations

import ast
import configparser
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / ".importlinter"
# Faces other faces may start: the sweep runner (examples/sweep runs a sweep file).
FACES = {"runelog.sweep", "runelog.runner"}
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
# What a face may import from the package: the package itself and the shared modules.
PUBLIC = {"runelog", "runelog.exceptions", "runelog.types", "runelog.formatting", "runelog.progress",
          "runelog.interrupts"}

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed (dev extra)")


def lint_imports(cwd: Path, config: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "300"}  # one line per finding
    return subprocess.run([str(LINT_IMPORTS), str(config), "--no-cache"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def contracts(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(inline_comment_prefixes=None)
    parser.read_string(text)
    return parser


def lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip() and not line.strip().startswith("#")]


def layers(parser: configparser.ConfigParser) -> list[list[tuple[str, bool]]]:
    """The layers contract: top first, each layer a list of (module tail, optional)."""
    return [[(tail.strip("() "), tail.strip().startswith("(")) for tail in re.split(r"[|:]", layer)]
            for layer in lines(parser["importlinter:contract:layers"]["layers"])]


# ------------------------------------------------------------ the package keeps the contracts


def test_the_package_keeps_its_import_contracts():
    result = lint_imports(ROOT, CONFIG)
    report = result.stdout.partition("Broken contracts")[2] or result.stdout.partition("Contracts")[2]
    assert result.returncode == 0, (report or result.stdout) + result.stderr
    assert "0 broken" in result.stdout


def test_faces_may_import_exactly_the_shared_layer():
    """The faces' contract forbids every module of the package but the ones it lets through;
    those are the shared layer at the bottom of the layers contract, and the docs' list."""
    parser = contracts(CONFIG.read_text())
    faces = parser["importlinter:contract:faces"]
    assert set(lines(faces["forbidden_modules"])) == {"runelog.*", "sqlalchemy"}
    let_through = {rule.split("->")[1].strip() for rule in lines(faces["ignore_imports"])
                   if rule.startswith("runelog.** ->")}
    shared = {f"runelog.{tail}" for tail, _ in layers(parser)[-1]}
    assert let_through == shared == PUBLIC - {"runelog"}


def test_examples_import_only_the_public_api():
    """examples/ ships as runelog.examples from outside runelog/, where grimp does not look."""
    wrong = []
    for script in sorted((ROOT / "examples").rglob("*.py")):
        for node in ast.walk(ast.parse(script.read_text(), str(script))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            if isinstance(node, ast.ImportFrom) and node.module == "runelog":
                names = [f"runelog.{a.name}" if f"runelog.{a.name}" in PUBLIC else "runelog" for a in node.names]
            wrong += [f"{script.relative_to(ROOT)}:{node.lineno} {name}" for name in names
                      if (name == "sqlalchemy" or name.startswith(("runelog.", "sqlalchemy.")))
                      and name not in PUBLIC | FACES and not name.startswith("runelog.examples")]
    assert not wrong, wrong


# ------------------------------------------------------------ the contracts can fail


def throwaway_package(tmp_path: Path) -> Path:
    """A package `demo` with every module the contracts name (empty), checked by a copy of them."""
    text = re.sub(r"\brunelog\b", "demo", CONFIG.read_text())
    parser = contracts(text)
    package = tmp_path / "demo"
    package.mkdir()
    (package / "__init__.py").write_text("")
    tails = {tail for layer in layers(parser) for tail, optional in layer if not optional}
    tails |= {m.removeprefix("demo.") for section in ("faces", "storage-light")
              for option in ("source_modules", "forbidden_modules")
              for m in lines(parser[f"importlinter:contract:{section}"][option])
              if m.startswith("demo.") and "*" not in m}
    for tail in tails:
        (package / f"{tail}.py").write_text("")
    # The one ignored import must be there, or import-linter reports the stale ignore.
    (package / "db.py").write_text("import demo\n")
    (tmp_path / ".importlinter").write_text(text)
    return package


def test_the_contracts_hold_for_a_package_that_keeps_them(tmp_path):
    package = throwaway_package(tmp_path)
    (package / "cli.py").write_text("import demo\nfrom demo import exceptions, formatting, types\n")
    (package / "runs.py").write_text("from demo import db, models\n")
    result = lint_imports(tmp_path, tmp_path / ".importlinter")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_face_reaching_past_the_api_breaks_the_contract_even_lazily(tmp_path):
    package = throwaway_package(tmp_path)
    (package / "cli.py").write_text("def show():\n    from demo import db  # lazy: inside a function\n")
    (package / "ui.py").write_text("import sqlalchemy\nfrom demo import types\n")
    (package / "runner.py").write_text("from demo.tracker import RuneLog\n")
    (package / "newservice.py").write_text("")  # a module no list names is forbidden too
    (package / "sweep.py").write_text("from demo import newservice\n")
    result = lint_imports(tmp_path, tmp_path / ".importlinter")
    assert result.returncode == 1, result.stdout + result.stderr
    for broken in ("demo.cli is not allowed to import demo.db", "demo.ui is not allowed to import sqlalchemy",
                   "demo.runner is not allowed to import demo.tracker",
                   "demo.sweep is not allowed to import demo.newservice"):
        assert broken in result.stdout, (broken, result.stdout)
    assert "demo.ui is not allowed to import demo.types" not in result.stdout


def test_a_service_importing_the_api_breaks_the_layers(tmp_path):
    package = throwaway_package(tmp_path)
    (package / "runs.py").write_text("def later():\n    from demo.tracker import RuneLog\n")
    (package / "codec.py").write_text("from demo import registry\n")
    result = lint_imports(tmp_path, tmp_path / ".importlinter")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "demo.runs is not allowed to import demo.tracker" in result.stdout
    assert "demo.codec is not allowed to import demo.registry" in result.stdout


def test_a_module_in_no_layer_breaks_the_layers(tmp_path):
    package = throwaway_package(tmp_path)
    (package / "helpers.py").write_text("")
    result = lint_imports(tmp_path, tmp_path / ".importlinter")
    assert result.returncode == 1 and "demo.helpers" in result.stdout, result.stdout + result.stderr


# ------------------------------------------------------------ small modules


def test_tracker_is_small_and_no_module_is_over_400_lines():
    """Issue 14's limits. Red while the split of tracker.py and friends is under way."""
    sizes = {str(p.relative_to(ROOT)): len(p.read_text().splitlines()) for p in (ROOT / "runelog").rglob("*.py")}
    assert sizes["runelog/tracker.py"] <= 250, sizes["runelog/tracker.py"]
    too_long = {path: n for path, n in sorted(sizes.items()) if n > 400}
    assert not too_long, too_long


def test_the_command_line_and_the_package_load_without_sqlalchemy_or_pandas():
    """Faces import the API lazily, so `runelog --help` and `import runelog` stay fast."""
    probe = ("import sys, runelog, runelog.cli, runelog.formatting, runelog.progress, runelog.types\n"
             "print(sorted(m for m in ('sqlalchemy', 'pandas', 'pyarrow', 'runelog.db') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "[]"
