"""Accessibility in a real headless Chromium: axe-core (from the npm registry, see package.json) over every kind
of page, served under the site's path as it is published, in the light and the dark palette and at a desk's and a
phone's width; then what axe cannot judge: what a runbook's checkbox is called, acronyms that expand on keyboard
focus and on a tap, and a catalogue view that matches nothing.

The palette follows the reader's system setting (mkdocs.yml pairs each scheme with a `prefers-color-scheme`
query), so the browser context asks for light or dark and each test checks the page really shows that scheme.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from browser import AXE, Traffic, blocking_violations, describe, gated_context, launched_chromium
from conftest import REPO

from generator.data.relations import Relations
from generator.data.validate import load_valid_catalogue
from generator.pages.addresses import address, built_path

SCHEMES = {"light": "default", "dark": "slate"}
DESK = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.skipif(not AXE.is_file(), reason="axe-core is missing: run `npm install` first")


def page_types() -> dict[str, str]:
    """One page of every kind the site has, as a source path (`tasks/1699.md`), the records taken from the data."""
    catalogue = load_valid_catalogue(REPO / "data")

    def first(collection: str) -> str:
        return address(collection, catalogue.records(collection)[0]).src_uri

    source = catalogue.records("migration_sources")[0]["id"]
    role = catalogue.records("roles")[0]["id"]
    return {
        "home": "index.md",
        "option": first("options"),
        "task": first("tasks"),
        "role": first("roles"),
        "source runbook": f"runbooks/sources/{source}.md",
        "role runbook": f"runbooks/roles/{role}.md",
        "catalogue": "catalogue.md",
        "flow": "flow.md",
        "options by phase": "options-by-phase.md",
        "lifecycle phase": first("lifecycle_phases"),
        "fasttrack phase": first("fasttrack_phases"),
        "focus area group": first("focus_area_groups"),
        "services offering": first("services_offerings"),
        "source": first("migration_sources"),
        "stage": first("migration_stages"),
        "glossary": "glossary.md",
        "sources of facts": "provenance.md",
        "downloads": "downloads.md",
        "contributing": "contributing.md",
        "tasks index": "tasks/index.md",
        "options index": "options/index.md",
        "runbooks index": "runbooks/index.md",
        "choosing an option": "choosing-an-option.md",
    }


PAGES = page_types()
ON_A_PHONE = ["home", "task", "source runbook", "catalogue", "options by phase"]


def url_path(src_uri: str) -> str:
    """Where MkDocs serves a page: `tasks/1699.md` → `tasks/1699/`."""
    return built_path(src_uri, "directory").removesuffix("index.html")


# The site, served ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(shipped_served: str) -> str:
    """The shipped site on 127.0.0.1 under the site's path, as GitHub Pages serves it."""
    return shipped_served


@pytest.fixture(scope="module")
def unpacked(shipped_unpacked: Path) -> Path:
    return shipped_unpacked


@pytest.fixture(scope="module")
def browser():
    with launched_chromium() as chromium:
        yield chromium


def local_context(browser, allowed: str, outside: list[str], **options):
    """A context that loads only what starts with `allowed` (the local server, or file://); the rest is refused
    and recorded in `outside`, so no test reaches the internet (the served site asks api.github.com for the
    repository's figures; the offline bundle must ask nothing)."""
    context, _ = gated_context(browser, (allowed,), Traffic(outside=outside), **options)
    return context


def open_page(context, url: str, scheme: str):
    page = context.new_page()
    page.goto(url)
    page.wait_for_load_state("networkidle")  # the search worker has loaded its index: the search box is live
    shown = page.evaluate("document.body.getAttribute('data-md-color-scheme')")
    assert shown == SCHEMES[scheme], f"{url} shows the {shown!r} scheme, not {SCHEMES[scheme]!r}"
    return page


# axe ------------------------------------------------------------------------------------------------------------


