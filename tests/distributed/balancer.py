"""A round-robin HTTP load balancer in front of the webhook receivers, as a deployment puts one.

Each request goes to the next backend in turn (its path appended to the backend's base URL); a
backend that is down answers 502, as nginx does, so Copyleaks retries the delivery later. Counts
what each backend answered, for the test to show that both receivers took deliveries.
"""

from __future__ import annotations

import http.client
import itertools
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}


class Balancer:
    def __init__(self, backends: list[str], port: int) -> None:
        self.backends = backends
        self.port = port
        self.answers: Counter[tuple[str, int]] = Counter()  # (backend, status) -> count
        self._next = itertools.cycle(range(len(backends)))
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> Balancer:
        balancer = self

        class Handler(BaseHTTPRequestHandler):
            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                with balancer._lock:
                    backend = balancer.backends[next(balancer._next)]
                status, headers, answer = balancer.forward(backend, self.command, self.path, self.headers, body)
                with balancer._lock:
                    balancer.answers[(backend, status)] += 1
                try:
                    self.send_response(status)
                    for key, value in headers:
                        if key.lower() not in HOP_BY_HOP:
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:  # the sender gave up waiting (its timeout): it retries the delivery
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _relay

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="balancer", daemon=True).start()
        return self

    @staticmethod
    def forward(
        backend: str, method: str, path: str, headers: object, body: bytes | None
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        base = urlsplit(backend)
        connection = http.client.HTTPConnection(base.hostname or "127.0.0.1", base.port, timeout=30)
        sent = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}  # type: ignore[attr-defined]
        try:
            connection.request(method, base.path.rstrip("/") + path, body=body, headers=sent)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        except OSError as err:
            return 502, [("Content-Type", "text/plain")], f"backend {backend} unreachable: {err}".encode()
        finally:
            connection.close()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
