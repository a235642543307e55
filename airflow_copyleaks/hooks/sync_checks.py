"""Synchronous, paid checks: AI text, writing feedback, moderation, image plagiarism, AI image."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow_copyleaks import validation as v
from airflow_copyleaks.exceptions import CopyleaksValidationError
from airflow_copyleaks.hooks.endpoints import EndpointGroup, without_none

_IMAGE_TYPES = {"png", "bmp", "jpg", "jpeg", "webp", "heic", "heif"}


class SyncCheckEndpoints(EndpointGroup):
    def detect_ai_text(
        self,
        scan_id: str,
        text: str,
        *,
        sandbox: bool | None = None,
        language: str | None = None,
        explain: bool = False,
        sensitivity: int | None = None,
    ) -> dict[str, Any]:
        v.validate_scan_id(scan_id)
        v.validate_text_length(text, minimum=v.AI_DETECTION_TEXT_MIN, maximum=v.AI_DETECTION_TEXT_MAX)
        if sensitivity is not None and sensitivity not in (1, 2, 3):
            raise CopyleaksValidationError("sensitivity", f"is {sensitivity!r}", limit="1 to 3")
        body = without_none(
            {"text": text, "sandbox": self._sandbox(sandbox), "language": language, "explain": explain or None,
             "sensitivity": sensitivity}
        )  # fmt: skip
        return self._call("ai_text", scan_id=scan_id, json_body=body)

    def writing_feedback(
        self,
        scan_id: str,
        text: str,
        *,
        sandbox: bool | None = None,
        language: str | None = None,
        score_weights: Mapping[str, float] | None = None,
    ) -> dict[str, Any]:
        v.validate_scan_id(scan_id)
        v.validate_text_length(text, minimum=1, maximum=v.WRITING_FEEDBACK_TEXT_MAX)
        for name, weight in (score_weights or {}).items():
            if not 0.0 <= float(weight) <= 1.0:
                raise CopyleaksValidationError(f"score_weights.{name}", f"is {weight}", limit="0.0 to 1.0")
        body = without_none(
            {"text": text, "sandbox": self._sandbox(sandbox), "language": language,
             "score": dict(score_weights) if score_weights else None}
        )  # fmt: skip
        return self._call("writing_feedback", scan_id=scan_id, json_body=body)

    def moderate_text(
        self,
        scan_id: str,
        text: str,
        *,
        labels: Sequence[str] | None = None,
        sandbox: bool | None = None,
        language: str | None = None,
    ) -> dict[str, Any]:
        v.validate_scan_id(scan_id)
        v.validate_text_length(text, minimum=1, maximum=v.MODERATION_TEXT_MAX)
        chosen = v.validate_moderation_labels(labels)
        body = without_none(
            {"text": text, "sandbox": self._sandbox(sandbox), "language": language,
             "labels": [{"id": label} for label in chosen]}
        )  # fmt: skip
        return self._call("moderation", scan_id=scan_id, json_body=body)

    def check_image_plagiarism(
        self,
        scan_id: str,
        image: bytes,
        filename: str,
        *,
        sandbox: bool | None = None,
        developer_payload: str | None = None,
    ) -> dict[str, Any]:
        """Image plagiarism check (multipart upload); validated from the image header first."""
        v.validate_scan_id(scan_id)
        v.validate_image_for_check(image, filename)
        v.validate_developer_payload(developer_payload)
        form = without_none(
            {"filename": filename, "sandbox": "true" if self._sandbox(sandbox) else "false",
             "developerPayload": developer_payload}
        )  # fmt: skip
        files = {"image": (filename, image, "application/octet-stream")}
        return self._call("image_plagiarism", scan_id=scan_id, files=files, data=form)

    def detect_ai_image(
        self,
        scan_id: str,
        image: bytes,
        filename: str,
        *,
        model: str = "ai-image-1-ultra",
        sandbox: bool | None = None,
    ) -> dict[str, Any]:
        v.validate_scan_id(scan_id)
        v.validate_filename(filename, allowed=_IMAGE_TYPES)
        if len(image) >= 32 * v.MB:
            raise CopyleaksValidationError("image", f"is {len(image) / v.MB:.1f} MB", limit="less than 32 MB")
        info = v.read_image_header(image)
        if info is not None and (info.width < 512 or info.height < 512):
            raise CopyleaksValidationError("image", f"is {info.width}x{info.height}", limit="at least 512x512 pixels")
        if info is not None and info.width * info.height > v.AI_IMAGE_MAX_PIXELS:
            raise CopyleaksValidationError(
                "image", f"has {info.width * info.height / 1e6:.1f} megapixels", limit="27 megapixels (6000x4500)"
            )
        form = {"filename": filename, "model": model, "sandbox": "true" if self._sandbox(sandbox) else "false"}
        files = {"image": (filename, image, "application/octet-stream")}
        return self._call("ai_image", scan_id=scan_id, files=files, data=form)
