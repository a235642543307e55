"""What a wait on scans has reached: plain functions shared by the triggers, operators and sensor.

Kept apart from the trigger classes so that operators can use them without importing Airflow's
trigger machinery at DAG-parse time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from airflow_copyleaks.triggers import records

TERMINAL_ERROR = "error"
# A wanted status is also met by a later one: a price-checked scan that was started and completed
# has been price-checked.
SATISFIES: dict[str, frozenset[str]] = {
    "completed": frozenset({"completed"}),
    "creditsChecked": frozenset({"creditsChecked", "started", "completed"}),
    "indexed": frozenset({"indexed"}),
}
_STATUS_NAMES = {s.lower(): s for s in (*SATISFIES, TERMINAL_ERROR)}


def normalise_statuses(wanted: str | Iterable[str]) -> list[str]:
    """``"completed"`` or a list of statuses, checked against the ones Copyleaks sends."""
    items = [wanted] if isinstance(wanted, str) else list(wanted)
    out = []
    for item in items:
        name = _STATUS_NAMES.get(str(item).strip().lower())
        if name is None or name == TERMINAL_ERROR:
            raise ValueError(f"cannot wait for status {item!r}; choose from {', '.join(SATISFIES)}")
        out.append(name)
    if not out:
        raise ValueError("wanted statuses are empty")
    return sorted(set(out))


def accepted_statuses(wanted: Iterable[str]) -> frozenset[str]:
    return frozenset().union(*(SATISFIES[w] for w in wanted))


def scan_outcome(record: dict[str, Any] | None, accepted: frozenset[str]) -> str:
    """``done``, ``error`` or ``pending`` for one scan record."""
    status = record.get("status") if record else None
    if status in accepted:
        return "done"
    if status == TERMINAL_ERROR:
        return TERMINAL_ERROR
    return "pending"


def build_event(
    scan_ids: Sequence[str],
    wanted: Sequence[str],
    scans: dict[str, dict[str, Any] | None],
    *,
    status: str | None = None,
    message: str | None = None,
) -> dict[str, Any]:
    """The payload the trigger yields (and the sensor's poke mode returns): small, plain JSON."""
    accepted = accepted_statuses(wanted)
    outcomes = {sid: scan_outcome(scans.get(sid), accepted) for sid in scan_ids}
    summaries = {sid: records.summary(scans.get(sid)) for sid in scan_ids}
    if status is None:
        status = "error" if TERMINAL_ERROR in outcomes.values() else "success"
    failed = sorted(sid for sid, o in outcomes.items() if o == TERMINAL_ERROR)
    pending = sorted(sid for sid, o in outcomes.items() if o == "pending")
    if message is None:
        message = (
            f"{len(failed)} of {len(scan_ids)} scan(s) ended with an error: {failed[:5]}"
            if failed
            else f"{len(scan_ids)} scan(s) reached {'/'.join(wanted)}"
        )
    return {
        "status": status,
        "message": message,
        "wanted": list(wanted),
        "scan_ids": list(scan_ids),
        "failed": failed,
        "pending": pending,
        "scans": summaries,
    }
