"""The stretch of time a DAG run looks at.

A scheduled run (and a run triggered with a logical date) has a data interval. A run triggered
through the REST API with ``"logical_date": null``, or from the UI's Trigger form without a date,
has neither a logical date nor a data interval, only ``run_after``: such a run looks at the
``lookback`` before its ``run_after``, as the schedule would have.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    def describe(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC"

    def as_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def run_window(context: Any, lookback: timedelta) -> Window:
    """The run's data interval; for a run without one, the ``lookback`` before its ``run_after``."""
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if start is None or end is None:
        end = context["dag_run"].run_after
        start = end - lookback
    return Window(start, end)
