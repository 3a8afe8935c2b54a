"""The module path runelog 0.2.0 documented: `from runelog.runelog import RuneLog, get_tracker`.

A thin alias: the tracker lives in `runelog.tracker`. Importing this module
loads the tracker (and SQLAlchemy), as importing 0.2.0's module did.
"""

from __future__ import annotations

from . import RuneLog, exceptions, get_tracker

__all__ = ["RuneLog", "get_tracker", "exceptions"]
