"""Public miscellaneous routes (no login): file types, languages, release notes, correction types."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from ..extraction import CODE_TYPES, OCR_TYPES, SUPPORTED_TEXTUAL
from ..scans import OCR_LANGUAGES
from ..validation import error_body
from ..writing_feedback import CORRECTION_TYPES
from .common import json_response

router = APIRouter()

_FILE_TYPES = {"textual": [*sorted(SUPPORTED_TEXTUAL - CODE_TYPES - {"tex", "latex"}), "LaTeX"],
               "ocr": sorted(OCR_TYPES)}


@router.get("/v3/miscellaneous/supported-file-types")
@router.get("/v3/miscellaneous/supported-plagiarism-file-types")
async def supported_types() -> Response:
    return json_response(200, _FILE_TYPES)


@router.get("/v3/miscellaneous/supported-ai-text-detection-file-types")
async def ai_types() -> Response:
    return json_response(200, {"supportedAiFileTypes": ["txt", "pdf", "docx", "doc", "rtf", "html", "htm", "odt"]})


@router.get("/v3/miscellaneous/ocr-languages-list")
@router.get("/v3/miscellaneous/ocr-supported-languages")
async def ocr_languages() -> Response:
    return json_response(200, OCR_LANGUAGES)


@router.get("/v3/miscellaneous/allowed-cross-languages")
@router.get("/v3/miscellaneous/supported-cross-languages")
async def cross_languages() -> Response:  # shape UNCONFIRMED: a plain list of codes
    return json_response(200, ["en", "es", "fr", "de", "it", "pt", "ru", "zh", "ja", "ar"])


@router.get("/v3/release-logs.json")
async def release_logs() -> Response:
    return json_response(200, {"updates": [{"msgType": "info", "date": "2025-08-29T00:00:00Z",
                                            "htmlDescription": "<p>Copyleaks emulator release notes.</p>"}]})


@router.get("/v1/writing-feedback/correction-types/{language}")
async def correction_types(language: str) -> Response:
    if language.lower() != "en":
        return json_response(400, error_body(25))
    return json_response(200, {"correctionTypes": CORRECTION_TYPES})
