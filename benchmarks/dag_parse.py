"""DAG parse cost: the provider's imports and example DAGs, against EmptyOperator and against an
earlier revision of the provider, side by side in one run.

Airflow re-parses DAG files all the time, so what a DAG file imports at module level is paid over
and over. Every figure comes from a fresh Python process. The runs are interleaved (ours, the
earlier revision's, the baseline, then again) so that a machine busy for a moment slows every
side alike, and each figure is the median of its runs. The baseline DAGs
(``benchmarks/plain_dags/``) have the shapes of the two original example DAGs (plagiarism sweep,
content moderation) with EmptyOperators only; those two DAG files are what both revisions parse.

    python -m benchmarks.dag_parse [--runs 9] [--quick] [--against e66301e]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks._common import HERE, ROOT, old_tree, prepare_environment, print_table, write_results

RUNS = 9
# The two example DAGs every revision has; later DAGs would make the later revision look slower.
EXAMPLE_DAGS = ("dags/copyleaks_plagiarism_sweep.py", "dags/copyleaks_content_moderation.py")

IMPORT_OURS = "from airflow_copyleaks.operators import CopyleaksModerateOperator, CopyleaksSubmitOperator"
IMPORT_PLAIN = "from airflow.providers.standard.operators.empty import EmptyOperator"
# A DAG that fails to import would parse "fast": fail the benchmark instead.
PARSE = (
    "from airflow.dag_processing.dagbag import DagBag; b = DagBag({folder!r}); "
    "assert b.size() >= 2 and not b.import_errors, b.import_errors"
)


def timed(statement: str, code_root: Path) -> float:
    """Seconds ``statement`` takes in a fresh interpreter after ``import airflow.sdk``, importing
    ``airflow_copyleaks`` from ``code_root`` (the interpreter's working directory)."""
    code = f"import time, airflow.sdk\nt = time.perf_counter()\n{statement}\nprint(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=code_root)
    return float(out.stdout.strip().splitlines()[-1])


def example_dags_folder(code_root: Path, work: Path, name: str) -> Path:
    """A folder holding only ``code_root``'s two original example DAG files."""
    folder = work / name
    folder.mkdir()
    for dag_file in EXAMPLE_DAGS:
        shutil.copy(code_root / dag_file, folder)
    return folder


def interleaved_medians(statements: dict[str, tuple[str, Path]], runs: int) -> dict[str, float]:
    """Each figure's median over ``runs`` rounds; one round times every statement once. A first,
    uncounted round writes the bytecode caches of the freshly extracted revision and DAG copies."""
    samples: dict[str, list[float]] = {name: [] for name in statements}
    for round_number in range(runs + 1):
        for name, (statement, code_root) in statements.items():
            seconds = timed(statement, code_root)
            if round_number:
                samples[name].append(seconds)
    return {name: statistics.median(values) for name, values in samples.items()}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS, help="fresh processes per figure (median)")
    parser.add_argument("--quick", action="store_true", help="2 runs per figure")
    parser.add_argument("--against", default="e66301e", help="the earlier revision to compare with")
    args = parser.parse_args(argv)
    runs = 2 if args.quick else args.runs
    prepare_environment()  # the child processes inherit a throwaway AIRFLOW_HOME
    work = Path(tempfile.mkdtemp(prefix="copyleaks-dag-parse-"))
    try:
        old = old_tree(args.against, work, ("airflow_copyleaks", *EXAMPLE_DAGS))
        ours_dags = example_dags_folder(ROOT, work, "ours-dags")
        old_dags = example_dags_folder(old, work, "old-dags")
        figures: dict[str, float | int | str] = {
            **interleaved_medians(
                {
                    "import_provider_operators_s": (IMPORT_OURS, ROOT),
                    "import_earlier_operators_s": (IMPORT_OURS, old),
                    "import_empty_operator_s": (IMPORT_PLAIN, ROOT),
                    "parse_example_dags_s": (PARSE.format(folder=str(ours_dags)), ROOT),
                    "parse_earlier_example_dags_s": (PARSE.format(folder=str(old_dags)), old),
                    "parse_plain_dags_s": (PARSE.format(folder=str(HERE / "plain_dags")), ROOT),
                },
                runs,
            ),
            "runs": runs,
            "against": args.against,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    table = [
        {"what": "import the operators (s, after airflow.sdk)", "ours": f"{figures['import_provider_operators_s']:.3f}",
         "alternative": f"EmptyOperator {figures['import_empty_operator_s']:.3f}"},
        {"what": "import the operators (s, after airflow.sdk)", "ours": f"{figures['import_provider_operators_s']:.3f}",
         "alternative": f"{args.against} {figures['import_earlier_operators_s']:.3f}"},
        {"what": "DagBag parse of the two example DAGs (s)", "ours": f"{figures['parse_example_dags_s']:.3f}",
         "alternative": f"EmptyOperator shapes {figures['parse_plain_dags_s']:.3f}"},
        {"what": "DagBag parse of the two example DAGs (s)", "ours": f"{figures['parse_example_dags_s']:.3f}",
         "alternative": f"{args.against} {figures['parse_earlier_example_dags_s']:.3f}"},
    ]  # fmt: skip
    print_table(f"DAG parse cost, median of {runs} interleaved fresh processes", table, "provider", "alternative")
    path = write_results("dag_parse", argv, table, figures)
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
