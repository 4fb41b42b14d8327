"""Times `playbook serve` from a saved data edit to the edited page, on synthetic catalogues.

    python benchmarks/serve_speed.py                       # 1,000 and 5,000 tasks
    python benchmarks/serve_speed.py --tasks 1000 --no-full-build
    python benchmarks/serve_speed.py --tasks 5000 --edits 1 --keep   # one edit: a full rebuild takes minutes

For each size a temporary project is made (mkdocs.yml and content/ copied from the repo, a synthetic
data/ written by synthetic.py). `playbook build` is timed once (the full build, for comparison), then the real
`playbook serve` is started on a free port and, once it serves the first task page, data/tasks.yml is edited as a
contributor would save it, one edit at a time: a title, an owner, a stage, a prerequisite, a task added, that task
removed; each edit is the first of its kind that `playbook validate` accepts (the rules tie stages, owners and
prerequisites together), tried on a copy of the data. After each save the affected task's page is polled over
HTTP until the change shows (the new title, a changed page, the new page, a 404), and the script waits for the
server to say it reloaded the browsers before the next edit (twice, where it builds the edited pages first and the
pages that show the whole catalogue, the search index and the link check after: "the rest follows"). Each edit
prints its latency (save to visible page), the time to the first browser reload and to the last (everything
current), the pages rebuilt as the server reports them, and whether it fell back to a full build, and why.

Targets (issue 14): median edit-to-page under 1 s at 5,000 tasks and under 0.5 s at 1,000. Every wait is bounded
by --timeout; the server is stopped (and its children with it) however the script ends.
"""

from __future__ import annotations

import argparse
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_speed import _timed, _tool, make_project

#: Where the served site lives: site_url's path in mkdocs.yml.
MOUNT = "/partner-playbook/"
TARGETS = {1_000: 0.5, 5_000: 1.0}
#: The lines the server prints for a data edit it handled without a full build: the edited pages, then the rest.
REBUILT = re.compile(r"rebuilt (\d[\d,]*) of [\d,]+ pages")
REST_FOLLOWS = "the rest follows"
#: The line it prints when it falls back to a full build, with the reason.
FELL_BACK = re.compile(r"full rebuild: (.*)")
FULL = "Documentation built in"
RELOADED = "Reloading browsers"
#: MkDocs' live-reload script carries the build's epoch: strip it so that only a real change counts.
LIVERELOAD = re.compile(rb"<script>\s*var livereload.*?</script>", re.S)


@dataclass
class Edit:
    kind: str
    task: int
    #: tasks.yml after the edit.
    text: str
    #: Whether the served page (status, body without the live-reload script) shows the edit.
    shows: Callable[[int, bytes, bytes], bool]


@dataclass
class Timing:
    kind: str
    task: int
    latency: float | None
    reload: float | None
    rebuilt: str
    #: Save to the last reload: the catalogue, the runbooks and the search index current too.
    complete: float | None = None
    fell_back: str = ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str, timeout: float) -> tuple[int, bytes]:
    """Status and body, the live-reload script stripped; a 404 is an answer too."""
    try:
        with urllib.request.urlopen(url, timeout=max(0.1, timeout)) as response:  # the local server we started
            return response.status, LIVERELOAD.sub(b"", response.read())
    except urllib.error.HTTPError as err:
        return err.code, LIVERELOAD.sub(b"", err.read())


def wait_until(predicate: Callable[[], bool], deadline: float, pause: float = 0.02) -> bool:
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except OSError:  # not listening yet, or the request timed out while the server was building
            pass
        time.sleep(pause)
    return False


def task_block(text: str, task: int) -> tuple[int, int]:
    """Where task `task`'s record starts and ends in tasks.yml as synthetic.py writes it (`- id: N` items)."""
    start = text.index(f"\n- id: {task}\n") + 1
    end = text.find("\n- id: ", start + 1)
    return start, (len(text) - 1 if end < 0 else end) + 1


def replace_field(text: str, task: int, field: str, value: str) -> str:
    start, end = task_block(text, task)
    block, count = re.subn(rf"^  {field}: .*$", f"  {field}: {value}", text[start:end], count=1, flags=re.M)
    if count != 1:
        raise SystemExit(f"task {task} has no `{field}:` line in tasks.yml")
    return text[:start] + block + text[end:]


def add_prerequisite(text: str, task: int, prerequisite: int) -> str:
    start, end = task_block(text, task)
    block = text[start:end]
    if "\n  prerequisites:\n" in block:
        block = block.replace("\n  prerequisites:\n", f"\n  prerequisites:\n  - {prerequisite}\n", 1)
    else:
        block = block.replace("\n  source_pages:\n", f"\n  prerequisites:\n  - {prerequisite}\n  source_pages:\n", 1)
    return text[:start] + block + text[end:]


def field_of(text: str, task: int, field: str) -> str:
    start, end = task_block(text, task)
    found = re.search(rf"^  {field}: (.*)$", text[start:end], flags=re.M)
    if found is None:
        raise SystemExit(f"task {task} has no `{field}:` line in tasks.yml")
    return found[1]


def synthetic_ids(text: str) -> list[int]:
    return [int(found) for found in re.findall(r"^- id: (\d+)$", text, flags=re.M) if int(found) >= 10_000]


def load(path: Path) -> dict[str, list[dict[str, str]]]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


#: Edits, in the order they are made; each is the first valid one of its kind on a task in the catalogue's middle.
KINDS = ("title", "owner", "stage", "prerequisite", "addition", "removal")
NEW_TITLE = "Serve speed edited title"
ADDED_TITLE = "Serve speed added task"
Shows = Callable[[int, bytes, bytes], bool]  # (status, body, body before the edit) -> the edit is visible


def has_title(title: str) -> Shows:
    return lambda status, body, before: status == 200 and title.encode() in body


def changed(status: int, body: bytes, before: bytes) -> bool:
    return status == 200 and body != before


def gone(status: int, body: bytes, before: bytes) -> bool:
    return status == 404


def variants(kind: str, text: str, task: int, ids: list[int], roles: list[str], stages: list[str]):
    """(edited text, how the page shows it) for an edit of `kind` to `task`, most plausible first."""
    if kind == "title":
        yield replace_field(text, task, "title", NEW_TITLE), has_title(NEW_TITLE)
    elif kind == "owner":
        for role in roles:
            if role != field_of(text, task, "owner"):
                yield replace_field(text, task, "owner", role), changed
    elif kind == "stage":
        for stage in stages:
            if stage != field_of(text, task, "stage"):
                yield replace_field(text, task, "stage", stage), changed
    elif kind == "prerequisite":
        block = text[slice(*task_block(text, task))]
        earlier = [other for other in ids[: ids.index(task)] if f"- {other}\n" not in block]
        for other in earlier[-5:]:
            yield add_prerequisite(text, task, other), changed


def added_record(text: str, roles: list[str], stages: list[str]) -> str:
    added = max(synthetic_ids(text)) + 1
    return (
        f"- id: {added}\n  title: {ADDED_TITLE}\n  owner: {roles[0]}\n  stage: {stages[0]}\n"
        "  source_pages:\n  - frp-migration-roles\n"
    )


def plan_edit(kind: str, text: str, valid: Callable[[str], bool], roles: list[str], stages: list[str]) -> Edit:
    """The first edit of `kind` that leaves the data valid (the rules tie stages, owners and prerequisites)."""
    if kind in ("addition", "removal"):
        record = added_record(text, roles, stages) if kind == "addition" else text[text.rindex("\n- id: ") + 1 :]
        task = int(record.split("\n", 1)[0].removeprefix("- id: "))
        if kind == "addition":
            return Edit(kind, task, text.rstrip("\n") + "\n" + record, has_title(ADDED_TITLE))
        return Edit(kind, task, text.replace(record, ""), gone)
    ids = synthetic_ids(text)
    for task in ids[len(ids) // 2 :][:20]:
        for edited, shows in variants(kind, text, task, ids, roles, stages):
            if valid(edited):
                return Edit(kind, task, edited, shows)
    raise SystemExit(f"found no valid {kind} edit among 20 tasks in the middle of the catalogue")


class Server:
    """`playbook serve` in `folder`, its output in a log file read as it grows."""

    def __init__(self, folder: Path, port: int) -> None:
        self.log_path = folder / "serve.log"
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [_tool("playbook"), "serve", "--dev-addr", f"127.0.0.1:{port}"],
            cwd=folder,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: stopped with its children below
        )

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # as Ctrl-C: MkDocs removes its temporary site
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)
                sys.stderr.write(
                    "the server did not stop on SIGINT: killed, it may have left its site in the temp folder\n"
                )
        self.log.close()


def time_edit(server: Server, data: Path, edit: Edit, page: str, timeout: float) -> Timing:
    """Saves the edit to the data file and times it until the page shows it and the browsers are reloaded."""
    before = get(page, timeout)[1]
    seen = len(server.output())
    reloads = server.output().count(RELOADED)
    saved = time.monotonic()
    data.write_text(edit.text, encoding="utf-8")
    deadline = saved + timeout
    shown = wait_until(lambda: edit.shows(*get(page, deadline - time.monotonic()), before), deadline)
    latency = time.monotonic() - saved if shown else None
    reloaded = wait_until(lambda: server.output().count(RELOADED) > reloads, deadline, 0.01)
    reload = time.monotonic() - saved if reloaded else None
    complete = reload
    if reloaded and REST_FOLLOWS in server.output()[seen:]:
        finished = wait_until(lambda: server.output().count(RELOADED) > reloads + 1, deadline, 0.01)
        complete = time.monotonic() - saved if finished else None
    if latency is None or complete is None:
        sys.stderr.write(f"{edit.kind} edit not seen within {timeout:g} s; the server said:\n")
        sys.stderr.write(server.output()[seen:][-3000:])
    said = server.output()[seen:]
    fell_back = FELL_BACK.search(said)
    timing = Timing(edit.kind, edit.task, latency, reload, rebuilt_since(said), complete)
    timing.fell_back = fell_back[1].strip() if fell_back else ""
    return timing


