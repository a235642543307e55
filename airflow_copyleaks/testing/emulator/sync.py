"""The synchronous checks (REFERENCE §10): answers come back in the HTTP response.

Scan ids: every sync API keeps its own per-account set of used ids and answers 409 to a re-used
one (the docs imply a 409 for writing-feedback duplicates [COMPOSIO]; applied to all sync APIs
for consistency). An id is only consumed by a successful (200) call.
Credits: 1 per started 250 words for text checks, 1 per image; 402 when the balance is short;
sandbox calls return canned results and cost nothing.
"""

from __future__ import annotations

import base64
import binascii
import math
from typing import Any

from . import ai_detection, images, moderation, writing_feedback
from .scoring import count_words
from .state import EmulatorState, RegisteredImage
from .validation import conflict_body, error_body, iso_now, parse_bool, valid_scan_id

AI_LANGUAGES = {"en", "es", "fr", "pt", "de", "it", "ru", "pl", "ro", "nl", "sv", "cs", "no", "ko", "ja", "zh-cn",
                "zh-tw", "ar", "bn", "bg", "hr", "el", "he", "hi", "hu", "sr", "th", "tr", "uk", "vi"}


def bad_request(param: str, message: str) -> tuple[int, dict[str, Any]]:
    return 400, error_body(1, details=[{"param": param, "message": message}])


