"""The wait domain: what a scan's status means for a wait, and the events a wait ends with.

Triggers, the sensor, the operators and the store import their rules from here and nowhere else.
The module is pure: no Airflow, no database, no HTTP, so the rules are tested in milliseconds and
stay the same in the worker, the triggerer and the webhook receiver.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from typing import Any, Literal, TypedDict


class ScanState(str, Enum):
    """The statuses a scan goes through: the store's own ``submitted`` and Copyleaks' webhooks."""

    SUBMITTED = "submitted"
    CREDITS_CHECKED = "creditsChecked"
    STARTED = "started"
    INDEXED = "indexed"
    COMPLETED = "completed"
    ERROR = "error"
    DELETED = "deleted"


# How far each status is along a scan's life. A late or duplicate delivery of an earlier status
# never moves a scan back; completed and error are final (only a deletion follows them).
STATUS_RANK: dict[str, int] = {
    ScanState.SUBMITTED.value: 0,
    ScanState.CREDITS_CHECKED.value: 1,
    ScanState.STARTED.value: 2,
    ScanState.INDEXED.value: 3,
    ScanState.COMPLETED.value: 4,
    ScanState.ERROR.value: 4,
    ScanState.DELETED.value: 5,
}
FINAL_STATUSES = frozenset({"completed", "error", "indexed", "deleted"})
# Statuses the store uses before Copyleaks reports: the scan is still on its way.
PENDING_STATUSES = frozenset({"submitted", "started"})
TERMINAL_ERROR = ScanState.ERROR.value

# A wanted status is also met by a later one: a price-checked scan that was started and completed
# has been price-checked.
SATISFIES: dict[str, frozenset[str]] = {
    "completed": frozenset({"completed"}),
    "creditsChecked": frozenset({"creditsChecked", "started", "completed"}),
    "indexed": frozenset({"indexed"}),
}
_STATUS_NAMES = {s.lower(): s for s in (*SATISFIES, TERMINAL_ERROR)}

EventStatus = Literal["success", "error", "timeout"]
EVENT_STATUSES: tuple[str, ...] = ("success", "error", "timeout")
# ``unwanted``: the scan reached a final status that is none of the wanted ones (``indexed`` or
# ``deleted`` while waiting for ``completed``); it can never get there, so its wait is over.
Outcome = Literal["done", "error", "unwanted", "pending"]


class ScanError(TypedDict, total=False):
    code: int | str | None
    message: str


class ScanSummary(TypedDict, total=False):
    """One scan in an event or an XCom result: its status and the few figures the store keeps."""

    status: str | None
    credits: float
    score: float
    total_words: int
    error: ScanError


class ScanRecord(TypedDict):
    """A stored scan as plain data, as the waits read it (see ``waits.records.normalise_scan``)."""

    scan_id: str
    status: str | None
    last_activity: float
    resend_requested_at: float | None
    resend_attempts: int
    started: bool
    summary: ScanSummary
    meta: dict[str, Any]


class ScanWaitEvent(TypedDict):
    """What a scan trigger yields and the sensor's poke mode builds: small, plain JSON."""

    status: EventStatus
    message: str
    wanted: list[str]
    scan_ids: list[str]
    failed: list[str]
    unwanted: list[str]
    pending: list[str]
    scans: dict[str, ScanSummary]


class ScanWaitResult(TypedDict):
    """What the sensor returns to XCom."""

    status: str
    wanted: list[str]
    scan_ids: list[str]
    scans: dict[str, ScanSummary]
    message: str


class SubmitResult(TypedDict):
    """What the submit operator returns to XCom (the price check adds its credit figures)."""

    status: str
    wanted: str
    scan_ids: list[str]
    items: dict[str, dict[str, Any]]
    errors: dict[str, str]


class StartResult(TypedDict, total=False):
    """What the start operator returns to XCom; ``status`` and ``scans`` after a wait."""

    started: list[str]
    already_started: list[str]
    failed: list[str]
    scan_ids: list[str]
    error_handling: str
    status: str
    scans: dict[str, ScanSummary]


class ExportResult(TypedDict):
    """What the export operator returns to XCom once the export completed."""

    export_id: str | None
    scan_id: str | None
    status: str
    artifacts: dict[str, Any]
    tasks: int


class ExportEvent(TypedDict, total=False):
    """What the export trigger yields: the stored export on success, a message on timeout."""

    status: Literal["success", "timeout"]
    export_id: str
    scan_id: str | None
    export: dict[str, Any] | None
    message: str


class InvalidWaitEvent(ValueError):
    """An event that came back through the database does not have the shape a wait produces."""


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
    """Every status that satisfies one of ``wanted``."""
    return frozenset().union(*(SATISFIES[w] for w in wanted))


