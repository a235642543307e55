"""``airflow-copyleaks``: the local emulator, the standalone webhook receiver, store upkeep, and
checking a setup."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _emulator(args: argparse.Namespace) -> int:
    from airflow_copyleaks.testing.emulator.server import config_from_args, serve

    serve(args.host, args.port, config_from_args(args))
    return 0


def _webhooks_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from airflow_copyleaks.webhooks.app import create_app

    uvicorn.run(create_app(), host=args.host, port=args.port, log_level=args.log_level, access_log=False)
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from airflow_copyleaks import doctor

    return doctor.run(args.conn_id)


def _store_purge(args: argparse.Namespace) -> int:
    from airflow_copyleaks.exceptions import CopyleaksValidationError
    from airflow_copyleaks.retention import default_age, parse_age, purge
    from airflow_copyleaks.store import get_store

    try:
        age = parse_age(args.older_than) if args.older_than is not None else default_age()
    except CopyleaksValidationError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    report = purge(get_store(args.store_url), age, dry_run=args.dry_run)
    print("\n".join(report.lines()))
    return 1 if report.file_errors else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="airflow-copyleaks", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    from airflow_copyleaks.testing.emulator.server import build_parser as emulator_options

    emulator = commands.add_parser("emulator", help="run the local Copyleaks API emulator")
    emulator_options(emulator)  # the emulator's own options, so both entry points agree
    emulator.set_defaults(func=_emulator)

    webhooks = commands.add_parser("webhooks", help="the webhook receiver")
    webhook_commands = webhooks.add_subparsers(dest="webhooks_command", required=True)
    serve = webhook_commands.add_parser("serve", help="serve the receiver on its own (outside the api-server)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8766)
    serve.add_argument("--log-level", default="warning")
    serve.set_defaults(func=_webhooks_serve)

    check = commands.add_parser("doctor", help="check that the receiver answers at the connection's webhook_base_url")
    check.add_argument("--conn-id", default="copyleaks_default")
    check.set_defaults(func=_doctor)

    store = commands.add_parser("store", help="the ScanStore")
    store_commands = store.add_subparsers(dest="store_command", required=True)
    purge = store_commands.add_parser("purge", help="remove records and artifacts past retention")
    purge.add_argument("--older-than", help="age such as 30d, 12h (default: [copyleaks] retention_days)")
    purge.add_argument("--store-url", help="the store (default: [copyleaks] store_url)")
    purge.add_argument("--dry-run", action="store_true", help="count what would go; change nothing")
    purge.set_defaults(func=_store_purge)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
