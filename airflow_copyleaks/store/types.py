"""Column types of the store: JSON documents and UTC timestamps, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect

# JSON text never holds a raw NUL (json.dumps escapes it), but PostgreSQL's jsonb and text types
# cannot hold U+0000 at all. Both stores replace it with U+FFFD, so a webhook whose text carries
# one is stored (and reads back) alike everywhere. The lookbehind skips an escaped backslash
# followed by the letters "u0000", which is text, not a NUL.
_NUL_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")
NUL_REPLACEMENT = "\ufffd"


def dumps_json(value: Any) -> str:
    """The store's JSON serializer: no NaN or infinity (not JSON; jsonb refuses them), no NUL."""
    text = json.dumps(value, allow_nan=False, separators=(",", ":"))
    if "\\u0000" in text:
        text = _NUL_ESCAPE.sub(lambda m: f"{m.group(1)}\\ufffd", text)
    return text


def without_nul(text: str | None) -> str | None:
    """Text for a text column: U+0000 replaced, as in JSON documents."""
    return text.replace("\x00", NUL_REPLACEMENT) if text else text


# A JSON document: TEXT holding JSON on SQLite, jsonb on PostgreSQL. The engines are built with
# json_serializer=dumps_json, so both dialects write the same text.
JSONDocument = sa.JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python.

    SQLite keeps no time zone (its values are written in UTC and read back naive); PostgreSQL's
    ``timestamptz`` answers in the session's zone. Either way the caller gets UTC; an aware
    value of any zone is converted on the way in, and a naive one is taken as UTC (as it was
    always written).
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Text(sa.TypeDecorator[str]):
    """Free text from a webhook (error messages): U+0000 replaced, as in JSON documents."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return without_nul(value)
