"""Deterministic writing feedback: doubled words, lower-case sentence starts, double spaces and a
short list of common misspellings, scored per category like the real response (REFERENCE §10.3)."""

from __future__ import annotations

import math
import re
from typing import Any

# Correction types (the real catalogue is served by /v1/writing-feedback/correction-types/en; its
# ids are not documented beyond the example "General" = 1, so this table is the emulator's own).
# category: 1 grammar, 2 mechanics, 3 sentence structure, 4 word choice.
CORRECTION_TYPES: list[dict[str, Any]] = [
    {"id": 1, "title": "General", "description": "A general correction detected.",
     "message": "A general correction detected", "category": 2},
    {"id": 2, "title": "Spelling", "description": "A word is misspelled.", "message": "Check the spelling",
     "category": 2},
    {"id": 3, "title": "Capitalization", "description": "A sentence should start with a capital letter.",
     "message": "Capitalize the first word", "category": 2},
    {"id": 4, "title": "Spacing", "description": "Extra spaces between words.", "message": "Remove the extra space",
     "category": 2},
    {"id": 5, "title": "Repeated Word", "description": "The same word appears twice in a row.",
     "message": "Remove the repeated word", "category": 1},
    {"id": 6, "title": "Wordiness", "description": "A phrase can be said in fewer words.",
     "message": "Consider a shorter phrase", "category": 4},
    {"id": 7, "title": "Long Sentence", "description": "The sentence is very long.",
     "message": "Consider splitting the sentence", "category": 3},
]
_CATEGORY = {t["id"]: t["category"] for t in CORRECTION_TYPES}

MISSPELLINGS = {
    "teh": "the", "recieve": "receive", "definately": "definitely", "seperate": "separate", "occured": "occurred",
    "untill": "until", "wich": "which", "becuase": "because", "accross": "across", "adress": "address",
    "beleive": "believe", "tommorow": "tomorrow", "goverment": "government", "enviroment": "environment",
}
WORDY = {"in order to": "to", "due to the fact that": "because", "at this point in time": "now"}

_WORD = re.compile(r"\b\w+\b")


def find_corrections(text: str) -> list[tuple[int, int, int, str]]:
    """(start, length, type id, replacement) for every correction, by position."""
    out: list[tuple[int, int, int, str]] = []
    for m in re.finditer(r"\b(\w+)(\s+)(\1)\b", text, re.IGNORECASE):
        out.append((m.start(), m.end() - m.start(), 5, m.group(1)))
    for m in re.finditer(r"(?:^|[.!?]\s+)([a-z]\w*)", text):
        out.append((m.start(1), len(m.group(1)), 3, m.group(1)[0].upper() + m.group(1)[1:]))
    for m in re.finditer(r"(?<=\S)  +(?=\S)", text):
        out.append((m.start(), m.end() - m.start(), 4, " "))
    for m in _WORD.finditer(text):
        fix = MISSPELLINGS.get(m.group(0).lower())
        if fix:
            if m.group(0)[0].isupper():
                fix = fix.capitalize()
            out.append((m.start(), m.end() - m.start(), 2, fix))
    for phrase, fix in WORDY.items():
        for m in re.finditer(r"\b" + re.escape(phrase) + r"\b", text, re.IGNORECASE):
            out.append((m.start(), m.end() - m.start(), 6, fix))
    for m in re.finditer(r"[^.!?]+", text):
        if len(m.group(0).split()) > 40:
            out.append((m.start() + (len(m.group(0)) - len(m.group(0).lstrip())), len(m.group(0).strip()), 7,
                        m.group(0).strip()))
    out.sort()
    return out


def _syllables(word: str) -> int:
    groups = re.findall(r"[aeiouy]+", word.lower())
    n = len(groups) - (1 if word.lower().endswith("e") and len(groups) > 1 else 0)
    return max(1, n)


_LEVELS = [
    (90, 1, "5th Grader", "Very easy to read"), (80, 2, "6th Grader", "Easy to read"),
    (70, 3, "7th Grader", "Fairly easy to read"), (60, 4, "8th to 9th Grader", "Plain English"),
    (50, 5, "10th to 12th Grader", "Fairly difficult to read"), (30, 6, "College", "Difficult to read"),
    (float("-inf"), 7, "College Graduate", "Very difficult to read"),  # one long run-on sentence goes far below 0
]


def check(text: str, weights: dict[str, float] | None = None, sandbox: bool = False) -> dict[str, Any]:
    """Response body without ``scannedDocument``."""
    weights = weights or {}
    words = _WORD.findall(text)
    n_words = max(1, len(words))
    sentences = [s for s in re.split(r"[.!?]+", text) if s.strip()]
    n_sent = max(1, len(sentences))
    corrections = find_corrections(text)
    if sandbox:  # canned: the docs' sandbox example, clipped to the text [DOC-wa-result]
        corrections = [c for c in [(0, min(5, len(text)), 4, "loves ")] if c[1] > 0]
    counts = {1: 0, 2: 0, 3: 0, 4: 0}
    for c in corrections:
        counts[_CATEGORY[c[2]]] += 1

    def cat_score(count: int) -> int:
        return max(0, round(100 - 100 * count * 10 / max(n_words, 10)))

    names = {1: "grammar", 2: "mechanics", 3: "sentenceStructure", 4: "wordChoice"}
    score: dict[str, Any] = {}
    total = 0.0
    weight_sum = 0.0
    for cat, name in names.items():
        w = float(weights.get(f"{name}ScoreWeight".lower(), 1.0))
        s = cat_score(counts[cat])
        score[f"{name}CorrectionsCount"] = counts[cat]
        score[f"{name}CorrectionsScore"] = s
        score[f"{name}ScoreWeight"] = w
        total += s * w
        weight_sum += w
    score["overallScore"] = round(total / weight_sum) if weight_sum else 100
    syllables = sum(_syllables(w) for w in words)
    flesch = 206.835 - 1.015 * (n_words / n_sent) - 84.6 * (syllables / n_words)
    level = next(lv for lv in _LEVELS if flesch >= lv[0])
    body: dict[str, Any] = {
        "score": {
            "corrections": score,
            "readability": {"score": max(0, min(100, round(flesch))), "readabilityLevel": level[1],
                            "readabilityLevelText": level[2], "readabilityLevelDescription": level[3]},
            "statistics": {
                "sentenceCount": len(sentences),
                "averageSentenceLength": round(len(words) / n_sent, 1),
                "averageWordLength": round(sum(len(w) for w in words) / n_words, 1),
                "readingTimeSeconds": round(len(words) / 238 * 60, 1),
                "speakingTimeSeconds": round(len(words) / 130 * 60, 1),
            },
        },
        "corrections": {"text": {"chars": {
            "types": [c[2] for c in corrections], "starts": [c[0] for c in corrections],
            "lengths": [c[1] for c in corrections], "operationTexts": [c[3] for c in corrections],
        }}},
    }
    if sandbox:
        body["scanType"] = "sandbox"
    return body


def credits_for_words(words: int) -> int:
    return max(1, math.ceil(words / 250))
