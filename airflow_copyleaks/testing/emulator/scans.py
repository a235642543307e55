"""Asynchronous authenticity scans: submit validation, the background pipeline and its webhooks,
start (price-checked scans), delete and resend (REFERENCE §3-§6, §9)."""

from __future__ import annotations

import json
import math
import time
from typing import Any

from . import ai_detection, references, writing_feedback
from .extraction import ExtractionError, extract_document, extract_image_text, extraction_title, meets_minimum
from .scoring import Document, Match, Span, excluded_by_id, score, tokenize
from .state import EmulatorState, Scan
from .submission import OCR_LANGUAGES, parse_submission, valid_url
from .validation import (
    ERROR_HANDLING,
    EnumError,
    conflict_body,
    error_body,
    get_path,
    iso_now,
    parse_bool,
    parse_enum,
    parse_headers,
    substitute_status,
)
from .webhooks import Delivery, Dispatcher

SUBMIT_PATHS = {"file": "/v3/scans/submit/file/", "ocr": "/v3/scans/submit/file/ocr/", "url": "/v3/scans/submit/url/"}
STATUS_CODES = {"completed": 0, "error": 1, "creditsChecked": 2, "indexed": 3}
RUNNING = ("queued",)
WORDS_PER_CREDIT = 250  # 1 credit = 250 words [DOC-tech]

def credits_for(words: int) -> int:
    return max(1, math.ceil(words / WORDS_PER_CREDIT))


