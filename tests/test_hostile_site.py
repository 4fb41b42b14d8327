"""The whole site built from hostile data (tests/hostile.py), served under its path on 127.0.0.1 and opened page by
page in a real headless Chromium: no dialog opens, no link or source is a `javascript:` or `data:` URL, no element
from the data becomes markup, and the downloads' CSV cells never start a formula."""

from __future__ import annotations

import csv
import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import CHROMIUM, FLAGS
from conftest import REPO
from hostile import PAYLOADS, write_hostile_data
from site_helpers import make_project, playbook, serve_under_site_path

#: Everything on the page that data could have turned into markup: event handlers, script URLs, and the elements
#: the payloads would make. Material's own scripts and styles hold no `alert(`, so any that does came from data.
FIND_MARKUP = """() => {
  const found = [];
  for (const element of document.querySelectorAll('*')) {
    for (const attribute of element.attributes) {
      const value = attribute.value.trim().toLowerCase();
      if (attribute.name.startsWith('on')) found.push(`${element.tagName} ${attribute.name}=${attribute.value}`);
      if (['href', 'src', 'action', 'formaction', 'xlink:href', 'data', 'srcdoc', 'poster'].includes(attribute.name)
          && (value.startsWith('javascript:') || value.startsWith('data:'))) {
        found.push(`${element.tagName} ${attribute.name}=${attribute.value.slice(0, 60)}`);
      }
    }
  }
  for (const element of document.querySelectorAll('script, style')) {
    if (/alert\\(|display:none}/.test(element.textContent)) found.push(`${element.tagName} from data`);
  }
  const made = 'img[src="x"], svg[onload], iframe, object, embed, .admonition.danger';
  for (const element of document.querySelectorAll(made)) {
    found.push(`${element.tagName}.${element.className} from data`);
  }
  return found;
}"""


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped project with hostile data, built by the real `playbook build`: the site folder."""
    project = make_project(tmp_path_factory.mktemp("hostile-project"))
    shutil.rmtree(project / "data")
    write_hostile_data(REPO / "data", project / "data")
    result = playbook("build", "--site-dir", "site", cwd=project)
    assert result.returncode == 0, result.stderr
    return project / "site"


@pytest.fixture(scope="module")
def served(hostile_site: Path) -> Iterator[str]:
    """The built site over HTTP on 127.0.0.1 under its path (search needs it: its index cannot load from disk)."""
    with serve_under_site_path(hostile_site) as address:
        yield address


@pytest.fixture(scope="module")
def browser_page(served: str):
    """One Chromium tab that may load the served site only, recording every dialog any page opens."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = browser.new_context()
        # Matched by the driver, so the site's own requests never wait on Python; anything else is refused.
        context.route(re.compile(f"^(?!{re.escape(served)})"), lambda route: route.abort())
        page = context.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(f"{page.url}: {dialog.message}"), dialog.dismiss()))
        try:
            yield page, dialogs
        finally:
            browser.close()


def site_pages(site: Path) -> list[str]:
    return sorted(path.relative_to(site).as_posix() for path in site.rglob("*.html"))


def test_every_page_of_the_hostile_site_opens_no_dialog_and_holds_no_markup_from_data(
    hostile_site: Path, served: str, browser_page
):
    page, dialogs = browser_page
    pages = site_pages(hostile_site)
    assert len(pages) > 50

    markup: dict[str, list[str]] = {}
    # Each page would load and index the whole search index again (a third of the time here); what search shows
    # of the data is the next tests' business.
    page.route("**/search/search_index.json", lambda route: route.abort())
    try:
        for path in pages:
            page.goto(served + path, wait_until="load")
            found = page.evaluate(FIND_MARKUP)
            if found:
                markup[path] = found
    finally:
        page.unroute("**/search/search_index.json")

    assert dialogs == []
    assert markup == {}


def test_the_payloads_show_as_the_text_they_are(served: str, browser_page):
    page, dialogs = browser_page
    page.goto(served + "tasks/1699/", wait_until="load")
    text = " ".join(page.inner_text("article").split())

    shown = [payload for payload in PAYLOADS if " ".join(payload.split()) in text]

    assert shown == PAYLOADS
    assert dialogs == []


def test_hovering_an_abbreviation_and_searching_for_a_payload_run_nothing(served: str, browser_page):
    page, dialogs = browser_page
    page.goto(served + "glossary/", wait_until="load")
    # an acronym whose expansion holds the image payload (expansions are capped, so not every one does)
    abbreviation = page.locator('article abbr[title*="&lt;img src=x onerror=alert(1)&gt;"]').first
    title = abbreviation.get_attribute("title")
    abbreviation.hover()
    tooltip = page.wait_for_selector(".md-tooltip2", state="visible")  # Material's, from the title, as HTML
    assert "<img src=x onerror=alert(1)>" in " ".join(tooltip.inner_text().split())
    assert "&lt;img src=x onerror=alert(1)&gt;" in (title or "")
    assert page.evaluate(FIND_MARKUP) == []

    page.locator("input.md-search__input").press_sequentially("onerror")  # typed: search starts on the keys
    page.wait_for_selector(".md-search-result__item")
    assert page.evaluate(FIND_MARKUP) == []
    assert dialogs == []


def test_no_csv_cell_of_the_downloads_starts_a_formula(hostile_site: Path):
    cells = [
        cell
        for path in sorted((hostile_site / "downloads").glob("*.csv"))
        for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline=""))
        for cell in row
    ]

    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert sum(cell.startswith(("'=", "'+", "'-", "'@")) for cell in cells) > 10  # the payloads are there