def scan_outcome(record: Mapping[str, Any] | None, accepted: frozenset[str]) -> Outcome:
    """``done``, ``error``, ``unwanted`` (final, but not as wanted) or ``pending`` for one scan."""
    status = record.get("status") if record else None
    if status in accepted:
        return "done"
    if status == TERMINAL_ERROR:
        return "error"
    if status in FINAL_STATUSES:
        return "unwanted"
    return "pending"


def summary(record: Mapping[str, Any] | None) -> ScanSummary:
    """Per-scan summary for XCom: the status plus the few figures the store recorded."""
    if record is None:
        return {"status": None}
    return {"status": record.get("status"), **(record.get("summary") or {})}  # type: ignore[typeddict-item]


def build_event(
    scan_ids: Sequence[str],
    wanted: Sequence[str],
    scans: Mapping[str, Mapping[str, Any] | None],
    *,
    status: EventStatus | None = None,
    message: str | None = None,
) -> ScanWaitEvent:
    """The event a wait ends with, from the scans' records (``None`` for a scan not heard of)."""
    accepted = accepted_statuses(wanted)
    outcomes = {sid: scan_outcome(scans.get(sid), accepted) for sid in scan_ids}
    summaries = {sid: summary(scans.get(sid)) for sid in scan_ids}
    failed = sorted(sid for sid, o in outcomes.items() if o == "error")
    unwanted = sorted(sid for sid, o in outcomes.items() if o == "unwanted")
    pending = sorted(sid for sid, o in outcomes.items() if o == "pending")
    if status is None:
        status = "error" if failed or unwanted else "success"
    if message is None:
        message = _message(len(scan_ids), wanted, failed, {sid: summaries[sid].get("status") for sid in unwanted})
    return {
        "status": status,
        "message": message,
        "wanted": list(wanted),
        "scan_ids": list(scan_ids),
        "failed": failed,
        "unwanted": unwanted,
        "pending": pending,
        "scans": summaries,
    }


def _message(total: int, wanted: Sequence[str], failed: list[str], unwanted: dict[str, str | None]) -> str:
    if failed:
        return f"{len(failed)} of {total} scan(s) ended with an error: {failed[:5]}"
    if unwanted:
        first, status = next(iter(unwanted.items()))
        text = f"scan {first!r} ended as {status!r}, which is final, while waiting for {' or '.join(wanted)}"
        if len(unwanted) > 1:
            text += f" (and {len(unwanted) - 1} more scan(s) ended in another final status: {list(unwanted)[1:6]})"
        return text
    return f"{total} scan(s) reached {'/'.join(wanted)}"


def check_event(event: Any, scan_ids: Sequence[str] | None = None) -> ScanWaitEvent:
    """Check a scan event's shape before trusting it; :class:`InvalidWaitEvent` if it is wrong."""
    if not isinstance(event, dict):
        raise InvalidWaitEvent(f"Copyleaks trigger sent no usable event: {event!r}")
    status = event.get("status")
    if status not in EVENT_STATUSES:
        raise InvalidWaitEvent(f"Copyleaks trigger sent an event with unknown status {status!r}: {event!r}")
    scans = event.get("scans")
    if not isinstance(scans, dict):
        raise InvalidWaitEvent(f"Copyleaks trigger event has no per-scan summaries: {event!r}")
    wanted = event.get("wanted")
    if not isinstance(wanted, list) or not wanted or not all(isinstance(w, str) for w in wanted):
        raise InvalidWaitEvent(f"Copyleaks trigger event does not say which statuses it waited for: {event!r}")
    if scan_ids is not None:
        missing = [sid for sid in scan_ids if sid not in scans]
        if missing:
            raise InvalidWaitEvent(f"Copyleaks trigger event lacks scan(s) {missing[:5]}")
    return event  # type: ignore[return-value]


def export_event(
    export_id: str,
    scan_id: str | None,
    export: dict[str, Any] | None,
    *,
    timed_out: bool = False,
) -> ExportEvent:
    """The event the export trigger yields: success once the export is no longer pending."""
    if not timed_out:
        return {"status": "success", "export_id": export_id, "scan_id": scan_id, "export": export}
    return {
        "status": "timeout",
        "export_id": export_id,
        "scan_id": scan_id,
        "message": f"timed out waiting for export {export_id!r} to complete",
        "export": export,
    }


def check_export_event(event: Any) -> ExportEvent:
    """Check an export event's shape before trusting it; :class:`InvalidWaitEvent` if it is wrong."""
    if not isinstance(event, dict) or event.get("status") not in ("success", "timeout"):
        raise InvalidWaitEvent(f"Copyleaks export trigger sent no usable event: {event!r}")
    return event  # type: ignore[return-value]
