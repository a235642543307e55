"""Per-scan webhook credentials (DESIGN.md decision 4).

Copyleaks does not sign webhooks, but it sends back custom headers we choose. Every URL we hand
it carries a header whose value is an HMAC of the scan (or export) id with a configured secret:
a credential for one scan is useless for another, and the secret itself never leaves Airflow.
"""

from __future__ import annotations

import hashlib
import hmac

TOKEN_HEADER = "X-Copyleaks-Webhook-Token"
PURPOSES = ("scan", "export", "delete")


def webhook_token(secret: str, purpose: str, ident: str) -> str:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown webhook purpose {purpose!r}")
    if not secret:
        raise ValueError("no webhook secret is configured ([copyleaks] webhook_secret)")
    return hmac.new(secret.encode(), f"{purpose}:{ident}".encode(), hashlib.sha256).hexdigest()


def verify_token(secret: str, purpose: str, ident: str, presented: str | None) -> bool:
    """Constant-time check of a presented credential."""
    if not presented or not secret:
        return False
    # As bytes: compare_digest refuses a str with non-ASCII characters, which a forged header may hold.
    expected = webhook_token(secret, purpose, ident).encode()
    return hmac.compare_digest(expected, presented.encode("utf-8", errors="surrogateescape"))


def verify_any(secrets: tuple[str, ...], purpose: str, ident: str, presented: str | None) -> bool:
    """Whether ``presented`` is the credential under any of ``secrets`` (the current one and those
    being rotated out). Every secret is compared, in constant time, whichever matches."""
    matches = [verify_token(secret, purpose, ident, presented) for secret in secrets]
    return any(matches)
