"""Times the site build with our plugin against plain MkDocs building the same pages, on synthetic catalogues.

    python benchmarks/build_speed.py                    # 1,000 and 10,000 tasks
    python benchmarks/build_speed.py --tasks 1000 --repeat 3
    python benchmarks/build_speed.py --tasks 1000 --keep   # keep the temporary project to look at

For each size a temporary project is made (mkdocs.yml and content/ copied from the repo, a synthetic
data/ written by synthetic.py), then three commands run in fresh processes, start-up and imports included:

  playbook build -f mkdocs.yml -d site        the whole build with our plugin, validation included (strict)
  playbook generate --out generated ...       the same pages as plain Markdown
  mkdocs build -q -f bare.yml -d bare-site    plain MkDocs on those pages: mkdocs.yml with docs_dir: generated/docs
                                              and without the playbook plugin (not strict)

Then each installed engine (MkDocs, ProperDocs, Zensical) builds the site source `playbook generate` wrote, with
its own command and the generated mkdocs.yml (strict; Zensical with --clean, so no cache of an earlier run helps
it): the same pages, engine against engine.

Targets: the plugin build takes at most 1.10 times the bare build; no catalogue page (the hand-written pages,
404.html and search are left out) reaches 40 KB; and from 1,000 to 10,000 tasks both builds grow at most
11 times (linear). Each build runs once, or `--repeat` times with the best reported.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import write_catalogue

REPO = Path(__file__).resolve().parent.parent
RATIO_TARGET = 1.10
PAGE_TARGET_BYTES = 40_960
GROWTH_TARGET = 11.0
#: The engines `playbook build --engine` knows, in its order.
ENGINES = ("mkdocs", "properdocs", "zensical")
#: Site folders that hold no pages of ours: the search index and the theme's files.
NOT_PAGES = ("search", "assets")


@dataclass
class Result:
    tasks: int
    generation: float
    build: float
    generate: float
    bare: float
    pages: int
    largest: tuple[int, str]
    largest_catalogue: tuple[int, str]
    notes: list[str]
    #: Each installed engine's build of the generated site source, by engine.
    engines: dict[str, float]


def _tool(name: str) -> str:
    """The console script `name` of the environment this Python runs in, else the one on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        sys.exit(f"cannot find the `{name}` command next to {sys.executable} or on PATH")
    return found


