"""DAG parse cost: the provider's imports and the example DAGs, against plain EmptyOperator DAGs.

Airflow re-parses DAG files all the time, so what a DAG file imports at module level is paid over
and over. Every figure comes from a fresh Python process (median of several runs).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RUNS = 5

IMPORT_OURS = "from airflow_copyleaks.operators import CopyleaksModerateOperator, CopyleaksSubmitOperator"
IMPORT_PLAIN = "from airflow.providers.standard.operators.empty import EmptyOperator"
PARSE = "from airflow.models.dagbag import DagBag; DagBag({folder!r}).size()"


def timed(statement: str) -> float:
    """Seconds ``statement`` takes in a fresh interpreter after ``import airflow.sdk``."""
    code = f"import time, airflow.sdk\nt = time.perf_counter()\n{statement}\nprint(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return float(out.stdout.strip().splitlines()[-1])


def median_of(statement: str) -> float:
    return statistics.median(timed(statement) for _ in range(RUNS))


def main() -> int:
    figures = {
        "import_provider_operators_s": median_of(IMPORT_OURS),
        "import_empty_operator_s": median_of(IMPORT_PLAIN),
        "parse_example_dags_s": median_of(PARSE.format(folder=str(ROOT / "dags"))),
        "parse_plain_dags_s": median_of(PARSE.format(folder=str(HERE / "plain_dags"))),
        "runs": RUNS,
    }
    print(f"{'what':36} {'ours':>8} {'plain':>8}")
    print(
        f"{'import operators (s)':36} {figures['import_provider_operators_s']:8.3f} "
        f"{figures['import_empty_operator_s']:8.3f}"
    )
    print(f"{'parse the two DAGs (s)':36} {figures['parse_example_dags_s']:8.3f} {figures['parse_plain_dags_s']:8.3f}")
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / "dag_parse.json").write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
