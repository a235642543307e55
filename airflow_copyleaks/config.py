"""The provider's own settings: the ``[copyleaks]`` section of the Airflow configuration.

Every option can also be set with an ``AIRFLOW__COPYLEAKS__<OPTION>`` environment variable, the
usual Airflow way. Reading goes through :func:`get_setting` so that code and tests share one list
of names and defaults.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow_copyleaks.masking import mask

SECTION = "copyleaks"


def airflow_home() -> Path:
    return Path(os.environ.get("AIRFLOW_HOME", Path.home() / "airflow")).expanduser()


@dataclass(frozen=True)
class Setting:
    name: str
    description: str
    default: str


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in [
        Setting(
            "store_url",
            "SQLAlchemy URL of the ScanStore (webhook events, scan status, export artifacts, token "
            "cache). Empty means an SQLite file copyleaks.db in AIRFLOW_HOME, which is refused under an "
            "executor that runs tasks on other machines (Celery, Kubernetes, Edge).",
            "",
        ),
        Setting(
            "webhook_secret",
            "Secret from which the per-scan webhook credentials are derived (HMAC). Required by "
            "the webhook receiver unless allow_unauthenticated_webhooks is true.",
            "",
        ),
        Setting(
            "webhook_previous_secrets",
            "Secrets the receiver still accepts while webhook_secret is rotated (comma-separated): "
            "scans submitted before the change keep their credentials. New URLs are signed with "
            "webhook_secret only.",
            "",
        ),
        Setting(
            "allow_unauthenticated_webhooks",
            "Local testing only: let the receiver start without a webhook_secret.",
            "False",
        ),
        Setting(
            "artifacts_url",
            "Where exported results and PDF reports are written: any ObjectStoragePath URL "
            "(file://, s3://, gs://). Empty means AIRFLOW_HOME/copyleaks/artifacts.",
            "",
        ),
        Setting(
            "max_webhook_body_bytes",
            "Largest webhook body the receiver accepts; larger deliveries get 413 unread.",
            str(32 * 1024 * 1024),
        ),
        Setting(
            "max_webhook_json_bytes",
            "Largest status, newResult or completion webhook the receiver accepts (they are "
            "kilobytes; only exported artifacts are large); larger ones get 413 unread.",
            str(1024 * 1024),
        ),
        Setting(
            "receiver_threads",
            "Worker threads the webhook receiver uses for the store (its own, not the api-server's).",
            "8",
        ),
        Setting(
            "expose_receiver_docs",
            "Serve the receiver's /docs, /redoc and /openapi.json (Airflow does not authenticate "
            "a plugin's app, so they are off unless enabled).",
            "False",
        ),
        Setting(
            "resend_after_seconds",
            "A scan's expected duration: a waiting scan silent this long gets a 'resend webhook' "
            "request to Copyleaks, and each further one for it waits twice as long as the last. "
            "Real scans take minutes to an hour; a shorter value resends running scans for nothing.",
            "3600",
        ),
        Setting(
            "resend_budget_per_minute",
            "Most 'resend webhook' requests per minute for one Copyleaks account, shared by every "
            "triggerer, worker and sensor through the store; past it, due scans wait their turn.",
            "60",
        ),
        Setting(
            "local_roots",
            "Folders (comma-separated) that document and image items given as local paths may be "
            "read from; anything else is refused before any request. Empty means the DAGs folder, "
            "AIRFLOW_HOME/data and <artifacts_url>/inputs (what tasks stage, e.g. drafts from a CMS). "
            "Object storage paths (s3://, gs://, ...) are not affected.",
            "",
        ),
        Setting(
            "retention_days",
            "Default age past which `airflow-copyleaks store purge` removes scans, webhook events, "
            "exports, their artifact files and check results.",
            "30",
        ),
        Setting("poll_interval_seconds", "How often a waiting trigger reads the store.", "5"),
        Setting(
            "shared_rate_limit",
            "Keep all processes of one account under its requests/s together, through the store "
            "(mapped tasks on several workers). False: each process limits itself.",
            "True",
        ),
        Setting(
            "shared_login_block",
            "Record a login Copyleaks refused (429, 401, 503) in the store until it lifts, so that "
            "other processes fail fast instead of logging in and prolonging the block. False: each "
            "process finds out with a login of its own.",
            "True",
        ),
    ]
}


def get_setting(name: str) -> str:
    """The value of one ``[copyleaks]`` option: environment, then airflow.cfg, then default."""
    setting = SETTINGS[name]
    env_value = os.environ.get(f"AIRFLOW__{SECTION.upper()}__{name.upper()}")
    if env_value is not None:
        return env_value
    try:
        from airflow.configuration import conf

        return str(conf.get(SECTION, name, fallback=setting.default))
    except Exception:  # outside an Airflow install (the standalone receiver in a slim image)
        return setting.default


def as_bool(value: Any) -> bool:
    """A switch from a setting, a connection extra or a rendered template ("False" is false)."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def get_bool(name: str) -> bool:
    return as_bool(get_setting(name))


def number(field: str, raw: str, *, minimum: float | None = None, whole: bool = False) -> float:
    """``raw`` as a finite number, or a validation error naming ``field`` and the rule it broke."""
    rule = "a whole number" if whole else "a number"
    if minimum is not None:
        rule += f" of at least {minimum:g}"
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value) or (whole and not value.is_integer()) or (minimum is not None and value < minimum):
        # Imported here: the standalone receiver reads settings without Airflow's exceptions loaded.
        from airflow_copyleaks.exceptions import CopyleaksValidationError

        raise CopyleaksValidationError(field, f"is {raw!r}", limit=rule)
    return value


def get_float(name: str, *, minimum: float | None = None, whole: bool = False) -> float:
    """A numeric ``[copyleaks]`` option; a bad value fails naming the option."""
    return number(f"[{SECTION}] {name}", get_setting(name), minimum=minimum, whole=whole)


def resend_budget_per_minute() -> int:
    """Most "resend webhook" requests a minute for one account (at least one, a whole number)."""
    return int(get_float("resend_budget_per_minute", minimum=1, whole=True))


def env_number(variable: str, default: str, *, minimum: float | None = None) -> float:
    """A number from the environment variable ``variable`` (``default`` when unset); a bad value
    fails naming the variable (for a DAG file: an import error saying which)."""
    return number(variable, os.environ.get(variable, default), minimum=minimum)


def store_url() -> str:
    """The configured store; unset, an SQLite file of this machine, refused when tasks run elsewhere."""
    configured = get_setting("store_url")
    if configured:
        return configured
    from airflow_copyleaks.topology import refuse_machine_local_store

    refuse_machine_local_store()
    return f"sqlite:///{airflow_home() / 'copyleaks.db'}"


def webhook_secret() -> str:
    """The secret the per-scan webhook credentials derive from ("" when unset), masked in logs."""
    secret = get_setting("webhook_secret")
    mask(secret)
    return secret


def webhook_previous_secrets() -> list[str]:
    """Secrets being rotated out (still accepted by the receiver), masked in logs."""
    secrets = [s.strip() for s in get_setting("webhook_previous_secrets").split(",") if s.strip()]
    for secret in secrets:
        mask(secret)
    return secrets


def artifacts_url() -> str:
    return get_setting("artifacts_url") or (airflow_home() / "copyleaks" / "artifacts").as_uri()