def _timed(command: list[str], repeat: int, what: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Best wall time of `repeat` runs; exits with the command's stderr if a run fails."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    best = float("inf")
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
        best = min(best, time.perf_counter() - start)
        if result.returncode != 0:
            sys.stderr.write(f"{what} failed (exit {result.returncode}): {' '.join(command)}\n")
            sys.stderr.write(result.stdout + result.stderr)
            sys.exit(result.returncode or 1)
    assert result is not None
    return best, result


def bare_config(text: str) -> str:
    """mkdocs.yml with docs_dir `generated/docs` and the `- playbook:` plugin entry (with its options) removed."""
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    plugin_indent: int | None = None
    found_docs_dir = found_plugin = False
    for line in lines:
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if plugin_indent is not None:
            if not stripped.strip():
                out.append(line)
                continue
            if indent > plugin_indent:
                continue  # an option of the playbook plugin, such as `data_dir: data`
            plugin_indent = None
        if stripped.rstrip() == "- playbook:" or stripped.rstrip() == "- playbook":
            plugin_indent, found_plugin = indent, True
            continue
        if indent == 0 and stripped.startswith("docs_dir:"):
            line, found_docs_dir = "docs_dir: generated/docs\n", True
        out.append(line)
    if not found_docs_dir or not found_plugin:
        sys.exit("mkdocs.yml has no top-level docs_dir or no `- playbook:` plugin entry; cannot write bare.yml")
    return "".join(out)


def make_project(folder: Path, tasks: int) -> float:
    """Copy the repo's site sources into `folder` and write synthetic data; returns the time write_catalogue took."""
    shutil.copyfile(REPO / "mkdocs.yml", folder / "mkdocs.yml")
    shutil.copyfile(REPO / "CONTRIBUTING.md", folder / "CONTRIBUTING.md")
    shutil.copytree(REPO / "content", folder / "content")
    (folder / "overrides").mkdir()  # the project's page templates: none, the built-in ones
    start = time.perf_counter()
    write_catalogue(folder / "data", tasks)
    return time.perf_counter() - start


def html_pages(site: Path) -> dict[str, int]:
    """Every HTML file of the site (theme files and the search index left out), relative path -> bytes."""
    pages = {}
    for path in site.rglob("*.html"):
        relative = path.relative_to(site).as_posix()
        if relative.split("/", 1)[0] not in NOT_PAGES:
            pages[relative] = path.stat().st_size
    return pages


#: Views that hold the whole catalogue by design (the filterable table, the printable runbooks) or a diagram
#: bounded by its caps; the 40 KB target is for every other page (tests/test_site_failures.py says the same).
WHOLE_VIEWS = ("catalogue/", "runbooks/", "flow/", "options-by-phase/")


def hand_written(content: Path) -> set[str]:
    """The site paths of the hand-written pages (with directory URLs), and 404.html."""
    paths = {"404.html", "contributing/index.html"}  # CONTRIBUTING.md joins the site as a page too
    for source in content.rglob("*.md"):
        uri = source.relative_to(content).with_suffix("").as_posix()
        if uri == "index" or uri.endswith("/index"):
            paths.add(uri.removesuffix("index") + "index.html")
        else:
            paths.add(f"{uri}/index.html")
    return paths


def _largest(pages: dict[str, int]) -> tuple[int, str]:
    return max(((size, path) for path, size in pages.items()), default=(0, "-"))


def run_size(folder: Path, tasks: int, repeat: int) -> Result:
    notes: list[str] = []
    generation = make_project(folder, tasks)
    build, _ = _timed(
        [_tool("playbook"), "build", "-f", str(folder / "mkdocs.yml"), "-d", str(folder / "site")],
        repeat,
        "playbook build",
    )
    generate, _ = _timed(
        [
            _tool("playbook"),
            "generate",
            "--out",
            str(folder / "generated"),
            "--data",
            str(folder / "data"),
            "--docs",
            str(folder / "content"),
            "--templates",
            str(folder / "overrides"),
        ],
        repeat,
        "playbook generate",
    )
    (folder / "bare.yml").write_text(bare_config((folder / "mkdocs.yml").read_text(encoding="utf-8")), "utf-8")
    bare, bare_result = _timed(
        [_tool("mkdocs"), "build", "-q", "-f", str(folder / "bare.yml"), "-d", str(folder / "bare-site")],
        repeat,
        "bare mkdocs build",
    )
    warnings = [line for line in bare_result.stderr.splitlines() if line.startswith("WARNING")]
    if warnings:
        notes.append(f"the bare build printed {len(warnings)} warning(s), the first: {warnings[0]}")

    pages = html_pages(folder / "site")
    bare_pages = html_pages(folder / "bare-site")
    if set(pages) != set(bare_pages):
        only_ours, only_bare = sorted(set(pages) - set(bare_pages)), sorted(set(bare_pages) - set(pages))
        notes.append(
            f"the two sites differ in pages: {len(only_ours)} only with the plugin {only_ours[:3]}, "
            f"{len(only_bare)} only in the bare site {only_bare[:3]}"
        )
    manual = hand_written(folder / "content")
    catalogue = {path: size for path, size in pages.items() if path not in manual and not path.startswith(WHOLE_VIEWS)}
    engines = {name: engine_build(folder, name, repeat) for name in installed_engines()}
    return Result(
        tasks, generation, build, generate, bare, len(pages), _largest(pages), _largest(catalogue), notes, engines
    )


def installed_engines() -> list[str]:
    return [name for name in ENGINES if importlib.util.find_spec(name) is not None]


def engine_build(folder: Path, engine: str, repeat: int) -> float:
    """The engine's own strict build of the site source in `folder/generated`, as a user runs it there."""
    source = folder / "generated"
    if engine == "zensical":  # it builds into the source's own site/ folder
        command = [sys.executable, "-m", "zensical", "build", "--clean", "--strict", "-f", str(source / "mkdocs.yml")]
    else:
        site = folder / f"{engine}-site"
        command = [
            sys.executable,
            "-m",
            engine,
            "build",
            "-q",
            "--strict",
            "-f",
            str(source / "mkdocs.yml"),
            "-d",
            str(site),
        ]
    seconds, _ = _timed(command, repeat, f"{engine} build of the generated source")
    return seconds


def verdict(met: bool) -> str:
    return "MET" if met else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, action="append", help="catalogue size; repeatable (default 1000, 10000)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each build per size; the best is reported")
    parser.add_argument("--keep", action="store_true", help="keep the temporary projects and print where they are")
    args = parser.parse_args()
    sizes = args.tasks or [1_000, 10_000]
    repeat = max(1, args.repeat)

    scratch_context: AbstractContextManager[str] = (
        nullcontext(tempfile.mkdtemp(prefix="build-speed-")) if args.keep else tempfile.TemporaryDirectory()
    )
    results: dict[int, Result] = {}
    with scratch_context as scratch:
        if args.keep:
            print(f"temporary projects kept in {scratch}")
        best = f" (best of {repeat})" if repeat > 1 else ""
        print(f"builds{best}; ratio target <= {RATIO_TARGET:.2f}, page target < 40 KB ({PAGE_TARGET_BYTES:,} bytes)")
        print(
            f"{'tasks':>8}  {'generation':>10}  {'pb generate':>11}  {'pb build':>9}  {'bare mkdocs':>11}  "
            f"{'build/bare':>10}  {'target':>6}  {'pages':>7}"
        )
        for size in sizes:
            folder = Path(scratch) / f"project-{size}"
            folder.mkdir()
            r = run_size(folder, size, repeat)
            results[size] = r
            ratio = r.build / r.bare
            print(
                f"{r.tasks:>8,}  {r.generation:>8.2f} s  {r.generate:>9.2f} s  {r.build:>7.2f} s  {r.bare:>9.2f} s  "
                f"{ratio:>10.2f}  {verdict(ratio <= RATIO_TARGET):>6}  {r.pages:>7,}"
            )
            size_b, path = r.largest
            print(f"{'':>10}largest page:           {size_b:>9,} bytes  {path}")
            size_b, path = r.largest_catalogue
            print(
                f"{'':>10}largest catalogue page: {size_b:>9,} bytes  {path}  "
                f"(target < 40 KB: {verdict(size_b < PAGE_TARGET_BYTES)})"
            )
            for engine, seconds in r.engines.items():
                print(f"{'':>10}{engine + ' build of the generated source:':<42} {seconds:>7.2f} s")
            for note in r.notes:
                print(f"{'':>10}note: {note}")
            if args.keep:
                print(f"{'':>10}project: {folder}")

    if 1_000 in results and 10_000 in results:
        small, large = results[1_000], results[10_000]
        print(f"growth 1,000 -> 10,000 tasks (target <= {GROWTH_TARGET:g}, linear):")
        for name, before, after in (
            ("playbook build", small.build, large.build),
            ("bare mkdocs", small.bare, large.bare),
        ):
            growth = after / before
            print(
                f"  {name:<15} {before:>7.2f} s -> {after:>7.2f} s  x{growth:.2f}  {verdict(growth <= GROWTH_TARGET)}"
            )


if __name__ == "__main__":
    main()
