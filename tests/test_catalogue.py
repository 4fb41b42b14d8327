"""The faceted task catalogue in a real headless Chromium, opened from disk: the built site, the offline bundle,
hostile data, and a catalogue of 5,000 tasks.

What a view must show is worked out from the data (owners, stages, sources, flags) and the dependency order,
never read back from the page under test.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import markdown
import pytest
import yaml
from browser import Traffic, gated_context, offline_browser
from conftest import REPO
from site_helpers import make_project, playbook

from generator.data.model import Catalogue
from generator.data.relations import Relations
from generator.data.validate import load_valid_catalogue
from generator.pages.raw_links import resolve_raw_links
from generator.pages.render import SiteRenderer

SCRIPT = REPO / "generator" / "pages" / "assets" / "catalogue.js"
STYLES = REPO / "generator" / "pages" / "assets" / "playbook.css"
HOSTILE_TITLE = "<script>alert(1)</script> *x* [y](javascript:z) \"><img src=x onerror=alert(2)> & 'q'"
HOSTILE_ROLE = 'Migration Support Team "><img src=x onerror=alert(3)> *c* [d](javascript:e)'
FORM = ".playbook-catalogue form"
QUERY = ".playbook-catalogue input[name=q]"
SHOWN_ROWS = ".playbook-catalogue tbody tr:not([hidden])"
HYBRID = [3160, 3159, 3158, 3157]  # On-premises Exchange Hybrid setup, parts 1 to 4


# The builds -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> tuple[Catalogue, list[dict]]:
    """The shipped data as the build sees it, and every task in dependency order."""
    catalogue = load_valid_catalogue(REPO / "data")
    return catalogue, Relations(catalogue).task_order


@pytest.fixture(scope="module")
def site(shipped_site: Path) -> Path:
    return shipped_site


@pytest.fixture(scope="module")
def unpacked(shipped_unpacked: Path) -> Path:
    return shipped_unpacked


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A task title and a role name that try every way out of an HTML text node and attribute, and into Markdown."""
    project = make_project(tmp_path_factory.mktemp("hostile"))
    replace_in(
        project / "data" / "tasks.yml", "title: Finish the technical assessment", f"title: {quoted(HOSTILE_TITLE)}"
    )
    replace_in(project / "data" / "roles.yml", "name: Migration Support Team", f"name: {quoted(HOSTILE_ROLE)}")
    result = playbook("build", "--site-dir", "site", cwd=project)
    assert result.returncode == 0, result.stderr
    return project / "site"


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def quoted(value: str) -> str:
    """A YAML single-quoted scalar."""
    return "'" + value.replace("'", "''") + "'"


def catalogue_paths(site: Path, unpacked: Path) -> dict[str, Path]:
    return {"site": site / "catalogue" / "index.html", "bundle": unpacked / "catalogue.html"}


# The browser ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browsers():
    """Two contexts of one headless Chromium, each refusing and logging every request outside file://: one for
    the offline bundle (and the page of 5,000 tasks), one for the built site, so that each keeps its own log."""
    with offline_browser() as (bundle_context, bundle_traffic):
        yield {"bundle": (bundle_context, bundle_traffic), "site": gated_context(bundle_context.browser)}


def script_errors(traffic: Traffic) -> list[str]:
    """Errors scripts raised, less the one the site (not the bundle) gives when opened from disk: Material's
    search worker cannot load its index from file://. The bundle is built for file:// and must give none."""
    site_search = re.compile(r"Invalid script: file://.*/site/search/search_index\.js")
    return [error for error in traffic.errors if not site_search.fullmatch(error)]


def open_catalogue(context, path: Path, fragment: str = "", timeout_ms: float = 30_000):
    page = context.new_page()
    page.goto(path.as_uri() + (f"#{fragment}" if fragment else ""), timeout=timeout_ms)
    # the script ran, and only then shows the filters
    page.wait_for_selector(f"{FORM}:not([hidden])", timeout=timeout_ms)
    return page


def shown_tasks(page) -> list[int]:
    return [int(number) for number in page.locator(f"{SHOWN_ROWS} td:first-child").all_inner_texts()]


