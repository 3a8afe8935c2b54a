"""Progress of long calls: one callback signature for the library, bars for the terminal.

Every long call of the API takes `progress: Progress | None = None` and calls
`progress(done, total)`:

- `done` is how many units are finished so far: it starts at 0 (a first call
  before any work, so a bar can appear at once) and never goes down;
- `total` is how many units there will be, or None while that is unknown;
- the unit is the call's own: blobs for verify, gc and backup; runs and model
  versions for import_legacy; runs for a sweep; bytes for one big artifact.

Absolute counts, not increments, so a callback may drop calls or be called
twice without drifting. `Reporter` is the producer's side; `terminal()` the
CLI's. `bar()` draws the library's own byte bars (artifacts over 64 MiB).
Bars draw on stderr, so stdout stays clean for `--json` and pipes.

    def on_progress(done: int, total: int | None) -> None:
        print(f"{done}/{total or '?'}")

    tracker.import_legacy("old/project", progress=on_progress)
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import Optional

BIG_FILE = 64 * 1024 * 1024

Progress = Callable[[int, Optional[int]], None]
"""`progress(done, total)`: units finished so far, and units expected (None: not known yet)."""


class Reporter:
    """The producer's side: counts units and calls a Progress callback (or nothing, if None).

        report = Reporter(progress, total=len(blobs))  # calls progress(0, total)
        for blob in blobs:
            ...
            report.advance()
    """

    def __init__(self, progress: Progress | None, total: int | None = None):
        self.progress, self.total, self.done = progress, total, 0
        self._call()

    def advance(self, n: int = 1) -> None:
        self.done += n
        self._call()

    def set_total(self, total: int | None) -> None:
        """The total, once it is known (or when it changes)."""
        self.total = total
        self._call()

    def _call(self) -> None:
        if self.progress is not None:
            self.progress(self.done, self.total)


def _noop(_: int = 1) -> None:
    return None


@contextlib.contextmanager
def bar(total: int | None, description: str, minimum: int = 0,
        in_bytes: bool = False) -> Iterator[Callable[[int], None]]:
    """Yield `advance(n=1)` for the library's own byte bars; drawn by terminal(), and only when
    `total >= minimum`."""
    if total is not None and total < minimum:
        yield _noop
        return
    with terminal(description, in_bytes) as progress:
        yield Reporter(progress, total).advance


@contextlib.contextmanager
def terminal(description: str, in_bytes: bool = False) -> Iterator[Progress]:
    """Yield a Progress callback that draws a rich bar on a terminal (nothing elsewhere).

    The bar appears on the first call, with the total if it is known (a spinner
    and a count if not), and follows `done`; it disappears when the block ends.
    """
    if not sys.stderr.isatty():
        yield lambda done, total: None
        return
    from rich.console import Console
    from rich.progress import (BarColumn, DownloadColumn, MofNCompleteColumn, Progress, SpinnerColumn,
                               TextColumn, TimeRemainingColumn)

    count = DownloadColumn() if in_bytes else MofNCompleteColumn()
    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), count, TimeRemainingColumn()]
    with Progress(*columns, console=Console(stderr=True), transient=True) as shown:
        task = shown.add_task(description, total=None)

        def update(done: int, total: int | None) -> None:
            shown.update(task, completed=done, total=total)

        yield update
