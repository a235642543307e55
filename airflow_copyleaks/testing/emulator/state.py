"""All mutable emulator state behind one lock: accounts, tokens, scans, corpora, logs and faults."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from .config import EmulatorConfig
from .scoring import Corpus, Document


@dataclass
class Token:
    value: str
    account: str
    issued: float
    expires: float


@dataclass
class Account:
    email: str
    credits: int
    credits_used: int = 0
    usage: list[dict[str, Any]] = field(default_factory=list)  # rows of the usage-history CSV


@dataclass
class Scan:
    """One asynchronous (authenticity) scan as the emulator tracks it."""

    scan_id: str
    account: str
    kind: str  # file | url | ocr
    action: int  # 0 scan, 1 check credits, 2 index only
    properties: dict[str, Any]  # lower-cased keys (see validation.lower_keys)
    created: float
    filename: str | None = None
    url: str | None = None
    raw: bytes = b""
    lang_code: str | None = None
    # queued -> (completed | error | creditsChecked -> queued -> ... | indexed); deleted at the end.
    status: str = "queued"
    text: str | None = None
    total_words: int = 0
    expected_credits: int = 0
    credits_charged: int = 0
    sandbox: bool = False
    results: dict[str, Any] | None = None  # the "results" object of the completed webhook
    result_details: dict[str, dict[str, Any]] = field(default_factory=dict)  # result id -> export data
    last_status: str | None = None
    last_payload: dict[str, Any] | None = None
    ai_detection: dict[str, Any] | None = None
    writing_feedback: dict[str, Any] | None = None
    export_ids: set[str] = field(default_factory=set)
    started: bool = False  # an action-1 scan after PATCH /v3/scans/start
    fails_with: int = 0  # an injected Copyleaks error code the scan ends with (fault "scan_error")
    generation: int = 0

    @property
    def developer_payload(self) -> Any:
        return self.properties.get("developerpayload")

    def summary(self) -> dict[str, Any]:
        return {
            "scanId": self.scan_id, "account": self.account, "kind": self.kind, "action": self.action,
            "status": self.status, "created": self.created, "filename": self.filename, "url": self.url,
            "totalWords": self.total_words, "expectedCredits": self.expected_credits,
            "creditsCharged": self.credits_charged, "sandbox": self.sandbox, "results": self.results,
            "lastStatus": self.last_status, "lastPayload": self.last_payload,
            "exports": sorted(self.export_ids),
            # As received (keys lower-cased), minus webhooks: their headers carry credentials.
            "properties": {k: v for k, v in self.properties.items() if k != "webhooks"},
        }


# status: answer that status; reset_connection: drop the connection unanswered; expire_tokens:
# every token expires as the call arrives, which then goes on (and gets 401); drop_answer: the
# call is processed (and charged) as usual, then the connection drops before the answer; delay:
# the call waits delay_seconds, then goes on as usual (a slow Copyleaks); scan_error: a submit that
# is accepted (201) as usual, whose scan then ends with the error webhook of Copyleaks code ``code``.
FAULT_KINDS = ("status", "reset_connection", "expire_tokens", "drop_answer", "delay", "scan_error")


@dataclass
class Fault:
    path_prefix: str
    method: str | None
    status: int
    remaining: int
    kind: str = "status"  # one of FAULT_KINDS
    body: Any = None  # the answer's JSON body instead of the usual one for ``status``
    delay_seconds: float = 0.0  # for kind "delay"
    code: int = 0  # for kind "scan_error": the Copyleaks error code the scan ends with


@dataclass
class WebhookFault:
    mode: str  # drop | delay | duplicate | fail_status
    remaining: int
    delay_seconds: float = 0.0
    status: int = 500


@dataclass
class RegisteredImage:
    url: str
    pages: list[str]
    sha256: str
    dhash: int
    width: int
    height: int
    thumb: bytes = b""


def load_builtin_documents() -> list[Document]:
    raw = resources.files("airflow_copyleaks.testing.emulator").joinpath("data/corpus.json").read_text(encoding="utf-8")
    docs = json.loads(raw)
    return [Document(key=d["url"], title=d["title"], text=d["text"], url=d["url"], builtin=True) for d in docs]


class EmulatorState:
    """Shared by the HTTP handlers and the worker threads; every mutation happens under ``lock``."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.lock = threading.RLock()
        self.base_config = config.copy()
        self._builtin = load_builtin_documents()
        self._init(config.copy())
        self.generation = 0

    def _init(self, config: EmulatorConfig) -> None:
        self.config = config
        self.accounts: dict[str, Account] = {e: Account(e, config.initial_credits) for e in config.accounts}
        self.tokens: dict[str, Token] = {}
        self.login_attempts: dict[str, deque[float]] = {}
        self.login_blocked_until: dict[str, float] = {}
        self.buckets: dict[str, tuple[float, float]] = {}  # account -> (tokens, last refill)
        self.windows: dict[tuple[str, str], deque[float]] = {}  # (limit name, account) -> times
        self.scans: dict[tuple[str, str], Scan] = {}
        self.sync_ids: dict[tuple[str, str], set[str]] = {}  # (account, api) -> used scan ids
        self.calls: list[dict[str, Any]] = []
        self.faults: list[Fault] = []
        self.webhook_faults: list[WebhookFault] = []
        self.webhook_log: list[dict[str, Any]] = []
        self.internet = Corpus(config.shingle_words)
        for doc in self._builtin:
            self.internet.add(doc)
        self.databases: dict[str, Corpus] = {}
        self.images: list[RegisteredImage] = []
        self.stats: dict[str, int] = {
            "logins": 0, "login_failures": 0, "rate_limited": 0, "calls": 0,
            "webhooks_sent": 0, "webhook_failures": 0,
        }

    def reset(self) -> None:
        """Forget everything and return to the configuration the server started with."""
        with self.lock:
            self.generation += 1  # background jobs of the old generation drop their work
            self._init(self.base_config.copy())

    # ---- accounts and configuration -------------------------------------------------------
    def account(self, email: str) -> Account:
        with self.lock:
            acc = self.accounts.get(email)
            if acc is None:
                acc = self.accounts[email] = Account(email, self.config.initial_credits)
            return acc

    def apply_config(self, changes: dict[str, Any]) -> EmulatorConfig:
        with self.lock:
            changes = dict(changes)
            credits = changes.pop("credits", None)
            account = changes.pop("account", None)
            new = self.config.updated(changes)
            if new.shingle_words != self.config.shingle_words:
                raise ValueError("shingle_words can only be set when the server starts")
            self.config = new
            for email in new.accounts:
                self.account(email)
            if credits is not None:
                targets = [account] if account else list(self.accounts)
                for email in targets:
                    self.account(email).credits = int(credits)
            return new

    def database(self, account: str) -> Corpus:
        with self.lock:
            corpus = self.databases.get(account)
            if corpus is None:
                corpus = self.databases[account] = Corpus(self.config.shingle_words)
            return corpus

    def charge(self, account: str, credits: int, scan_id: str, kind: str) -> bool:
        """Take ``credits`` from the account; False (and nothing taken) when the balance is short."""
        with self.lock:
            acc = self.account(account)
            if credits > acc.credits:
                return False
            acc.credits -= credits
            acc.credits_used += credits
            acc.usage.append({"time": time.time(), "scanId": scan_id, "credits": credits, "type": kind})
            return True

    def check_window(self, name: str, account: str, limit: int, window: float) -> bool:
        """Sliding-window limiter; True when the call is allowed (and then counted)."""
        if limit <= 0:
            return True
        now = time.monotonic()
        with self.lock:
            times = self.windows.setdefault((name, account), deque())
            while times and times[0] <= now - window:
                times.popleft()
            if len(times) >= limit:
                return False
            times.append(now)
            return True

    def allow_request(self, account: str) -> bool:
        """Per-account token bucket for ``requests_per_second`` (burst = one second's worth)."""
        rate = self.config.requests_per_second
        if rate <= 0:
            return True
        now = time.monotonic()
        capacity = max(1.0, rate)
        with self.lock:
            tokens, last = self.buckets.get(account, (capacity, now))
            tokens = min(capacity, tokens + (now - last) * rate)
            if tokens < 1.0:
                self.buckets[account] = (tokens, now)
                return False
            self.buckets[account] = (tokens - 1.0, now)
            return True

    # ---- logs -----------------------------------------------------------------------------
    def record_call(
        self, method: str, path: str, status: int, account: str | None, *, answer_dropped: bool = False
    ) -> None:
        with self.lock:
            self.calls.append({"method": method, "path": path, "status": status, "time": time.time(),
                               "account": account, "answer_dropped": answer_dropped})
            self.stats["calls"] += 1
            if status == 429:
                self.stats["rate_limited"] += 1

    def take_fault(self, method: str, path: str, *, scan_error: bool = False) -> Fault | None:
        """The next fault for this call: the faults on the answer, or with ``scan_error`` those on
        the outcome of the scan it submits (they never touch the answer)."""
        with self.lock:
            for fault in self.faults:
                if (fault.kind == "scan_error") != scan_error:
                    continue
                if fault.remaining > 0 and path.startswith(fault.path_prefix) and (
                    fault.method is None or fault.method.upper() == method.upper()
                ):
                    fault.remaining -= 1
                    return fault
            return None

    def take_webhook_fault(self, modes: tuple[str, ...] | None = None) -> WebhookFault | None:
        with self.lock:
            for fault in self.webhook_faults:
                if fault.remaining > 0 and (modes is None or fault.mode in modes):
                    fault.remaining -= 1
                    return fault
            return None

    def stats_snapshot(self) -> dict[str, Any]:
        with self.lock:
            out: dict[str, Any] = dict(self.stats)
            out["credits_used"] = sum(a.credits_used for a in self.accounts.values())
            out["credits_remaining"] = sum(a.credits for a in self.accounts.values())
            out["accounts"] = {
                e: {"credits_used": a.credits_used, "credits_remaining": a.credits} for e, a in self.accounts.items()
            }
            return out

    def find_scan(self, scan_id: str, account: str | None = None) -> Scan | None:
        with self.lock:
            if account is not None:
                return self.scans.get((account, scan_id))
            for (_, sid), scan in self.scans.items():
                if sid == scan_id:
                    return scan
            return None
