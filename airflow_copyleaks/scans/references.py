"""The ``properties.references`` object of a submit request, checked before any call.

Copyleaks' guide names only ``properties.references.validate`` (docs/copyleaks-references.md);
``crossCheck`` is accepted for the in-text cross-check. The object is strict on purpose: a typo
such as ``{"validtae": true}`` would otherwise be dropped by Copyleaks and the citation check
would silently not run, while the report later shows "no references".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from airflow_copyleaks.exceptions import CopyleaksValidationError

FIELD = "properties.references"
KEYS = ("validate", "crossCheck")


class ReferencesProperty(BaseModel):
    """Wire form of ``properties.references`` (camelCase, as sent)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    # "validate" would shadow BaseModel.validate: the attribute has another name, the wire the same.
    validate_references: StrictBool | None = Field(default=None, alias="validate")
    crossCheck: StrictBool | None = None


def check_references_property(properties: Mapping[str, Any]) -> None:
    """Raise :class:`CopyleaksValidationError` naming the field when ``properties["references"]``
    is not an object of booleans ``validate`` / ``crossCheck``, or asks for ``crossCheck``
    without ``validate`` (a cross-check of references nobody validates does nothing)."""
    value = properties.get("references")
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise CopyleaksValidationError(FIELD, f"must be an object, got {type(value).__name__}", limit=_limit())
    try:
        parsed = ReferencesProperty.model_validate(dict(value))
    except ValidationError as err:
        first = err.errors()[0]
        name = ".".join(str(part) for part in first["loc"])
        if first["type"] == "extra_forbidden":
            raise CopyleaksValidationError(f"{FIELD}.{name}", "is not a known key", limit=_limit()) from None
        got = first.get("input")
        raise CopyleaksValidationError(
            f"{FIELD}.{name}", f"must be true or false, got {got!r}", limit=_limit()
        ) from None
    if parsed.crossCheck and not parsed.validate_references:
        raise CopyleaksValidationError(f"{FIELD}.crossCheck", "needs validate: true", limit=_limit())


def references_requested(properties: Mapping[str, Any]) -> bool:
    """Whether a (wire-form) ``properties`` object asks for references validation."""
    value = properties.get("references")
    return isinstance(value, Mapping) and value.get("validate") is True


def _limit() -> str:
    return "an object with the booleans " + " and ".join(KEYS)
