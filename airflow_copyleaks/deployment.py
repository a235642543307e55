"""Checks a deployment runs before any service starts (``python -m airflow_copyleaks.deployment``).

A stack started with the ``.env.example`` placeholder secret, or a short one, would accept forged
webhooks or an easily guessed login: it fails fast instead, naming the setting. The same module
writes the simple auth manager's passwords file from the admin user and password of ``.env``, so
the login is the one the operator chose (Airflow otherwise generates a password per user).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

PLACEHOLDER_PREFIX = "change-me"  # every secret placeholder in .env.example starts so
# Setting -> shortest accepted value. The webhook secret keys an HMAC (32 hex digits = 128 bits).
# The JWT secret signs the Execution API's task tokens; MinIO refuses a secret key under 8 characters.
MIN_LENGTH = {"COPYLEAKS_WEBHOOK_SECRET": 32, "AIRFLOW_ADMIN_PASSWORD": 12, "AIRFLOW_JWT_SECRET": 32,
              "COPYLEAKS_S3_SECRET_KEY": 8}  # fmt: skip
ALIASES = {"COPYLEAKS_WEBHOOK_SECRET": "AIRFLOW__COPYLEAKS__WEBHOOK_SECRET"}


class DeploymentError(ValueError):
    """A setting the stack must not start with; the message names it and says what to do."""


def problems(env: Mapping[str, str]) -> list[str]:
    """What is wrong with the secrets in ``env`` (empty when the stack may start)."""
    found = []
    for name, minimum in MIN_LENGTH.items():
        value = env.get(name) or env.get(ALIASES.get(name, ""), "")
        if not value:
            found.append(f"{name} is not set")
        elif value.lower().startswith(PLACEHOLDER_PREFIX):
            found.append(f"{name} is the .env.example placeholder: set your own (e.g. `openssl rand -hex 32`)")
        elif len(value) < minimum:
            found.append(f"{name} is {len(value)} characters long: at least {minimum} are required")
    return found


def check(env: Mapping[str, str]) -> None:
    found = problems(env)
    if found:
        raise DeploymentError("Refusing to start the stack: " + "; ".join(found))


def write_passwords_file(path: Path, logins: Mapping[str, str]) -> Path:
    """The simple auth manager's passwords file (``[core] simple_auth_manager_passwords_file``):
    user name -> password."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dict(logins)) + "\n")
    path.chmod(0o600)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--passwords-file", type=Path, help="also write the admin login for the auth manager")
    args = parser.parse_args(argv)
    try:
        check(os.environ)
    except DeploymentError as err:
        print(err, file=sys.stderr)
        return 2
    if args.passwords_file:
        admin = {os.environ["AIRFLOW_ADMIN_USER"]: os.environ["AIRFLOW_ADMIN_PASSWORD"]}
        write_passwords_file(args.passwords_file, admin)
    print("Deployment settings checked: secrets set and long enough")
    return 0


if __name__ == "__main__":
    sys.exit(main())