class SyncChecks:
    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    # ---- shared steps ---------------------------------------------------------------------
    def _begin(self, account: str, api: str, scan_id: str) -> tuple[int, dict[str, Any]] | None:
        if not valid_scan_id(scan_id):
            return bad_request("scanId", "The scanId must be 3-36 characters of [a-z0-9] and the allowed symbols.")
        with self.state.lock:
            if scan_id in self.state.sync_ids.get((account, api), set()):
                return 409, conflict_body(self.state.config.conflict_body_format)
        return None

    def _charge(self, account: str, api: str, scan_id: str, credits: int, sandbox: bool) -> tuple[int, Any] | None:
        """Charge and consume the id atomically; a 402 (or 409 on a race) answer when that fails."""
        with self.state.lock:
            used = self.state.sync_ids.setdefault((account, api), set())
            if scan_id in used:
                return 409, conflict_body(self.state.config.conflict_body_format)
            if not sandbox and not self.state.charge(account, credits, scan_id, api):
                return 402, error_body(13, required=credits)
            used.add(scan_id)
        return None

    @staticmethod
    def _scanned(scan_id: str, words: int, credits: int) -> dict[str, Any]:
        return {"scanId": scan_id, "totalWords": words, "totalExcluded": 0, "actualCredits": credits,
                "expectedCredits": credits, "creationTime": iso_now()}

    @staticmethod
    def _text(body: dict[str, Any], low: int, high: int) -> str | tuple[int, dict[str, Any]]:
        text = body.get("text")
        if not isinstance(text, str) or not text:
            return bad_request("text", "The text field is required.")
        if not low <= len(text) <= high:
            return bad_request("text", f"The text must be between {low} and {high} characters long.")
        return text

    # ---- text APIs ------------------------------------------------------------------------
    def writer_detector(self, account: str, scan_id: str, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict):
            return bad_request("body", "A JSON body is required.")
        if (err := self._begin(account, "writer-detector", scan_id)) is not None:
            return err
        text = self._text(body, 255, self.state.config.max_text_chars)
        if isinstance(text, tuple):
            return text
        lang = body.get("language")
        if lang is not None and (not isinstance(lang, str) or lang.lower() not in AI_LANGUAGES):
            return bad_request("language", f"Language '{lang}' is not supported.")
        sens = body.get("sensitivity")
        if sens is not None and (not isinstance(sens, int) or not 1 <= sens <= 3):
            return bad_request("sensitivity", "The sensitivity must be between 1 and 3.")
        sandbox = parse_bool(body.get("sandbox"))
        words = count_words(text)
        credits = 0 if sandbox else max(1, math.ceil(words / 250))
        if (err := self._charge(account, "writer-detector", scan_id, credits, sandbox)) is not None:
            return err
        out = ai_detection.detect_text(text, explain=parse_bool(body.get("explain")), sandbox=sandbox)
        out["scannedDocument"] = self._scanned(scan_id, words, credits)
        return 200, out

    def writing_feedback(self, account: str, scan_id: str, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict):
            return bad_request("body", "A JSON body is required.")
        if (err := self._begin(account, "writing-feedback", scan_id)) is not None:
            return err
        text = self._text(body, 1, self.state.config.max_text_chars)
        if isinstance(text, tuple):
            return text
        lang = body.get("language")
        if lang is not None and lang != "en":
            return bad_request("language", f"Language '{lang}' is not supported.")
        weights = body.get("score")
        if weights is not None:
            if not isinstance(weights, dict):
                return bad_request("score", "The score field must be an object.")
            for k, v in weights.items():
                if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0.0 <= float(v) <= 1.0:
                    return bad_request(f"score.{k}", "Score weights must be between 0.0 and 1.0.")
        sandbox = parse_bool(body.get("sandbox"))
        words = count_words(text)
        credits = 0 if sandbox else max(1, math.ceil(words / 250))
        if (err := self._charge(account, "writing-feedback", scan_id, credits, sandbox)) is not None:
            return err
        out = writing_feedback.check(text, weights, sandbox=sandbox)
        out["scannedDocument"] = self._scanned(scan_id, words, credits)
        return 200, out

    def text_moderation(self, account: str, scan_id: str, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict):
            return bad_request("body", "A JSON body is required.")
        if (err := self._begin(account, "text-moderation", scan_id)) is not None:
            return err
        text = self._text(body, 1, self.state.config.max_text_chars)
        if isinstance(text, tuple):
            return text
        labels = body.get("labels")
        if not isinstance(labels, list) or not 1 <= len(labels) <= 32:
            return bad_request("labels", "Between 1 and 32 labels are required.")
        ids: list[str] = []
        for item in labels:
            lid = item.get("id") if isinstance(item, dict) else None
            if not isinstance(lid, str) or not 1 <= len(lid) <= 32:
                return bad_request("labels", "Each label needs an id of 1 to 32 characters.")
            if lid not in moderation.SUPPORTED_LABELS:
                return bad_request("labels", f"Id Label {lid} is not supported")  # [DOC-err] example
            ids.append(lid)
        lang = body.get("language")
        if lang is not None and lang != "en":
            return bad_request("language", f"Language '{lang}' is not supported.")
        sandbox = parse_bool(body.get("sandbox"))
        words = count_words(text)
        credits = 0 if sandbox else max(1, math.ceil(words / 250))
        if (err := self._charge(account, "text-moderation", scan_id, credits, sandbox)) is not None:
            return err
        out: dict[str, Any] = {"modelVersion": "v1"}
        out.update(moderation.sandbox_moderation(text, ids) if sandbox else moderation.moderate(text, ids))
        out["scannedDocument"] = self._scanned(scan_id, words, credits)
        return 200, out

    # ---- image APIs -----------------------------------------------------------------------
    def image_plagiarism(
        self, account: str, scan_id: str, fields: dict[str, Any], image: bytes | None
    ) -> tuple[int, Any]:
        if (err := self._begin(account, "image-plagiarism", scan_id)) is not None:
            return err
        if image is None:
            return bad_request("image", "The image field is required (multipart/form-data).")
        filename = fields.get("filename")
        if not isinstance(filename, str) or not filename:
            return bad_request("filename", "The filename field is required.")
        if len(filename) > 255 or filename.rsplit(".", 1)[-1].lower() not in images.PLAGIARISM_EXTENSIONS:
            return bad_request("filename", "The filename must be at most 255 characters with a supported extension.")
        if len(image) >= images.MAX_BYTES:
            return bad_request("image", "The image must be smaller than 20MB.")
        try:
            info = images.inspect(image, images.PLAGIARISM_FORMATS)
        except images.ImageError as exc:
            return bad_request("image", str(exc))
        sandbox = parse_bool(fields.get("sandbox"))
        credits = 0 if sandbox else 1
        if (err := self._charge(account, "image-plagiarism", scan_id, credits, sandbox)) is not None:
            return err
        if sandbox:  # canned answer: the docs' example match
            internet: list[dict[str, Any]] = [{"url": "https://example.com/images/photo.jpg", "matchType": 0,
                                               "webPages": [{"url": "https://example.com/blog/my-post"}]}]
        else:
            with self.state.lock:
                registered = list(self.state.images)
            internet = images.find_matches(info, registered)
        full = sum(1 for m in internet if m["matchType"] == 0)
        return 200, {
            "developerPayload": fields.get("developerPayload") or fields.get("developerpayload"),
            "scannedImage": {"scanId": scan_id, "expectedCredits": credits, "actualCredits": credits,
                             "creationTime": iso_now(), "width": info.width, "height": info.height,
                             "filename": filename},
            "matches": {"internet": internet,
                        "score": {"totalMatches": len(internet), "fullMatches": full,
                                  "partialMatches": len(internet) - full}},
        }

    def ai_image(self, account: str, scan_id: str, fields: dict[str, Any], image: bytes | None) -> tuple[int, Any]:
        """JSON (base64) or multipart (image); ``fields`` has lower-cased keys."""
        if (err := self._begin(account, "ai-image", scan_id)) is not None:
            return err
        if image is None:
            b64 = fields.get("base64")
            if not isinstance(b64, str) or not b64:
                return bad_request("base64", "The base64 field (or a multipart image) is required.")
            try:
                image = base64.b64decode(b64, validate=True)
            except (binascii.Error, ValueError):
                return bad_request("base64", "The base64 field is not a valid Base-64 string.")
        filename = fields.get("filename")  # the Java SDK sends "fileName": keys are lower-cased already
        if not isinstance(filename, str) or not filename:
            return bad_request("filename", "The filename field is required.")
        if len(filename) > 255 or filename.rsplit(".", 1)[-1].lower() not in images.AI_IMAGE_EXTENSIONS:
            return bad_request("filename", "The filename must be at most 255 characters with a supported extension.")
        model = fields.get("model", "ai-image-1-ultra")
        if model not in ("ai-image-1-ultra", "ai-image-1-ultra-01-09-2025"):
            return bad_request("model", f"Model '{model}' is not supported.")
        if len(image) >= 32 * 1024 * 1024:
            return bad_request("image", "The image must be smaller than 32MB.")
        try:
            info = images.inspect(image, images.AI_IMAGE_FORMATS, max_pixels=27_000_000)
        except images.ImageError as exc:
            return bad_request("image", str(exc))
        if info.width < 512 or info.height < 512:
            return bad_request("image", "The image must be at least 512x512 pixels.")
        sandbox = parse_bool(fields.get("sandbox"))
        credits = 0 if sandbox else 1
        if not sandbox and not self.state.check_window(
            "ai-image", account, self.state.config.ai_image_per_15_minutes, 900
        ):
            return 429, {"error": "Rate limit exceeded"}
        if (err := self._charge(account, "ai-image", scan_id, credits, sandbox)) is not None:
            return err
        body, height, width = ai_detection.detect_image(image)
        if sandbox:  # canned verdict
            body["result"] = {"starts": [0], "lengths": [height * width]}
            body["summary"] = {"human": 0.0, "ai": 1.0}
        body["imageInfo"]["metadata"] = {"issuedTime": None, "issuedBy": None, "appOrDeviceUsed": None}
        body["scannedDocument"] = {"scanId": scan_id, "actualCredits": credits, "expectedCredits": credits,
                                   "creationTime": iso_now()}
        return 200, body

    # ---- control: register an "internet" image --------------------------------------------
    def register_image(self, url: str, data: bytes, pages: list[str]) -> RegisteredImage:
        info = images.inspect(data, images.PLAGIARISM_FORMATS)
        reg = RegisteredImage(url=url, pages=pages, sha256=info.sha256, dhash=info.dhash, width=info.width,
                              height=info.height, thumb=info.thumb)
        with self.state.lock:
            self.state.images = [i for i in self.state.images if i.url != url] + [reg]
        return reg