def count_text(page) -> str:
    return page.inner_text("[data-catalogue-count]")


def wait_for_hash(page, fragment: str) -> None:
    """The script writes the hash as it shows the rows, so the rows are up to date once the hash is."""
    page.wait_for_url(re.compile(re.escape(f"#{fragment}") + "$" if fragment else r"^[^#]*$"))


# What the data says a view must show ----------------------------------------------------------------------------


def expected(tasks: list[dict], role: str = "", stage: str = "", source: str = "", flag: str = "") -> list[int]:
    """Task numbers a view shows, in dependency order; a task without sources applies to every source."""
    return [
        task["id"]
        for task in tasks
        if (not role or task["owner"] == role)
        and (not stage or task["stage"] == stage)
        and (not source or source in task.get("sources", [source]))
        and (flag != "optional" or task.get("optional", False))
        and (flag != "if-applicable" or task.get("if_applicable", False))
    ]


def expected_words(tasks: list[dict], roles: dict[str, dict], query: str) -> list[int]:
    """Tasks whose number, title or owner (name and acronym) hold every word of the query, in any case."""

    def text(task: dict) -> str:
        owner = roles[task["owner"]]
        acronym = f" ({owner['acronym']})" if owner.get("acronym") else ""
        return f"{task['id']} {task['title']} {owner['name']}{acronym}".lower()

    return [task["id"] for task in tasks if all(word in text(task) for word in query.lower().split())]


def hash_filters(fragment: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in fragment.split("&"))


# The HTML as built, before any script ---------------------------------------------------------------------------


