"""docs/reliability.md's table names, for every guarantee, the test that tries to break it.

This keeps the table true: every test it names must exist. A name may end in
`…` or `*` (a family of tests with that prefix), and `…::name` means "in the
file named just before".
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "reliability.md"
REFERENCE = re.compile(r"`((?:[\w/]+\.py|…)::[^`]+)`")


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            names.add(node.name)
    return names


def _test_file(name: str) -> Path:
    matches = [p for p in (REPO / "tests").rglob(Path(name).name) if p.as_posix().endswith(name)]
    assert len(matches) == 1, f"docs/reliability.md names {name}, which matches {matches or 'no file'} under tests/"
    return matches[0]


def _table_rows() -> list[str]:
    text = DOC.read_text()
    table = text[text.index("## How each guarantee is tested"):]
    return [line for line in table.splitlines() if line.startswith("|") and "::" in line]


def test_every_test_the_table_names_exists():
    rows = _table_rows()
    assert len(rows) >= 40  # the table is there and was parsed
    missing = []
    for row in rows:
        current: Path | None = None
        for reference in REFERENCE.findall(row):
            file_part, _, name = reference.partition("::")
            if file_part != "…":
                current = _test_file(file_part)
            assert current is not None, f"'{reference}' has no file before it in: {row}"
            name = name.split("[")[0].strip()
            prefix = name.rstrip("…*")
            tests = _tests_in(current)
            found = any(t.startswith(prefix) for t in tests) if prefix != name else name in tests
            if not found:
                missing.append(f"{current.relative_to(REPO)}::{name}")
    assert not missing, f"docs/reliability.md names tests that do not exist: {missing}"
