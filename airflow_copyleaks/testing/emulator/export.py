"""Export (REFERENCE §8): validate the request, push each artifact to its endpoint with its verb
and headers, then POST the export-completed payload to ``completionWebhook``."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from typing import Any

from .pdf import make_pdf
from .scoring import Document, Span, tokenize
from .state import EmulatorState, Scan
from .validation import conflict_body, error_body, get_path, parse_bool, parse_headers, valid_scan_id
from .webhooks import Delivery, Dispatcher

DEFAULT_MAX_RETRIES = 3  # UNCONFIRMED default; treated as the number of attempts per task


@dataclass
class Task:
    kind: str  # result | pdfReport | crawledVersion | aiDetection | writingFeedback
    endpoint: str
    verb: str
    headers: list[tuple[str, str]]
    result_id: str | None = None


def _empty_ranges() -> dict[str, Any]:
    return {"chars": {"starts": [], "lengths": []}, "words": {"starts": [], "lengths": []}}


def _parse_task(value: Any, path: str, errors: dict[str, list[str]]) -> Task | None:
    if not isinstance(value, dict):
        errors[path] = ["The field must be an object with endpoint and verb."]
        return None
    endpoint = value.get("endpoint")
    verb = value.get("verb")
    headers = parse_headers(value.get("headers"))
    if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
        errors[f"{path}.endpoint"] = ["The endpoint field is required and must be an absolute URL."]
    if not isinstance(verb, str) or not verb.strip():
        errors[f"{path}.verb"] = ["The verb field is required."]
    if headers is None:
        errors[f"{path}.headers"] = ["Headers must be a list of [key, value] pairs."]
    if f"{path}.endpoint" in errors or f"{path}.verb" in errors or headers is None:
        return None
    assert isinstance(endpoint, str) and isinstance(verb, str)
    return Task("", endpoint, verb.strip().upper(), headers)


def _parse_tasks(scan: Scan, scan_id: str, body: dict[str, Any], errors: dict[str, list[str]]) -> list[Task]:
    """The export's tasks: one per requested result, plus each artifact the scan enabled."""
    tasks: list[Task] = []
    results = body.get("results") or []
    if not isinstance(results, list):
        errors["results"] = ["The field results must be an array."]
        results = []
    for i, item in enumerate(results):
        task = _parse_task(item, f"results[{i}]", errors)
        rid = item.get("id") if isinstance(item, dict) else None
        if not isinstance(rid, str) or not rid:
            errors[f"results[{i}].id"] = ["The id field is required."]
        elif rid not in scan.result_details and scan.status == "completed":
            errors[f"results[{i}].id"] = [f"Result id '{rid}' is not a result of scan '{scan_id}'."]
        elif task is not None:
            task.kind, task.result_id = "result", rid
            tasks.append(task)
    enabled = {
        "pdfReport": parse_bool(get_path(scan.properties, "pdf", "create")),
        "crawledVersion": True,
        "aiDetection": scan.ai_detection is not None,
        "writingFeedback": scan.writing_feedback is not None,
    }
    for name, allowed in enabled.items():
        value = body.get(name.lower())
        if value is None:
            continue
        if not allowed:
            errors[name] = [f"{name} was not enabled when the scan was submitted."]
            continue
        task = _parse_task(value, name, errors)
        if task is not None:
            task.kind = name
            tasks.append(task)
    return tasks