class _CatalogueReader(HTMLParser):
    """The catalogue's rows (data attributes, cell texts, links) and the filter form's attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[dict] = []
        self.form: dict[str, str | None] | None = None
        self.elements: list[str] = []
        self._in_catalogue = False
        self._in_body = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "div" and values.get("class") == "playbook-catalogue":
            self._in_catalogue = True
        if not self._in_catalogue:
            return
        self.elements.append(tag)
        if tag == "form":
            self.form = values
        if tag == "tbody":
            self._in_body = True
        if tag == "tr" and self._in_body:
            self.rows.append({"attrs": values, "cells": [], "links": []})
        if tag == "td" and self._in_body:
            self._cell = []
        if tag == "a" and self._cell is not None:
            self.rows[-1]["links"].append(values.get("href"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1]["cells"].append("".join(self._cell))
            self._cell = None
        if tag == "tbody":
            self._in_body = False
        if tag == "table":
            self._in_catalogue = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def read_catalogue(path: Path) -> _CatalogueReader:
    reader = _CatalogueReader()
    reader.feed(path.read_text(encoding="utf-8"))
    reader.close()
    return reader


@pytest.mark.parametrize("where", ["site", "bundle"])
def test_the_html_lists_every_task_in_dependency_order_with_its_facets(site, unpacked, shipped, where):
    catalogue, tasks = shipped
    reader = read_catalogue(catalogue_paths(site, unpacked)[where])
    roles, stages, sources = (catalogue.index(name) for name in ("roles", "migration_stages", "migration_sources"))

    assert [int(row["cells"][0]) for row in reader.rows] == [task["id"] for task in tasks]
    for row, task in zip(reader.rows, tasks, strict=True):
        attrs = row["attrs"]
        assert attrs["data-role"] == task["owner"] and attrs["data-stage"] == task["stage"]
        assert attrs["data-sources"] == (" ".join(task["sources"]) if task.get("sources") else "all")
        assert ("data-optional" in attrs) == task.get("optional", False)
        assert ("data-if-applicable" in attrs) == task.get("if_applicable", False)
        assert row["cells"][1].startswith(task["title"])
        assert row["cells"][2] == roles[task["owner"]]["name"]
        assert row["cells"][3] == stages[task["stage"]]["name"]
        assert row["cells"][4] == (", ".join(sources[s]["name"] for s in task.get("sources", [])) or "all")
    assert reader.form is not None and "hidden" in reader.form  # no form that cannot work without the script


def test_the_links_in_the_table_lead_to_pages_as_built(site, unpacked):
    site_row = next(r for r in read_catalogue(site / "catalogue" / "index.html").rows if r["cells"][0] == "3392")
    bundle_row = next(r for r in read_catalogue(unpacked / "catalogue.html").rows if r["cells"][0] == "3392")

    assert site_row["links"] == ["../tasks/3392/", "../roles/mvm/", "../stages/onboard/"]
    assert bundle_row["links"] == ["tasks/3392.html", "roles/mvm.html", "stages/onboard.html"]
    source_links = {link for row in read_catalogue(unpacked / "catalogue.html").rows for link in row["links"][3:]}
    assert source_links == {
        f"sources/{source}.html" for source in ("imap", "box", "dropbox", "google-drive", "file-share")
    }
    for folder, row in ((site / "catalogue", site_row), (unpacked, bundle_row)):
        for href in row["links"]:
            target = (folder / href).resolve()
            assert (target / "index.html" if href.endswith("/") else target).is_file(), href


@pytest.mark.parametrize("where", ["site", "bundle"])
def test_with_javascript_off_every_row_shows_and_the_form_stays_hidden(site, unpacked, shipped, browsers, where):
    _, tasks = shipped
    context, traffic = gated_context(browsers["bundle"][0].browser, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(catalogue_paths(site, unpacked)[where].as_uri() + "#role=mvm")

        rows = page.locator(".playbook-catalogue tbody tr")
        assert rows.count() == len(tasks)
        assert all(rows.nth(i).is_visible() for i in range(rows.count()))
        assert not page.locator(FORM).is_visible()
        assert count_text(page) == f"Showing {len(tasks)} of {len(tasks)} tasks"
        assert traffic.outside == []
    finally:
        context.close()


# Filtering, from disk -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["site", "bundle"])
@pytest.mark.parametrize(
    "fragment",
    ["role=mvm", "flag=optional", "flag=if-applicable", "role=mst&stage=prepare", "source=imap&flag=if-applicable"],
)
def test_a_shared_link_opens_exactly_that_view(site, unpacked, shipped, browsers, where, fragment):
    context, traffic = browsers[where]
    _, tasks = shipped
    filters = hash_filters(fragment)
    want = expected(tasks, **filters)
    page = open_catalogue(context, catalogue_paths(site, unpacked)[where], fragment)

    assert want and len(want) < len(tasks)
    assert shown_tasks(page) == want
    assert count_text(page) == f"Showing {len(want)} of {len(tasks)} tasks"
    for name, value in filters.items():
        assert page.input_value(f".playbook-catalogue select[name={name}]") == value
    assert page.url.endswith(f"#{fragment}")  # opening a view leaves its link as it was
    assert script_errors(traffic) == []
    page.close()


def test_the_mvm_link_shows_the_tasks_data_tasks_yml_gives_the_mvm(unpacked, shipped, browsers):
    context, _ = browsers["bundle"]
    _, tasks = shipped
    written = yaml.safe_load((REPO / "data" / "tasks.yml").read_text(encoding="utf-8"))["tasks"]
    mvm = {task["id"] for task in written if task["owner"] == "mvm"}
    page = open_catalogue(context, unpacked / "catalogue.html", "role=mvm")

    assert mvm and set(shown_tasks(page)) == mvm
    assert count_text(page) == f"Showing {len(mvm)} of {len(tasks)} tasks"
    assert page.locator(".playbook-catalogue select[name=role] option:checked").inner_text() == (
        "Migration Velocity Manager (MVM)"
    )
    page.close()


@pytest.mark.parametrize("where", ["site", "bundle"])
def test_choosing_a_stage_filters_the_rows_and_writes_the_hash(site, unpacked, shipped, browsers, where):
    context, traffic = browsers[where]
    _, tasks = shipped
    path = catalogue_paths(site, unpacked)[where]
    page = open_catalogue(context, path)
    history = page.evaluate("history.length")
    assert len(shown_tasks(page)) == len(tasks)

    page.select_option(".playbook-catalogue select[name=stage]", "onboard")
    wait_for_hash(page, "stage=onboard")
    assert shown_tasks(page) == expected(tasks, stage="onboard")
    assert count_text(page) == f"Showing {len(expected(tasks, stage='onboard'))} of {len(tasks)} tasks"

    page.select_option(".playbook-catalogue select[name=role]", "frp")
    wait_for_hash(page, "role=frp&stage=onboard")
    assert shown_tasks(page) == expected(tasks, role="frp", stage="onboard")

    page.click("[data-catalogue-clear]")
    wait_for_hash(page, "")
    assert len(shown_tasks(page)) == len(tasks)
    assert page.url == path.as_uri()  # no query string, no reload
    assert page.evaluate("history.length") == history  # replaced, not pushed: Back leaves the page at once
    assert script_errors(traffic) == []
    page.close()


@pytest.mark.parametrize("source", ["box", "imap"])
def test_a_source_keeps_the_tasks_that_apply_to_every_source(unpacked, shipped, browsers, source):
    context, _ = browsers["bundle"]
    _, tasks = shipped
    page = open_catalogue(context, unpacked / "catalogue.html")

    page.select_option(".playbook-catalogue select[name=source]", source)
    wait_for_hash(page, f"source={source}")
    shown = shown_tasks(page)
    everywhere = [task["id"] for task in tasks if not task.get("sources")]
    elsewhere = [task["id"] for task in tasks if task.get("sources") and source not in task["sources"]]

    assert shown == expected(tasks, source=source)
    assert everywhere and set(everywhere) <= set(shown)
    assert elsewhere and not set(elsewhere) & set(shown)
    page.close()


@pytest.mark.parametrize("where", ["site", "bundle"])
def test_typing_filters_by_number_title_and_owner(site, unpacked, shipped, browsers, where):
    context, traffic = browsers[where]
    catalogue, tasks = shipped
    roles = catalogue.index("roles")
    page = open_catalogue(context, catalogue_paths(site, unpacked)[where])

    page.locator(QUERY).press_sequentially("HyBrid", delay=20)  # keystrokes, as a reader types; any case
    wait_for_hash(page, "q=HyBrid")
    assert sorted(shown_tasks(page), reverse=True) == HYBRID
    assert count_text(page) == f"Showing 4 of {len(tasks)} tasks"

    page.locator(QUERY).fill("3306")
    wait_for_hash(page, "q=3306")
    assert shown_tasks(page) == [3306]

    page.locator(QUERY).fill("mvm HAND")  # every word must match; the owner's acronym counts
    wait_for_hash(page, "q=mvm+HAND")
    assert shown_tasks(page) == expected_words(tasks, roles, "mvm hand") != []

    page.locator(QUERY).fill("no such task")
    wait_for_hash(page, "q=no+such+task")
    assert shown_tasks(page) == [] and count_text(page) == f"Showing 0 of {len(tasks)} tasks"

    page.keyboard.press("Enter")  # submitting the form filters; it loads no page
    assert page.url == catalogue_paths(site, unpacked)[where].as_uri() + "#q=no+such+task"
    assert script_errors(traffic) == []
    page.close()


def test_a_hash_that_is_not_a_filter_shows_everything_and_unknown_values_are_ignored(unpacked, shipped, browsers):
    context, _ = browsers["bundle"]
    _, tasks = shipped
    page = open_catalogue(context, unpacked / "catalogue.html", "task-catalogue")  # the heading's permalink
    assert len(shown_tasks(page)) == len(tasks)
    page.close()

    page = open_catalogue(context, unpacked / "catalogue.html", "role=nobody&stage=close")
    assert shown_tasks(page) == expected(tasks, stage="close")
    assert page.input_value(".playbook-catalogue select[name=role]") == ""
    page.close()


def test_following_a_view_link_on_the_open_page_applies_it(unpacked, shipped, browsers):
    context, _ = browsers["bundle"]
    _, tasks = shipped
    page = open_catalogue(context, unpacked / "catalogue.html", "role=mvm")

    page.evaluate("location.hash = 'stage=close&flag=if-applicable'")
    page.wait_for_function("() => document.querySelector('select[name=stage]').value === 'close'")
    assert shown_tasks(page) == expected(tasks, stage="close", flag="if-applicable")
    assert page.input_value(".playbook-catalogue select[name=role]") == ""
    page.close()


def test_a_link_in_the_bundle_catalogue_opens_the_task(unpacked, browsers):
    context, traffic = browsers["bundle"]
    page = open_catalogue(context, unpacked / "catalogue.html", "role=mvm")

    page.click(f"{SHOWN_ROWS} >> a:text-is('3392')")
    page.wait_for_url("**/tasks/3392.html")
    assert "Task 3392" in page.inner_text("article")
    assert traffic.failed == [] and script_errors(traffic) == []
    page.close()


def test_hostile_data_stays_text(hostile_site: Path, browsers):
    context, traffic = browsers["site"]
    path = hostile_site / "catalogue" / "index.html"
    html = path.read_text(encoding="utf-8")
    reader = read_catalogue(path)
    row = next(r for r in reader.rows if r["cells"][0] == "1699")
    mst_rows = [r for r in reader.rows if r["attrs"]["data-role"] == "mst"]

    assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
    assert "script" not in reader.elements and "img" not in reader.elements
    assert row["cells"][1] == HOSTILE_TITLE
    assert mst_rows and all(r["cells"][2] == HOSTILE_ROLE for r in mst_rows)

    dialogs: list[str] = []
    page = context.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_selector(f"{FORM}:not([hidden])")
    assert page.locator(".playbook-catalogue").locator("script, img").count() == 0
    assert HOSTILE_TITLE in page.inner_text(".playbook-catalogue table")
    assert HOSTILE_ROLE in page.inner_text(".playbook-catalogue select[name=role]")

    page.locator(QUERY).press_sequentially("onerror=alert(2)")
    wait_for_hash(page, "q=onerror%3Dalert%282%29")
    assert shown_tasks(page) == [1699]

    page.locator(QUERY).fill("")
    page.select_option(".playbook-catalogue select[name=role]", "mst")
    wait_for_hash(page, "role=mst")
    assert len(shown_tasks(page)) == len(mst_rows)
    assert set(page.locator(f"{SHOWN_ROWS} td:nth-child(3)").all_inner_texts()) == {HOSTILE_ROLE}
    assert dialogs == [] and script_errors(traffic) == []
    page.close()


def test_pages_without_a_catalogue_load_the_script_and_nothing_breaks(unpacked, browsers):
    context, traffic = browsers["bundle"]
    for name in ("index.html", "tasks/3392.html", "roles/mvm.html"):
        page = context.new_page()
        page.goto((unpacked / name).as_uri() + "#role=mvm")
        page.wait_for_load_state("load")
        assert page.locator("script[src$='catalogue.js']").count() == 1
        assert page.url.endswith("#role=mvm")  # the script left the page alone
        page.close()
    assert script_errors(traffic) == []


def test_no_request_leaves_the_disk(site, unpacked, hostile_site, browsers):
    """The bundle's catalogue fetches nothing at all. The site, built to be served, asks for nothing either,
    except what the theme adds to every page of it: the repository widget's call to api.github.com."""
    bundle_context, bundle_traffic = browsers["bundle"]
    site_context, site_traffic = browsers["site"]
    for context, path in (
        (bundle_context, unpacked / "catalogue.html"),
        (site_context, site / "catalogue" / "index.html"),
        (site_context, hostile_site / "catalogue" / "index.html"),
    ):
        page = open_catalogue(context, path, "role=mvm&q=hand")
        page.select_option(".playbook-catalogue select[name=stage]", "migrate")
        wait_for_hash(page, "role=mvm&stage=migrate&q=hand")
        page.close()

    assert bundle_traffic.outside == [] and bundle_traffic.failed == [] and script_errors(bundle_traffic) == []
    assert {urlsplit(url).netloc for url in site_traffic.outside} <= {"api.github.com"}
    assert script_errors(site_traffic) == []


