"""``airflow-copyleaks``: run the local emulator or the standalone webhook receiver."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _emulator(args: argparse.Namespace) -> int:
    from airflow_copyleaks.testing.emulator import EmulatorConfig, serve

    config = EmulatorConfig(
        requests_per_second=args.requests_per_second,
        scan_duration_seconds=args.scan_duration,
        token_lifetime_seconds=args.token_lifetime,
    )
    serve(args.host, args.port, config)
    return 0


def _webhooks_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from airflow_copyleaks.webhooks.app import create_app

    uvicorn.run(create_app(), host=args.host, port=args.port, log_level=args.log_level, access_log=False)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="airflow-copyleaks", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    emulator = commands.add_parser("emulator", help="run the local Copyleaks API emulator")
    emulator.add_argument("--host", default="127.0.0.1")
    emulator.add_argument("--port", type=int, default=8765)
    emulator.add_argument("--requests-per-second", type=float, default=10.0, help="0 disables the limit")
    emulator.add_argument("--scan-duration", type=float, default=1.0, help="seconds a scan takes")
    emulator.add_argument("--token-lifetime", type=float, default=48 * 3600, help="token lifetime in seconds")
    emulator.set_defaults(func=_emulator)

    webhooks = commands.add_parser("webhooks", help="the webhook receiver")
    webhook_commands = webhooks.add_subparsers(dest="webhooks_command", required=True)
    serve = webhook_commands.add_parser("serve", help="serve the receiver on its own (outside the api-server)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8766)
    serve.add_argument("--log-level", default="warning")
    serve.set_defaults(func=_webhooks_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
