"""Image plagiarism: perceptual (difference) hashes of registered "internet" images.

Identical bytes, or hash distance 0 at the same size, is a full match (matchType 0); a small hash
distance (a resized, re-encoded or lightly edited copy) is a partial match (matchType 1). A dHash
only sees gradients, so flat images would all collide: an 8x8 colour thumbnail must also be close.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from .state import RegisteredImage

HASH_SIZE = 16  # 16x16 difference hash = 256 bits
PARTIAL_DISTANCE = 26  # ~10% of the bits
MAX_THUMB_DIFF = 24.0  # mean absolute difference (0-255) of the 8x8 RGB thumbnails
MAX_BYTES = 20 * 1024 * 1024  # "< 20MB" [DOC-imgplag]
MAX_PIXELS = 75_000_000
PLAGIARISM_FORMATS = {"JPEG", "PNG", "GIF", "BMP", "WEBP", "ICO"}  # RAW has no Pillow decoder
PLAGIARISM_EXTENSIONS = {"jpg", "jpeg", "png", "gif", "bmp", "webp", "ico"}
AI_IMAGE_EXTENSIONS = {"png", "bmp", "jpg", "jpeg", "webp", "heic", "heif"}
AI_IMAGE_FORMATS = {"PNG", "JPEG", "BMP", "WEBP", "HEIF", "HEIC", "MPO"}


class ImageError(ValueError):
    """A user-facing validation failure (answered with 400)."""


@dataclass
class ImageInfo:
    width: int
    height: int
    format: str
    sha256: str
    dhash: int
    thumb: bytes


def inspect(data: bytes, formats: set[str], max_pixels: int = MAX_PIXELS) -> ImageInfo:
    """Validate and fingerprint an image. The size is read from the header before decoding."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # DecompressionBombWarning: we check the size ourselves
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
                fmt = (img.format or "").upper()
                if fmt not in formats:
                    raise ImageError(f"Unsupported image format {fmt or 'unknown'}.")
                if width * height > max_pixels:
                    raise ImageError(f"The image resolution is too high ({width}x{height}).")
                digest = dhash(img)
                thumb = img.convert("RGB").resize((8, 8), Image.Resampling.BOX).tobytes()
    except ImageError:
        raise
    except Exception as exc:  # any decoder error: corrupt or not an image
        raise ImageError("The submitted image is invalid.") from exc
    return ImageInfo(width, height, fmt, hashlib.sha256(data).hexdigest(), digest, thumb)


def dhash(img: object) -> int:
    from PIL import Image

    assert isinstance(img, Image.Image)
    small = img.convert("L").resize((HASH_SIZE + 1, HASH_SIZE), Image.Resampling.LANCZOS)
    px = list(small.tobytes())  # mode "L": one byte per pixel
    bits = 0
    for row in range(HASH_SIZE):
        for col in range(HASH_SIZE):
            left = px[row * (HASH_SIZE + 1) + col]
            right = px[row * (HASH_SIZE + 1) + col + 1]
            bits = (bits << 1) | (1 if left > right else 0)
    return bits


def distance(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def thumb_difference(a: bytes, b: bytes) -> float:
    if len(a) != len(b) or not a:
        return 255.0
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)


def find_matches(info: ImageInfo, registered: list[RegisteredImage]) -> list[dict[str, object]]:
    """``matches.internet`` entries: full matches first, each URL once, webPages only when known."""
    full: list[dict[str, object]] = []
    partial: list[tuple[int, dict[str, object]]] = []
    seen: set[str] = set()
    for reg in registered:
        if reg.url in seen:
            continue
        d = distance(info.dhash, reg.dhash)
        same = reg.sha256 == info.sha256 or (d == 0 and (reg.width, reg.height) == (info.width, info.height))
        if not same and (d > PARTIAL_DISTANCE or thumb_difference(info.thumb, reg.thumb) > MAX_THUMB_DIFF):
            continue
        seen.add(reg.url)
        entry: dict[str, object] = {"url": reg.url, "matchType": 0 if same else 1}
        if reg.pages:
            entry["webPages"] = [{"url": p} for p in reg.pages]
        if same:
            full.append(entry)
        else:
            partial.append((d, entry))
    partial.sort(key=lambda x: x[0])
    return full + [e for _, e in partial]
