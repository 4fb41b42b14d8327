"""Every installed engine builds the shipped project through `playbook build`, and the site source that
`playbook generate` writes with its own command (no plugin), online and for opening from disk: strictly, and
with no broken link. In Chromium, the Zensical build's catalogue filters and search work, served under its path.

Each build is made once per module (the engines take seconds each); the tests look at what it made.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from browser import LOCAL_SERVER, Traffic, gated_context, launched_chromium
from conftest import REPO
from site_helpers import SITE_PATH, fetch, free_port, make_project, playbook, serve_under_site_path, unpack, wait_for

from generator.data.relations import Relations
from generator.data.validate import load_valid_catalogue
from generator.engines.choice import ENGINES, installed
from generator.engines.project import STARTER

INSTALLED = [name for name in ENGINES if name in installed()]
#: What each engine writes in a page's `generator` meta tag: proof of which one built it.
GENERATOR = {"mkdocs": "mkdocs-1", "properdocs": "ProperDocs", "zensical": "zensical-"}
#: Files a server uses and a folder on disk cannot; the bundle leaves them out, and so does the offline check.
SERVER_ONLY = ("404.html", "sitemap.xml", "sitemap.xml.gz")


# The builds, each made once -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def playbook_builds(tmp_path_factory: pytest.TempPathFactory):
    """`playbook build --engine NAME` of a copy of the shipped project, made on first use: (result, project)."""
    made: dict[str, tuple[subprocess.CompletedProcess[str], Path]] = {}

    def build(engine: str) -> tuple[subprocess.CompletedProcess[str], Path]:
        if engine not in made:
            project = make_project(tmp_path_factory.mktemp(f"project-{engine}"))
            made[engine] = (playbook("build", "--engine", engine, cwd=project), project)
        return made[engine]

    return build


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site source `playbook generate` writes for the shipped project."""
    project = make_project(tmp_path_factory.mktemp("generated-from"))
    out = tmp_path_factory.mktemp("source") / "source"
    generated = playbook("generate", "--out", str(out), cwd=project)
    assert generated.returncode == 0, generated.stderr
    return out


@pytest.fixture(scope="module")
def plain_builds(source: Path, tmp_path_factory: pytest.TempPathFactory):
    """The site source built by the engine's own command, strict, made on first use: (result, site folder)."""
    made: dict[tuple[str, bool], tuple[subprocess.CompletedProcess[str], Path]] = {}

    def build(engine: str, offline: bool) -> tuple[subprocess.CompletedProcess[str], Path]:
        if (engine, offline) not in made:
            folder = tmp_path_factory.mktemp(f"{engine}-{'offline' if offline else 'online'}")
            # Zensical builds into the project's own site/ (and keeps a cache there): each build gets a copy.
            here = shutil.copytree(source, folder / "source")
            site = here / "site" if engine == "zensical" else folder / "site"
            command = ["build", "--clean", "--strict"] if engine == "zensical" else ["build", "--strict", "-d", site]
            environment = {**os.environ, "OFFLINE": "true" if offline else "false"}
            result = subprocess.run(
                [sys.executable, "-m", engine, *map(str, command)],
                cwd=here,
                env=environment,
                capture_output=True,
                text=True,
                check=False,
            )
            if offline:
                for name in SERVER_ONLY:
                    (site / name).unlink(missing_ok=True)
            made[engine, offline] = (result, site)
        return made[engine, offline]

    return build


# playbook build --engine ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", INSTALLED)
def test_each_installed_engine_builds_the_shipped_project_without_a_broken_link(engine: str, playbook_builds) -> None:
    result, project = playbook_builds(engine)

    assert result.returncode == 0, result.stderr
    notice = [line for line in result.stderr.splitlines() if line.startswith("engine: ")]
    assert len(notice) == 1 and notice[0].startswith(f"engine: {engine} "), result.stderr  # said once
    others = [other for other in ENGINES if other != engine]
    assert all(f"--engine {other}" in notice[0] for other in others)  # how to switch to each of the others
    assert GENERATOR[engine] in (project / "site" / "index.html").read_text(encoding="utf-8")  # that engine built it
    checked = playbook("check-links", "site", cwd=project)
    assert checked.returncode == 0 and " 0 broken" in checked.stdout, checked.stdout + checked.stderr


def test_an_engine_that_is_not_installed_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from generator.engines import choice as engines

    monkeypatch.setattr(engines, "installed", lambda: ["mkdocs"])
    with pytest.raises(engines.UsageError, match=r"zensical is not installed; install it with pip install"):
        engines.activate("zensical")


