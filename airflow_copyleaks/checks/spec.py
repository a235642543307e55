"""What a synchronous check product is to the runtime: a :class:`CheckSpec`, data and four functions.

Each product (moderation, image, AI text, writing) builds its spec next to its summary code, from
the operator's rendered options; building it validates those options, before any call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_copyleaks import ids
from airflow_copyleaks import validation as v
from airflow_copyleaks.checks.inputs import ImageItem, TextItem, load_text
from airflow_copyleaks.checks.policy import Bound
from airflow_copyleaks.exceptions import CopyleaksValidationError

if TYPE_CHECKING:
    from airflow_copyleaks.hooks.copyleaks import CopyleaksHook

Item = TextItem | ImageItem


@dataclass(frozen=True)
class Prepared:
    """An item ready to send: its validated payload and a hash of its content (for ids)."""

    payload: Any
    content_sha256: str
    filename: str | None = None


@dataclass(frozen=True)
class CheckSpec:
    """One product of the synchronous checks.

    :param kind: The product's name in reports and content-based ids.
    :param id_prefix: Prefix of its scan ids.
    :param bounds: The summary's numbers a policy may gate on, each a ``max`` or ``min`` bound.
    :param default_thresholds: Thresholds when the policy names none.
    :param collect: The operator's input (one item or a list) as items.
    :param prepare: Validate one item and build its payload (raises for that item only).
    :param call: Send one prepared item; return its summary (a dict with at least ``credits``).
    :param values: The policy's numbers from one summary.
    :param fingerprint: The options that change a result: part of content-based ids.
    :param aggregate: Batch-wide figures for the report's totals.
    """

    kind: str
    id_prefix: str
    bounds: Mapping[str, Bound]
    default_thresholds: Mapping[str, float]
    collect: Callable[[Any], Sequence[Item]]
    prepare: Callable[[Any], Prepared]
    call: Callable[[CopyleaksHook, str, Prepared, bool | None], dict[str, Any]]
    values: Callable[[Mapping[str, Any]], dict[str, float]]
    fingerprint: str = ""
    aggregate: Callable[[list[Mapping[str, Any]]], dict[str, Any]] = field(default=lambda summaries: {})


def text_preparer(minimum: int, maximum: int) -> Callable[[Any], Prepared]:
    """Prepare a text item: a string of ``minimum`` to ``maximum`` characters."""

    def prepare(item: TextItem) -> Prepared:
        text = load_text(item)
        if not isinstance(text, str):
            raise CopyleaksValidationError(f"texts[{item.key}]", f"must be a string, got {type(text).__name__}")
        v.validate_text_length(text, minimum=minimum, maximum=maximum, field=f"texts[{item.key}]")
        return Prepared(text, ids.content_sha256(text))

    return prepare