def rebuilt_since(output: str) -> str:
    """The pages rebuilt, as the server counts them: the edited ones, `+` the rest; or `full`."""
    if FELL_BACK.search(output) or not REBUILT.search(output):
        return "full" if FULL in output else "?"
    return " + ".join(found.replace(",", "") for found in REBUILT.findall(output))


def validator(folder: Path) -> Callable[[str], bool]:
    """Whether tasks.yml with a given text passes `playbook validate`, tried on a copy of the data folder."""
    from generator.data.validate import validate_data

    scratch = folder.parent / f"{folder.name}-check"
    shutil.copytree(folder / "data", scratch)

    def valid(text: str) -> bool:
        (scratch / "tasks.yml").write_text(text, encoding="utf-8")
        return validate_data(scratch).ok

    return valid


def measure(folder: Path, port: int, timeout: float, count: int) -> tuple[float | None, list[Timing]]:
    data = folder / "data" / "tasks.yml"
    text = data.read_text(encoding="utf-8")
    roles = [role["id"] for role in load(folder / "data" / "roles.yml")["roles"]]
    stages = [stage["id"] for stage in load(folder / "data" / "migration.yml")["migration_stages"]]
    valid = validator(folder)
    first = plan_edit(KINDS[0], text, valid, roles, stages)
    base = f"http://127.0.0.1:{port}{MOUNT}tasks/"
    server = Server(folder, port)
    timings: list[Timing] = []
    try:
        start = time.monotonic()
        if not wait_until(lambda: get(f"{base}{first.task}/", 5)[0] == 200, start + timeout, 0.2):
            sys.stderr.write(server.output()[-3000:])
            raise SystemExit(f"the server did not serve tasks/{first.task}/ within {timeout:g} s")
        startup = time.monotonic() - start
        for kind in KINDS[:count]:
            edit = first if kind == KINDS[0] else plan_edit(kind, text, valid, roles, stages)
            timing = time_edit(server, data, edit, f"{base}{edit.task}/", timeout)
            timings.append(timing)
            text = edit.text
            if timing.latency is None or timing.reload is None:
                break
        return startup, timings
    finally:
        server.stop()


def report(tasks: int, full_build: float | None, startup: float | None, timings: list[Timing]) -> None:
    full = f"{full_build:.2f} s" if full_build is not None else "not timed"
    print(f"{tasks:,} tasks: full `playbook build` {full}; serve's first page after {startup:.2f} s")
    print(f"  {'edit':<13} {'task':>6}  {'to page':>9}  {'to reload':>9}  {'all current':>11}  {'pages rebuilt':>13}")
    for t in timings:
        latency = f"{t.latency:.2f} s" if t.latency is not None else "timed out"
        reload = f"{t.reload:.2f} s" if t.reload is not None else "timed out"
        complete = f"{t.complete:.2f} s" if t.complete is not None else "timed out"
        fell_back = f"  fell back: {t.fell_back}" if t.fell_back else ""
        print(f"  {t.kind:<13} {t.task:>6}  {latency:>9}  {reload:>9}  {complete:>11}  {t.rebuilt:>13}{fell_back}")
    measured = [t.latency for t in timings if t.latency is not None]
    if len(measured) == len(timings) and measured:
        median = statistics.median(measured)
        target = TARGETS.get(tasks)
        verdict = f" (target < {target:g} s: {'MET' if median < target else 'MISSED'})" if target else ""
        print(f"  median edit to page: {median:.2f} s{verdict}")
    else:
        print("  median edit to page: not measured (an edit timed out)")


def main() -> None:
    # Started in the background by a shell without job control, this script (and every process it starts) would
    # ignore SIGINT: the server could not be stopped as Ctrl-C stops it, and once killed, it left its temporary site
    # behind. Python's own handler here lets the server start with the default one.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, action="append", help="catalogue size; repeatable (default 1000, 5000)")
    parser.add_argument("--timeout", type=float, default=600, help="longest wait for a build or an edit, seconds")
    parser.add_argument("--edits", type=int, default=6, help="how many of the six edits to make, in order (default 6)")
    parser.add_argument("--no-full-build", action="store_true", help="skip timing `playbook build`")
    parser.add_argument("--keep", action="store_true", help="keep the temporary projects and print where they are")
    args = parser.parse_args()
    scratch_context: AbstractContextManager[str] = (
        nullcontext(tempfile.mkdtemp(prefix="serve-speed-")) if args.keep else tempfile.TemporaryDirectory()
    )
    with scratch_context as scratch:
        for size in args.tasks or [1_000, 5_000]:
            folder = Path(scratch) / f"project-{size}"
            folder.mkdir()
            make_project(folder, size)
            full_build = None
            if not args.no_full_build:
                command = [_tool("playbook"), "build", "-f", str(folder / "mkdocs.yml"), "-d", str(folder / "site")]
                full_build, _ = _timed(command, 1, "playbook build")
            startup, timings = measure(folder, free_port(), args.timeout, max(1, args.edits))
            report(size, full_build, startup, timings)
            if args.keep:
                print(f"  project: {folder}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