class ExportEngine:
    def __init__(self, state: EmulatorState, dispatcher: Dispatcher) -> None:
        self.state = state
        self.dispatcher = dispatcher

    def export(self, account: str, scan_id: str, export_id: str, body: Any) -> tuple[int, Any]:
        """Answers 200 ``{}``: the docs show only the ``{}`` body, the exact 2xx is UNCONFIRMED."""
        with self.state.lock:
            scan = self.state.scans.get((account, scan_id))
        if scan is None or scan.status == "deleted":
            return 404, error_body(27)
        errors: dict[str, list[str]] = {}
        if not valid_scan_id(export_id):
            errors["exportId"] = ["The exportId must be 3-36 characters of [a-z0-9] and the allowed symbols."]
        if scan.status != "completed":
            errors["scanId"] = [f"The scan is not completed (status: {scan.status})."]
        if not isinstance(body, dict):
            return 400, {"": ["A non-empty request body is required."], **errors}
        webhook = body.get("completionwebhook")
        if not isinstance(webhook, str) or not webhook.startswith(("http://", "https://")):
            errors["completionWebhook"] = ["The completionWebhook field is required."]
        max_retries = body.get("maxretries", DEFAULT_MAX_RETRIES)
        if max_retries is None:
            max_retries = DEFAULT_MAX_RETRIES
        if not isinstance(max_retries, int) or isinstance(max_retries, bool) or not 1 <= max_retries <= 12:
            errors["maxRetries"] = ["The field maxRetries must be between 1 and 12."]
        payload = body.get("developerpayload")
        if payload is not None and (not isinstance(payload, str) or len(payload) > 512):
            errors["developerPayload"] = ["The field developerPayload must be a string of at most 512 characters."]
        completion_headers = parse_headers(body.get("completionwebhookheaders"))
        if completion_headers is None:
            errors["completionWebhookHeaders"] = ["Headers must be a list of [key, value] pairs."]
        tasks = _parse_tasks(scan, scan_id, body, errors)
        if errors:
            return 400, errors
        assert isinstance(webhook, str) and completion_headers is not None
        with self.state.lock:
            if export_id in scan.export_ids:
                return 409, conflict_body(self.state.config.conflict_body_format)
            scan.export_ids.add(export_id)
            generation = self.state.generation

        def run() -> None:
            self._run(scan, export_id, tasks, int(max_retries), webhook, completion_headers, payload, generation)

        self.dispatcher.schedule(self.state.config.export_duration_seconds, run)
        return 200, {}

    def _run(self, scan: Scan, export_id: str, tasks: list[Task], attempts: int, webhook: str,
             headers: list[tuple[str, str]], payload: Any, generation: int) -> None:
        reports: list[dict[str, Any]] = []
        for task in tasks:
            body, content_type = self._artifact(scan, task)
            d = Delivery(f"export-{task.kind}", task.endpoint, body, headers=task.headers, method=task.verb,
                         content_type=content_type, scan_id=scan.scan_id, account=scan.account,
                         max_attempts=attempts)
            outcome = self.dispatcher.deliver(d, generation)
            # isHealthy=false means Copyleaks could not talk to the endpoint; then the status is null.
            healthy = outcome.status_code is not None
            reports.append({"endpoint": task.endpoint, "httpStatusCode": outcome.status_code if healthy else None,
                            "isHealthy": healthy})
        completion = {"completed": True, "developerPayload": payload, "tasks": reports}
        self.dispatcher.deliver(
            Delivery.json("export-completed", webhook, completion, headers=headers, scan_id=scan.scan_id,
                          account=scan.account),
            generation,
        )

    # ---- artifacts ------------------------------------------------------------------------
    def _artifact(self, scan: Scan, task: Task) -> tuple[bytes, str]:
        if task.kind == "result":
            assert task.result_id is not None
            return json.dumps(self.result_json(scan, task.result_id)).encode(), "application/json"
        if task.kind == "pdfReport":
            return self.pdf_report(scan), "application/pdf"
        if task.kind == "crawledVersion":
            return json.dumps(self.crawled_version(scan)).encode(), "application/json"
        if task.kind == "aiDetection":
            return json.dumps(scan.ai_detection).encode(), "application/json"
        return json.dumps(scan.writing_feedback).encode(), "application/json"

    def result_json(self, scan: Scan, result_id: str) -> dict[str, Any]:
        """The "New Plagiarism Result" [DOC-result]. ``text.value`` is the matched document;
        ``source`` ranges point into the scanned text, ``suspected`` ranges into ``text.value``."""
        assert scan.text is not None
        detail = scan.result_details[result_id]
        doc: Document = detail["document"]
        spans: list[Span] = detail["spans"]
        src = tokenize(scan.text)
        sus = doc.tokens
        source = _empty_ranges()
        suspected = _empty_ranges()
        for s in spans:
            for ranges, toks, first in ((source, src, s.source_word), (suspected, sus, s.suspected_word)):
                start = toks.starts[first]
                end = toks.ends[first + s.length - 1]
                ranges["chars"]["starts"].append(start)
                ranges["chars"]["lengths"].append(end - start)
                ranges["words"]["starts"].append(first)
                ranges["words"]["lengths"].append(s.length)
        empty = {"source": _empty_ranges(), "suspected": _empty_ranges()}
        out: dict[str, Any] = {
            "statistics": {"identical": detail["matchedWords"], "minorChanges": 0, "relatedMeaning": 0},
            "text": {
                "value": doc.text,
                "pages": {"startPosition": [0]},
                "comparison": {"identical": {"source": source, "suspected": suspected},
                               "minorChanges": empty, "relatedMeaning": empty},
            },
        }
        if parse_bool(scan.properties.get("includehtml")):
            # HTML offsets would need a real renderer; the emulator ships the text wrapped in <pre>
            # and reports identical ranges shifted past the opening tags.
            prefix = "<html><body><pre>"
            shifted = json.loads(json.dumps(suspected))
            shifted["chars"]["starts"] = [s + len(prefix) for s in shifted["chars"]["starts"]]
            out["html"] = {
                "value": prefix + doc.text + "</pre></body></html>",
                "comparison": {"identical": {"groupId": list(range(len(spans))), "source": source,
                                             "suspected": shifted},
                               "minorChanges": {"groupId": [], **empty},
                               "relatedMeaning": {"groupId": [], **empty}},
            }
        return out

    def crawled_version(self, scan: Scan) -> dict[str, Any]:
        """[DOC-crawled]: how the emulator "saw" the submitted document."""
        text = scan.text or ""
        exclude: dict[str, list[int]] = {"starts": [], "lengths": [], "reasons": []}
        out: dict[str, Any] = {
            "metadata": {"words": scan.total_words, "excluded": 0},
            "text": {"value": text, "exclude": exclude, "pages": {"startPosition": [0]}},
        }
        if parse_bool(scan.properties.get("includehtml")):
            out["html"] = {"value": f"<html><body><pre>{html.escape(text)}</pre></body></html>",
                           "exclude": {**exclude, "groupIds": []}}
        return out

    def pdf_report(self, scan: Scan) -> bytes:
        results = scan.results or {}
        score = results.get("score", {})
        title = get_path(scan.properties, "pdf", "title") or "Copyleaks plagiarism report"
        lines = [str(title), "", f"Scan id: {scan.scan_id}", f"Total words: {scan.total_words}",
                 f"Identical words: {score.get('identicalWords', 0)}",
                 f"Aggregated score: {score.get('aggregatedScore', 0)}%", "", "Matches:"]
        for section in ("internet", "database", "batch", "repositories"):
            for item in results.get(section, []):
                where = item.get("url") or f"scan {item.get('scanId')}"
                lines.append(f"- [{section}] {item['title']} ({where}): {item['matchedWords']} words")
        if len(lines) == 8:
            lines.append("No matches found.")
        return make_pdf(lines, title=str(title))
