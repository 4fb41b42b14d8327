"""Time and peak memory of the real commands on hostile inputs: every case issue #11 bounds.

    python benchmarks/hostile_inputs.py                   # every case
    python benchmarks/hostile_inputs.py --case cycles     # the cases whose name contains 'cycles'
    python benchmarks/hostile_inputs.py --keep            # keep the scratch folder to look at

Each case writes its input into a scratch folder (catalogues come from synthetic.py), runs one `playbook`
command in a fresh process, and reads that process's wall time and peak resident memory (`os.wait4`, whose
figure covers the processes it waited for too). CPU seconds (user and system) are printed beside the wall time:
on a busy machine the wall time says more about the other processes than about ours. Target for every case:
under 5 s and 500 MB. A case passes when it meets both and the command ends as it should: exit 1 for bad data
and broken links, 0 for a build. A build costs seconds before any hostile input (MkDocs renders the whole site), so
the plain build of the shipped data runs first as the reference, and a build case is held to the target by what
it costs beyond that reference (the "target" column says "+5 s"); memory is held to 500 MB as it is.

  validate  cycles        8,000 tasks whose prerequisites form many loops (one problem per knot of loops)
  validate  unknown       2,000 unknown prerequisites among 10,000 tasks ("did you mean" for each)
  validate  bad records   200,000 tasks with two mistakes each (an 18 MB file: refused by the 8 MB data-file cap)
  validate  bad records   80,000 of them, just under that cap (160,000 problems; text shows 50 of a kind)
  build     shipped data  the shipped data as it is: what every build case costs before its extra
  build     glossary      the shipped data with 1,000 and 3,000 more glossary entries
  validate  3 MB title    a task title of 3 MB: the schema's length cap refuses it
  build     title at cap  every task title at the cap (200 characters)
  diagram   3 MB label    the migration flow drawn in-process with a 3 MB task title, past validation
  links     fragments     one page with 5,000 links to fragments that do not exist
  links     1.5 GB file   a site holding a symlink to a sparse 1.5 GB file that a page links to
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import REPO, write_catalogue

TARGET_SECONDS = 5.0
TARGET_MB = 500.0
YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
YamlDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@dataclass
class Run:
    seconds: float
    cpu_seconds: float
    megabytes: float
    exit_code: int
    output_bytes: int


@dataclass
class Case:
    command: str
    name: str
    size: str
    prepare: Callable[[Path], list[str]]  # fills the folder, returns the command to run in it
    expected_exit: int


def measure(command: list[str], cwd: Path, timeout: float) -> Run:
    """Wall time and peak RSS of one run of `command`; its output goes to files, counted but not kept in memory.

    A run past `timeout` seconds is killed (with its process group) and reported with exit code -1.
    """
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err, env=env, start_new_session=True)
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - start > timeout:
                os.killpg(process.pid, signal.SIGKILL)
                _, status, usage = os.wait4(process.pid, 0)
                status = None
                break
            time.sleep(0.02)
        seconds = time.perf_counter() - start
        process.returncode = -1 if status is None else os.waitstatus_to_exitcode(status)
        output = out.seek(0, os.SEEK_END) + err.seek(0, os.SEEK_END)
    cpu = usage.ru_utime + usage.ru_stime
    return Run(seconds, cpu, usage.ru_maxrss / 1024, process.returncode, output)  # ru_maxrss is in KiB on Linux


def _tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.is_file() else shutil.which(name) or sys.exit(f"cannot find `{name}`")


def _modeline(stem: str) -> str:
    return f"# yaml-language-server: $schema=https://partner-playbook.github.io/partner-playbook/schemas/{stem}.schema.json\n"


def _load(path: Path, collection: str) -> list[dict]:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=YamlLoader)[collection]


def _dump(path: Path, collection: str, records: list[dict]) -> None:
    body = yaml.dump({collection: records}, Dumper=YamlDumper, sort_keys=False, allow_unicode=True, width=110)
    path.write_text(_modeline(path.stem) + body, encoding="utf-8")


def _validate(folder: Path) -> list[str]:
    return [_tool("playbook"), "validate", "--data", str(folder / "data")]


# -- validation cases


def many_cycles(folder: Path, tasks: int = 8_000) -> list[str]:
    """Synthetic tasks wait on earlier ones; the first half also each wait on the next (one knot of 4,000 tasks
    and loops beyond counting), the second half every third on one up to 30 places later (a hundred small knots)."""
    data = write_catalogue(folder / "data", tasks)
    records = _load(data / "tasks.yml", "tasks")
    synthetic = [task for task in records if task["id"] >= 10_000]
    half = len(synthetic) // 2
    for position in range(half - 1):
        waits_on = [synthetic[position + 1]["id"]]
        if position % 10 == 9:  # and back to the first: loops thousands of tasks long
            waits_on.append(synthetic[0]["id"])
        synthetic[position].setdefault("prerequisites", []).extend(waits_on)
    for position in range(half, len(synthetic) - 30, 3):
        later = synthetic[position + 1 + (position * 7) % 30]["id"]
        synthetic[position].setdefault("prerequisites", []).append(later)
    _dump(data / "tasks.yml", "tasks", records)
    return _validate(folder)


def unknown_prerequisites(folder: Path, tasks: int = 10_000, unknown: int = 2_000) -> list[str]:
    """Half the misses are one digit off a real task (a near miss), half are nowhere near any."""
    data = write_catalogue(folder / "data", tasks)
    records = _load(data / "tasks.yml", "tasks")
    known = {task["id"] for task in records}
    synthetic = [task for task in records if task["id"] >= 10_000]
    for number, task in enumerate(synthetic[:unknown]):
        miss = task["id"] + 1 if number % 2 else 900_000 + number * 7
        while miss in known:
            miss += 1
        task.setdefault("prerequisites", []).append(miss)
    _dump(data / "tasks.yml", "tasks", records)
    return _validate(folder)


def bad_records(folder: Path, count: int = 200_000) -> list[str]:
    """Each record lacks its title and names an owner that does not exist: two problems each."""
    data = write_catalogue(folder / "data", 0)
    stage = _load(data / "migration.yml", "migration_stages")[0]["id"]
    with (data / "tasks.yml").open("a", encoding="utf-8") as out:
        for number in range(count):
            out.write(
                f"- id: {1_000_000 + number}\n  owner: nobody-{number}\n  stage: {stage}\n"
                "  source_pages: [frp-migration-roles]\n"
            )
    return _validate(folder)


def huge_title(folder: Path, size: int = 3_000_000) -> list[str]:
    data = write_catalogue(folder / "data", 0)
    records = _load(data / "tasks.yml", "tasks")
    records[0]["title"] = _long_text(size)
    _dump(data / "tasks.yml", "tasks", records)
    return _validate(folder)


def _long_text(size: int) -> str:
    words = "migrate the mailbox before the cut-over weekend "
    return (words * (size // len(words) + 1))[:size]


# -- build cases


def _project(folder: Path, tasks: int | None = None) -> Path:
    """A copy of the repo's site sources, with the shipped data or a synthetic catalogue."""
    shutil.copyfile(REPO / "mkdocs.yml", folder / "mkdocs.yml")
    shutil.copyfile(REPO / "CONTRIBUTING.md", folder / "CONTRIBUTING.md")
    shutil.copytree(REPO / "content", folder / "content")
    (folder / "overrides").mkdir()  # the project's page templates: none, the built-in ones
    if tasks is None:
        shutil.copytree(REPO / "data", folder / "data")
    else:
        write_catalogue(folder / "data", tasks)
    return folder / "data"


def _build(folder: Path) -> list[str]:
    return [_tool("playbook"), "build", "-f", str(folder / "mkdocs.yml"), "-d", str(folder / "site")]


def glossary(entries: int) -> Callable[[Path], list[str]]:
    def prepare(folder: Path) -> list[str]:
        data = _project(folder)
        records = _load(data / "glossary.yml", "glossary")
        source = records[0]["source_pages"]
        for number in range(entries):
            term = "".join(chr(ord("A") + int(digit)) for digit in f"{number:04d}")
            records.append(
                {
                    "id": f"term-{number}",
                    "term": f"Q{term}",
                    "expansion": f"Quality {term.lower()} measure",
                    "definition": f"A made-up term number {number}, here to test how the build copes with many.",
                    "source_pages": source,
                }
            )
        _dump(data / "glossary.yml", "glossary", records)
        return _build(folder)

    return prepare


def titles_at_cap(folder: Path, cap: int = 200) -> list[str]:
    data = _project(folder)
    records = _load(data / "tasks.yml", "tasks")
    for task in records:
        task["title"] = _long_text(cap).strip() or "x"
    _dump(data / "tasks.yml", "tasks", records)
    return _build(folder)


DIAGRAM_SCRIPT = """
import sys
from pathlib import Path
from generator.pages.addresses import Linker, SiteMap
from generator.pages.diagrams import migration_flow
from generator.data.loader import load_data
from generator.data.relations import Relations

catalogue = load_data(Path(sys.argv[1])).catalogue
relations = Relations(catalogue)
svg = migration_flow(relations, Linker("flow.md", SiteMap(catalogue)), relations.task_order, title="Flow")
print(len(svg))
"""


def huge_label(folder: Path) -> list[str]:
    """Past validation on purpose: what the diagram code does with a label the schema would refuse."""
    huge_title(folder)
    return [sys.executable, "-c", DIAGRAM_SCRIPT, str(folder / "data")]


# -- link checker cases


def broken_fragments(folder: Path, links: int = 5_000) -> list[str]:
    site = folder / "site"
    site.mkdir()
    anchors = "".join(f'<a href="#section-{number}">part {number}</a>\n' for number in range(links))
    ids = "".join(f'<h2 id="sectoin-{number}">Part {number}</h2>\n' for number in range(links))
    (site / "index.html").write_text(f"<!doctype html><html><body>{ids}{anchors}</body></html>", encoding="utf-8")
    return [_tool("playbook"), "check-links", str(site)]


def symlinked_big_file(folder: Path, size: int = 1_500_000_000) -> list[str]:
    site = folder / "site"
    site.mkdir()
    big = folder / "outside.html"
    with big.open("wb") as sparse:  # holes take no disk space
        sparse.truncate(size)
    (site / "big.html").symlink_to(big)
    (site / "index.html").write_text(
        '<!doctype html><html><body><a href="big.html">big</a> <a href="missing.html">gone</a></body></html>',
        encoding="utf-8",
    )
    return [_tool("playbook"), "check-links", str(site)]


SHIPPED_BUILD = glossary(0)

CASES = (
    Case("validate", "cycles", "8,000 tasks", many_cycles, 1),
    Case("validate", "unknown prerequisites", "2,000 of 10,000 tasks", unknown_prerequisites, 1),
    Case("validate", "bad records", "200,000 records", bad_records, 1),
    Case("validate", "bad records under cap", "80,000 records", lambda folder: bad_records(folder, 80_000), 1),
    Case("build", "shipped data", "as shipped", SHIPPED_BUILD, 0),
    Case("build", "glossary", "1,000 entries", glossary(1_000), 0),
    Case("build", "glossary", "3,000 entries", glossary(3_000), 0),
    Case("validate", "long title", "3 MB", huge_title, 1),
    Case("build", "titles at cap", "200 characters", titles_at_cap, 0),
    Case("diagram", "label", "3 MB", huge_label, 0),
    Case("check-links", "broken fragments", "5,000 on a page", broken_fragments, 1),
    Case("check-links", "symlinked file", "1.5 GB sparse", symlinked_big_file, 1),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", action="append", help="run the cases whose name contains this; repeatable")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder and say where it is")
    parser.add_argument("--timeout", type=float, default=300, help="seconds before a case is stopped (default 300)")
    args = parser.parse_args()
    chosen = [case for case in CASES if not args.case or any(part in case.name for part in args.case)]
    reference = next(case for case in CASES if case.prepare is SHIPPED_BUILD)
    if any(case.command == "build" for case in chosen) and reference not in chosen:
        chosen.insert(0, reference)  # a build case is measured against it
    scratch = Path(tempfile.mkdtemp(prefix="hostile-"))
    header = (
        f"{'case':<36} {'size':<22} {'seconds':>8} {'cpu s':>7} {'MB':>6} {'output':>9} {'exit':>4}"
        "  target          result"
    )
    print(header)
    print("-" * len(header))
    failures = 0
    reference_seconds = 0.0
    try:
        for number, case in enumerate(chosen):
            folder = scratch / f"case-{number}"
            folder.mkdir()
            run = measure(_prepare_apart(case, folder), folder, args.timeout)
            is_reference = case.prepare is SHIPPED_BUILD
            if is_reference:
                reference_seconds = run.seconds
            extra = reference_seconds if case.command == "build" and not is_reference else 0.0
            ok = (
                run.seconds - extra < TARGET_SECONDS
                and run.megabytes < TARGET_MB
                and run.exit_code == case.expected_exit
            )
            failures += not ok
            verdict = "pass" if ok else "FAIL (stopped)" if run.exit_code == -1 else "FAIL"
            target = "reference" if is_reference else "+5 s, <500 MB" if extra else "<5 s, <500 MB"
            print(
                f"{case.command + ' ' + case.name:<36} {case.size:<22} {run.seconds:>8.2f} {run.cpu_seconds:>7.2f}"
                f" {run.megabytes:>6.0f} {_size(run.output_bytes):>9} {run.exit_code:>4}  {target:<13}  {verdict}",
                flush=True,
            )
            if not args.keep:
                shutil.rmtree(folder)
    finally:
        if args.keep:
            print(f"inputs kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    sys.exit(1 if failures else 0)


def _prepare_apart(case: Case, folder: Path) -> list[str]:
    """The case's input, written by a child process. On Linux a process's peak memory (`ru_maxrss`) starts at its
    parent's when it is forked and survives exec, so a benchmark grown by writing 10,000 tasks would lend every
    later command that floor; written apart, the benchmark stays small and the figure is the command's own."""
    context = multiprocessing.get_context("fork")
    commands = context.SimpleQueue()
    child = context.Process(target=lambda: commands.put(case.prepare(folder)))
    child.start()
    child.join()
    if child.exitcode != 0:
        sys.exit(f"preparing the case '{case.name}' failed (exit {child.exitcode})")
    return commands.get()


def _size(count: int) -> str:
    return f"{count / 1e6:.1f} MB" if count >= 1e5 else f"{count / 1e3:.1f} kB"


if __name__ == "__main__":
    main()
