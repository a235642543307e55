"""Emulator settings: one dataclass, changeable at run time through ``PATCH /_emulator/config``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

DEFAULT_EMAIL = "demo@example.com"
DEFAULT_API_KEY = "00000000-0000-0000-0000-000000000000"


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
    ai_image_per_15_minutes: int = 900  # AI image detector limit [DOC-rate]; 0 disables
    initial_credits: int = 1000
    scan_duration_seconds: float = 0.3  # simulated processing before the status webhook
    # Realistic scans take minutes. When set, a scan lasts this many emulated minutes, and
    # time_scale emulated seconds pass per real second (60: a 30-minute scan takes 30 s).
    scan_duration_minutes: float = 0.0
    time_scale: float = 1.0

    def scan_delay(self) -> float:
        """Real seconds a scan is processed before its status webhook."""
        if self.scan_duration_minutes > 0:
            return self.scan_duration_minutes * 60.0 / max(self.time_scale, 1e-9)
        return self.scan_duration_seconds

    webhook_retry_delays: tuple[float, ...] = (0.2, 0.5, 1, 2, 4)
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

    def copy(self) -> EmulatorConfig:
        return dataclasses.replace(self, accounts=dict(self.accounts))

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["webhook_retry_delays"] = list(self.webhook_retry_delays)
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
