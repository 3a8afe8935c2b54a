"""What an import did, item by item: what `import_store` returns and the CLI renders."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

IMPORTED, SKIPPED, FAILED, NOTE = "imported", "skipped", "failed", "note"


# What reading found about an experiment or run, reported only if it is imported (so a second
# import of an unchanged store reports nothing new): (outcome, kind, name, path, message).
Finding = tuple[str, str, str, Path, str]


@dataclass
class ImportItem:
    """One thing the import did, skipped, could not use, or wants you to know."""

    outcome: str  # imported, skipped, failed, note
    kind: str  # experiment, run, model version; or a part of one: param, metric, artifact, ...
    name: str
    path: str  # the 0.2.0 file or folder it came from
    message: str = ""


@dataclass
class ImportReport:
    """What `import_store` did (in a dry run: would do).

    `imported`, `skipped` and `failed` count items: experiments, runs and model
    versions imported or already in the store, and every file, field or whole
    unit that could not be used. Notes count nowhere.
    """

    root: str
    dry_run: bool = False
    imported: int = 0
    skipped: int = 0
    failed: int = 0
    items: list[ImportItem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def add(self, outcome: str, kind: str, name: str, path: str | os.PathLike, message: str = "") -> None:
        self.items.append(ImportItem(outcome, kind, name, str(path), message))
        if outcome in (IMPORTED, SKIPPED, FAILED):
            setattr(self, outcome, getattr(self, outcome) + 1)

    def counts(self) -> dict[str, dict[str, int]]:
        """{kind: {outcome: number}}, e.g. {"run": {"imported": 3, "skipped": 1}}."""
        found: dict[str, Counter] = {}
        for item in self.items:
            found.setdefault(item.kind, Counter())[item.outcome] += 1
        return {kind: dict(counter) for kind, counter in found.items()}

    def as_dict(self) -> dict[str, Any]:
        return {"root": self.root, "dry_run": self.dry_run, "ok": self.ok, "imported": self.imported,
                "skipped": self.skipped, "failed": self.failed, "counts": self.counts(),
                "items": [asdict(item) for item in self.items]}
