"""Times `playbook validate` on synthetic catalogues and prints the figures.

    python benchmarks/validate_speed.py            # 1,000 and 10,000 tasks
    python benchmarks/validate_speed.py --tasks 10000 --repeat 5

Target (issue #2): 10,000 tasks validate in under 2 seconds on a 2-core machine. The figure is the best of
`--repeat` runs of the whole command in a fresh process, start-up and imports included, as a contributor sees it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import write_catalogue

TARGET_SECONDS = 2.0


def time_validate(data_dir: Path, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "generator", "validate", "--data", str(data_dir)],
            capture_output=True,
            text=True,
            check=False,
        )
        best = min(best, time.perf_counter() - start)
        if result.returncode != 0:
            sys.exit(f"validation failed on synthetic data:\n{result.stderr}")
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, action="append", help="catalogue size; repeatable")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; the best is reported")
    args = parser.parse_args()
    sizes = args.tasks or [1_000, 10_000]
    print(f"{'tasks':>8}  {'data size':>10}  {'validate (best of ' + str(args.repeat) + ')':>22}")
    with tempfile.TemporaryDirectory() as scratch:
        for size in sizes:
            data_dir = write_catalogue(Path(scratch) / f"catalogue-{size}", size)
            megabytes = sum(path.stat().st_size for path in data_dir.glob("*.yml")) / 1e6
            seconds = time_validate(data_dir, args.repeat)
            verdict = (
                ""
                if size != 10_000
                else ("  (target < 2.0 s: met)" if seconds < TARGET_SECONDS else "  (target < 2.0 s: MISSED)")
            )
            print(f"{size:>8,}  {megabytes:>8.1f} MB  {seconds:>20.2f} s{verdict}")


if __name__ == "__main__":
    main()
