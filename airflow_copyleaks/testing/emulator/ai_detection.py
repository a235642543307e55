"""Deterministic "AI text detection" and "AI image detection" from simple features.

Text: machine prose tends to have a narrow vocabulary and evenly sized sentences, so the AI
probability rises as the type/token ratio and the spread of sentence lengths fall. It is a
stand-in, not a detector: the same text always gives the same answer, and the two features are
easy to steer in tests (repeat one sentence pattern -> AI; varied prose -> human).
"""

from __future__ import annotations

import io
import re
import statistics
from collections import Counter
from typing import Any

from .scoring import tokenize

_SENTENCE = re.compile(r"[^.!?]+[.!?]*")
MODEL_VERSION = "v5"


def ai_probability(text: str) -> float:
    tokens = tokenize(text)
    words = tokens.words
    if not words:
        return 0.0
    sample = words[:300]
    ttr = len(set(sample)) / len(sample)  # human prose ~0.55-0.75 on 300 words, templated text lower
    lengths = [len(s.split()) for s in _SENTENCE.findall(text) if s.strip()]
    if len(lengths) >= 2 and statistics.mean(lengths) > 0:
        cv = statistics.pstdev(lengths) / statistics.mean(lengths)
    else:
        cv = 0.5
    vocab_signal = min(1.0, max(0.0, (0.6 - ttr) / 0.3))  # 1 at ttr<=0.3, 0 at ttr>=0.6
    rhythm_signal = min(1.0, max(0.0, (0.45 - cv) / 0.35))  # 1 at cv<=0.1, 0 at cv>=0.45
    return round(0.5 * vocab_signal + 0.5 * rhythm_signal, 4)


def _explain(text: str) -> dict[str, Any]:
    """Repeated three-word phrases stand in for "AI patterns" (AI Logic, beta)."""
    tokens = tokenize(text)
    words = tokens.words
    grams = Counter(words[i : i + 3] for i in range(len(words) - 2))
    chars_s: list[int] = []
    chars_l: list[int] = []
    words_s: list[int] = []
    words_l: list[int] = []
    ai_count: list[float] = []
    human_count: list[float] = []
    seen: set[tuple[str, ...]] = set()
    for i in range(len(words) - 2):
        gram = words[i : i + 3]
        if grams[gram] > 1 and gram not in seen and len(chars_s) < 8:
            seen.add(gram)
            start = tokens.starts[i]
            chars_s.append(start)
            chars_l.append(tokens.ends[i + 2] - start)
            words_s.append(i)
            words_l.append(3)
            ai_count.append(round(10.0 * grams[gram], 4))
            human_count.append(round(1.0 / grams[gram], 4))
    return {"patterns": {"statistics": {"aiCount": ai_count, "humanCount": human_count},
                         "text": {"chars": {"starts": chars_s, "lengths": chars_l},
                                  "words": {"starts": words_s, "lengths": words_l}}}}


def detect_text(text: str, explain: bool = False, sandbox: bool = False) -> dict[str, Any]:
    """The body of a writer-detector answer without ``scannedDocument`` (REFERENCE §10.1)."""
    tokens = tokenize(text)
    # Sandbox: the same canned verdict (AI, certain) whatever the text [REFERENCE §15].
    probability = 1.0 if sandbox else ai_probability(text)
    is_ai = probability >= 0.5
    end = len(text.rstrip())
    body: dict[str, Any] = {
        "modelVersion": MODEL_VERSION,
        "results": [{
            "classification": 2 if is_ai else 1,
            "probability": probability if is_ai else round(1 - probability, 4),
            "matches": [{"text": {"chars": {"starts": [0], "lengths": [end]},
                                  "words": {"starts": [0], "lengths": [len(tokens)]}}}],
        }],
        "summary": {"human": 0.0 if is_ai else 1.0, "ai": 1.0 if is_ai else 0.0},
    }
    if sandbox:
        body["scanType"] = "sandbox"
    if explain:
        body["explain"] = _explain(text)
    return body


def detect_image(data: bytes) -> tuple[dict[str, Any], int, int]:
    """AI-image verdict from pixel smoothness: generated images here are the smooth ones.

    Returns (partial body, height, width). A PNG/JPEG text chunk naming a generator
    ("Software"/"parameters" containing e.g. "diffusion") also marks the image as AI.
    """
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        width, height = img.size
        meta = " ".join(str(v) for v in img.info.values() if isinstance(v, str)).lower()
        gray = img.convert("L").resize((64, 64))
        px = list(gray.tobytes())  # mode "L": one byte per pixel
    diffs = [abs(px[i] - px[i + 1]) for i in range(len(px) - 1) if (i + 1) % 64]
    roughness = sum(diffs) / max(1, len(diffs))
    generator = any(w in meta for w in ("diffusion", "dall-e", "midjourney", "generated"))
    ai = generator or roughness < 4.0
    total = width * height
    body = {
        "model": "ai-image-1-ultra-01-09-2025",
        "result": {"starts": [0] if ai else [], "lengths": [total] if ai else []},  # RLE over H*W
        "summary": {"human": 0.0 if ai else 1.0, "ai": 1.0 if ai else 0.0},
        "imageInfo": {"shape": {"height": height, "width": width}, "metadata": {}},
    }
    return body, height, width
