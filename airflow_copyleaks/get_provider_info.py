"""What Airflow reads about this provider (the ``apache_airflow_provider`` entry point)."""

from __future__ import annotations

import json
from typing import Any

from airflow_copyleaks import __version__
from airflow_copyleaks.config import SECTION, SETTINGS

INTEGRATION = "Copyleaks"
# The receiver's routes live under the plugin's /copyleaks mount (webhooks/urls.py adds /webhooks/...).
EXAMPLE_WEBHOOK_BASE_URL = "https://airflow.example.com/copyleaks"


def _connection_fields() -> dict[str, Any]:
    return {
        "api_base_url": {
            "label": "API base URL",
            "description": "Where the Copyleaks API answers. Point it at the emulator for local runs.",
            "schema": {"type": ["string", "null"], "default": "https://api.copyleaks.com"},
        },
        "identity_base_url": {
            "label": "Identity base URL",
            "description": "Where Copyleaks login answers (often the same as the emulator URL locally).",
            "schema": {"type": ["string", "null"], "default": "https://id.copyleaks.com"},
        },
        "sandbox": {
            "label": "Sandbox",
            "description": "Send scans in sandbox mode: mock results, no credits spent. Operators can override.",
            "schema": {"type": ["boolean", "null"], "default": True},
        },
        "webhook_base_url": {
            "label": "Webhook receiver public URL",
            "description": "Base URL where Copyleaks can reach this provider's webhook receiver: the api-server's "
            f"URL with the plugin's /copyleaks mount, e.g. {EXAMPLE_WEBHOOK_BASE_URL}, or the standalone "
            "receiver's URL. `airflow-copyleaks doctor` checks that the receiver answers there.",
            "schema": {"type": ["string", "null"]},
        },
        "requests_per_second": {
            "label": "Requests per second",
            "description": "The account's request rate, kept by every process together through the ScanStore "
            "(Copyleaks allows 10/s per account; [copyleaks] shared_rate_limit = False limits each process alone).",
            "schema": {"type": ["number", "null"], "default": 10},
        },
        "timeout_seconds": {
            "label": "Request timeout (s)",
            "description": "Timeout of each HTTP request to Copyleaks (Copyleaks' own is 110 s: a sync check "
            "cut short may be charged without its result).",
            "schema": {"type": ["number", "null"], "default": 120},
        },
        "max_retries": {
            "label": "Retries",
            "description": "How many times a request failing with 429, 503, 5xx or a connection error is retried.",
            "schema": {"type": ["integer", "null"], "default": 5},
        },
    }


_RELABELING = {"login": "Account email", "password": "API key"}
_PLACEHOLDERS = {"login": "you@example.com", "password": "00000000-0000-0000-0000-000000000000"}


def hook_ui_field_behaviour() -> dict[str, Any]:
    """The form behaviour in the shape ``BaseHook.get_ui_field_behaviour()`` returns.

    Only an Airflow that does not read ``ui-field-behaviour`` and ``conn-fields`` from provider info
    (3.1) asks the hook; it then shows none of the conn-fields, so ``extra`` stays visible: that
    JSON is where the settings go there.
    """
    example = {name: field["schema"].get("default") for name, field in _connection_fields().items()}
    example["webhook_base_url"] = EXAMPLE_WEBHOOK_BASE_URL
    return {
        "hidden_fields": ["host", "port", "schema"],
        "relabeling": dict(_RELABELING),
        "placeholders": {**_PLACEHOLDERS, "extra": json.dumps(example)},
    }


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-copyleaks",
        "name": "Copyleaks",
        "description": "Plagiarism scans, text moderation, AI-text detection, writing feedback and image "
        "checks with the `Copyleaks API <https://api.copyleaks.com>`__.",
        "versions": [__version__],
        "integrations": [{"integration-name": INTEGRATION, "external-doc-url": "https://docs.copyleaks.com"}],
        "hooks": [{"integration-name": INTEGRATION, "python-modules": ["airflow_copyleaks.hooks.copyleaks"]}],
        "operators": [
            {
                "integration-name": INTEGRATION,
                "python-modules": [
                    "airflow_copyleaks.operators.submit",
                    "airflow_copyleaks.operators.credits",
                    "airflow_copyleaks.operators.start",
                    "airflow_copyleaks.operators.export",
                    "airflow_copyleaks.operators.checks",
                ],
            }
        ],
        "sensors": [{"integration-name": INTEGRATION, "python-modules": ["airflow_copyleaks.sensors.scan"]}],
        "triggers": [
            {
                "integration-name": INTEGRATION,
                "python-modules": ["airflow_copyleaks.triggers.scan", "airflow_copyleaks.triggers.events"],
            }
        ],
        "connection-types": [
            {
                "connection-type": "copyleaks",
                "hook-class-name": "airflow_copyleaks.hooks.copyleaks.CopyleaksHook",
                "hook-name": "Copyleaks",
                "ui-field-behaviour": {
                    "hidden-fields": ["host", "port", "schema", "extra"],
                    "relabeling": dict(_RELABELING),
                    "placeholders": dict(_PLACEHOLDERS),
                },
                "conn-fields": _connection_fields(),
            }
        ],
        "extra-links": ["airflow_copyleaks.links.CopyleaksReportLink"],
        "config": {
            SECTION: {
                "description": "Settings of the Copyleaks provider: its store, webhook receiver and artifacts.",
                "options": {
                    s.name: {
                        "description": s.description,
                        "version_added": None,
                        "type": "string",
                        "example": None,
                        "default": s.default,
                        **({"sensitive": True} if s.name == "webhook_secret" else {}),
                    }
                    for s in SETTINGS.values()
                },
            }
        },
    }
