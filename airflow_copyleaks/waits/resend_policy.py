"""When to ask Copyleaks to resend a silent scan's webhook: one policy for every kind of wait.

Copyleaks reports only by webhook, so a wait whose webhook was lost asks for it again ("resend
webhook"). Real scans take minutes to an hour, and a resend of a running scan is a wasted call
of the account's budget, so a scan is resent only

- once silent longer than its expected duration (``resend_after_seconds``), counted from its last
  activity in the store, so a restarted wait never resends at once; once enough scans finished,
  also past twice their 90th percentile (a scan far slower than its siblings most likely lost its
  webhook);
- or at once after the receiver saw a delivery for it fail (refused, or the store down), since
  then a webhook was certainly lost;
- each further time twice as long after the last (capped);
- within the account's budget of resend requests a minute, shared by every process through the
  store (:class:`ResendBudget`).

The triggerer's resend service (``triggers/resends.py``) applies it for every deferred wait of an
event loop; :class:`BlockingResender` applies it for a wait in a worker and a poking sensor.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_copyleaks.exceptions import CopyleaksApiError, CopyleaksNotFoundError

log = logging.getLogger(__name__)

MAX_INTERVAL_SECONDS = 6 * 3600.0  # backoff cap: a wait's deadline comes before more resends matter
LEARN_AFTER = 5  # finished scans needed before their durations count
MIN_LEARNED_SECONDS = 1.0
FAILURES_EVERY_SECONDS = 5.0  # how often the store is asked about failed deliveries
MAX_BLOCK_SECONDS = 1.0  # a blocking wait sleeps for a budget slot at most this long
MAX_DOUBLINGS = 32  # far past the cap; keeps the power small for a count that never resets
FAILURE_BACKOFF_SECONDS = 60.0  # after a failed delivery: resend at once, then 2, 4, 8 ... minutes apart


@dataclass
class Silent:
    """A watched scan: when its next resend is due and how many were asked for."""

    due: float
    after: float
    seen: float  # its last activity when first watched: its registration, for a new scan
    activity: float = 0.0  # the latest activity seen: only a later one is news of the scan
    attempts: int = 0
    in_flight: bool = False
    last_resent: float = 0.0
    failure_seen: float = 0.0  # the latest failed delivery already acted upon
    waiters: set[Callable[[], None]] = field(default_factory=set)


class ResendPolicy:
    """The schedule of the watched scans (see the module docstring); no I/O."""

    def __init__(self) -> None:
        self.scans: dict[str, Silent] = {}
        self.durations: deque[float] = deque(maxlen=500)

    def watch(self, scan_id: str, last_activity: float, after: float, attempts: int = 0) -> Silent:
        """Resend ``scan_id`` once silent ``after`` seconds since ``last_activity`` (epoch), or
        longer after ``attempts`` resends already asked for (by any process: the store counts)."""
        entry = self.scans.get(scan_id)
        attempts = max(attempts, entry.attempts if entry is not None else 0)
        due = last_activity + backoff(after, attempts)
        if entry is None:
            entry = self.scans[scan_id] = Silent(
                due=due, after=after, seen=last_activity, activity=last_activity, attempts=attempts
            )
            if attempts:
                entry.last_resent = last_activity
        elif last_activity > entry.activity and not entry.in_flight:
            # News of the scan: silence counts again from it. The same activity read again is no
            # news, so it never undoes an earlier due time a failed delivery set.
            entry.activity = last_activity
            if due > entry.due:
                entry.due, entry.attempts = due, attempts
        return entry

    def finished(self, scan_id: str, now: float) -> None:
        """``scan_id`` reached its end unaided: how long it took teaches what a normal scan takes."""
        entry = self.scans.get(scan_id)
        if entry is not None and entry.attempts == 0:
            self.durations.append(now - entry.seen)

    def learned_duration(self) -> float | None:
        """Twice the 90th percentile of the durations seen here, once there are enough of them."""
        if len(self.durations) < LEARN_AFTER:
            return None
        ordered = sorted(self.durations)
        return max(MIN_LEARNED_SECONDS, 2 * ordered[int(0.9 * (len(ordered) - 1))])

    def due_at(self, entry: Silent, learned: float | None) -> float:
        if entry.in_flight:
            return math.inf
        if learned is None or entry.attempts:
            return entry.due
        return min(entry.due, entry.seen + learned)

    def due(self, now: float) -> list[str]:
        """The scans due for a resend at ``now``, the most overdue first."""
        learned = self.learned_duration()
        times = ((self.due_at(entry, learned), sid) for sid, entry in self.scans.items())
        return [sid for at, sid in sorted(times) if at <= now]

    def nearest(self, default: float) -> float:
        learned = self.learned_duration()
        return min((self.due_at(e, learned) for e in self.scans.values()), default=default)

    def resent(self, scan_id: str, now: float) -> None:
        """A resend was asked for: the next one waits twice as long as the last (capped)."""
        entry = self.scans.get(scan_id)
        if entry is not None:
            entry.attempts += 1
            entry.in_flight = False
            entry.last_resent = now
            entry.due = now + backoff(entry.after, entry.attempts)

    def delivery_failed(self, failures: dict[str, float]) -> bool:
        """The receiver saw deliveries fail (scan id -> when): those scans are due at once, once per
        failure, but still backing off from earlier resends (a resent webhook refused again, as
        while a secret is wrong, must not turn into a resend loop). True if any due time moved."""
        changed = False
        for scan_id, failed_at in failures.items():
            entry = self.scans.get(scan_id)
            if entry is None or failed_at <= entry.failure_seen:
                continue
            entry.failure_seen = failed_at
            if not entry.in_flight:
                base = min(entry.after, FAILURE_BACKOFF_SECONDS)
                earliest = entry.last_resent + backoff(base, entry.attempts) if entry.attempts else failed_at
                entry.due = min(entry.due, max(failed_at, earliest))
                changed = True
        return changed


def backoff(after: float, attempts: int) -> float:
    """How long a scan is left silent after ``attempts`` resends: doubling, capped."""
    return min(after * 2 ** min(attempts, MAX_DOUBLINGS), MAX_INTERVAL_SECONDS)


class ResendBudget:
    """The account's resend requests a minute, shared by every process through the store.

    :param hook: The CopyleaksHook whose account (and store) the budget belongs to.
    :param per_minute: Most resend requests a minute for the account.
    """

    def __init__(self, hook: Any, per_minute: float) -> None:
        self._limiter = hook.resend_limiter(per_minute)

    def reserve(self) -> float:
        """Take the account's next resend slot; returns when it comes (epoch seconds, this host)."""
        return float(self._limiter.reserve())


