"""``make bench``: run every benchmark in this folder, one after the other, in fresh processes.

Each benchmark compares our way with the alternative in the same run and writes its figures to
``benchmarks/results/``. Pass benchmark names to run only those.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    names = argv or sorted(p.stem for p in HERE.glob("*.py") if not p.stem.startswith("_"))
    failed = []
    for name in names:
        print(f"\n=== {name} ===", flush=True)
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", f"benchmarks.{name}"], cwd=HERE.parent)
        print(f"({name}: {time.monotonic() - started:.0f} s)", flush=True)
        if result.returncode != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
