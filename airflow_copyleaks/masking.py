"""Registering secrets with Airflow's secrets masker, so that a value that ever reaches a log line
or a rendered field shows as ``***``."""

from __future__ import annotations


def mask(secret: str | None) -> None:
    if not secret:
        return
    try:
        from airflow.sdk.log import mask_secret

        mask_secret(secret)
    except Exception:  # best effort outside a configured Airflow (the standalone receiver)
        pass


def mask_url_password(url: str | None) -> None:
    """Mask the password of a database URL (a ``store_url`` travels in trigger arguments)."""
    if not url:
        return
    try:
        from sqlalchemy.engine import make_url

        mask(make_url(url).password)  # type: ignore[arg-type]
    except Exception:  # not a URL SQLAlchemy can read: nothing to mask
        pass
