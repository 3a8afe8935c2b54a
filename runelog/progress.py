"""Progress bars for long operations: shown on a terminal, silent everywhere else.

Used by the library (artifacts over 64 MiB) and the CLI (verify, sweeps). The
bar draws on stderr so that stdout stays clean for `--json` and pipes.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

BIG_FILE = 64 * 1024 * 1024


def _noop(_: int = 1) -> None:
    return None


@contextlib.contextmanager
def bar(total: int | None, description: str, minimum: int = 0,
        in_bytes: bool = False) -> Iterator[Callable[[int], None]]:
    """Yield `advance(n=1)`; draw a rich bar only on a terminal and when `total >= minimum`."""
    if not sys.stderr.isatty() or (total is not None and total < minimum):
        yield _noop
        return
    from rich.console import Console
    from rich.progress import (BarColumn, DownloadColumn, MofNCompleteColumn, Progress, SpinnerColumn,
                               TextColumn, TimeRemainingColumn)

    count = DownloadColumn() if in_bytes else MofNCompleteColumn()
    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), count, TimeRemainingColumn()]
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n=1: progress.advance(task, n)