class ScanEngine:
    def __init__(self, state: EmulatorState, dispatcher: Dispatcher) -> None:
        self.state = state
        self.dispatcher = dispatcher

    # ---- submit ---------------------------------------------------------------------------
    def submit(self, account: str, kind: str, scan_id: str, body: Any) -> tuple[int, Any]:
        """Validate a submit request; 201 and a background job on success. ``body`` has lower-cased keys."""
        parsed = parse_submission(kind, scan_id, body)
        if isinstance(parsed, dict):
            return 400, parsed
        raw, filename, url, props, action = parsed.raw, parsed.filename, parsed.url, parsed.properties, parsed.action
        with self.state.lock:
            if (account, scan_id) in self.state.scans:
                return 409, conflict_body(self.state.config.conflict_body_format)
            sandbox = parse_bool(props.get("sandbox"))
            cfg = self.state.config
            if sandbox and not self.state.check_window(
                "sandbox", account, cfg.sandbox_scans_per_hour, cfg.sandbox_window_seconds
            ):
                return 429, {"error": "Rate limit exceeded"}
            scan = Scan(
                scan_id=scan_id, account=account, kind=kind, action=action, properties=props, created=time.time(),
                filename=filename, url=url, raw=raw, lang_code=body.get("langcode"),
                sandbox=sandbox, generation=self.state.generation,
            )
            self.state.scans[(account, scan_id)] = scan
        fault = self.state.take_fault("PUT", f"{SUBMIT_PATHS[kind]}{scan_id}", scan_error=True)
        scan.fails_with = fault.code if fault is not None else 0
        self._schedule(scan)
        return 201, None

    def _schedule(self, scan: Scan) -> None:
        self.dispatcher.schedule(self.state.config.scan_delay(), lambda: self._process(scan))

    # ---- pipeline -------------------------------------------------------------------------
    def _alive(self, scan: Scan) -> bool:
        return scan.generation == self.state.generation and scan.status != "deleted"

    def _process(self, scan: Scan) -> None:
        if not self._alive(scan) or scan.status != "queued":
            return
        if scan.fails_with:
            self._error(scan, scan.fails_with)
            return
        if scan.text is None:
            try:
                text = self._extract(scan)
            except ExtractionError as exc:
                self._error(scan, exc.code)
                return
            scan.text = text
            scan.total_words = len(tokenize(text))
            scan.expected_credits = credits_for(scan.total_words)
            if not meets_minimum(text, scan.total_words):
                self._error(scan, 11)
                return
        if scan.action == 1 and not scan.started:
            self._credits_checked(scan)
        elif scan.action == 2:
            self._index(scan)
        else:
            self._complete(scan)

    def _extract(self, scan: Scan) -> str:
        if scan.kind == "url":
            assert scan.url is not None
            if not valid_url(scan.url):
                raise ExtractionError(15)
            # No internet here: only pages of the emulator's corpus can be "downloaded".
            doc = self.state.internet.get(scan.url)
            if doc is None:
                raise ExtractionError(5)
            return doc.text
        assert scan.filename is not None
        if "/" in scan.filename or "\\" in scan.filename:
            raise ExtractionError(24)  # a path instead of a name: "Bad filename!" (PHP issue #14)
        if scan.kind == "ocr":
            if scan.lang_code is not None and scan.lang_code not in OCR_LANGUAGES:
                raise ExtractionError(25)
            return extract_image_text(scan.raw, scan.filename)
        return extract_document(scan.raw, scan.filename)

    def _scanned_document(self, scan: Scan) -> dict[str, Any]:
        metadata: dict[str, Any] = {"finalUrl": "", "canonicalUrl": "", "publishDate": "", "creationDate": "",
                                    "lastModificationDate": "", "author": "", "organization": "", "filename": ""}
        if scan.url:
            metadata["finalUrl"] = metadata["canonicalUrl"] = scan.url
        if scan.filename:
            metadata["filename"] = scan.filename
        p = scan.properties
        return {
            "scanId": scan.scan_id, "totalWords": scan.total_words, "totalExcluded": 0,
            "credits": scan.credits_charged, "expectedCredits": scan.expected_credits,
            "creationTime": iso_now(scan.created), "metadata": metadata, "detectedLanguage": "en",
            "enabled": {
                "plagiarismDetection": True,
                "aiDetection": parse_bool(get_path(p, "aigeneratedtext", "detect")),
                "explainableAi": parse_bool(get_path(p, "aigeneratedtext", "explain", "enable")),
                "writingFeedback": parse_bool(get_path(p, "writingfeedback", "enable")),
                "pdfReport": parse_bool(get_path(p, "pdf", "create")),
                "cheatDetection": parse_bool(p.get("cheatdetection")),
                "aiSourceMatch": parse_bool(get_path(p, "aisourcematch", "enable")),
            },
        }

    def _send_status(self, scan: Scan, status: str, payload: dict[str, Any]) -> None:
        with self.state.lock:
            if not self._alive(scan):
                return
            scan.last_status = status
            scan.last_payload = payload
        self._deliver_status(scan)

    def _deliver_status(self, scan: Scan) -> None:
        url = get_path(scan.properties, "webhooks", "status")
        headers = parse_headers(get_path(scan.properties, "webhooks", "statusheaders")) or []
        assert scan.last_status is not None
        d = Delivery.json("status", substitute_status(str(url), scan.last_status), scan.last_payload,
                          headers=headers, scan_id=scan.scan_id, account=scan.account)
        self.dispatcher.deliver(d, scan.generation)

    def _error(self, scan: Scan, code: int, **fmt: Any) -> None:
        scan.status = "error"
        payload = {"status": 1, **error_body(code, **fmt), "developerPayload": scan.developer_payload}
        self._send_status(scan, "error", payload)

    def _credits_checked(self, scan: Scan) -> None:
        scan.status = "creditsChecked"  # waits for PATCH /v3/scans/start; nothing charged yet
        payload = {"status": 2, "developerPayload": scan.developer_payload, "credits": scan.expected_credits,
                   "scannedDocument": self._scanned_document(scan)}
        self._send_status(scan, "creditsChecked", payload)

    def _index(self, scan: Scan) -> None:
        assert scan.text is not None
        title = extraction_title(scan.filename or scan.url or scan.scan_id, scan.text)
        # Indexing is free; the document joins the account's own database corpus.
        self.state.database(scan.account).add(
            Document(key=f"scan:{scan.scan_id}", title=title, text=scan.text, scan_id=scan.scan_id)
        )
        scan.status = "indexed"
        self._send_status(scan, "indexed", {"status": 3, "developerPayload": scan.developer_payload})

    def _find(self, scan: Scan) -> list[tuple[str, Match]]:
        assert scan.text is not None
        tokens = tokenize(scan.text)
        if scan.sandbox:
            # Sandbox: the same canned result for any input [REFERENCE §15]: one "internet" page that
            # repeats the first 20 words, so exports still carry consistent offsets.
            k = min(20, len(tokens))
            end = tokens.ends[k - 1] if k else 0
            doc = Document(key="sandbox:mock", title="Sandbox mock result", text=scan.text[:end],
                           url="https://example-sandbox.test/mock-result")
            return [("internet", Match(doc, [Span(0, 0, k)], k))] if k else []
        found: list[tuple[str, Match]] = []
        if get_path(scan.properties, "scanning", "internet") is not False:
            exclude = frozenset({scan.url}) if scan.url else frozenset()
            found += [("internet", m) for m in self.state.internet.find(tokens, exclude)]
        database = self.state.database(scan.account)
        unwanted = excluded_by_id(
            database.documents(),
            get_path(scan.properties, "scanning", "include", "idpattern"),
            get_path(scan.properties, "scanning", "exclude", "idpattern"),
        )
        found += [("database", m) for m in database.find(tokens, unwanted)]
        min_words = get_path(scan.properties, "filters", "mincopiedwords")
        if isinstance(min_words, int) and min_words > 0:
            found = [(s, m) for s, m in found if m.matched_words >= min_words]
        return found

    def _complete(self, scan: Scan) -> None:
        assert scan.text is not None
        found = self._find(scan)
        tokens = tokenize(scan.text)
        result = score(tokens, [m for _, m in found])
        cost = 0 if scan.sandbox else scan.expected_credits
        if cost and not self.state.charge(scan.account, cost, scan.scan_id, "scan"):
            self._error(scan, 13, required=cost)
            return
        scan.credits_charged = cost
        sections: dict[str, list[dict[str, Any]]] = {"internet": [], "database": [], "batch": [], "repositories": []}
        details: dict[str, dict[str, Any]] = {}
        new_result_url = get_path(scan.properties, "webhooks", "newresult")
        running_covered: set[int] = set()
        for n, (section, match) in enumerate(found):
            item = self._result_item(section, match)
            sections[section].append(item)
            details[item["id"]] = {"section": section, "document": match.document, "spans": match.spans,
                                   "matchedWords": match.matched_words}
            if new_result_url and self.state.config.send_new_results:
                for s in match.spans:
                    running_covered.update(range(s.source_word, s.source_word + s.length))
                running = round(100.0 * len(running_covered) / max(1, len(tokens)), 1)
                self._new_result(scan, str(new_result_url), section, item, running, n)
        scan.result_details = details
        scan.results = {
            "score": {"identicalWords": result.identical_words, "minorChangedWords": 0, "relatedMeaningWords": 0,
                      "aggregatedScore": result.aggregated_score},
            **sections,
        }
        alerts: list[dict[str, Any]] = []
        props = scan.properties
        if parse_bool(get_path(props, "aigeneratedtext", "detect")):
            explain = parse_bool(get_path(props, "aigeneratedtext", "explain", "enable"))
            ai = ai_detection.detect_text(scan.text, explain=explain)
            ai["scannedDocument"] = {"scanId": scan.scan_id, "totalWords": scan.total_words, "totalExcluded": 0,
                                     "actualCredits": 0, "expectedCredits": 0, "creationTime": iso_now(scan.created)}
            scan.ai_detection = ai
            # Sandbox never raises AI alerts [SO-ai].
            if not scan.sandbox and ai["summary"]["ai"] >= 0.5:
                alerts.append({
                    "category": 2, "code": "suspected-ai-text", "title": "Suspected AI-generated text",
                    "message": "We are unable to verify that the text was written by a human.",
                    "helpLink": "https://help.copyleaks.com/", "severity": 0, "additionalData": json.dumps(ai),
                })
        if parse_bool(get_path(props, "writingfeedback", "enable")):
            weights = get_path(props, "writingfeedback", "score")
            scan.writing_feedback = writing_feedback.check(scan.text, weights if isinstance(weights, dict) else None)
        scan.status = "completed"
        payload = {"status": 0, "developerPayload": scan.developer_payload,
                   "scannedDocument": self._scanned_document(scan), "results": scan.results,
                   "notifications": {"alerts": alerts}}
        if parse_bool(get_path(props, "references", "validate")):
            self._add_references(scan, payload)
        self._send_status(scan, "completed", payload)

    def _add_references(self, scan: Scan, payload: dict[str, Any]) -> None:
        """The references-validation section, placed and (on request) broken as configured."""
        assert scan.text is not None
        cross = parse_bool(get_path(scan.properties, "references", "crosscheck"))
        section = references.validate_references(scan.text, self.state.internet, cross_check=cross)
        broken = references.malformed(section, self.state.config.references_fault)
        if self.state.config.references_placement == "results":
            payload["results"] = {**payload["results"], "references": broken}
        else:
            payload["references"] = broken

    def _result_item(self, section: str, match: Match) -> dict[str, Any]:
        doc = match.document
        item: dict[str, Any] = {
            "id": doc.result_id, "title": doc.title, "introduction": doc.introduction,
            "matchedWords": match.matched_words, "identicalWords": match.matched_words, "similarWords": 0,
            "paraphrasedWords": 0, "totalWords": len(doc.tokens),
            "metadata": {"finalUrl": doc.url or "", "canonicalUrl": doc.url or "", "publishDate": "",
                         "creationDate": "", "lastModificationDate": "", "author": "", "organization": "",
                         "filename": ""},
            "tags": [],
        }
        if section == "internet":
            item["url"] = doc.url
        else:
            item["scanId"] = doc.scan_id
        return item

    def _new_result(self, scan: Scan, url: str, section: str, item: dict[str, Any], running: float, n: int) -> None:
        fmt = self.state.config.new_result_score_format
        as_object = fmt == "object" or (fmt == "alternate" and n % 2 == 0)
        payload: dict[str, Any] = {
            # Docs show a number, the SDKs model {"aggregatedScore": x}; clients must take both.
            "score": {"aggregatedScore": running} if as_object else running,
            "developerPayload": scan.developer_payload,
            "internet": [], "database": [], "batch": [], "repositories": [],
        }
        payload[section] = [item]
        headers = parse_headers(get_path(scan.properties, "webhooks", "newresultheaders")) or []
        self.dispatcher.deliver(
            Delivery.json("newResult", url, payload, headers=headers, scan_id=scan.scan_id, account=scan.account),
            scan.generation,
        )

    # ---- start / delete / resend ----------------------------------------------------------
    def start(self, account: str, body: Any) -> tuple[int, Any]:
        """``PATCH /v3/scans/start``. With errorHandling 0 (cancel) one bad id cancels the request and
        every id is reported under ``failed`` (the docs do not say how a cancelled request reports)."""
        if not isinstance(body, dict):
            return 400, {"trigger": ["The trigger field is required.", "Cannot be null"]}
        trigger = body.get("trigger")
        if trigger is None:
            return 400, {"trigger": ["The trigger field is required.", "Cannot be null"]}
        if not isinstance(trigger, list) or not all(isinstance(t, str) for t in trigger):
            return 400, {"trigger": ["The trigger field must be an array of scan ids."]}
        if len(trigger) > 100:
            return 400, {"trigger": ["The field trigger must be an array with a maximum length of '100'."]}
        try:
            handling = parse_enum(body.get("errorhandling"), ERROR_HANDLING, 0)
        except EnumError:
            return 400, {"errorHandling": ["The value is not valid for errorHandling."]}
        now = time.time()
        ok: list[Scan] = []
        failed: list[str] = []
        with self.state.lock:
            for sid in trigger:
                scan = self.state.scans.get((account, sid))
                if (scan is None or scan.status != "creditsChecked" or scan.started
                        or now - scan.created > self.state.config.price_check_expiry_seconds):
                    failed.append(sid)
                else:
                    ok.append(scan)
            if failed and handling == 0:
                return 200, {"success": [], "failed": list(trigger)}
            for scan in ok:
                scan.started = True
                scan.status = "queued"
        for scan in ok:
            self._schedule(scan)
        return 200, {"success": [s.scan_id for s in ok], "failed": failed}

    def delete(self, account: str, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict):
            return 400, {"": ["A non-empty request body is required."]}
        scans = body.get("scans")
        if not isinstance(scans, list) or not scans:
            return 400, {"scans": ["The scans field is required."]}
        if len(scans) > 10000:
            return 400, {"scans": ["The field scans must be an array with a maximum length of '10000'."]}
        ids: list[str] = []
        for i, item in enumerate(scans):
            sid = item.get("id") if isinstance(item, dict) else None
            if not isinstance(sid, str) or not sid:
                return 400, {f"scans[{i}].id": ["The id field is required."]}
            ids.append(sid)
        webhook = body.get("completionwebhook") or body.get("uri")  # Java SDK sends "uri" (REFERENCE §14)
        if webhook is not None and not valid_url(webhook):
            return 400, {"completionWebhook": ["The field must be an absolute http(s) URL."]}
        headers = parse_headers(body.get("headers", body.get("completionwebhookheaders")))
        if headers is None:
            return 400, {"headers": ["Headers must be a list of [key, value] pairs."]}
        with self.state.lock:
            generation = self.state.generation
            for sid in ids:
                scan = self.state.scans.get((account, sid))
                if scan is None:
                    continue
                scan.status = "deleted"  # the id stays taken: re-using it still answers 409
                scan.text = None
                scan.raw = b""
                self.state.database(account).remove(f"scan:{sid}")
        if webhook:
            d = Delivery("delete-completed", str(webhook), None, headers=headers, content_type=None, account=account)

            def notify() -> None:
                self.dispatcher.deliver(d, generation)

            self.dispatcher.schedule(0.05, notify)
        return 202, {}

    def resend(self, account: str, scan_id: str) -> tuple[int, Any]:
        with self.state.lock:
            scan = self.state.scans.get((account, scan_id))
            if scan is None or scan.status == "deleted":
                return 404, error_body(27)
            if scan.status in RUNNING or scan.last_payload is None:
                return 400, error_body(26)
        self.dispatcher.submit(lambda: self._deliver_status(scan))
        return 202, {}
