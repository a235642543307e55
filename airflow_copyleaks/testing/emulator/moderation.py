"""Text moderation: a small lexicon per label, found with word boundaries and real char offsets."""

from __future__ import annotations

import re
from typing import Any

# The ten documented labels [DOC-tm labels]. The Python SDK example also sends "other-v1"; it is
# accepted but has no lexicon.
LEXICON: dict[str, tuple[str, ...]] = {
    "toxic-v1": ("idiot", "idiots", "stupid", "moron", "loser", "pathetic", "worthless"),
    "profanity-v1": ("damn", "crap", "bastard", "bloody hell", "screw you"),
    "hate-speech-v1": ("subhuman", "inferior race", "those people are vermin", "go back to your country"),
    "harassment-v1": ("nobody likes you", "i will find you", "shut up", "you should be ashamed"),
    "self-harm-v1": ("kill myself", "hurt myself", "end my life", "cut myself"),
    "adult-v1": ("nsfw", "porn", "explicit content", "nude"),
    "violent-v1": ("kill you", "beat you up", "stab", "shoot you", "punch you"),
    "drugs-v1": ("cocaine", "heroin", "meth", "drug dealer", "overdose"),
    "firearms-v1": ("rifle", "handgun", "ammunition", "shotgun", "assault weapon"),
    "cybersecurity-v1": ("malware", "ransomware", "phishing", "keylogger", "sql injection", "botnet"),
    "other-v1": (),
}
SUPPORTED_LABELS = tuple(LEXICON)

_PATTERNS: dict[str, re.Pattern[str]] = {
    label: re.compile(r"\b(?:" + "|".join(re.escape(t).replace(r"\ ", r"\s+") for t in terms) + r")\b", re.IGNORECASE)
    for label, terms in LEXICON.items()
    if terms
}


def moderate(text: str, labels: list[str]) -> dict[str, Any]:
    """The ``moderations`` and ``legend`` parts of the response (REFERENCE §10.4).

    ``labels[i]`` in the response is an index into ``legend``. The real numbering is UNCONFIRMED;
    here each requested label gets its position in the request (0-based), and the legend lists
    every requested label so clients must resolve through it rather than assume a fixed table.
    """
    legend = [{"index": i, "id": label} for i, label in enumerate(labels)]
    found: list[tuple[int, int, int]] = []  # (start, length, legend index)
    for index, label in enumerate(labels):
        pattern = _PATTERNS.get(label)
        if pattern is None:
            continue
        for m in pattern.finditer(text):
            found.append((m.start(), m.end() - m.start(), index))
    found.sort()
    return {
        "moderations": {
            "text": {
                "chars": {
                    "labels": [f[2] for f in found],
                    "starts": [f[0] for f in found],
                    "lengths": [f[1] for f in found],
                }
            }
        },
        "legend": legend,
    }


def sandbox_moderation(text: str, labels: list[str]) -> dict[str, Any]:
    """Sandbox: a fixed result (the first word flagged with the first label), whatever the text."""
    m = re.search(r"\S+", text)
    legend = [{"index": i, "id": label} for i, label in enumerate(labels)]
    chars: dict[str, list[int]] = {"labels": [], "starts": [], "lengths": []}
    if m and labels:
        chars = {"labels": [0], "starts": [m.start()], "lengths": [m.end() - m.start()]}
    return {"moderations": {"text": {"chars": chars}}, "legend": legend}
