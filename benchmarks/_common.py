"""What the benchmarks share: where results go, the machine they ran on, small statistics, and
starting the receiver and the emulator on loopback.

Every benchmark writes ``benchmarks/results/<name>.json`` with the same envelope (``benchmark``,
``command``, ``date``, ``machine``, ``table``, ``figures``); the README quotes the tables.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
WEBHOOK_SECRET = "benchmark-webhook-secret-0123456789"


def completed_payload(scan_id: str) -> dict[str, Any]:
    """The body of a ``completed`` webhook, as Copyleaks sends it (trimmed to what the store reads)."""
    return {
        "status": 0,
        "scannedDocument": {"scanId": scan_id, "totalWords": 120, "credits": 1},
        "results": {"score": {"aggregatedScore": 12.5}, "internet": []},
    }


def prepare_environment() -> Path:
    """A throwaway AIRFLOW_HOME, set before Airflow is imported, so a benchmark never touches ~/airflow."""
    home = Path(tempfile.mkdtemp(prefix="copyleaks-bench-"))
    os.environ.setdefault("AIRFLOW_HOME", str(home))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")
    os.environ["AIRFLOW__COPYLEAKS__WEBHOOK_SECRET"] = WEBHOOK_SECRET
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")  # not a log line per document
    return home


def machine() -> dict[str, Any]:
    mem_gib = None
    try:
        with open("/proc/meminfo") as f:
            mem_gib = round(int(f.readline().split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "memory_gib": mem_gib,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }


def command_line(name: str, argv: Sequence[str]) -> str:
    return " ".join(["python -m", f"benchmarks.{name}", *argv])


def write_results(name: str, argv: Sequence[str], table: list[dict[str, Any]], figures: dict[str, Any]) -> Path:
    """Write the envelope; ``table`` rows are ``{"what", "ours", "alternative", "unit"}`` (display form)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    doc = {
        "benchmark": name,
        "command": command_line(name, argv),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "table": table,
        "figures": figures,
    }
    path.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    return path


def print_table(title: str, table: list[dict[str, Any]], ours: str = "ours", alternative: str = "alternative") -> None:
    width = max([len(r["what"]) for r in table] + [10])
    print(f"\n{title}")
    print(f"{'what':<{width}}  {ours:>22}  {alternative:>22}")
    for row in table:
        print(f"{row['what']:<{width}}  {row['ours']!s:>22}  {row['alternative']!s:>22}")
    sys.stdout.flush()


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(pct / 100 * len(ordered)) - 1))
    return ordered[rank]


def latency_figures(seconds: Sequence[float]) -> dict[str, float | None]:
    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 2)

    return {
        "median_ms": ms(statistics.median(seconds)) if seconds else None,
        "p95_ms": ms(percentile(seconds, 95)),
        "p99_ms": ms(percentile(seconds, 99)),
        "max_ms": ms(max(seconds)) if seconds else None,
    }


def connection_json(url: str, email: str, api_key: str, **extra: Any) -> str:
    """An ``AIRFLOW_CONN_...`` value for the emulator with the provider's defaults (real retries)."""
    fields = {"api_base_url": url, "identity_base_url": url, "sandbox": False, **extra}
    return json.dumps({"conn_type": "copyleaks", "login": email, "password": api_key, "extra": fields})


def rss_mib(pid: int | None = None) -> float:
    import psutil

    return round(psutil.Process(pid or os.getpid()).memory_info().rss / 1024 / 1024, 1)


def fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


@dataclass
class TaskInstance:
    """What operators read from ``context["ti"]``: the ids scan ids derive from, and XCom."""

    dag_id: str = "benchmark"
    task_id: str = "task"
    run_id: str = "bench"
    map_index: int = -1
    try_number: int = 1
    xcoms: dict[str, Any] = field(default_factory=dict)

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = json.loads(json.dumps(value))

    def xcom_pull(self, task_ids: str, key: str = "return_value", map_indexes: int | None = None) -> Any:
        return self.xcoms.get(key)


def old_tree(rev: str, work: Path, paths: Sequence[str] = ("airflow_copyleaks",)) -> Path:
    """``paths`` (by default ``airflow_copyleaks``) as they were at git revision ``rev``, in a
    folder of its own: a process started there imports that revision's code, not this one's."""
    folder = work / f"old-{rev}"
    folder.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, *paths], check=True,
                             capture_output=True).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder
