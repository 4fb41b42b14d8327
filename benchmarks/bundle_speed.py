"""Times the offline bundle on a synthetic catalogue, and how soon search answers when it is opened from disk.

    python benchmarks/bundle_speed.py                  # 5,000 tasks
    python benchmarks/bundle_speed.py --tasks 1000

For the catalogue size given, a temporary project is made (as in build_speed.py), then `playbook bundle` runs in
a fresh process; the zip is unpacked and opened as file://.../index.html in headless Chromium (Debian's
package, every non-file request refused), a task number is typed into the search box, and the time from opening
the page to the first search result is measured, best of --repeat. Target (issue #5): search usable within 2 s.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from browser import offline_browser
from build_speed import make_project

TARGET_SECONDS = 2.0


def time_to_first_result(index: Path, query: str, repeat: int) -> float:
    best = float("inf")
    with offline_browser() as (context, traffic):
        for _ in range(repeat):
            page = context.new_page()
            start = time.perf_counter()
            page.goto(index.as_uri())
            page.locator("input[data-md-component=search-query]").press_sequentially(query)
            page.wait_for_selector(".md-search-result__link", timeout=120_000)
            best = min(best, time.perf_counter() - start)
            page.close()
        if traffic.outside:
            sys.exit(f"the bundle asked the network for: {traffic.outside[:3]}")
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=5000, help="catalogue size (default 5000)")
    parser.add_argument("--repeat", type=int, default=3, help="searches; the best is reported")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        project = Path(scratch)
        make_project(project, args.tasks)
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "generator", "bundle", "-o", "dist/bundle.zip"],
            cwd=project,
            capture_output=True,
            text=True,
            check=False,
        )
        build_seconds = time.perf_counter() - start
        if result.returncode != 0:
            sys.exit(f"playbook bundle failed:\n{result.stderr}")
        zip_path = project / "dist" / "bundle.zip"
        zip_size = zip_path.stat().st_size
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(project / "unpacked")
            index_size = archive.getinfo("bundle/search/search_index.js").file_size
        search = time_to_first_result(project / "unpacked" / "bundle" / "index.html", "3306", args.repeat)
    verdict = "met" if search < TARGET_SECONDS else "MISSED"
    print(f"tasks                      {args.tasks:,}")
    print(f"bundle build               {build_seconds:.1f} s")
    print(f"zip size                   {zip_size / 1e6:.1f} MB")
    print(f"search index               {index_size / 1e6:.1f} MB")
    print(f"open to first result       {search:.2f} s  (target < {TARGET_SECONDS:.0f} s: {verdict})")


if __name__ == "__main__":
    main()
