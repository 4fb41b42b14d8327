"""The four journeys readers come for, walked in a real headless Chromium on the site served under its path
(a local HTTP server on 127.0.0.1, at /partner-playbook/ as `site_url` says) and on the offline bundle opened
from disk: choose an option; get the Google Drive runbook and print it; open task 3306 from its number; learn
what the MVM does and where it still applies. Then search, diagrams at two widths, and print read back with
poppler's pdftotext.

What a page must say is worked out from the data (roles, limits, sources, dates), never read back from the page
under test.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import LOCAL_SERVER, Traffic, gated_context, launched_chromium
from conftest import REPO
from site_helpers import read_page

from generator.data.relations import Relations
from generator.data.validate import load_valid_catalogue, validate_data
from generator.pages.addresses import Linker, continuation_uri
from generator.pages.diagrams import migration_flow
from generator.pages.render import SiteRenderer

#: Where the site is served: the path of mkdocs.yml's `site_url`, as GitHub Pages serves a project's site.
SEARCH = "input[data-md-component=search-query]"
RESULT = ".md-search-result__link"
SEARCH_READY = ".md-search-result__meta:has-text('Type to start searching')"


# The data, as the build sees it ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalogue():
    return load_valid_catalogue(REPO / "data")


def retired_roles(catalogue) -> dict[str, dict]:
    """Role ID → its "retired" limit."""
    return {
        role["id"]: limit
        for role in catalogue.records("roles")
        for limit in role.get("limits", [])
        if limit["kind"] == "retired"
    }


def last_checked(catalogue) -> str:
    return max(page["reviewed"] for page in catalogue.records("source_pages") if "reviewed" in page)


# The builds, the server and the browser -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(shipped_site: Path) -> Path:
    return shipped_site


@pytest.fixture(scope="module")
def unpacked(shipped_unpacked: Path) -> Path:
    return shipped_unpacked


@pytest.fixture(scope="module")
def served(shipped_served: str) -> str:
    return shipped_served


@pytest.fixture(scope="module")
def chromium():
    with launched_chromium() as browser:
        yield browser


def local_context(browser, **options) -> tuple[object, Traffic]:
    """A context that may load file:// and the local server only; anything else is refused and recorded."""
    return gated_context(browser, ("file://", LOCAL_SERVER), **options)


@pytest.fixture(params=["served", "bundle"])
def home(request, chromium, unpacked: Path) -> Iterator[tuple[object, str, Traffic]]:
    """A fresh context and the home page's address: the served site, or the bundle from disk."""
    context, traffic = local_context(chromium, viewport={"width": 1280, "height": 900})
    url = request.getfixturevalue("served") if request.param == "served" else (unpacked / "index.html").as_uri()
    try:
        yield context, url, traffic
    finally:
        context.close()
    # The served site's repository widget asks GitHub for its stars (refused here); the bundle asks for nothing.
    widget = "https://api.github.com/repos/"
    assert [url for url in traffic.outside if request.param == "bundle" or not url.startswith(widget)] == []
    assert traffic.errors == []


def open_page(context, url: str):
    page = context.new_page()
    page.goto(url)
    page.wait_for_load_state()
    return page


def follow(page, selector: str) -> None:
    """Clicks the first link matching `selector` in the page's article, as a reader does."""
    page.locator("article").locator(selector).first.click()
    page.wait_for_load_state()


# Journey 1: choose an option from the home page ------------------------------------------------------------------


def test_choosing_an_option_from_the_home_page(home, catalogue):
    context, url, _ = home
    page = open_page(context, url)

    follow(page, "a:has-text('comparison of options')")
    headers = page.locator("article table th").all_inner_texts()
    assert headers[:4] == ["Option", "Who does the work", "What it asks of your team", "When it fits"]
    assert page.locator("article a[href*='choosing-an-option']").count() >= 1
    assert page.locator("article a[href*='options-by-phase']").count() >= 1
    assert "microsoft, partner" not in page.inner_text("article")  # readers' words, not the data's values

    ammp = catalogue.index("options")["ammp"]
    follow(page, f"table a:has-text('{ammp['name']}')")
    text = page.inner_text("article")
    assert "ammp" in page.url
    assert "When it fits" in text and ammp["fits_when"] in text
    assert "Execution option for" not in text
    video = [link["url"] for link in ammp["links"] if "video" in link["title"].lower()]
    assert video and page.locator(f"article a[href='{video[0]}']").count() == 1


