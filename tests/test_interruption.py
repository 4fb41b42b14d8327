"""An interrupted or failing run leaves no half-written output, no scratch folder, no process, and no traceback."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import sys
import time
import urllib.error
from pathlib import Path

import pytest
from site_helpers import make_project, playbook
from test_site_failures import fetch, free_port, replace_in, wait_for


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


def test_sigterm_during_a_build_removes_the_scratch_folder_and_every_child(project: Path):
    (project / "site").mkdir()
    (project / "site" / "index.html").write_text("the old site", encoding="utf-8")
    build = start(project, "build")
    try:
        assert wait_until(lambda: list(project.glob(".site.*.partial")) and len(processes_in_session(build.pid)) > 1)

        build.send_signal(signal.SIGTERM)
        _, stderr = build.communicate(timeout=120)
        assert wait_until(lambda: not processes_in_session(build.pid), 30), processes_in_session(build.pid)
    finally:
        end_session(build)

    assert build.returncode == 130, stderr
    assert stderr.strip().endswith("error: interrupted; the output is left as it was")
    assert "Traceback" not in stderr
    assert not list(project.glob(".site.*"))
    assert (project / "site" / "index.html").read_text(encoding="utf-8") == "the old site"


def test_sigkill_during_a_bundle_kills_its_children_and_the_next_run_cleans_up(project: Path, tmp_path: Path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {"TMPDIR": str(scratch)}
    (project / "dist").mkdir()
    # An unfinished zip of a bundle killed earlier (its process is gone), and one of a bundle still running.
    stale = project / "dist" / f".b.zip.{dead_pid()}.x1.partial"
    running = project / "dist" / f".b.zip.{os.getpid()}.x2.partial"
    stale.write_bytes(b"PK")
    running.write_bytes(b"PK")
    bundle = start(project, "bundle", "-o", "dist/b.zip", env=env)
    try:
        assert wait_until(lambda: list(scratch.glob("playbook-bundle-*")) and len(processes_in_session(bundle.pid)) > 1)

        bundle.kill()
        bundle.communicate(timeout=60)
        assert wait_until(lambda: not processes_in_session(bundle.pid), 30), processes_in_session(bundle.pid)
    finally:
        end_session(bundle)
    assert list(scratch.glob("playbook-bundle-*")), "the killed run had no chance to clean up"

    result = subprocess.run(
        [sys.executable, "-m", "generator", "bundle", "-o", "dist/b.zip"],
        cwd=project,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert not list(scratch.iterdir())
    assert sorted(path.name for path in (project / "dist").iterdir()) == sorted(["b.zip", running.name])


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
        assert "The site cannot be built" in other and 'http-equiv="refresh"' in other

        roles.write_text(original, encoding="utf-8")
        assert wait_for(lambda: "Finish the technical assessment" in fetch(home + "tasks/1699/"), 180)
    finally:
        server.terminate()
        server.wait(timeout=30)
        end_session(server)
