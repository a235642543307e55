"""DAG parse cost: the provider's imports and the example DAGs, against plain EmptyOperator DAGs.

Airflow re-parses DAG files all the time, so what a DAG file imports at module level is paid over
and over. Every figure comes from a fresh Python process (median of several runs). The baseline
DAGs (``benchmarks/plain_dags/``) have the example DAGs' shapes with EmptyOperators only.

    python -m benchmarks.dag_parse [--runs 5] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

from benchmarks._common import HERE, ROOT, prepare_environment, print_table, write_results

RUNS = 5

IMPORT_OURS = "from airflow_copyleaks.operators import CopyleaksModerateOperator, CopyleaksSubmitOperator"
IMPORT_PLAIN = "from airflow.providers.standard.operators.empty import EmptyOperator"
# A DAG that fails to import would parse "fast": fail the benchmark instead.
PARSE = (
    "from airflow.dag_processing.dagbag import DagBag; b = DagBag({folder!r}); "
    "assert b.size() >= 2 and not b.import_errors, b.import_errors"
)


def timed(statement: str) -> float:
    """Seconds ``statement`` takes in a fresh interpreter after ``import airflow.sdk``."""
    code = f"import time, airflow.sdk\nt = time.perf_counter()\n{statement}\nprint(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return float(out.stdout.strip().splitlines()[-1])


def median_of(statement: str, runs: int) -> float:
    return statistics.median(timed(statement) for _ in range(runs))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS, help="fresh processes per figure (median)")
    parser.add_argument("--quick", action="store_true", help="2 runs per figure")
    args = parser.parse_args(argv)
    runs = 2 if args.quick else args.runs
    prepare_environment()  # the child processes inherit a throwaway AIRFLOW_HOME
    figures = {
        "import_provider_operators_s": median_of(IMPORT_OURS, runs),
        "import_empty_operator_s": median_of(IMPORT_PLAIN, runs),
        "parse_example_dags_s": median_of(PARSE.format(folder=str(ROOT / "dags")), runs),
        "parse_plain_dags_s": median_of(PARSE.format(folder=str(HERE / "plain_dags")), runs),
        "runs": runs,
    }
    table = [
        {"what": "import the operators (s, after airflow.sdk)", "ours": f"{figures['import_provider_operators_s']:.3f}",
         "alternative": f"{figures['import_empty_operator_s']:.3f}"},
        {"what": "DagBag parse of the two example DAGs (s)", "ours": f"{figures['parse_example_dags_s']:.3f}",
         "alternative": f"{figures['parse_plain_dags_s']:.3f}"},
    ]  # fmt: skip
    print_table(f"DAG parse cost, median of {runs} fresh processes", table, "provider", "EmptyOperator")
    path = write_results("dag_parse", argv, table, figures)
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
