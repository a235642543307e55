"""The gate's one policy: a draft is clean (published without a review) or flagged, and why.

Only a draft every check has passed is clean. A check that failed or did not run for a draft, and
sandbox (mock) results, flag it: what was not checked goes to an editor, never straight out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from airflow_copyleaks.exceptions import CopyleaksValidationError

CHECK_NAMES = {
    "plagiarism": "plagiarism scan",
    "moderation": "text moderation",
    "ai_text": "AI-text detection",
    "image": "hero-image check",
    "citations": "citation check",
}


@dataclass(frozen=True)
class Verdict:
    """What the policy decided about one draft.

    :param key: The draft's key (its id in the CMS).
    :param verdict: ``"clean"`` (every check passed: published) or ``"flagged"`` (an editor decides).
    :param reasons: Why it was flagged, one sentence each (empty when clean).
    """

    key: str
    verdict: Literal["clean", "flagged"]
    reasons: tuple[str, ...] = ()

    @property
    def flagged(self) -> bool:
        return self.verdict == "flagged"

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "verdict": self.verdict, "reasons": list(self.reasons)}


def _default_moderation() -> dict[str, int]:
    return {"*": 0, "profanity-v1": 2}


@dataclass(frozen=True)
class ReviewPolicy:
    """When a draft goes to an editor instead of being published.

    :param plagiarism_score: Flag at this aggregated plagiarism score (%) or more.
    :param ai_share: Flag when the share of AI-written text (0 to 1) is at this or more.
    :param moderation: Most flagged spans allowed per moderation label; ``"*"`` for labels not named.
    :param image_matches: Most web matches (full and partial) allowed for the hero image.
    :param unverified_references: Most unverifiable or fabricated references allowed (citations).
    :param require_citations: Flag a draft that has no citation result (the check did not run).
    """

    plagiarism_score: float = 20.0
    ai_share: float = 0.5
    moderation: Mapping[str, int] = field(default_factory=_default_moderation)
    image_matches: int = 0
    unverified_references: int = 0
    require_citations: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.plagiarism_score <= 100:
            raise CopyleaksValidationError("plagiarism_score", f"is {self.plagiarism_score}", limit="0 to 100")
        if not 0 <= self.ai_share <= 1:
            raise CopyleaksValidationError("ai_share", f"is {self.ai_share}", limit="0 to 1")
        for name in ("image_matches", "unverified_references"):
            if getattr(self, name) < 0:
                raise CopyleaksValidationError(name, f"is {getattr(self, name)}", limit="0 or more")

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None) -> ReviewPolicy:
        """A policy from its dict form (a DAG Param); unknown keys are refused by name."""
        raw = dict(raw or {})
        unknown = sorted(set(raw) - set(cls.__dataclass_fields__))
        if unknown:
            raise CopyleaksValidationError(
                "policy", f"has unknown keys {unknown}", limit=str(sorted(cls.__dataclass_fields__))
            )
        return cls(**raw)

    def verdict(self, findings: Mapping[str, Any]) -> Verdict:
        """Judge one draft's findings (:func:`~airflow_copyleaks.review.findings.draft_findings`)."""
        reasons: list[str] = []
        if findings.get("sandbox"):
            reasons.append("sandbox (mock) results: they say nothing about this text")
        for check in ("plagiarism", "moderation", "ai_text", "image"):
            reasons += self._missing(findings.get(check), check)
        if findings.get("citations") is not None or self.require_citations:
            reasons += self._missing(findings.get("citations"), "citations")
        reasons += self._plagiarism(findings.get("plagiarism"))
        reasons += self._moderation(findings.get("moderation"))
        reasons += self._ai_text(findings.get("ai_text"))
        reasons += self._image(findings.get("image"))
        reasons += self._citations(findings.get("citations"))
        return Verdict(str(findings.get("key")), "flagged" if reasons else "clean", tuple(reasons))

    @staticmethod
    def _missing(part: Mapping[str, Any] | None, check: str) -> list[str]:
        if part is None:
            return [f"{CHECK_NAMES[check]} did not run"]
        if part.get("error"):
            return [f"{CHECK_NAMES[check]} failed: {part['error']}"]
        return []

    def _plagiarism(self, part: Mapping[str, Any] | None) -> list[str]:
        if not part or part.get("error"):
            return []
        score = float(part.get("score") or 0)
        return (
            [f"plagiarism score {score:g}% (flag at {self.plagiarism_score:g}%)"]
            if score >= self.plagiarism_score
            else []
        )

    def _moderation(self, part: Mapping[str, Any] | None) -> list[str]:
        if not part or part.get("error"):
            return []
        found = []
        for label, count in sorted((part.get("counts") or {}).items()):
            allowed = self.moderation.get(label, self.moderation.get("*", 0))
            if int(count) > allowed:
                found.append(f"moderation: {count} x {label} (allowed {allowed})")
        return found

    def _ai_text(self, part: Mapping[str, Any] | None) -> list[str]:
        if not part or part.get("error"):
            return []
        share = float(part.get("ai") or 0)
        return [f"AI-written share {share:.0%} (flag at {self.ai_share:.0%})"] if share >= self.ai_share else []

    def _image(self, part: Mapping[str, Any] | None) -> list[str]:
        if not part or part.get("error"):
            return []
        matches = int(part.get("full_matches") or 0) + int(part.get("partial_matches") or 0)
        return [f"hero image found on the web {matches} time(s)"] if matches > self.image_matches else []

    def _citations(self, part: Mapping[str, Any] | None) -> list[str]:
        if not part or part.get("error"):
            return []
        unverified = int(part.get("unverified") or 0)
        if unverified > self.unverified_references:
            return [f"{unverified} of {int(part.get('total') or 0)} reference(s) unverifiable or fabricated"]
        return []
