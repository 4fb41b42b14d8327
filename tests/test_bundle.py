"""The offline bundle, unpacked and opened from disk in a real headless Chromium with the network refused."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from browser import offline_browser
from conftest import REPO
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from site_helpers import make_project, playbook

SEARCH = "input[data-md-component=search-query]"
RESULT = ".md-search-result__link"
#: Material says so in the results pane once its search worker has built the index.
SEARCH_READY = ".md-search-result__meta:has-text('Type to start searching')"


@pytest.fixture(scope="module")
def bundle(shipped_bundle: Path) -> Path:
    return shipped_bundle


@pytest.fixture(scope="module")
def unpacked(shipped_unpacked: Path) -> Path:
    return shipped_unpacked


@pytest.fixture(scope="module")
def browser():
    with offline_browser() as (context, traffic):
        yield context, traffic


def open_page(context, path: Path):
    page = context.new_page()
    page.goto(path.as_uri())
    return page


def test_the_home_page_loads_every_asset_from_disk(unpacked: Path, browser):
    context, traffic = browser
    page = open_page(context, unpacked / "index.html")

    assert page.title().startswith("Partner Playbook")
    assert page.locator(".md-header").is_visible()
    assert page.evaluate("getComputedStyle(document.body).fontFamily")  # the stylesheet applied
    assert traffic.failed == [] and traffic.errors == []
    page.close()


def test_navigation_and_links_work_from_disk(unpacked: Path, browser):
    context, traffic = browser
    page = open_page(context, unpacked / "index.html")

    page.click(".md-tabs >> text=Migration")
    page.wait_for_url("**/flow.html")
    page.locator(".playbook-diagram a[href$='roles/mvm.html']").first.click()  # a link inside the SVG diagram
    page.wait_for_url("**/roles/mvm.html")
    assert "retired except for IMAP" in page.inner_text("article")
    assert traffic.failed == []
    page.close()


@pytest.mark.parametrize(("query", "expected"), [("3306", "tasks/3306.html"), ("hybrid", "tasks/3160.html")])
def test_search_finds_a_task_by_number_and_by_word_and_opens_it(unpacked: Path, browser, query: str, expected: str):
    context, traffic = browser
    page = open_page(context, unpacked / "index.html")
    page.focus(SEARCH)
    page.wait_for_selector(SEARCH_READY, state="attached", timeout=30_000)

    page.locator(SEARCH).press_sequentially(query)  # keystrokes, as a reader types
    # The list is redrawn after each keystroke: wait for the result itself, not for a count that may shrink.
    result = page.locator(f"{RESULT}[href*='{expected}']").first
    try:
        result.wait_for(timeout=30_000)
    except PlaywrightTimeoutError:
        shown = page.eval_on_selector_all(RESULT, "links => links.map(link => link.getAttribute('href'))")
        pytest.fail(f"no search result for {query!r} leads to {expected}; the results: {shown}")
    result.click()
    page.wait_for_load_state()
    assert expected in page.url
    assert traffic.failed == []
    page.close()


def test_the_browser_made_no_request_outside_the_bundle(unpacked: Path, browser):
    context, traffic = browser
    for name in ("index.html", "tasks/3392.html", "lifecycle/index.html", "downloads.html"):
        open_page(context, unpacked / name).close()

    assert traffic.outside == []


def test_the_bundle_carries_the_data_as_json_and_csv(unpacked: Path):
    tasks = json.loads((unpacked / "downloads" / "tasks.json").read_text(encoding="utf-8"))
    rows = list(csv.DictReader(io.StringIO((unpacked / "downloads" / "tasks.csv").read_text(encoding="utf-8"))))

    assert [task["id"] for task in tasks] == [int(row["id"]) for row in rows]
    assert rows[0]["owner"] == tasks[0]["owner"]
    assert {path.stem for path in (unpacked / "downloads").glob("*.csv")} >= {"tasks", "roles", "options"}


def test_two_bundles_of_the_same_input_are_byte_identical(bundle: Path):
    project = bundle.parent.parent
    again = playbook("bundle", "-o", "again/playbook-offline.zip", cwd=project)

    assert again.returncode == 0, again.stderr
    assert (project / "again" / "playbook-offline.zip").read_bytes() == bundle.read_bytes()


def test_the_bundle_holds_no_server_only_files_and_no_absolute_links(unpacked: Path):
    assert not (unpacked / "404.html").exists()
    result = playbook("check-links", str(unpacked), "--file-urls", "--root", "/", cwd=unpacked)
    assert result.returncode == 0, result.stderr


def test_a_failed_bundle_leaves_the_existing_zip_untouched(tmp_path: Path):
    project = make_project(tmp_path / "p")
    existing = project / "dist" / "playbook.zip"
    existing.parent.mkdir()
    existing.write_bytes(b"the bundle of yesterday")
    tasks = project / "data" / "tasks.yml"
    tasks.write_text(tasks.read_text().replace("owner: frp", "owner: nobody", 1))

    result = playbook("bundle", "-o", "dist/playbook.zip", cwd=project)

    assert result.returncode == 1
    assert "unknown role 'nobody'" in result.stderr
    assert existing.read_bytes() == b"the bundle of yesterday"
    assert [p.name for p in existing.parent.iterdir()] == ["playbook.zip"]


def test_the_default_bundle_name_carries_the_version():
    from generator import __version__
    from generator.engines.bundle import default_bundle_path

    assert default_bundle_path(__version__) == REPO.joinpath("dist").relative_to(REPO) / (
        f"partner-playbook-{__version__}-offline.zip"
    )


def test_only_a_cancelled_request_for_a_file_that_is_there_is_not_a_failure(tmp_path: Path):
    from types import SimpleNamespace

    from browser import Traffic

    there = tmp_path / "favicon.png"
    there.write_bytes(b"png")
    traffic = Traffic()
    for url, failure in [
        (there.as_uri(), "net::ERR_ABORTED"),  # the page closed before its favicon came: harmless
        ((tmp_path / "missing.png").as_uri(), "net::ERR_ABORTED"),
        (there.as_uri(), "net::ERR_FILE_NOT_FOUND"),
        ("https://example.invalid/font.woff2", "net::ERR_ABORTED"),
    ]:
        traffic.record_failure(SimpleNamespace(url=url, failure=failure))

    assert [entry.split(" ")[0] for entry in traffic.failed] == [
        (tmp_path / "missing.png").as_uri(),
        there.as_uri(),
        "https://example.invalid/font.woff2",
    ]
