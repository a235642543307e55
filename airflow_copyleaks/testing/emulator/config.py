"""Emulator settings: one dataclass, changeable at run time through ``PATCH /_emulator/config``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

DEFAULT_EMAIL = "demo@example.com"
DEFAULT_API_KEY = "00000000-0000-0000-0000-000000000000"
# Seconds between webhook attempts [DOC-wh retry policy; changelog 2020-12-24: "up to 17 attempts
# (2, 4, ..., 65535 seconds)"].
COPYLEAKS_WEBHOOK_RETRY_SCHEDULE: tuple[float, ...] = tuple(float(min(2**n, 65535)) for n in range(1, 17))


# Settings that take one of a few strings.
_CHOICES: dict[str, tuple[str, ...]] = {
    "references_placement": ("top", "results"),
    "references_fault": ("", "bad-entry", "bad-section"),
}


def _default_accounts() -> dict[str, str]:
    return {DEFAULT_EMAIL: DEFAULT_API_KEY}


@dataclass
class EmulatorConfig:
    """Everything that shapes the emulator's behaviour. Field names are part of the control API."""

    accounts: dict[str, str] = field(default_factory=_default_accounts)  # email -> API key
    token_lifetime_seconds: float = 48 * 3600.0  # Copyleaks tokens live 48 h [DOC-login]
    # .issued/.expires in UTC with "Z" (0, what the identity server sends) or with this offset in
    # minutes, e.g. 120 for "+02:00" (the docs' older example): clients must read both.
    token_time_offset_minutes: int = 0
    login_limit: int = 12  # logins per window per account [DOC-rate]
    login_window_seconds: float = 900.0
    login_block_seconds: float = 300.0  # "blocked for 5 minutes" [DOC-login]
    requests_per_second: float = 10.0  # per account on API routes; 0 disables
    export_per_minute: int = 10  # 0 disables
    export_window_seconds: float = 60.0  # the window export_per_minute counts in (shorter: a faster test)
    ai_image_per_15_minutes: int = 900  # AI image detector limit [DOC-rate]; 0 disables
    initial_credits: int = 1000
    scan_duration_seconds: float = 0.3  # simulated processing before the status webhook
    export_duration_seconds: float = 0.0  # simulated work between an accepted export and its deliveries
    # Realistic scans take minutes. When set, a scan lasts this many emulated minutes, and
    # time_scale emulated seconds pass per real second (60: a 30-minute scan takes 30 s).
    scan_duration_minutes: float = 0.0
    time_scale: float = 1.0

    def scan_delay(self) -> float:
        """Real seconds a scan is processed before its status webhook."""
        if self.scan_duration_minutes > 0:
            return self.scan_duration_minutes * 60.0 / max(self.time_scale, 1e-9)
        return self.scan_duration_seconds

    # Copyleaks' documented policy: a webhook that gets no answer or a 5xx is tried up to 17
    # times, waiting 2, 4, 8, ... up to 65,535 s in between (16 waits, about 36 hours in all).
    # webhook_retry_time_scale shrinks that schedule (0.001: the last wait is 65 ms) so tests keep
    # its shape; webhook_retry_delays, when not empty, replaces it with explicit real seconds.
    webhook_retry_time_scale: float = 1.0
    webhook_retry_delays: tuple[float, ...] = ()
    # Which failed deliveries are retried: "5xx" (no answer or a 5xx, as Copyleaks documents) or
    # "any" (every non-2xx, as an older page reads).
    webhook_retry_on: str = "5xx"
    webhook_timeout_seconds: float = 10.0
    webhook_workers: int = 16  # threads that process scans and deliver webhooks
    shingle_words: int = 8  # shortest run of consecutive identical words reported as a match
    # How newResult webhooks carry the score: "object" ({"aggregatedScore": x}, what the SDKs model),
    # "number" (what the docs show) or "alternate" (both, so clients are forced to accept either).
    new_result_score_format: str = "alternate"
    send_new_results: bool = True
    price_check_expiry_seconds: float = 48 * 3600.0  # unstarted creditsChecked scans are deleted
    max_text_chars: int = 25000  # sync APIs' text limit

    # Sandbox submissions an account may make per window (the old submit docs: 100 per hour; 429
    # past it). 0 disables.
    sandbox_scans_per_hour: int = 100
    sandbox_window_seconds: float = 3600.0
    # The 409 body for a duplicate id: "problem" (the problem-details "Conflict" the submit and
    # export docs show) or "envelope" (the {"error": {...}} shape other errors use).
    conflict_body_format: str = "problem"
    # Where a completed webhook carries the references-validation section (the docs do not show
    # it): "top" (``references``) or "results" (``results.references``); clients must read both.
    references_placement: str = "top"
    # "" (none), "bad-entry" (an entry with an unknown status and one that is not an object) or
    # "bad-section" (the section is a string): malformed results for clients' error paths.
    references_fault: str = ""

    def retry_delays(self) -> tuple[float, ...]:
        """Real seconds between webhook attempts: the explicit delays, or Copyleaks' schedule scaled."""
        if self.webhook_retry_delays:
            return self.webhook_retry_delays
        return tuple(d * self.webhook_retry_time_scale for d in COPYLEAKS_WEBHOOK_RETRY_SCHEDULE)

    def copy(self) -> EmulatorConfig:
        return dataclasses.replace(self, accounts=dict(self.accounts))

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["webhook_retry_delays"] = list(self.webhook_retry_delays)
        data["webhook_retry_schedule"] = list(self.retry_delays())  # read-only: what is in force
        return data

    @classmethod
    def field_names(cls) -> set[str]:
        return {f.name for f in dataclasses.fields(cls)}

    def updated(self, changes: dict[str, Any]) -> EmulatorConfig:
        """A copy with ``changes`` applied; unknown names raise KeyError, bad types ValueError."""
        new = self.copy()
        known = {f.name: f for f in dataclasses.fields(self)}
        for name, value in changes.items():
            if name not in known:
                raise KeyError(name)
            kind = str(known[name].type)  # annotations are strings (postponed evaluation)
            if name == "accounts":
                if not isinstance(value, dict) or not all(
                    isinstance(k, str) and isinstance(v, str) for k, v in value.items()
                ):
                    raise ValueError("accounts must be an object of email -> key strings")
                setattr(new, name, dict(value))
            elif name == "webhook_retry_delays":
                setattr(new, name, tuple(float(v) for v in value))
            elif name == "conflict_body_format":
                if value not in ("problem", "envelope"):
                    raise ValueError("conflict_body_format must be 'problem' or 'envelope'")
                setattr(new, name, value)
            elif name in _CHOICES:
                if value not in _CHOICES[name]:
                    raise ValueError(f"{name} must be one of {list(_CHOICES[name])}")
                setattr(new, name, value)
            elif name == "webhook_retry_on":
                if value not in ("5xx", "any"):
                    raise ValueError("webhook_retry_on must be '5xx' or 'any'")
                setattr(new, name, value)
            elif kind == "bool":
                if not isinstance(value, bool):
                    raise ValueError(f"{name} must be a boolean")
                setattr(new, name, value)
            elif kind == "float":
                setattr(new, name, float(value))
            elif kind == "int":
                setattr(new, name, int(value))
            else:
                setattr(new, name, str(value))
        return new
