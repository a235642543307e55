"""Helpers for the synchronous-check operator tests: a task-instance stand-in and test images.

Operators run with ``op.execute(context)``; the context carries a small ``ti`` with the ids the
operators derive scan ids from and an ``xcom_push`` that insists on JSON (as Airflow's XCom
backend does). Copyleaks itself is never mocked: every call goes to the emulator over HTTP.
"""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import pytest

from tests.fixtures import FakeTaskInstance, context_for


def run(op: Any, **ti_fields: Any) -> tuple[dict[str, Any], FakeTaskInstance]:
    """Execute like the task runner does: the return value becomes the ``return_value`` XCom."""
    context = context_for(op, **ti_fields)
    result = op.execute(context)
    context["ti"].xcom_push("return_value", result)
    return result, context["ti"]


@pytest.fixture
def ctx() -> Any:
    return context_for


def png_image(width: int = 64, height: int = 48, seed: int = 1) -> bytes:
    """A real, decodable PNG with a pattern that depends on ``seed`` (distinct perceptual hashes)."""
    from PIL import Image

    img = Image.new("RGB", (width, height))
    px = img.load()
    for x in range(width):
        for y in range(height):
            px[x, y] = ((x * 7 * seed) % 256, (y * 11 + seed * 40) % 256, ((x ^ y) * seed * 13) % 256)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def png_with_header(width: int, height: int) -> bytes:
    """A tiny PNG whose IHDR claims ``width`` x ``height``: the header lies, the file is small."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b"")
    )


CLEAN = "The city council approved the new library budget after a long and thoughtful debate."
HATE = "Those people are vermin and subhuman, go back to your country."
PROFANE = "Damn this crap, what a bloody hell of a week."
TOXIC = "What an idiot, a stupid and pathetic plan."
