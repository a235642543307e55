"""The shapes of Copyleaks' webhook bodies, as Pydantic models: one source for validation and OpenAPI.

The models are lenient where Copyleaks varies (REFERENCE.md §8-§9: an error object or a list of
them, codes numbers or strings, a score a number or ``{aggregatedScore}``) and keep every field
they do not name (``extra="allow"``). A named field of the wrong type is refused (422), and so is
a number no store column can hold. The receiver stores the body as delivered, not the model.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainValidator, StrictBool, StrictInt, StrictStr, WithJsonSchema

from airflow_copyleaks.store.schema import INTEGER_MAX

# Counts, credits and scores stay far below what the store's integer columns hold; anything past
# that is not Copyleaks.
NUMBER_LIMIT = INTEGER_MAX


def _finite_number(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"must be a finite number of at most {NUMBER_LIMIT}")
    if not math.isfinite(value) or abs(value) > NUMBER_LIMIT:
        raise ValueError(f"must be a finite number of at most {NUMBER_LIMIT}")
    return value


Number = Annotated[
    int | float,
    PlainValidator(_finite_number),
    WithJsonSchema({"type": "number", "minimum": -NUMBER_LIMIT, "maximum": NUMBER_LIMIT}),
]


class Lenient(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, allow_inf_nan=False)


class ScannedDocument(Lenient):
    scanId: StrictStr | None = None
    totalWords: Number | None = None
    totalExcluded: Number | None = None
    credits: Number | None = None
    expectedCredits: Number | None = None


class Score(Lenient):
    aggregatedScore: Number | None = None


class ResultLists(Lenient):
    internet: list[Any] | None = None
    database: list[Any] | None = None
    batch: list[Any] | None = None
    repositories: list[Any] | None = None


class Results(ResultLists):
    score: Score | None = None


class ScanError(Lenient):
    code: StrictInt | StrictStr | None = None
    message: StrictStr | None = None


class StatusPayload(Lenient):
    """A scan status webhook (completed, error, creditsChecked or indexed)."""

    status: StrictInt | StrictStr | None = None
    developerPayload: StrictStr | None = None
    credits: Number | None = None
    scannedDocument: ScannedDocument | None = None
    results: Results | None = None
    notifications: dict[str, Any] | None = None
    error: ScanError | StrictStr | list[ScanError | StrictStr | None] | None = None


class NewResultPayload(ResultLists):
    """A result found while the scan is still running."""

    score: Number | Score | None = None


class ExportTask(Lenient):
    endpoint: StrictStr | None = None
    httpStatusCode: StrictInt | None = None
    isHealthy: StrictBool | None = None


class ExportCompletedPayload(Lenient):
    """Copyleaks' export-completed webhook: which tasks reached their endpoints."""

    completed: StrictBool | None = None
    developerPayload: StrictStr | None = None
    tasks: list[ExportTask] | None = None


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON schema with its nested models written in place, for an OpenAPI request body
    (a ``$defs`` section would resolve against the OpenAPI document's root, not the schema's)."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(definitions[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    return dict(resolve(schema))
