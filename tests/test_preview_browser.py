"""The preview as a contributor uses it: `playbook serve` on a copy of the project, a real headless Chromium on
two of its pages, and data/tasks.yml saved beside it. Nothing is reloaded by the test: each page must reload by
itself (MkDocs' live reload) and show the edit; a broken save shows its problem at its line, in the terminal and
in the browser; the next good save brings the site back.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from browser import AXE, CHROMIUM, Traffic, blocking_violations, describe, gated_context, launched_chromium
from playwright.sync_api import Error as PlaywrightError
from site_helpers import SITE_PATH, fetch, free_port, make_project, wait_for

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).is_file(), reason="Debian's chromium is not installed"),
    pytest.mark.skipif(not AXE.is_file(), reason="axe-core is missing: run `npm install` first"),
]

TITLE = "Finish the technical assessment"
EDITED = "Finish the assessment before the workshop"
GITHUB_FACTS = "https://api.github.com/repos/"
#: How long a page may take to show a save: a generous bound for a busy machine, not a speed target.
WAIT_MS = 60_000


def _navigated(err: Exception) -> bool:
    """Whether a page call failed because the page was reloading under it (the preview reloads twice an edit)."""
    return isinstance(err, PlaywrightError) and ("destroyed" in str(err) or "navigat" in str(err))


def _settled(page, read):
    """`read(page)` once the page holds still: a reload that interrupts it is waited out, and it is asked again."""
    for _ in range(20):
        try:
            return read(page)
        except Exception as err:
            if not _navigated(err):
                raise
            page.wait_for_load_state()
    raise AssertionError(f"{page.url} kept reloading")


def _unreloaded(page) -> bool:
    """Whether the page is the same document as when `_mark` was called (no reload since)."""
    try:
        return page.evaluate("() => window.__notReloaded === true")
    except Exception as err:
        if _navigated(err):
            return False  # reloading as it was asked: not the document marked
        raise


def _mark(page) -> None:
    _settled(page, lambda page: page.evaluate("() => { window.__notReloaded = true; }"))


def _shows(page, text: str) -> None:
    script = "text => document.body && document.body.innerText.includes(text)"
    _settled(page, lambda page: page.wait_for_function(script, arg=text, timeout=WAIT_MS))


def _text(page) -> str:
    return _settled(page, lambda page: page.inner_text("body"))


def test_a_saved_edit_reloads_the_open_pages_and_a_broken_save_shows_its_line(tmp_path: Path):
    project = make_project(tmp_path / "project")
    tasks = project / "data" / "tasks.yml"
    original = tasks.read_text(encoding="utf-8")
    port = free_port()
    log_path = tmp_path / "serve.log"
    base = f"http://127.0.0.1:{port}{SITE_PATH}"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "generator", "serve", "--dev-addr", f"127.0.0.1:{port}"],
            cwd=project,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            assert wait_for(lambda: TITLE in fetch(f"{base}tasks/1699/"), 120), log_path.read_text()
            with launched_chromium() as browser:
                traffic = Traffic()
                context, _ = gated_context(browser, (f"http://127.0.0.1:{port}/",), traffic)
                task_page, catalogue = context.new_page(), context.new_page()
                dialogs: list[str] = []
                for page in (task_page, catalogue):
                    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
                task_page.goto(f"{base}tasks/1699/")
                catalogue.goto(f"{base}catalogue/")
                for page in (task_page, catalogue):
                    _shows(page, TITLE)
                    _mark(page)

                # A title saved: the task's own page (first pass) and the catalogue (the rest) reload by themselves.
                tasks.write_text(original.replace(f"title: {TITLE}", f"title: {EDITED}", 1), encoding="utf-8")
                for page in (task_page, catalogue):
                    _shows(page, EDITED)
                    assert not _unreloaded(page)
                # The second pass done and its reload asked for: the pages hold still from here.
                assert wait_for(lambda: "the rest of the edit" in log_path.read_text(errors="replace"), 60)
                for page in (task_page, catalogue):
                    _shows(page, EDITED)
                    assert TITLE not in _text(page)
                said = log_path.read_text(encoding="utf-8", errors="replace")
                assert re.search(r"rebuilt 1 of [\d,]+ pages", said), said  # not a full build
                assert "full rebuild" not in said, said

                # A broken save: an owner no role has. The page says where, as the terminal does.
                _mark(task_page)
                seen = len(log_path.read_bytes())
                broken = original.replace("    owner: frp\n", "    owner: nobody-here\n", 1)
                line = broken[: broken.index("owner: nobody-here")].count("\n") + 1
                tasks.write_text(broken, encoding="utf-8")
                _shows(task_page, "The site cannot be built")
                assert not _unreloaded(task_page)
                shown = _text(task_page)
                assert re.search(rf"data/tasks\.yml:{line}:\d+", shown), shown
                assert "nobody-here" in shown
                assert wait_for(lambda: "data/tasks.yml:" in log_path.read_bytes()[seen:].decode(errors="replace"), 30)
                problems = [
                    text
                    for text in log_path.read_bytes()[seen:].decode(errors="replace").splitlines()
                    if "tasks.yml:" in text
                ]
                assert re.search(rf"data/tasks\.yml:{line}:\d+", problems[0]), problems

                # The same problems page on a phone, in the dark palette: readable, nothing serious for axe, and the
                # page itself does not scroll sideways (a long report line scrolls inside its block).
                phone, _ = gated_context(
                    browser,
                    (f"http://127.0.0.1:{port}/",),
                    traffic,
                    viewport={"width": 390, "height": 844},
                    color_scheme="dark",
                )
                small = phone.new_page()
                small.goto(f"{base}tasks/1699/")
                _shows(small, "The site cannot be built")
                # Material's script sets the palette the system asks for once it has loaded.
                small.wait_for_function(
                    "document.body.getAttribute('data-md-color-scheme') === 'slate'", timeout=WAIT_MS
                )
                assert re.search(rf"data/tasks\.yml:{line}:\d+", _text(small))
                violations = blocking_violations(small)
                assert not violations, describe(violations)
                assert small.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

                # Another broken save, with another problem: the page shows the new report by itself.
                _mark(task_page)
                other = original.replace("    stage: assess\n", "    stage: nowhere-stage\n", 1)
                tasks.write_text(other, encoding="utf-8")
                _shows(task_page, "nowhere-stage")
                assert not _unreloaded(task_page) and "nobody-here" not in _text(task_page)

                # The next good save brings the site back, on the page the browser was on.
                tasks.write_text(original, encoding="utf-8")
                _shows(task_page, TITLE)
                assert "The site cannot be built" not in _text(task_page)
                assert dialogs == []
                # Refused by the gate: Material's repository facts beside the edit button (the site's repo_url).
                elsewhere = [url for url in traffic.outside if not url.startswith(GITHUB_FACTS)]
                assert elsewhere == [] and traffic.errors == [], (elsewhere, traffic.errors)
        finally:
            server.terminate()
            server.wait(timeout=30)
