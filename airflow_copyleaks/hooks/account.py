"""The account (credits, usage) and Copyleaks' reference lists."""

from __future__ import annotations

from datetime import date
from typing import Any

from airflow_copyleaks.exceptions import CopyleaksValidationError
from airflow_copyleaks.hooks.endpoints import EndpointGroup


class AccountEndpoints(EndpointGroup):
    def get_credits(self) -> int:
        body = self._call("credits")
        return int(body.get("Amount", body.get("amount", 0)))

    def get_usage_history(self, start: date, end: date) -> str:
        """The account's usage between two dates, as the CSV Copyleaks returns."""
        if end < start:
            raise CopyleaksValidationError("end", f"{end} is before start {start}")
        params = {"start": start.strftime("%d-%m-%Y"), "end": end.strftime("%d-%m-%Y")}
        raw = self._call("usage_history", params=params, raw=True)
        return raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)

    def get_supported_file_types(self) -> dict[str, list[str]]:
        return self._call("supported_file_types")

    def get_ocr_languages(self) -> list[str]:
        return self._call("ocr_languages")

    def get_ai_text_file_types(self) -> dict[str, list[str]]:
        return self._call("ai_text_file_types")

    def get_correction_types(self, language: str = "en") -> dict[str, Any]:
        return self._call("correction_types", language=language)
