"""The XCom report of a synchronous check, its log lines and the messages a failed task carries."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from airflow_copyleaks.checks.batch import ItemOutcome
from airflow_copyleaks.checks.policy import Breach, Policy

MESSAGE_ITEMS_MAX = 20  # items named in an exception message; the XCom report has them all


def _entry(outcome: ItemOutcome, breaches: list[Breach]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "key": outcome.key,
        "scan_id": outcome.scan_id,
        "status": outcome.status,
        "verdict": "error" if outcome.failed else ("hit" if breaches else "pass"),
    }
    if outcome.summary is not None:
        entry.update(outcome.summary)
        entry["breaches"] = [str(b) for b in breaches]
    entry["credits"] = outcome.credits
    if outcome.failed:
        entry.update(error=outcome.error, error_type=outcome.error_type, retryable=outcome.retryable)
    return entry


def build_report(
    kind: str,
    outcomes: list[ItemOutcome],
    breaches: Mapping[str, list[Breach]],
    *,
    policy: Policy,
    thresholds: Mapping[str, float],
    sandbox: bool,
    elapsed: float,
    aggregate: Mapping[str, Any],
) -> dict[str, Any]:
    """Totals, one entry per item (verdict, figures, breaches, error), the policy applied."""
    entries = [_entry(o, breaches.get(o.key, [])) for o in outcomes]
    hits = sum(1 for e in entries if e["verdict"] == "hit")
    errors = sum(1 for o in outcomes if o.failed)
    totals = {
        "items": len(outcomes),
        "ok": sum(1 for o in outcomes if o.status == "ok"),
        "already_checked": sum(1 for o in outcomes if o.status == "already_checked"),
        "errors": errors,
        "hits": hits,
        "passed": sum(1 for e in entries if e["verdict"] == "pass"),
        "credits": sum(o.credits for o in outcomes),
        "seconds": round(elapsed, 3),
        **aggregate,
    }
    return {
        "kind": kind,
        "sandbox": sandbox,
        "verdict": "hit" if hits else ("error" if errors else "pass"),
        "policy": policy.to_dict(),
        "thresholds": dict(thresholds),
        "totals": totals,
        "items": entries,
    }


def log_report(log: logging.Logger | Any, report: Mapping[str, Any]) -> None:
    t = report["totals"]
    log.info(
        "%s: %d item(s): %d passed, %d hit(s), %d error(s), %d already checked; %s credit(s) in %.1fs",
        report["kind"], t["items"], t["passed"], t["hits"], t["errors"], t["already_checked"], t["credits"],
        t["seconds"],
    )  # fmt: skip
    for entry in report["items"]:
        if entry["verdict"] == "hit":
            log.info("HIT %s: %s", entry["key"], "; ".join(entry["breaches"]))
        elif entry["verdict"] == "error":
            log.warning("ERROR %s: %s", entry["key"], entry.get("error"))


def _named(parts: list[str]) -> str:
    more = len(parts) - MESSAGE_ITEMS_MAX
    return "; ".join(parts[:MESSAGE_ITEMS_MAX]) + (f"; and {more} more" if more > 0 else "")


def hits_message(
    kind: str, outcomes: list[ItemOutcome], breaches: Mapping[str, list[Breach]], policy: Policy, errors: int
) -> str:
    parts = [f"{o.key} ({', '.join(map(str, breaches[o.key]))})" for o in outcomes if breaches.get(o.key)]
    tail = f" ({errors} item(s) could not be checked, see the report)" if errors else ""
    return (
        f"Copyleaks {kind} policy ({policy.on_hit}): {len(parts)} of {len(outcomes)} item(s) crossed "
        f"thresholds: {_named(parts)}{tail}"
    )


def errors_message(kind: str, failed: list[ItemOutcome], total: int) -> str:
    parts = [f"{o.key}: {o.error}" for o in failed]
    return f"Copyleaks {kind}: {len(failed)} of {total} item(s) could not be checked: {_named(parts)}"
