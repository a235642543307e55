"""The gate DAG's steps on the drafts: judge the checks' results, publish, apply editors' decisions.

Every change to a draft goes through the draft source's ``apply_decision``, and only two things
publish: the policy finding every check passed, or an editor choosing "Publish". A decision the
timeout took (no editor) never publishes, whatever it says. A draft edited, published or deleted
in the CMS meanwhile is reported as the source says, never overwritten.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow_copyleaks.review.findings import credits_of, draft_findings, report_entry
from airflow_copyleaks.review.policy import ReviewPolicy
from publishing.gate_drafts import clear_in_review, mark_in_review
from publishing.source_drafts import draft_source
from publishing.window import Window

NO_IMAGE = {"verdict": "pass", "full_matches": 0, "partial_matches": 0, "matches": [], "credits": 0}


def judge_drafts(
    context: Any,
    params: dict[str, Any],
    staged: list[dict[str, str]],
    scanned: dict[str, Any] | None,
    reports: dict[str, dict[str, Any] | None],
) -> dict[str, Any]:
    """A verdict per draft; flagged drafts are marked as waiting for an editor; the report is written."""
    from airflow_copyleaks.checks.citations import citations_for_scan
    from airflow_copyleaks.store import get_store
    from airflow_copyleaks.ui.locations import report_url

    policy = ReviewPolicy.from_dict(params.get("policy"))
    store = get_store()
    items = (scanned or {}).get("items") or {}
    url = report_url(context["dag"].dag_id, context["run_id"])
    rows, clean, flagged = [], [], []
    for draft in staged:
        key = draft["key"]
        item = items.get(key)
        scan_id = (item or {}).get("scan_id")
        record = store.get_scan(scan_id) if scan_id else None
        scanned_ok = bool(scan_id) and not (item or {}).get("error")
        image = report_entry(reports["image"], key) if draft["image"] else {"key": key, **NO_IMAGE}
        findings = draft_findings(
            key,
            title=draft["title"],
            sandbox=any(bool((r or {}).get("sandbox")) for r in reports.values()) or bool(record and record.sandbox),
            plagiarism_item=item,
            completed=store.get_event_payload(scan_id, "completed") if scan_id else None,
            moderation=report_entry(reports["moderation"], key),
            ai_text=report_entry(reports["ai_text"], key),
            image=image,
            citations=citations_for_scan(store, scan_id).to_dict() if scanned_ok else None,
        )
        verdict = policy.verdict(findings).to_dict()
        rows.append(_row(findings, verdict))
        if verdict["verdict"] == "clean":
            clean.append(key)
        else:
            flagged.append({**findings, "reasons": verdict["reasons"], "report_url": url})
            mark_in_review(key, draft["title"], "; ".join(verdict["reasons"]), context["run_id"])
    _report(context, rows)
    checked = {d["key"]: d["modified_at"] for d in staged}
    return {"clean": clean, "flagged": flagged, "checked": checked}


def _row(findings: dict[str, Any], verdict: dict[str, Any]) -> dict[str, Any]:
    from publishing.gate_report import row_for

    return row_for(findings, verdict, credits_of(findings))


def _report(context: Any, rows: list[dict[str, Any]]) -> None:
    from publishing.report import RunInfo, announce, write_report

    rows.sort(key=lambda r: (r["verdict"] != "flagged", r["key"]))
    when = context["dag_run"].run_after
    run = RunInfo.of(context, "Pre-publication gate", Window(when, when), scope=", ".join(r["key"] for r in rows))
    totals = {
        "drafts": len(rows),
        "flagged": sum(1 for r in rows if r["verdict"] == "flagged"),
        "published": sum(1 for r in rows if r["action"] == "published"),
        "credits": sum(float(r["credits"] or 0) for r in rows),
    }
    write_report(run, "gate", rows, totals)
    announce(context, run)


def _checked(judged: dict[str, Any], key: str) -> datetime | None:
    value = (judged.get("checked") or {}).get(key)
    return datetime.fromisoformat(value) if value else None


def publish(judged: dict[str, Any]) -> list[str]:
    """Publish the drafts every check passed, unless the CMS says they changed or went meanwhile."""
    source = draft_source()
    published = []
    for key in judged["clean"]:
        update = source.apply_decision(
            key, "publish", "every Copyleaks check passed", checked_modified=_checked(judged, key)
        )
        print(update.message)
        if update.outcome == "updated":
            published.append(key)
    return published


def decide(source: Any, decision: dict[str, Any], judged: dict[str, Any]) -> dict[str, str]:
    """One editor's decision into the CMS; a timeout's default never publishes."""
    key, chosen = decision["key"], str(decision["decision"])
    who = (decision.get("responded_by") or {}).get("name") or "nobody"
    if decision.get("timed_out"):
        note = f"no editor answered in time: {chosen!r} (the review's default)"
        if chosen.lower() == "publish":
            chosen = "Request edits"  # only a person publishes
    else:
        note = f"{chosen} by {who}"
    update = source.apply_decision(key, chosen, note, checked_modified=_checked(judged, key))
    clear_in_review(key)
    action = "published" if update.status == "publish" and update.outcome == "updated" else update.message
    return {"decision": note, "action": action, "status": str(update.status), "outcome": update.outcome}


def apply(
    context: Any, decisions: list[dict[str, Any]], judged: dict[str, Any], published: list[str]
) -> dict[str, Any]:
    """Each editor's decision into the CMS; the report rewritten with what was done."""
    import json

    from airflow_copyleaks.ui.locations import report_path

    source = draft_source()
    actions = {d["key"]: decide(source, d, judged) for d in decisions}
    for key in judged["clean"]:
        actions[key] = {"decision": "", "action": "published" if key in published else "not published (see log)"}
    written = report_path(context["dag"].dag_id, context["run_id"], "report.json")
    rows = [{**row, **actions.get(row["key"], {})} for row in json.loads(written.read_text())["rows"]]
    _report(context, rows)
    return {"published": sorted(k for k, a in actions.items() if a["action"] == "published"), "actions": actions}