# 5,000 tasks ----------------------------------------------------------------------------------------------------

ROLES = ["frp", "mst", "mvm", "customer", "ftvm", "sme"]
STAGES = ["assess", "prepare", "onboard", "migrate", "close"]
SOURCES = ["imap", "box", "dropbox", "google-drive", "file-share"]
WORDS = ["review", "plan", "confirm", "schedule", "validate", "migrate", "configure", "prepare", "test", "assess"]


def synthetic_catalogue(count: int) -> Catalogue:
    """The shipped catalogue with synthetic tasks added until there are `count`: owners, stages, sources and
    flags spread over every value, no prerequisites."""
    shipped = load_valid_catalogue(REPO / "data")
    tasks = list(shipped.records("tasks"))
    for number in range(count - len(tasks)):
        task = {
            "id": 100_000 + number,
            "title": f"{WORDS[number % len(WORDS)].capitalize()} {WORDS[(number // 7) % len(WORDS)]} batch {number}",
            "owner": ROLES[number % len(ROLES)],
            "stage": STAGES[(number // 3) % len(STAGES)],
        }
        if number % 3:
            task["sources"] = sorted({SOURCES[number % 5], SOURCES[(number // 5) % 5]})
        if number % 7 == 0:
            task["optional"] = True
        if number % 11 == 0:
            task["if_applicable"] = True
        tasks.append(task)
    return Catalogue({**shipped.collections, "tasks": tasks})


@pytest.fixture(scope="module")
def large_page(tmp_path_factory: pytest.TempPathFactory):
    """The catalogue page for 5,000 tasks: the real template, through Python-Markdown with the site's
    extensions, in a plain page that loads the real script and stylesheet (building a whole site of 5,000 tasks
    takes minutes; benchmarks/ is the place for that)."""
    catalogue = synthetic_catalogue(5000)
    body = SiteRenderer(catalogue)._render("catalogue.md.j2", "catalogue.md")
    config = yaml.load((REPO / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_IgnoreTags)
    extensions = [name if isinstance(name, str) else next(iter(name)) for name in config["markdown_extensions"]]
    html = resolve_raw_links(markdown.markdown(body, extensions=extensions), "catalogue.md", directory_urls=False)
    path = tmp_path_factory.mktemp("large") / "catalogue.html"
    path.write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Task catalogue</title>'
        f'<link rel="stylesheet" href="{STYLES.as_uri()}"></head><body><article class="md-typeset">{html}</article>'
        f'<script src="{SCRIPT.as_uri()}"></script></body></html>',
        encoding="utf-8",
    )
    return path, Relations(catalogue).task_order, catalogue.index("roles")


class _IgnoreTags(yaml.SafeLoader):
    """mkdocs.yml as plain data: its `!ENV` tags are read as the list they tag."""


_IgnoreTags.add_multi_constructor("!", lambda loader, suffix, node: loader.construct_sequence(node))


def test_the_filters_work_with_5000_tasks(large_page, browsers):
    context, traffic = browsers["bundle"]
    path, tasks, roles = large_page
    assert len(tasks) == 5000
    # 5,000 rows take a while to lay out on a busy 2-core machine: a bound on the wait, not a speed target (that is
    # benchmarks/reader_speed.py's)
    page = open_catalogue(context, path, "role=mvm&flag=optional", timeout_ms=90_000)

    want = expected(tasks, role="mvm", flag="optional")
    assert shown_tasks(page) == want
    assert count_text(page) == f"Showing {len(want)} of 5000 tasks"

    page.select_option(".playbook-catalogue select[name=flag]", "")
    page.select_option(".playbook-catalogue select[name=source]", "box")
    wait_for_hash(page, "role=mvm&source=box")
    want = expected(tasks, role="mvm", source="box")
    assert shown_tasks(page) == want
    assert count_text(page) == f"Showing {len(want)} of 5000 tasks"

    page.select_option(".playbook-catalogue select[name=role]", "")
    page.select_option(".playbook-catalogue select[name=source]", "")
    page.locator(QUERY).press_sequentially("Batch 12")
    wait_for_hash(page, "q=Batch+12")
    want = expected_words(tasks, roles, "batch 12")
    assert shown_tasks(page) == want and len(want) > 100
    assert page.locator(".playbook-catalogue tbody tr[hidden]").count() == 5000 - len(want)

    page.click("[data-catalogue-clear]")
    wait_for_hash(page, "")
    assert page.locator(SHOWN_ROWS).count() == 5000
    assert traffic.outside == [] and script_errors(traffic) == []
    page.close()
