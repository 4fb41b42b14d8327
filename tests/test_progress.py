"""The progress line of long builds: drawn in place on a terminal, never in logs or pipes."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

from site_helpers import make_project, playbook

from generator.system.progress import TerminalProgress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_line_is_redrawn_at_most_every_interval_and_always_at_the_end():
    now = [0.0]
    screen = Terminal()
    progress = TerminalProgress(screen, interval=0.2, clock=lambda: now[0])

    progress("writing pages", 1, 3)
    now[0] = 0.1
    progress("writing pages", 2, 3)  # too soon after the last drawing: skipped
    progress("writing pages", 3, 3)  # the end of a step is always drawn
    progress.clear()

    assert screen.getvalue() == "\rwriting pages: 1 of 3\x1b[K\rwriting pages: 3 of 3\x1b[K\r\x1b[K"


def test_nothing_is_written_where_the_stream_is_not_a_terminal():
    log = io.StringIO()
    progress = TerminalProgress(log)

    progress("reading pages", 1, 1)
    progress.clear()

    assert log.getvalue() == ""


def run_on_a_terminal(command: list[str], cwd: Path) -> tuple[int, str]:
    """Runs `command` with its stderr on a pseudo-terminal; returns the exit code and what it drew there."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=terminal)
    os.close(terminal)
    seen = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the other end closed: the command has finished
            break
        if not chunk:
            break
        seen += chunk
    os.close(controller)
    return process.wait(timeout=120), seen.decode("utf-8", errors="replace")


def test_a_build_on_a_terminal_shows_its_progress_and_clears_it(tmp_path: Path):
    project = make_project(tmp_path / "p")

    code, stderr = run_on_a_terminal([sys.executable, "-m", "generator", "build", "--site-dir", "site"], project)

    assert code == 0, stderr
    assert "reading pages: " in stderr and "writing pages: " in stderr
    pages = len(list((project / "site").rglob("index.html")))  # with directory URLs, one per page
    assert f"reading pages: {pages:,} of {pages:,}" in stderr
    assert f"writing pages: {pages:,} of {pages:,}" in stderr
    # the line is gone when the pages are done: cleared, and only whole lines (the engine's one) after it
    cleared = stderr.rindex("\r\x1b[K") + len("\r\x1b[K")
    assert "pages: " not in stderr[cleared:]
    assert stderr[cleared:] == "" or stderr.endswith("\n")


def test_a_build_in_a_log_shows_no_progress_line(tmp_path: Path):
    result = playbook("build", "--site-dir", "site", cwd=make_project(tmp_path / "p"))

    assert result.returncode == 0, result.stderr
    assert "pages: " not in result.stderr and "\r" not in result.stderr


def test_check_links_on_a_terminal_counts_the_pages_it_checked(tmp_path: Path):
    from test_linkcheck import SITE

    pages = len(list(SITE.rglob("*.html")))

    code, stderr = run_on_a_terminal([sys.executable, "-m", "generator", "check-links", str(SITE)], tmp_path)

    assert code == 1  # the corpus site is full of broken links on purpose
    assert f"checking pages: {pages:,} of {pages:,}" in stderr
    report = stderr.rsplit("\x1b[K", 1)[1]  # what follows the last clearing of the line
    assert "broken" in report.splitlines()[-1] and "checking pages" not in report
