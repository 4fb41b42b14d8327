"""Times what a reader does with a large catalogue: print the longest runbook to A4, and filter the task catalogue.

    python benchmarks/reader_speed.py                  # 5,000 tasks
    python benchmarks/reader_speed.py --tasks 1000

For the catalogue size given, a temporary project is made (as in build_speed.py) and built with `playbook build`
in a fresh process. Then, in headless Chromium (Debian's package, every request outside file:// refused):

- the longest source runbook is opened and printed to A4 with Chromium's print to PDF; the figures are the time
  the print takes and the number of sheets (read back with poppler's pdftotext, as a reader's printer would count
  them), and whether sheet 1 holds step 1;
- the task catalogue is opened and filtered by role, then by stage, then by a word typed into the search box; the
  figure for each is the time from the change to the rows being redrawn (the script writes the filter into the
  URL's hash as it shows the rows), best of --repeat.

Targets: none are set by the issue for speed; the figures are printed so that a change that slows either down
shows up in review.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from browser import offline_browser
from build_speed import make_project

from generator.data.relations import Relations
from generator.data.validate import load_valid_catalogue

#: A page of thousands of rows loads slowly on a busy machine; the figures are what is measured after it loads.
LOAD_TIMEOUT_MS = 600_000


def build(project: Path) -> float:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "generator", "build", "--site-dir", "site"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"playbook build failed:\n{result.stderr}")
    return time.perf_counter() - start


def longest_source_runbook(project: Path) -> tuple[str, int]:
    """The migration source whose runbook has the most steps, and how many."""
    relations = Relations(load_valid_catalogue(project / "data"))
    counts = {
        source["id"]: len(relations.tasks_for_source(source["id"])) for source in relations.records("migration_sources")
    }
    source = max(counts, key=lambda key: counts[key])
    return source, counts[source]


def print_runbook(context, page_path: Path, pdf_path: Path) -> tuple[float, list[str]]:
    """Seconds to print the page to A4, and the text of each sheet."""
    page = context.new_page()
    page.goto(page_path.as_uri(), timeout=LOAD_TIMEOUT_MS)
    page.emulate_media(media="print")
    start = time.perf_counter()
    pdf_path.write_bytes(page.pdf(format="A4"))
    seconds = time.perf_counter() - start
    page.close()
    text = subprocess.run(
        [shutil.which("pdftotext") or "pdftotext", "-layout", str(pdf_path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return seconds, [sheet for sheet in text.split("\f") if sheet.strip()]


def filter_times(context, catalogue_path: Path, repeat: int) -> dict[str, float]:
    """Best seconds from a filter change to the rows shown, per kind of filter."""
    best = {"role": float("inf"), "stage": float("inf"), "words": float("inf")}
    for _ in range(repeat):
        page = context.new_page()
        page.goto(catalogue_path.as_uri(), timeout=LOAD_TIMEOUT_MS)
        page.wait_for_selector(".playbook-catalogue form:not([hidden])", timeout=LOAD_TIMEOUT_MS)
        for kind, act, fragment in (
            ("role", lambda p: p.select_option("select[name=role]", "mvm"), "role=mvm"),
            ("stage", lambda p: p.select_option("select[name=stage]", "onboard"), "role=mvm&stage=onboard"),
            ("words", lambda p: p.fill("input[name=q]", "migration"), "q=migration"),
        ):
            start = time.perf_counter()
            act(page)
            page.wait_for_url(re.compile(re.escape(fragment)), timeout=120_000)
            best[kind] = min(best[kind], time.perf_counter() - start)
        page.close()
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=5000, help="catalogue size (default 5000)")
    parser.add_argument("--repeat", type=int, default=3, help="filter runs; the best is reported")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        project = Path(scratch)
        make_project(project, args.tasks)
        build_seconds = build(project)
        source, steps = longest_source_runbook(project)
        site = project / "site"
        print(f"tasks                      {args.tasks:,}")
        print(f"site build                 {build_seconds:.1f} s")
        print(f"runbook printed            {source}, {steps:,} steps")
        with offline_browser() as (context, traffic):
            seconds, sheets = print_runbook(
                context, site / "runbooks" / "sources" / source / "index.html", project / "runbook.pdf"
            )
            first_step = bool(sheets) and re.search(r"^\s*1\.\s+Task \d+", sheets[0], re.M) is not None
            print(f"  print to A4 PDF          {seconds:.1f} s")
            print(f"  sheets                   {len(sheets):,} ({steps / max(1, len(sheets)):.1f} steps a sheet)")
            print(f"  step 1 on sheet 1        {'yes' if first_step else 'NO'}", flush=True)
            filtering = filter_times(context, site / "catalogue" / "index.html", args.repeat)
            print(f"catalogue filter by role   {filtering['role'] * 1000:.0f} ms")
            print(f"  then by stage            {filtering['stage'] * 1000:.0f} ms")
            print(f"  by a typed word          {filtering['words'] * 1000:.0f} ms (after 100 ms of typing pause)")
            # The built site's repository widget asks GitHub for its stars (refused, not waited for).
            outside = [url for url in traffic.outside if not url.startswith("https://api.github.com/repos/")]
    if outside:
        sys.exit(f"the pages asked the network for: {outside[:3]}")


if __name__ == "__main__":
    main()
