"""An interrupted or failing run leaves no half-written output, no scratch folder, no process, and no traceback."""

from __future__ import annotations

import contextlib
import os
import re
import resource
import signal
import subprocess
import sys
import time
import urllib.error
from pathlib import Path

import pytest
from site_helpers import fetch, free_port, make_project, playbook, wait_for
from test_site_failures import replace_in


def processes_in_session(session: int) -> list[int]:
    """The live processes of a session (a command started with start_new_session and all it forked)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # ended while looking
            continue
        state, _ppid, _group, sid = text.rpartition(")")[2].split()[:4]
        if int(sid) == session and state != "Z":
            found.append(int(stat.parent.name))
    return found


def end_session(command: subprocess.Popen[str]) -> None:
    """Whatever the test found, leave no process of the command behind."""
    for pid in processes_in_session(command.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    command.kill()
    command.wait(timeout=30)


def start(project: Path, *command: str, env: dict[str, str] | None = None, output: int = subprocess.PIPE):
    """`playbook COMMAND` in a session of its own: the session holds every process it forks."""
    return subprocess.Popen(
        [sys.executable, "-m", "generator", *command],
        cwd=project,
        env={**os.environ, **(env or {})},
        stdout=output,
        stderr=output,
        text=True,
        start_new_session=True,
    )


def wait_until(predicate, seconds: float = 180) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def dead_pid() -> int:
    """The ID of a process that has ended."""
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    return finished.pid


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "project")


#: Each command, where its output goes, and the scratch it works in until the output is complete (from tmp_path).
RUNS = {
    "build": (("build", "--site-dir", "out"), "out/index.html", "project/.out.*.partial"),
    "bundle": (("bundle", "-o", "out/b.zip"), "out/b.zip", "tmp/playbook-bundle-*"),
}


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
@pytest.mark.parametrize("run", sorted(RUNS))
def test_a_stopped_run_leaves_no_process_and_after_the_next_run_no_scratch(
    project: Path, tmp_path: Path, run: str, stop: signal.Signals
):
    command, output, scratch = RUNS[run]
    env = {"TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir()
    (project / output).parent.mkdir()
    (project / output).write_text("the old output", encoding="utf-8")
    # An unfinished zip of a bundle killed earlier (its process is gone), and one of a bundle still running.
    running = project / "out" / f".b.zip.{os.getpid()}.x2.partial"
    for partial in (project / "out" / f".b.zip.{dead_pid()}.x1.partial", running):
        partial.write_bytes(b"PK")
    stopped = start(project, *command, env=env)
    try:
        assert wait_until(lambda: list(tmp_path.glob(scratch)))
        assert wait_until(lambda: len(processes_in_session(stopped.pid)) > 1)  # it has forked its workers

        stopped.send_signal(stop)
        _, stderr = stopped.communicate(timeout=120)
        assert wait_until(lambda: not processes_in_session(stopped.pid), 30), processes_in_session(stopped.pid)
    finally:
        end_session(stopped)
    assert (project / output).read_text(encoding="utf-8") == "the old output"
    if stop == signal.SIGTERM:  # it cleans up after itself
        assert stopped.returncode == 130, stderr
        assert stderr.strip().endswith("error: interrupted; the output is left as it was")
        assert "Traceback" not in stderr
        assert not list(tmp_path.glob(scratch))
        return
    assert list(tmp_path.glob(scratch)), "a killed run cannot clean up"

    again = subprocess.run(
        [sys.executable, "-m", "generator", *command],
        cwd=project,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )

    assert again.returncode == 0, again.stderr
    assert not list(tmp_path.glob(scratch))
    assert not list((tmp_path / "tmp").iterdir())
    if run == "bundle":
        assert sorted(path.name for path in (project / "out").iterdir()) == sorted(["b.zip", running.name])


def test_a_scratch_folder_of_a_killed_run_is_removed_by_the_next(project: Path):
    stale = project / f".md.{dead_pid()}.abc.partial"
    running = project / f".md.{os.getpid()}.abc.partial"
    for folder in (stale, running):
        (folder / "tasks").mkdir(parents=True)

    result = playbook("generate", "--out", "md", cwd=project)

    assert result.returncode == 0, result.stderr
    assert not stale.exists()
    assert running.exists()  # its process still runs: not ours to remove


def no_bigger_files_than(size: int):
    def limit() -> None:  # as a full disk does, a write that does not fit fails (EFBIG instead of ENOSPC)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return limit


@pytest.mark.parametrize("command", [("generate", "--out", "out"), ("build", "--site-dir", "out")])
def test_a_full_disk_is_one_line_and_leaves_the_old_output(project: Path, command: tuple[str, ...]):
    (project / "out").mkdir()
    (project / "out" / "index.md").write_text("the old pages", encoding="utf-8")

    result = subprocess.run(
        [sys.executable, "-m", "generator", *command],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=no_bigger_files_than(2000),
    )

    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "File too large" in result.stderr
    assert (project / "out" / "index.md").read_text(encoding="utf-8") == "the old pages"
    assert not list(project.glob(".out.*"))


def test_an_output_that_cannot_be_made_is_one_line(project: Path):
    (project / "taken").write_text("a file, not a folder", encoding="utf-8")

    result = playbook("build", "--site-dir", "taken/site", cwd=project)

    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "taken" in result.stderr


def test_serve_shows_the_problems_of_broken_data_and_recovers_when_they_are_fixed(project: Path):
    roles = project / "data" / "roles.yml"
    original = roles.read_text(encoding="utf-8")
    replace_in(roles, "id: frp", "id: '<b>frp</b>'")
    port = free_port()
    server = start(project, "serve", "--dev-addr", f"127.0.0.1:{port}", output=subprocess.DEVNULL)
    home = f"http://127.0.0.1:{port}/partner-playbook/"
    try:
        assert wait_for(lambda: "The site cannot be built" in fetch(home), 120)
        page = fetch(home)
        assert "data/roles.yml:4:" in page
        assert "&lt;b&gt;frp&lt;/b&gt;" in page and "<b>frp</b>" not in page
        with pytest.raises(urllib.error.HTTPError) as missing:  # any page shows them, asking again until fixed
            fetch(home + "tasks/1699/")
        other = missing.value.read().decode("utf-8")
        assert "The site cannot be built" in other and 'name="playbook-problems"' in other
        # Its styles and scripts found at any depth, and Material's scripts told where the site's root is.
        assert '<base href="/partner-playbook/">' in other
        assert '"base": "/partner-playbook/"' in other and '__md_scope=new URL("/partner-playbook/",location)' in other

        roles.write_text(original, encoding="utf-8")
        assert wait_for(lambda: "Finish the technical assessment" in fetch(home + "tasks/1699/"), 180)
    finally:
        server.terminate()
        server.wait(timeout=30)
        end_session(server)


def test_a_save_that_breaks_a_pages_link_to_an_id_shows_the_problem_instead_of_holding_the_browser(project: Path):
    """Task 3954 renumbered in the data, and the page that names it left alone: the build fails once begun (the
    page's [[task:3954]] has nothing to point at). The browser gets the problems page, as for invalid data, not a
    request MkDocs holds until the next save; the next save that mends it brings the site back."""
    tasks, responsibilities = project / "data" / "tasks.yml", project / "data" / "responsibilities.yml"
    originals = {path: path.read_text(encoding="utf-8") for path in (tasks, responsibilities)}
    port = free_port()
    log = project.parent / "serve.log"
    with log.open("w") as output:
        server = start(project, "serve", "--dev-addr", f"127.0.0.1:{port}", output=output)
    home = f"http://127.0.0.1:{port}/partner-playbook/"
    try:
        assert wait_for(lambda: "Finish the technical assessment" in fetch(home + "tasks/1699/"), 120)
        responsibilities.write_text(originals[responsibilities].replace("[3954]", "[3955]"), encoding="utf-8")
        tasks.write_text(originals[tasks].replace("\n  - id: 3954\n", "\n  - id: 3955\n", 1), encoding="utf-8")
        # Both files saved: a build of the first alone shows another problem (an unknown task in the data).
        assert wait_for(lambda: "content/fasttrack-migration.md:" in fetch(home), 120), log.read_text()
        page = fetch(home)
        line = Path("content/fasttrack-migration.md")
        text = (project / line).read_text(encoding="utf-8")
        at = text[: text.index("[[task:3954]]")].count("\n") + 1
        assert re.search(rf"{line}:{at}:\d+: error: unknown playbook task .{{0,6}}3954", page), page
        said = log.read_text()
        assert "will appear stuck" not in said and "Traceback" not in said, said

        for path, text in originals.items():
            path.write_text(text, encoding="utf-8")
        assert wait_for(lambda: "The site cannot be built" not in fetch(home), 120)
        assert "Finish the technical assessment" in fetch(home + "tasks/1699/")
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
