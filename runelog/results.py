"""Former home of the run reads; runelog.queries is the service now.

Only what runelog.api.experiments still imports is left here; delete this
module once that imports runelog.queries instead.
"""

from __future__ import annotations

from .queries import experiment_summaries  # noqa: F401