@pytest.mark.skipif("zensical" not in INSTALLED, reason="zensical is not installed")
def test_zensical_previews_the_site_follows_data_edits_and_shows_broken_data(tmp_path: Path) -> None:
    project = shutil.copytree(STARTER, tmp_path / "project")
    tasks = project / "data" / "tasks.yml"
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w", encoding="utf-8") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "generator", "serve", "--engine", "zensical", "--dev-addr", f"127.0.0.1:{port}"],
            cwd=project,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    page = f"http://127.0.0.1:{port}/tasks/1/"
    try:
        assert wait_for(lambda: "Example task" in fetch(page), 120), log.read_text()
        tasks.write_text(tasks.read_text().replace("title: Example task", "title: Renamed while serving"))
        assert wait_for(lambda: "Renamed while serving" in fetch(page)), log.read_text()

        tasks.write_text(tasks.read_text().replace("owner: partner", "owner: nobody"))
        assert wait_for(lambda: "data/tasks.yml:6:12: error: tasks[0].owner: unknown role 'nobody'" in log.read_text())
        assert "Renamed while serving" in fetch(page)  # the last good site stays served

        tasks.write_text(tasks.read_text().replace("owner: nobody", "owner: partner").replace("Renamed", "Fixed"))
        assert wait_for(lambda: "Fixed while serving" in fetch(page)), log.read_text()
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert server.returncode == 130  # SIGTERM unwinds like Ctrl-C
    assert wait_for(lambda: not _processes_serving(port), 10), "zensical serve outlived playbook serve"
    assert "Traceback" not in log.read_text()
    assert not list(Path(tempfile.gettempdir()).glob(f"playbook-zensical-{server.pid}-*"))  # its scratch is gone


def _processes_serving(port: int) -> list[str]:
    """Command lines of running processes that name the port (Zensical's server, if it were left behind)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if f"127.0.0.1:{port}" in command:
            found.append(command)
    return found


@pytest.mark.skipif("zensical" not in INSTALLED, reason="zensical is not installed")
def test_a_zensical_build_that_warns_fails_with_its_messages_and_leaves_no_site(tmp_path: Path) -> None:
    project = shutil.copytree(STARTER, tmp_path / "project")
    (project / "content" / "index.md").write_text("# Home\n\n[a page](nowhere.md)\n", encoding="utf-8")

    result = playbook("build", "--engine", "zensical", cwd=project)

    assert result.returncode == 1
    assert "index.md:3:" in result.stderr and "zensical build failed" in result.stderr  # its message, then ours
    assert "Traceback" not in result.stderr and "engine: " not in result.stderr
    assert not (project / "site").exists()


# playbook generate, built by each engine's own command ----------------------------------------------------------


def test_the_generated_source_names_everything_the_plugin_adds(source: Path) -> None:
    config = (source / "mkdocs.yml").read_text(encoding="utf-8")
    assert "- playbook" not in config  # the engine alone builds it
    assert "custom_dir: theme" in config and (source / "theme" / "main.html").is_file()
    assert '"hooks/raw_links.py"' in config and (source / "hooks" / "raw_links.py").is_file()
    assert '"assets/vendor/iframe-worker/shim.js"' in config  # the worker shim, for a build opened from disk
    assert (source / "docs" / "assets" / "vendor" / "iframe-worker" / "shim.js").is_file()
    assert (source / "docs" / "downloads" / "tasks.csv").is_file() and (source / "docs" / "schemas").is_dir()
    assert "Facts from: " in config  # the footer names the source pages
    # Edit links would lead to the generated pages, which are not in the repository.
    assert 'edit_uri: ""' in config and "edit/main/content" not in config


@pytest.mark.parametrize("offline", [False, True], ids=["online", "offline"])
@pytest.mark.parametrize("engine", INSTALLED)
def test_each_engine_builds_the_generated_source_strictly_without_a_broken_link(
    engine: str, offline: bool, plain_builds, tmp_path: Path
) -> None:
    result, site = plain_builds(engine, offline)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING -" not in result.stderr, result.stderr
    assert GENERATOR[engine] in (site / "index.html").read_text(encoding="utf-8")
    checked = playbook("check-links", str(site), *(["--file-urls"] if offline else []), cwd=REPO)
    assert checked.returncode == 0 and " 0 broken" in checked.stdout, checked.stdout + checked.stderr
    catalogue = (site / ("catalogue.html" if offline else "catalogue/index.html")).read_text(encoding="utf-8")
    assert "assets/playbook/catalogue.js" in catalogue  # the filters' script, from the generated mkdocs.yml
    task_link = r'<td><a href="tasks/\d+\.html"' if offline else r'<td><a href="\.\./tasks/\d+/"'
    assert re.search(task_link, catalogue)  # raw HTML's links, resolved for this engine and these URLs
    if offline:  # the vendored worker shim, not unpkg.com's
        assert "iframe-worker/shim.js" in catalogue and "unpkg.com" not in catalogue


#: A task title that tries to close the window title and open a script, in text and in entities.
HOSTILE_TITLE = "</title><script>alert(1)</script> &lt;/title&gt; & *x*"


@pytest.mark.parametrize("engine", INSTALLED)
def test_a_title_from_the_data_stays_text_in_the_window_title(engine: str, tmp_path: Path) -> None:
    """The theme writes `<title>` from the page's heading through `striptags`, which turns entities back into
    markup; the generated pages give it their title, escaped, in the front matter instead."""
    project = shutil.copytree(STARTER, tmp_path / "project")
    tasks = project / "data" / "tasks.yml"
    tasks.write_text(
        tasks.read_text(encoding="utf-8").replace("title: Example task", f"title: {json.dumps(HOSTILE_TITLE)}"),
        encoding="utf-8",
    )
    assert playbook("generate", "--out", "source", cwd=project).returncode == 0
    command = ["build", "--clean"] if engine == "zensical" else ["build", "-d", "site"]
    subprocess.run([sys.executable, "-m", engine, *command], cwd=project / "source", capture_output=True, check=True)

    html = (project / "source" / "site" / "tasks" / "1" / "index.html").read_text(encoding="utf-8")
    window_title = re.search(r"<title>(.*?)</title>", html, re.S)
    assert window_title and unescape(window_title[1]) == f"Task 1: {HOSTILE_TITLE} - My playbook"
    assert "<script>alert(1)" not in html


# Zensical in Chromium -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium for the module's browser tests."""
    if "zensical" not in INSTALLED:
        pytest.skip("zensical is not installed")
    with launched_chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def zensical_page(playbook_builds, chromium) -> Iterator[tuple[object, str, Traffic]]:
    """A Chromium page, the address of the Zensical build served under its path, and the requests it refused."""
    result, project = playbook_builds("zensical")
    assert result.returncode == 0, result.stderr
    # the local server only; the repository widget's api.github.com is refused
    context, traffic = gated_context(chromium, (LOCAL_SERVER,))
    with serve_under_site_path(project / "site") as address:
        yield context.new_page(), address, traffic
    context.close()


