"""Turning a delivered body into JSON without letting it cost more than a delivery should.

Run in a worker thread (never on the event loop), with a depth and a value-count limit: Python's
parser recurses once per nesting level, so a body of a thousand nested brackets would otherwise
end in a RecursionError (a 500, which Copyleaks retries for hours), and an object of a million
keys would be stored as a "webhook".
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32  # Copyleaks' deepest webhook nests about six levels
MAX_VALUES = 200_000  # objects, arrays and scalars in one body


class BodyError(Exception):
    """A body the receiver refuses.

    :param status: the HTTP status to answer with (400, 413 or 422).
    :param detail: why, for the answer's ``detail``.
    """

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class NotFinite(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise NotFinite(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise NotFinite(f"{text} is too large for a finite number")
    return value


def parse_json_object(raw: bytes, *, max_depth: int = MAX_DEPTH, max_values: int = MAX_VALUES) -> dict[str, Any]:
    """The JSON object in ``raw``; :class:`BodyError` 400 (not JSON, too deep), 413 (too many
    values) or 422 (not an object, or a number that is not finite)."""
    try:
        payload = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)
    except NotFinite as err:
        raise BodyError(422, f"every number must be a finite number: {err}") from err
    except RecursionError as err:
        raise BodyError(400, f"body nested deeper than {max_depth} levels") from err
    except (ValueError, UnicodeDecodeError) as err:
        raise BodyError(400, "body is not JSON") from err
    if not isinstance(payload, dict):
        raise BodyError(422, "body must be a JSON object")
    check_shape(payload, max_depth=max_depth, max_values=max_values)
    return payload


def check_shape(payload: Any, *, max_depth: int, max_values: int) -> None:
    """Walk ``payload`` without recursion: :class:`BodyError` past either limit."""
    stack: list[tuple[Any, int]] = [(payload, 1)]
    values = 0
    while stack:
        node, depth = stack.pop()
        values += 1
        if values > max_values:
            raise BodyError(413, f"body holds more than {max_values} JSON values")
        if depth > max_depth:
            raise BodyError(400, f"body nested deeper than {max_depth} levels")
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
