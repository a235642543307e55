"""What every group of Copyleaks endpoints needs from the hook that carries it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from airflow_copyleaks.hooks.backends import RequestLimiter
    from airflow_copyleaks.hooks.settings import Settings


class EndpointGroup:
    """Base of the endpoint mixins of :class:`~airflow_copyleaks.hooks.copyleaks.CopyleaksHook`."""

    if TYPE_CHECKING:

        @property
        def settings(self) -> Settings: ...

        @property
        def export_pacer(self) -> RequestLimiter: ...

        def _call(
            self,
            name: str,
            *,
            json_body: Any = None,
            files: Mapping[str, Any] | None = None,
            data: Mapping[str, Any] | None = None,
            params: Mapping[str, str] | None = None,
            scan_id: str | None = None,
            raw: bool = False,
            pacer: Callable[[], float] | None = None,
            **path_args: str,
        ) -> Any: ...

    def _sandbox(self, override: bool | None) -> bool:
        return self.settings.sandbox if override is None else bool(override)


def quote_id(ident: str) -> str:
    return quote(ident, safe="")


def id_of(item: Any) -> str:
    return str(item.get("id")) if isinstance(item, dict) else str(item)


def without_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: val for k, val in values.items() if val is not None}


def chunked(items: Sequence[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])


def dumps_small(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True, separators=(",", ":"))