def test_the_zensical_catalogue_filters_by_stage_and_role(zensical_page) -> None:
    page, url, traffic = zensical_page
    tasks = Relations(load_valid_catalogue(REPO / "data")).task_order
    rows = ".playbook-catalogue tbody tr:not([hidden])"

    page.goto(url + "catalogue/")
    page.wait_for_selector(".playbook-catalogue form:not([hidden])")  # the script ran
    assert page.locator(rows).count() == len(tasks)
    page.select_option(".playbook-catalogue select[name=stage]", "onboard")
    page.select_option(".playbook-catalogue select[name=role]", "frp")
    page.wait_for_url(re.compile(r"#role=frp&stage=onboard$"))

    shown = [int(text) for text in page.locator(f"{rows} td:first-child").all_inner_texts()]
    assert shown == [task["id"] for task in tasks if task["stage"] == "onboard" and task["owner"] == "frp"]
    assert shown  # the view is not empty by accident
    page.click(f"{rows} td:first-child a >> nth=0")  # a raw HTML link, as Zensical wrote it, opens the task
    page.wait_for_url(re.compile(rf"{re.escape(SITE_PATH)}tasks/{shown[0]}/$"))
    assert traffic.errors == []


def test_zensical_search_finds_an_option_by_its_acronym(zensical_page) -> None:
    page, url, traffic = zensical_page
    page.goto(url)
    page.click(".md-search__button")
    # Zensical's search dialog opens with its box focused (in a shadow root, which CSS locators enter).
    page.locator("input[aria-label=Search]").wait_for(state="attached")
    page.keyboard.type("AMMP", delay=30)  # its search reacts to key events: type, as a reader does

    results = page.locator("a[href*='?h=AMMP']")
    results.first.wait_for(state="attached", timeout=30_000)
    paths = [urlsplit(href).path for href in results.evaluate_all("links => links.map(link => link.href)")]
    assert paths and paths[0] == f"{SITE_PATH}options/ammp/", paths[:5]
    assert traffic.errors == []


def test_the_zensical_bundle_opens_from_disk_searches_and_fetches_nothing(chromium, tmp_path: Path) -> None:
    project = shutil.copytree(STARTER, tmp_path / "project")
    config = project / "mkdocs.yml"  # a repository widget, whose script would ask api.github.com for stars
    config.write_text(config.read_text(encoding="utf-8") + "repo_url: https://github.com/example/mine\n", "utf-8")
    bundled = playbook("bundle", "--engine", "zensical", "-o", "playbook.zip", cwd=project)
    assert bundled.returncode == 0, bundled.stderr
    home = unpack(project / "playbook.zip", tmp_path / "unpacked") / "index.html"

    context, traffic = gated_context(chromium)  # file:// only; anything else is refused and recorded
    page = context.new_page()
    page.goto(home.as_uri())
    page.click(".md-search__button")
    page.locator("input[aria-label=Search]").wait_for(state="attached")
    page.keyboard.type("Example task", delay=30)
    result = page.locator("a[href*='tasks/1.html']").first
    result.wait_for(state="attached", timeout=30_000)  # the index is read from disk, by the worker shim
    assert traffic.outside == [] and traffic.errors == []
    context.close()
