"""Identity: API-key login with its rate limit, and bearer-token checks for the API routes."""

from __future__ import annotations

import re
import secrets
import time
from collections import deque
from typing import Any

from .state import EmulatorState, Token
from .validation import iso_now

_BEARER = re.compile(r"\s*bearer\s+(\S+)\s*", re.IGNORECASE)  # scheme is case-insensitive


def login(state: EmulatorState, body: Any) -> tuple[int, dict[str, Any]]:
    """``POST /v3/account/login/api`` -> (status, JSON body) [DOC-login, REFERENCE §2]."""
    if not isinstance(body, dict):
        return 400, {"": ["A non-empty request body is required."]}
    email = body.get("email")
    key = body.get("key")
    errors: dict[str, list[str]] = {}
    if not isinstance(email, str) or not email:
        errors["Email"] = ["The email field is required."]
    if not isinstance(key, str) or not key:
        errors["Key"] = ["The key field is required."]
    if errors:
        return 400, errors
    assert isinstance(email, str) and isinstance(key, str)
    cfg = state.config
    now = time.time()
    with state.lock:
        account_id = email.lower()
        if state.login_blocked_until.get(account_id, 0) > now:
            return 429, {"error": "Rate limit exceeded"}
        attempts = state.login_attempts.setdefault(account_id, deque())
        while attempts and attempts[0] <= now - cfg.login_window_seconds:
            attempts.popleft()
        if cfg.login_limit > 0 and len(attempts) >= cfg.login_limit:
            # Over the limit: answer 429 and block the account's logins for a while [DOC-login].
            state.login_blocked_until[account_id] = now + cfg.login_block_seconds
            return 429, {"error": "Rate limit exceeded"}
        attempts.append(now)
        expected = next((k for e, k in cfg.accounts.items() if e.lower() == account_id), None)
        if expected is None or expected.lower() != key.lower():
            state.stats["login_failures"] += 1
            return 401, {"message": "Invalid login credentials."}
        state.stats["logins"] += 1
        canonical = next(e for e in cfg.accounts if e.lower() == account_id)
        state.account(canonical)
        token = Token(secrets.token_urlsafe(48), canonical, now, now + cfg.token_lifetime_seconds)
        state.tokens[token.value] = token
    offset = cfg.token_time_offset_minutes
    times = {".issued": iso_now(token.issued, offset), ".expires": iso_now(token.expires, offset)}
    return 200, {"access_token": token.value, **times}


def authenticate(state: EmulatorState, header: str | None) -> str | None:
    """The account owning the bearer token, or None when it is missing, unknown or expired."""
    if not header:
        return None
    m = _BEARER.fullmatch(header)
    if not m:
        return None
    with state.lock:
        token = state.tokens.get(m.group(1))
        if token is None or token.expires <= time.time():
            return None
        return token.account


def expire_all(state: EmulatorState) -> int:
    with state.lock:
        now = time.time()
        for token in state.tokens.values():
            token.expires = min(token.expires, now - 1)
        return len(state.tokens)