def read_failures(store: Any, scan_ids: Iterable[str]) -> dict[str, float]:
    """Failed deliveries the receiver recorded for ``scan_ids`` (scan id -> epoch), or none when
    the store cannot say (an outage: the silence rule still applies)."""
    try:
        return dict(store.delivery_failures(list(scan_ids)))
    except Exception as err:
        log.debug("Could not read failed deliveries: %s", err)
        return {}


def ask_for_resend(hook: Any, scan_id: str) -> bool:
    """Ask Copyleaks to resend ``scan_id``'s webhook; False if Copyleaks does not know the scan."""
    try:
        hook.resend_webhook(scan_id)
        log.info("Scan %s silent past its expected duration: asked Copyleaks to resend its webhook", scan_id)
    except CopyleaksNotFoundError:
        return False
    except CopyleaksApiError as err:  # 400: still running, nothing to resend yet
        log.info("Resend webhook for %s not possible yet: %s", scan_id, err.message)
    except Exception as err:  # a network hiccup: the backoff paces the next try
        log.warning("Resend webhook for %s failed: %s", scan_id, err)
    return True


class BlockingResender:
    """The policy for a wait that blocks a worker (or a poking sensor): called on each look at
    the store, it resends what is due, waiting for the account's slots.

    :param store: The ScanStore the wait reads.
    :param copyleaks_conn_id: Connection the resend requests go through.
    :param after_seconds: The scans' expected duration (0 disables resending).
    :param budget_per_minute: The account's resend requests a minute, shared with every process.
    """

    def __init__(self, store: Any, copyleaks_conn_id: str, after_seconds: float, budget_per_minute: float) -> None:
        self.store = store
        self.copyleaks_conn_id = copyleaks_conn_id
        self.after_seconds = after_seconds
        self.budget_per_minute = budget_per_minute
        self.policy = ResendPolicy()
        self.requests = 0
        self._hook: Any = None
        self._budget: ResendBudget | None = None
        self._failures_read = 0.0
        self._held: float | None = None  # a budget slot taken but not yet come

    def resend_due(self, pending: Sequence[str], scans: dict[str, dict[str, Any] | None]) -> list[str]:
        """Resend the due ones among ``pending``; returns the scans Copyleaks does not know."""
        started = time.time()
        for scan_id in list(self.policy.scans):
            if scan_id not in pending:
                self.policy.finished(scan_id, started)
                del self.policy.scans[scan_id]
        for scan_id in pending:
            record = scans.get(scan_id) or {}
            last = record.get("last_activity") or started
            self.policy.watch(scan_id, float(last), self.after_seconds, int(record.get("resend_attempts") or 0))
        if time.monotonic() - self._failures_read >= FAILURES_EVERY_SECONDS:
            self._failures_read = time.monotonic()
            self.policy.delivery_failed(read_failures(self.store, pending))
        unknown = []
        for scan_id in self.policy.due(time.time()):
            if not self._take_slot():
                break  # over the account's budget: the slot is kept for a later look
            self.requests += 1
            if not ask_for_resend(self._hook, scan_id):
                unknown.append(scan_id)
            self.policy.resent(scan_id, time.time())
            _mark_resent(self.store, scan_id)
        return unknown

    def _take_slot(self) -> bool:
        """Wait for the account's next resend slot if it is near; a far one is held, not waited for
        (the wait must go on reading the store)."""
        if self._hook is None:
            from airflow_copyleaks.hooks.copyleaks import CopyleaksHook

            self._hook = CopyleaksHook(self.copyleaks_conn_id, store=self.store)
            self._budget = ResendBudget(self._hook, self.budget_per_minute)
        assert self._budget is not None
        slot = self._held if self._held is not None else self._budget.reserve()
        if slot - time.time() > MAX_BLOCK_SECONDS:
            self._held = slot
            return False
        self._held = None
        time.sleep(max(0.0, slot - time.time()))
        return True


def _mark_resent(store: Any, scan_id: str) -> None:
    try:
        store.mark_resend_requested(scan_id)
    except Exception as err:  # the store hiccuped: only a restart would resend early
        log.debug("Could not record the resend of %s: %s", scan_id, err)