def assert_no_blocking_violations(page) -> None:
    violations = blocking_violations(page)
    assert not violations, f"{page.url}\n{describe(violations)}"


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("kind", PAGES)
def test_every_kind_of_page_has_no_serious_axe_violation(served, browser, kind, scheme):
    outside: list[str] = []
    context = local_context(browser, served, outside, color_scheme=scheme, viewport=DESK)
    try:
        assert_no_blocking_violations(open_page(context, served + url_path(PAGES[kind]), scheme))
    finally:
        context.close()


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("kind", ON_A_PHONE)
def test_on_a_phone_too(served, browser, kind, scheme):
    outside: list[str] = []
    context = local_context(browser, served, outside, color_scheme=scheme, viewport=PHONE, has_touch=True)
    try:
        assert_no_blocking_violations(open_page(context, served + url_path(PAGES[kind]), scheme))
    finally:
        context.close()


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_open_search_with_results_and_a_catalogue_that_matches_nothing(served, browser, scheme):
    outside: list[str] = []
    context = local_context(browser, served, outside, color_scheme=scheme, viewport=DESK)
    try:
        page = open_page(context, served, scheme)
        page.click(".md-search__input")
        page.keyboard.type("migration")
        page.wait_for_selector(".md-search-result__item")
        assert_no_blocking_violations(page)

        page = open_page(context, served + url_path(PAGES["catalogue"]) + "#q=no-task-says-this", scheme)
        page.wait_for_selector("[data-catalogue-empty]:not([hidden])")
        assert_no_blocking_violations(page)
    finally:
        context.close()


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("kind", ["home", "source runbook", "catalogue"])
def test_the_offline_bundle_opened_from_disk(unpacked, browser, kind, scheme):
    outside: list[str] = []
    context = local_context(browser, "file://", outside, color_scheme=scheme, viewport=DESK)
    try:
        page = open_page(context, (unpacked / built_path(PAGES[kind], "file")).as_uri(), scheme)
        assert_no_blocking_violations(page)
    finally:
        context.close()
    assert outside == []


# What axe cannot judge -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def desk(served, browser):
    outside: list[str] = []
    context = local_context(browser, served, outside, color_scheme="light", viewport=DESK)
    yield context
    context.close()


def test_each_runbook_checkbox_is_named_by_its_step_and_task(served, desk):
    catalogue = load_valid_catalogue(REPO / "data")
    source = catalogue.records("migration_sources")[0]["id"]
    tasks = Relations(catalogue).tasks_for_source(source)
    page = open_page(desk, served + url_path(f"runbooks/sources/{source}.md"), "light")

    names = [f"Step {number} done: Task {task['id']}: {title(task)}" for number, task in enumerate(tasks, start=1)]
    assert page.get_by_role("checkbox").count() == len(names)
    for name in names:
        assert page.get_by_role("checkbox", name=name, exact=True).count() == 1, name


def title(task: dict) -> str:
    flags = [" (optional)" if task.get("optional") else "", " (if applicable)" if task.get("if_applicable") else ""]
    return " ".join(str(task["title"]).split()) + "".join(flags)


def first_glossary_entry() -> dict:
    return sorted(load_valid_catalogue(REPO / "data").records("glossary"), key=lambda entry: entry["term"])[0]


def shown_tooltip(page, acronym) -> str:
    """The text of the tooltip the theme shows for an acronym, found through the acronym's aria-describedby."""
    page.wait_for_function("element => element.getAttribute('aria-describedby')", arg=acronym.element_handle())
    tooltip = page.locator(f"[id={json.dumps(acronym.get_attribute('aria-describedby'))}]")
    tooltip.wait_for(state="visible")
    return " ".join(tooltip.inner_text().split())


def test_an_acronym_expands_on_keyboard_focus(served, desk):
    entry = first_glossary_entry()
    page = open_page(desk, served + url_path("glossary.md"), "light")
    acronym = page.locator("article abbr", has_text=entry["term"]).first

    assert acronym.evaluate("element => element.tabIndex") == 0  # in the Tab order
    acronym.focus()
    assert page.evaluate("document.activeElement.tagName") == "ABBR"
    assert shown_tooltip(page, acronym) == " ".join(str(entry["expansion"]).split())


def test_an_acronym_expands_on_a_tap(served, browser):
    entry = first_glossary_entry()
    outside: list[str] = []
    context = local_context(browser, served, outside, color_scheme="dark", viewport=PHONE, has_touch=True)
    try:
        page = open_page(context, served + url_path("glossary.md"), "dark")
        acronym = page.locator("article abbr", has_text=entry["term"]).first
        acronym.tap()
        assert shown_tooltip(page, acronym) == " ".join(str(entry["expansion"]).split())
    finally:
        context.close()


def test_a_catalogue_view_that_matches_nothing_says_so_and_clears(served, desk):
    total = len(load_valid_catalogue(REPO / "data").records("tasks"))
    page = open_page(desk, served + url_path("catalogue.md") + "#q=no-task-says-this", "light")
    page.wait_for_selector(".playbook-catalogue form:not([hidden])")
    empty = page.locator("[data-catalogue-empty]")

    assert empty.is_visible()
    assert "No task matches" in empty.inner_text()
    assert page.locator(".playbook-catalogue tbody tr:not([hidden])").count() == 0

    empty.get_by_role("button", name="Clear filters").click()
    assert page.locator(".playbook-catalogue tbody tr:not([hidden])").count() == total
    assert empty.is_hidden()
    assert page.evaluate("document.activeElement.name") == "q"  # back at the search box, ready for new words