# Journey 2: the Google Drive runbook, in at most two clicks, then on paper ---------------------------------------


def test_the_google_drive_runbook_is_one_click_from_home_and_prints_on_four_sheets(home, catalogue, tmp_path):
    context, url, _ = home
    page = open_page(context, url)

    follow(page, "a[href*='runbooks/sources/google-drive']")
    assert "Runbook: Google Drive" in page.inner_text("article h1")

    sheets = printed_sheets(page, tmp_path)
    steps = [task["id"] for task in Relations(catalogue).tasks_for_source("google-drive")]
    assert 1 <= len(sheets) <= 4
    assert re.search(rf"^\s*1\.\s+Task {steps[0]}\b", sheets[0], re.M)  # the first step is on sheet 1
    assert last_checked(catalogue) in sheets[0]
    assert "runbooks/sources/google-drive" in re.sub(r"\s+", "", sheets[0])  # the page's address
    assert all(f"Task {step}" in "".join(sheets) for step in steps)
    stages = {stage["name"] for stage in catalogue.records("migration_stages")}
    for sheet in sheets:
        lines = [line.strip() for line in sheet.splitlines() if line.strip()]
        assert lines and lines[-1] not in stages, f"a stage heading ends a sheet: {lines[-3:]}"


def printed_sheets(page, tmp_path: Path) -> list[str]:
    """The page printed to A4 by Chromium, read back with poppler's pdftotext: one text per sheet."""
    page.emulate_media(media="print")
    pdf = tmp_path / "printed.pdf"
    pdf.write_bytes(page.pdf(format="A4"))
    page.emulate_media(media="screen")
    text = subprocess.run(
        [shutil.which("pdftotext") or "pdftotext", "-layout", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [sheet for sheet in text.split("\f") if sheet.strip()]


def test_a_printed_runbook_leaves_out_its_picture_and_the_screen_furniture(site: Path, chromium, tmp_path):
    context, _ = local_context(chromium)
    page = open_page(context, (site / "runbooks" / "sources" / "box" / "index.html").as_uri())
    page.emulate_media(media="print")
    shown = page.evaluate(
        "['.md-header', '.md-tabs', '.md-search', '.md-footer', 'h2.runbook-picture', '.playbook-diagram']"
        ".map(s => document.querySelector(s)).filter(Boolean).map(e => getComputedStyle(e).display)"
    )
    breaks = page.evaluate(
        "[...document.querySelectorAll('h2.runbook-stage')].map(h => [getComputedStyle(h).breakBefore,"
        " getComputedStyle(h).breakAfter])"
    )
    context.close()

    assert shown and set(shown) == {"none"}
    assert breaks and all(pair == ["auto", "avoid"] for pair in breaks)


# Ticks that survive a reload -------------------------------------------------------------------------------------


def test_ticked_steps_survive_a_reload_per_runbook(home):
    context, url, _ = home
    page = open_page(context, url)
    follow(page, "a[href*='runbooks/sources/google-drive']")
    boxes = page.locator("input.runbook-check")
    boxes.nth(1).check()
    task = boxes.nth(1).get_attribute("data-task")

    page.reload()
    page.wait_for_load_state()
    assert page.locator(f"input.runbook-check[data-task='{task}']").is_checked()
    assert page.locator("input.runbook-check:checked").count() == 1

    other = page.url.replace("google-drive", "box")
    page.goto(other)
    assert page.locator("input.runbook-check:checked").count() == 0  # each runbook keeps its own ticks


def test_without_storage_the_boxes_still_tick_and_nothing_breaks(site: Path, chromium):
    context, _ = local_context(chromium)
    stacks: list[str] = []
    context.on("weberror", lambda error: stacks.append(str(getattr(error.error, "stack", "") or error.error)))
    context.add_init_script(
        "Object.defineProperty(window, 'localStorage', {get() { throw new DOMException('denied', 'SecurityError'); }});"
    )
    page = open_page(context, (site / "runbooks" / "sources" / "imap" / "index.html").as_uri())
    box = page.locator("input.runbook-check").first
    box.check()
    checked = box.is_checked()
    context.close()

    assert checked
    # The theme's own scripts may stumble without storage; ours must not.
    assert [stack for stack in stacks if "reader.js" in stack] == []


# Journey 3: task 3306 from its number ----------------------------------------------------------------------------


def test_opening_task_3306_from_its_number(home):
    context, url, _ = home
    page = open_page(context, url)

    follow(page, "a:has-text('Playbook tasks')")
    page.wait_for_selector("form.playbook-jump:not([hidden])")
    page.fill("form.playbook-jump input[name=task]", "3306")
    page.press("form.playbook-jump input[name=task]", "Enter")
    page.wait_for_url(re.compile(r"tasks/3306(/|\.html)"))
    assert page.inner_text("article h1").startswith("Task 3306")


def test_the_jump_box_explains_what_it_wants(site: Path, chromium):
    context, _ = local_context(chromium)
    page = open_page(context, (site / "tasks" / "index.html").as_uri())
    page.fill("form.playbook-jump input[name=task]", "hybrid")
    page.press("form.playbook-jump input[name=task]", "Enter")
    message = page.inner_text("form.playbook-jump [data-jump-message]")
    stayed = page.url.endswith("tasks/index.html")
    context.close()

    assert stayed and "task number" in message


def test_tasks_by_number_list_every_task_in_number_order(site: Path, catalogue):
    numbers: list[int] = []
    for number in range(1, len(catalogue.records("tasks")) + 2):
        uri = continuation_uri("tasks/by-number.md", number).removesuffix(".md") + "/"
        if not (site / uri / "index.html").is_file():
            break
        numbers += [int(link.text) for link in read_page(site, uri).links if re.fullmatch(r"\d+", link.text)]
    assert numbers == sorted(task["id"] for task in catalogue.records("tasks"))


# Journey 4: what the MVM does, and where it still applies ---------------------------------------------------------


def test_learning_what_the_mvm_does_and_where_it_still_applies(home, catalogue):
    context, url, _ = home
    page = open_page(context, url)
    role = catalogue.index("roles")["mvm"]
    limit = retired_roles(catalogue)["mvm"]
    sources = catalogue.records("migration_sources")

    follow(page, "a[href$='roles/'], a[href$='roles/index.html']")
    follow(page, f"table a:has-text('{role['name']}')")
    text = page.inner_text("article")
    kept = [source["name"] for source in sources if source["id"] in limit["except_sources"]]
    assert f"retired except for {kept[0]}" in text
    rows = {
        cells[0]: cells[1]
        for cells in page.locator("article table tr").evaluate_all(
            "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))"
        )
        if len(cells) == 3
    }
    for source in sources:
        assert rows[source["name"]].startswith("yes" if source["id"] in limit["except_sources"] else "no")
    assert page.locator("article a[href*='runbooks/roles/mvm']").count() == 1

    follow(page, f"a:has-text('{kept[0]} runbook')")
    runbook = page.inner_text("article")
    assert f"takes part in {kept[0]} migrations" in runbook
    assert "no longer applies" not in runbook and f"retired for {kept[0]}" not in runbook


def test_every_retired_role_step_says_who_does_it_now_per_source(site: Path, catalogue):
    relations = Relations(catalogue)
    replacement = retired_roles(catalogue)["mvm"]["replaced_by"]
    mst = catalogue.index("roles")[replacement["questions_to"]]["name"]
    for source in catalogue.records("migration_sources"):
        page = read_page(site, f"runbooks/sources/{source['id']}/")
        mvm_steps = [task for task in relations.tasks_for_source(source["id"]) if task["owner"] == "mvm"]
        now = f"the {replacement['guidance']}'s guidance, with the {mst} for questions"
        said = page.text.count(f"retired for {source['name']}: now {now}")
        if relations.role_applies("mvm", source["id"]):
            assert said == 0
        else:
            assert said == len(mvm_steps) > 0
            assert "our reading" in page.text  # the site says where it infers


def test_source_pages_lead_with_their_runbook_on_every_page_of_their_list(site: Path, catalogue):
    for source in catalogue.records("migration_sources"):
        count = len(Relations(catalogue).tasks_for_source(source["id"]))
        pages = [f"sources/{source['id']}/"] + [f"sources/{source['id']}/{n}/" for n in range(2, count // 20 + 2)]
        for uri in pages:
            if not (site / uri / "index.html").is_file():
                continue
            html = (site / uri / "index.html").read_text()
            article = html[html.index("<h1") :]
            first_link = re.search(r'<a href="([^"]+)"', article[article.index("</h1>") :]).group(1)
            assert f"runbooks/sources/{source['id']}/" in first_link, uri


def test_every_role_page_links_its_runbook_and_the_walkthrough_links_them_all(site: Path, catalogue):
    walkthrough = (site / "fasttrack-migration" / "index.html").read_text()
    home = (site / "index.html").read_text()
    for role in catalogue.records("roles"):
        assert f"runbooks/roles/{role['id']}/" in (site / "roles" / role["id"] / "index.html").read_text()
        assert f"runbooks/roles/{role['id']}/" in walkthrough and f"runbooks/roles/{role['id']}/" in home
    for source in catalogue.records("migration_sources"):
        assert f"runbooks/sources/{source['id']}/" in walkthrough and f"runbooks/sources/{source['id']}/" in home


# The data model of a retired role ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("questions_to: mst", "questions_to: mts", "unknown role 'mts'"),
        ("          guidance: Migration Hub Learning Center\n", "", "guidance"),
    ],
)
def test_a_replacement_is_validated(tmp_path: Path, monkeypatch, old: str, new: str, message: str):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(REPO / "data", tmp_path / "data")
    roles = tmp_path / "data" / "roles.yml"
    assert old in roles.read_text()
    roles.write_text(roles.read_text().replace(old, new, 1))

    result = validate_data(Path("data"))
    assert not result.ok
    assert any(message in problem.message and problem.path.endswith("roles.yml") for problem in result.problems)


def test_only_a_retired_role_has_a_replacement(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(REPO / "data", tmp_path / "data")
    roles = tmp_path / "data" / "roles.yml"
    text = roles.read_text()
    old = "      - kind: opt-in-only\n        text: SMEs are available only to partners"
    assert old in text
    wrong = old.replace("opt-in-only\n", "opt-in-only\n        replaced_by: {guidance: x}\n")
    roles.write_text(text.replace(old, wrong, 1))

    result = validate_data(Path("data"))
    assert not result.ok
    assert any(problem.path.endswith("roles.yml") for problem in result.problems)


# Search ----------------------------------------------------------------------------------------------------------


def search(context, url: str, query: str) -> list[str]:
    """The result links for a query typed into the search box, as page paths."""
    page = open_page(context, url)
    page.focus(SEARCH)
    page.wait_for_selector(SEARCH_READY, state="attached", timeout=30_000)
    page.locator(SEARCH).press_sequentially(query)
    page.wait_for_selector(RESULT, timeout=30_000)
    page.wait_for_timeout(300)  # the list is redrawn after the last keystroke
    hrefs = page.eval_on_selector_all(RESULT, "links => links.map(link => link.href)")
    page.close()
    return [re.sub(r"[?#].*$", "", href).removesuffix("index.html") for href in hrefs]


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("AMMP", "options/ammp"),
        ("CSP", "options/solution-partners"),
        ("Migration Velocity Manager", "roles/mvm"),
        ("retired", "roles/mvm"),
        ("no longer", "roles/mvm"),
    ],
)
def test_search_ranks_the_entity_first(home, query: str, first: str):
    context, url, _ = home
    results = search(context, url, query)
    assert results and re.search(rf"{first}(/|\.html)$", results[0]), results[:5]


def test_search_finds_the_learning_center_notice_on_the_mvm_page(home):
    context, url, _ = home
    results = search(context, url, "Learning Center")
    assert any(re.search(r"roles/mvm(/|\.html)$", result) for result in results[:3]), results[:5]


def test_limit_notices_are_indexed_once_on_the_roles_page(site: Path, catalogue):
    docs = json.loads((site / "search" / "search_index.json").read_text())["docs"]
    for role in catalogue.records("roles"):
        for limit in role.get("limits", []):
            words = " ".join(limit["text"].split())[:60]
            found = {doc["location"].split("#")[0] for doc in docs if words in " ".join(doc["text"].split())}
            assert found == {f"roles/{role['id']}/"}, (role["id"], found)


# Diagrams fit their column ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("uri", ["flow/", "options-by-phase/", "runbooks/sources/google-drive/"])
def test_diagrams_fit_their_column_or_scroll_with_a_visible_hint(site: Path, chromium, width: int, uri: str):
    context, _ = local_context(chromium, viewport={"width": width, "height": 900})
    page = open_page(context, (site / uri / "index.html").as_uri())
    figures = page.eval_on_selector_all(
        ".playbook-diagram",
        "boxes => boxes.map(box => ({fits: box.scrollWidth <= box.clientWidth + 1,"
        " hint: getComputedStyle(box.querySelector('.playbook-diagram__hint')).display !== 'none',"
        " label: box.getAttribute('aria-label') || '', role: box.getAttribute('role'),"
        " font: Math.min(...[...box.querySelectorAll('text')].map(t => t.getBoundingClientRect().height)"
        ".filter(h => h > 0))}))",
    )
    context.close()

    assert figures
    for figure in figures:
        scrolls = figure["hint"] and figure["role"] == "region" and "scrolls sideways" in figure["label"]
        assert figure["fits"] or scrolls
        assert figure["font"] >= 7, figure  # never shrunk to unreadable text
    if width == 1280 and uri == "flow/":
        assert all(figure["fits"] for figure in figures)


def test_no_name_is_cut_in_the_flow(catalogue):
    renderer = SiteRenderer(catalogue)
    svg = str(
        migration_flow(
            renderer.relations,
            Linker("flow.md", renderer.site_map),
            renderer.relations.task_order,
            title="t",
            max_per_stage=50,
        )
    )
    roles = {role["id"]: role["name"] for role in catalogue.records("roles")}
    for box in re.findall(r'<a [^>]*class="task" data-task="\d+">(.*?)</a>', svg):
        owner_lines = re.findall(r'<text[^>]*fill="#4a4a4a"[^>]*>([^<]*)</text>', box)
        assert " ".join(owner_lines) in roles.values(), owner_lines


def test_the_flow_page_draws_the_arrows_its_legend_explains(site: Path):
    html = (site / "flow" / "index.html").read_text()
    assert 'class="dependency"' in html
    assert "waits on the one it starts from" in html


def test_a_flow_without_arrows_does_not_explain_them(catalogue):
    renderer = SiteRenderer(catalogue)
    lone = [task for task in renderer.relations.task_order if not task.get("prerequisites")][:3]
    svg = str(migration_flow(renderer.relations, Linker("flow.md", renderer.site_map), lone, title="t"))
    assert 'class="dependency"' not in svg and "waits on the one it starts from" not in svg


# Originals and the two kinds of source -----------------------------------------------------------------------------


def test_fact_sources_link_their_originals_from_the_sources_page_and_every_footer(site: Path, catalogue):
    provenance = read_page(site, "provenance/")
    task = (site / "tasks" / "3306" / "index.html").read_text()
    footer = task[task.index('<footer class="md-footer">') :]
    for source_page in catalogue.records("source_pages"):
        if "url" in source_page:
            assert any(link.href == source_page["url"] for link in provenance.links)
            assert f'href="{source_page["url"]}"' in footer
        else:
            assert "none we could establish" in provenance.text
    assert provenance.text.startswith("Sources of facts")
    assert "migration sources" in provenance.text.lower()


def rendered(data_dir: Path, src_uri: str) -> str:
    renderer = SiteRenderer(load_valid_catalogue(data_dir))
    return next(renderer.render(plan).body for plan in renderer.plan() if plan.src_uri == src_uri)


def test_without_a_replacement_in_the_data_the_site_names_none(tmp_path: Path):
    shutil.copytree(REPO / "data", tmp_path / "data")
    roles = tmp_path / "data" / "roles.yml"
    text = roles.read_text()
    block = "        replaced_by:\n          guidance: Migration Hub Learning Center\n          questions_to: mst\n"
    assert block in text
    roles.write_text(text.replace(block, "", 1))

    runbook = rendered(tmp_path / "data", "runbooks/sources/google-drive.md")
    assert "retired for Google Drive; the source page names nothing in its place" in runbook
    assert "Learning Center's guidance" not in runbook


def test_a_hostile_source_name_stays_text_in_the_per_source_notices(tmp_path: Path):
    shutil.copytree(REPO / "data", tmp_path / "data")
    migration = tmp_path / "data" / "migration.yml"
    hostile = "Google *Drive* [x](javascript:y) <b>"
    migration.write_text(migration.read_text().replace("name: Google Drive", f"name: '{hostile}'", 1))

    runbook = rendered(tmp_path / "data", "runbooks/sources/google-drive.md")
    lines = [line for line in runbook.splitlines() if "retired for" in line]
    steps = [line for line in lines if line.startswith("<li>")]  # raw HTML, which Markdown leaves as it is
    notices = [line for line in lines if line not in steps]
    assert notices and steps
    for line in notices:  # every bracket and star escaped, every angle bracket an entity
        assert r"Google \*Drive\* \[x\](javascript:y) &lt;b&gt;" in line
        assert not re.search(r"(?<!\\)\[x(?<!\\)\]\(", line) and "<b>" not in line
    for line in steps:  # every angle bracket an entity; the rest is text in HTML
        assert "retired for Google *Drive* [x](javascript:y) &lt;b&gt;" in line and "<b>" not in line
