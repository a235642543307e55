"""Typed scan properties: the ``properties`` object of a submit request (REFERENCE.md §3.2).

Every documented property is reachable through a dataclass with snake_case fields;
:func:`properties_to_wire` turns them into the camelCase wire names and leaves out whatever was
not set, as the official SDKs do (an unset property is absent, never ``null``). A plain dict is
accepted too, for properties newer than this module. ``webhooks`` is not here: the provider fills
it in from the connection, so every scan reports to the receiver with its own credential::

    ScanProperties(
        sensitivity_level=3,
        filters=Filters(domains=["example.com"], domains_mode="exclude"),
        pdf=Pdf(create=True, title="Weekly audit"),
        ai_generated_text=AiGeneratedText(detect=True),
    )
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airflow_copyleaks.scans.property_parts import (
    AiGeneratedText,
    AiSourceMatch,
    CodeExclusion,
    CopyleaksDbScanning,
    CrossLanguages,
    Exclude,
    Explain,
    Filters,
    IdPattern,
    IdRef,
    Indexing,
    IndexingRepository,
    Language,
    MetadataEntry,
    Overview,
    Pdf,
    PdfColors,
    References,
    Scanning,
    ScanningRepository,
    SensitiveDataProtection,
    WritingFeedback,
    WritingScoreWeights,
)

# Names whose camelCase form is not the mechanical conversion of the field name.
_WIRE_NAMES = {
    "copyleaks_db": "copyleaksDb",
    "ai_generated_text": "aiGeneratedText",
    "ignore_ai_detection": "ignoreAIDetection",
    "ai_source_match": "aiSourceMatch",
}

# Enums travel as integers (what the Python and Node SDKs send); names are accepted for readability.
_ENUMS: dict[str, dict[str, int]] = {
    "action": {"scan": 0, "check-credits": 1, "checkcredits": 1, "index-only": 2, "indexonly": 2, "index": 2},
    "scan_method_algorithm": {"maximum-coverage": 0, "maximumcoverage": 0, "maximum-results": 1, "maximumresults": 1},
    "domains_mode": {"include": 0, "exclude": 1},
    "masking_policy": {
        "no-mask": 0,
        "nomask": 0,
        "mask-other-users-files": 1,
        "mask-unless-owner": 1,
        "mask-all-files": 2,
        "maskallfiles": 2,
    },
}


def _camel(name: str) -> str:
    if name in _WIRE_NAMES:
        return _WIRE_NAMES[name]
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _enum(name: str, value: Any) -> Any:
    table = _ENUMS.get(name)
    if table is None or not isinstance(value, str):
        return value
    key = value.strip().lower().replace("_", "-")
    if key not in table:
        from airflow_copyleaks.exceptions import CopyleaksValidationError

        raise CopyleaksValidationError(f"properties.{_camel(name)}", f"unknown value {value!r}", limit=", ".join(table))
    return table[key]


def _wire(value: Any, name: str = "") -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if item is None:
                continue  # unset -> absent on the wire
            if f.name == "extra":
                out.update(dict(item))
                continue
            out[_camel(f.name)] = _wire(item, f.name)
        return out
    if isinstance(value, Mapping):
        return {str(k): _wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_wire(v, name) for v in value]
    return _enum(name, value)


@dataclass
class ScanProperties:
    """``properties`` of a submit request, minus ``webhooks`` (filled in by the provider).

    ``action`` and ``sandbox`` are usually set through the operator's own arguments. A
    ``sandbox`` set here wins; an ``action`` set here must agree with the operator's. ``extra``
    is merged into the wire object as is, for properties newer than this class. Each field is the
    camelCase property of the same name (REFERENCE.md §3.2).

    :param action: ``scan``, ``check-credits`` or ``index-only``.
    :param include_html: Also produce HTML versions of results.
    :param developer_payload: Up to 512 characters echoed in every webhook.
    :param sandbox: Mock results, free.
    :param expiration: Hours Copyleaks keeps the scan, 1 to 2880.
    :param sensitivity_level: 1 to 5.
    :param cheat_detection: Add a cheat-detection alert to the completed webhook.
    :param scan_method_algorithm: ``maximum-coverage`` or ``maximum-results``.
    :param author: The author's id.
    :param course: The course's id.
    :param assignment: The assignment's id.
    :param institution: The institution's id.
    :param filters: Which matches count.
    :param scanning: Where to look for matches.
    :param indexing: Where the document is kept for later comparisons.
    :param exclude: Parts of the document left out.
    :param pdf: The PDF report.
    :param sensitive_data_protection: What Copyleaks masks in stored copies.
    :param custom_metadata: Key-value pairs kept with the scan.
    :param ai_generated_text: AI-text detection within the scan.
    :param writing_feedback: Writing feedback within the scan.
    :param display_language: The PDF report's language.
    :param overview: Copyleaks' generated overview.
    :param ai_source_match: Match AI-written text with sources.
    :param priority: Scan priority, as Copyleaks defines it.
    :param references: Citation checks.
    :param extra: Wire-form properties merged in as they are.
    """

    action: str | int | None = None  # scan / check-credits / index-only
    include_html: bool | None = None
    developer_payload: str | None = None
    sandbox: bool | None = None
    expiration: int | None = None  # hours, 1-2880
    sensitivity_level: int | None = None  # 1-5
    cheat_detection: bool | None = None
    scan_method_algorithm: str | int | None = None  # maximum-coverage / maximum-results
    author: IdRef | None = None
    course: IdRef | None = None
    assignment: IdRef | None = None
    institution: IdRef | None = None
    filters: Filters | None = None
    scanning: Scanning | None = None
    indexing: Indexing | None = None
    exclude: Exclude | None = None
    pdf: Pdf | None = None
    sensitive_data_protection: SensitiveDataProtection | None = None
    custom_metadata: list[MetadataEntry] | None = None
    ai_generated_text: AiGeneratedText | None = None
    writing_feedback: WritingFeedback | None = None
    display_language: str | None = None
    overview: Overview | None = None
    ai_source_match: AiSourceMatch | None = None
    priority: int | None = None
    references: References | None = None
    extra: dict[str, Any] | None = None

    def to_wire(self) -> dict[str, Any]:
        return properties_to_wire(self)


def properties_to_wire(properties: ScanProperties | Mapping[str, Any] | None) -> dict[str, Any]:
    """The camelCase ``properties`` object for the wire (a new dict; the input is not changed).

    A dict is taken as already in wire form (its keys are not renamed), so a dict from
    an XCom or a DAG param goes through untouched, apart from enum names becoming integers.
    """
    if properties is None:
        return {}
    if isinstance(properties, ScanProperties):
        return dict(_wire(properties))
    if isinstance(properties, Mapping):
        out = {str(k): _wire(v) for k, v in properties.items()}
        for name in ("action", "scanMethodAlgorithm"):
            if name in out:
                out[name] = _enum("scan_method_algorithm" if name == "scanMethodAlgorithm" else name, out[name])
        return out
    raise TypeError(f"properties must be ScanProperties or a dict, not {type(properties).__name__}")


def pdf_requested(wire: Mapping[str, Any]) -> bool:
    pdf = wire.get("pdf")
    return isinstance(pdf, Mapping) and bool(pdf.get("create"))


__all__ = [
    "AiGeneratedText",
    "AiSourceMatch",
    "CodeExclusion",
    "CopyleaksDbScanning",
    "CrossLanguages",
    "Exclude",
    "Explain",
    "Filters",
    "IdPattern",
    "IdRef",
    "Indexing",
    "IndexingRepository",
    "Language",
    "MetadataEntry",
    "Overview",
    "Pdf",
    "PdfColors",
    "References",
    "ScanProperties",
    "Scanning",
    "ScanningRepository",
    "SensitiveDataProtection",
    "WritingFeedback",
    "WritingScoreWeights",
    "pdf_requested",
    "properties_to_wire",
]
