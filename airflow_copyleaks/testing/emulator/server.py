"""Running the emulator: a uvicorn server in a background thread (tests) or in the foreground (CLI)."""

from __future__ import annotations

import argparse
import contextlib
import socket
import threading
import time
from types import TracebackType

import uvicorn

from .app import EmulatorApp
from .config import EmulatorConfig
from .state import EmulatorState


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class EmulatorServer:
    """``EmulatorServer(cfg, host, port=0).start()`` -> serving at ``.url`` until ``.stop()``.

    The same URL serves the identity paths (``/v3/account/login/api``) and the API paths, so both
    base URLs of a client point at it.
    """

    def __init__(self, config: EmulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config or EmulatorConfig()
        self.host = host
        self._requested_port = port
        self._app: EmulatorApp | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self.port = port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def state(self) -> EmulatorState:
        if self._app is None:
            raise RuntimeError("the emulator is not started")
        return self._app.state

    @property
    def app(self) -> EmulatorApp:
        if self._app is None:
            raise RuntimeError("the emulator is not started")
        return self._app

    def start(self, timeout: float = 15.0) -> EmulatorServer:
        if self._thread is not None:
            return self
        self._app = EmulatorApp(self.config)
        self._sock = _bind(self.host, self._requested_port)
        self.port = self._sock.getsockname()[1]
        cfg = uvicorn.Config(self._app.asgi, log_level="warning", lifespan="off", access_log=False,
                             timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(cfg)
        sock = self._sock
        server = self._server
        self._thread = threading.Thread(target=lambda: server.run(sockets=[sock]), name="cl-emulator-uvicorn",
                                        daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the Copyleaks emulator did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._app is not None:
            self._app.close()
        if self._sock is not None:
            self._sock.close()
        self._thread = None
        self._server = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def serve(host: str = "127.0.0.1", port: int = 8765, config: EmulatorConfig | None = None) -> None:
    """Serve in the foreground until interrupted (Ctrl-C)."""
    cfg = config or EmulatorConfig()
    app = EmulatorApp(cfg)
    print(f"Copyleaks emulator on http://{host}:{port}  (accounts: {', '.join(cfg.accounts)}; "
          f"control API under /_emulator/)", flush=True)
    try:
        uvicorn.run(app.asgi, host=host, port=port, log_level="info", lifespan="off")
    finally:
        app.close()


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """Options for ``python -m airflow_copyleaks.testing.emulator`` (reusable by other CLIs)."""
    p = parser or argparse.ArgumentParser(prog="copyleaks-emulator", description="Local Copyleaks API emulator")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--account", action="append", metavar="EMAIL:KEY",
                   help="an account (repeatable); default demo@example.com:00000000-0000-0000-0000-000000000000")
    p.add_argument("--credits", type=int, default=None, help="initial credits per account")
    p.add_argument("--requests-per-second", type=float, default=None, help="per-account limit, 0 disables")
    p.add_argument("--scan-duration", type=float, default=None, help="seconds before the status webhook")
    return p


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    cfg = EmulatorConfig()
    if args.account:
        cfg.accounts = dict(a.split(":", 1) for a in args.account)
    if args.credits is not None:
        cfg.initial_credits = args.credits
    if args.requests_per_second is not None:
        cfg.requests_per_second = args.requests_per_second
    if args.scan_duration is not None:
        cfg.scan_duration_seconds = args.scan_duration
    return cfg


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        serve(args.host, args.port, config_from_args(args))
    return 0
