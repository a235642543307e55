"""Outgoing HTTP: status/newResult webhooks, export pushes and completion calls.

A small scheduler thread holds delayed jobs (simulated processing time, retry back-off does not
block it) and a thread pool runs them, so many scans progress in parallel. Each logical delivery
stops at the first 2xx and is otherwise retried after each of the configured retry delays.
Webhook faults (``POST /_emulator/webhook-faults``) are applied here:

* drop: the next deliveries are never sent (logged with ``"dropped": true``);
* delay: wait ``delay_seconds`` before delivering;
* duplicate: deliver, then deliver the same request once more;
* fail_status: the next n *attempts* are not sent and count as answered with ``status``, so the
  retry policy is exercised without a misbehaving receiver.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests

from .state import EmulatorState

log = logging.getLogger(__name__)
USER_AGENT = "Copyleaks-Emulator/1.0"


@dataclass
class Delivery:
    kind: str  # status | newResult | export-task | export-completed | delete-completed
    url: str
    body: bytes | None
    headers: list[tuple[str, str]] = field(default_factory=list)
    method: str = "POST"
    content_type: str | None = "application/json"
    scan_id: str | None = None
    account: str | None = None
    max_attempts: int | None = None  # None: 1 + one per retry delay

    @classmethod
    def json(cls, kind: str, url: str, payload: Any, **kw: Any) -> Delivery:
        return cls(kind=kind, url=url, body=json.dumps(payload).encode(), **kw)


@dataclass
class Outcome:
    ok: bool
    status_code: int | None  # the receiver's last answer; None when it never answered
    attempts: int


class Dispatcher:
    def __init__(self, state: EmulatorState, workers: int = 16) -> None:
        self.state = state
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="cl-emulator")
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._local = threading.local()
        self._thread = threading.Thread(target=self._run_scheduler, name="cl-emulator-scheduler", daemon=True)
        self._thread.start()

    # ---- job control ----------------------------------------------------------------------
    def submit(self, fn: Callable[[], None]) -> None:
        if not self._stop.is_set():
            self._pool.submit(self._guard, fn)

    def schedule(self, delay: float, fn: Callable[[], None]) -> None:
        if delay <= 0:
            self.submit(fn)
            return
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + delay, next(self._seq), fn))
            self._cond.notify()

    def _run_scheduler(self) -> None:
        while not self._stop.is_set():
            with self._cond:
                if not self._heap:
                    self._cond.wait(0.5)
                    continue
                due, _, fn = self._heap[0]
                wait = due - time.monotonic()
                if wait > 0:
                    self._cond.wait(min(wait, 0.5))
                    continue
                heapq.heappop(self._heap)
            self.submit(fn)

    def _guard(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception:  # a bug in one job must not kill the worker
            log.exception("emulator background job failed")

    def sleep(self, seconds: float) -> bool:
        """Wait unless the emulator stops; False when it stopped."""
        return not self._stop.wait(seconds)

    def _sleep_within(self, generation: int, seconds: float) -> bool:
        """Wait out a retry delay, waking early (False) when the emulator stops or is reset: the
        later waits of Copyleaks' schedule last hours, and a reset must not leave threads behind."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            if not self.sleep(min(remaining, 0.25)) or generation != self.state.generation:
                return False
        return True

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        self._pool.shutdown(wait=False, cancel_futures=True)

    # ---- delivery -------------------------------------------------------------------------
    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # deliver directly: never through a proxy from the environment
            self._local.session = session
        return session

    def deliver(self, d: Delivery, generation: int) -> Outcome:
        """Send ``d`` with retries; blocking (call it from a worker thread)."""
        fault = self.state.take_webhook_fault(("drop", "delay", "duplicate"))
        if fault is not None and fault.mode == "drop":
            self._log(d, attempt=1, status=None, error="dropped by webhook fault", dropped=True)
            return Outcome(True, None, 0)
        if fault is not None and fault.mode == "delay" and not self.sleep(fault.delay_seconds):
            return Outcome(False, None, 0)
        outcome = self._deliver_with_retries(d, generation)
        if fault is not None and fault.mode == "duplicate" and outcome.ok:
            self._attempt(d, outcome.attempts + 1, duplicate=True)
        return outcome

    def _deliver_with_retries(self, d: Delivery, generation: int) -> Outcome:
        delays = list(self.state.config.retry_delays())
        max_attempts = d.max_attempts if d.max_attempts is not None else 1 + len(delays)
        status: int | None = None
        for attempt in range(1, max_attempts + 1):
            if generation != self.state.generation or self._stop.is_set():
                return Outcome(False, status, attempt - 1)
            ok, status = self._attempt(d, attempt)
            if ok:
                return Outcome(True, status, attempt)
            if status is not None and status < 500 and self.state.config.webhook_retry_on == "5xx":
                break  # Copyleaks retries no answer and 5xx only: a 4xx loses the webhook for good
            if attempt < max_attempts:
                delay = delays[min(attempt - 1, len(delays) - 1)] if delays else 0.0
                if not self._sleep_within(generation, delay):
                    break
        return Outcome(False, status, max_attempts)

    def _attempt(self, d: Delivery, attempt: int, duplicate: bool = False) -> tuple[bool, int | None]:
        fault = self.state.take_webhook_fault(("fail_status",))
        if fault is not None:
            self._log(d, attempt, fault.status, "failed by webhook fault", fault=True)
            with self.state.lock:
                self.state.stats["webhook_failures"] += 1
            return False, fault.status
        headers = {"User-Agent": USER_AGENT}
        if d.content_type and d.body is not None:
            headers["Content-Type"] = d.content_type
        for k, v in d.headers:
            headers[k] = v
        status: int | None = None
        error: str | None = None
        try:
            resp = self._session().request(
                d.method.upper(), d.url, data=d.body if d.body is not None else b"", headers=headers,
                timeout=self.state.config.webhook_timeout_seconds, allow_redirects=False,
            )
            status = resp.status_code
            resp.close()
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
        ok = status is not None and 200 <= status < 300
        with self.state.lock:
            self.state.stats["webhooks_sent"] += 1
            if not ok:
                self.state.stats["webhook_failures"] += 1
        self._log(d, attempt, status, error, duplicate=duplicate, headers=headers)
        return ok, status

    def _log(self, d: Delivery, attempt: int, status: int | None, error: str | None, *,
             headers: dict[str, str] | None = None, **flags: bool) -> None:
        body: Any = None
        if d.body is not None and d.content_type == "application/json":
            try:
                body = json.loads(d.body)
            except ValueError:
                body = d.body.decode("utf-8", errors="replace")
        entry: dict[str, Any] = {
            "kind": d.kind, "scanId": d.scan_id, "account": d.account, "method": d.method.upper(), "url": d.url,
            "headers": headers if headers is not None else dict(d.headers), "body": body,
            "bodySize": len(d.body) if d.body is not None else 0, "contentType": d.content_type,
            "attempt": attempt, "statusCode": status, "error": error, "time": time.time(),
            "dropped": False, "duplicate": False, "fault": False,
        }
        entry.update(flags)
        with self.state.lock:
            self.state.webhook_log.append(entry)
