"""A runbook's steps are raw HTML written in Python (generator/pages/task_rows.py): their text comes out as
Markdown made it, acronyms included, and data stays text whatever it holds."""

from __future__ import annotations

import fcntl
import shutil
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path

import markdown
import pytest
import yaml
from conftest import MINIMAL, REPO
from hypothesis import given, settings
from hypothesis import strategies as st
from mkdocs.config import load_config
from selectolax.lexbor import LexborHTMLParser

from generator.data.loader import load_data
from generator.data.model import Catalogue
from generator.data.reads import opened, recording
from generator.engines.raw_blocks import put_back, set_aside
from generator.errors import DataError
from generator.links.link_origins import origin_lookup
from generator.pages import task_rows
from generator.pages.addresses import Linker
from generator.pages.escape import escape_markdown
from generator.pages.inline_html import InlineHtml
from generator.pages.render import RESULT_PIPE_BYTES, Rendering, RoleScope, SiteRenderer
from generator.pages.site_text import Abbreviations, abbreviation_line
from generator.pages.task_rows import RunbookSteps, TaskTable

#: Terms with punctuation at either end or inside, and expansions that need escaping in an attribute.
GLOSSARY = [
    {"term": "MST", "expansion": "Migration Support Team"},
    {"term": "C++", "expansion": 'C plus plus & <b>"bold"</b>'},
    {"term": "Wi-Fi", "expansion": "Wireless"},
    {"term": "FT", "expansion": "FastTrack"},
    {"term": "FTVM", "expansion": "FastTrack Velocity Migration"},
    {"term": "A_B", "expansion": "A and B"},
    {"term": ".NET", "expansion": "Dot net"},
]
PIECES = [*"ab <>&*_[]`\\#=-+!.12|{}()'\"\t\n\x02\x03", "MST", "C++", "Wi-Fi", "FT", "FTVM", "A_B", ".NET", "é"]


@pytest.fixture(scope="module")
def site_markdown():
    """Python-Markdown with the site's extensions, as MkDocs sets it up from mkdocs.yml."""
    config = load_config(str(REPO / "mkdocs.yml"))
    return markdown.Markdown(extensions=config.markdown_extensions, extension_configs=config.mdx_configs)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=12).map("".join))
def test_text_comes_out_as_markdown_makes_it_acronyms_included(site_markdown, value: str):
    escaped = escape_markdown(value)
    definitions = "".join(f"\n\n{abbreviation_line(entry['term'], entry['expansion'])}" for entry in GLOSSARY)
    site_markdown.reset()
    # Between words, as a title sits in a step ("Task 3: <title> (optional)"); the definitions as a page ends.
    html = site_markdown.convert(f"x: {escaped} y{definitions}\n")
    assert html.startswith("<p>x: ") and html.endswith(" y</p>")

    assert InlineHtml(GLOSSARY)(escaped) == html[len("<p>x: ") : -len(" y</p>")]


HOSTILE_TITLES = ["<img src=x onerror=alert(1)>", "</span><script>alert(1)</script> SME & *x*"]


@pytest.fixture(scope="module")
def hostile_runbook(tmp_path_factory: pytest.TempPathFactory, site_markdown) -> LexborHTMLParser:
    """The mail runbook of the minimal data with hostile titles, as the plugin makes it into HTML."""
    data = tmp_path_factory.mktemp("hostile") / "data"
    shutil.copytree(MINIMAL, data)
    tasks_file = data / "tasks.yml"
    tasks = yaml.safe_load(tasks_file.read_text(encoding="utf-8"))
    for task, title in zip(tasks["tasks"], HOSTILE_TITLES, strict=False):
        task["title"] = title
    tasks_file.write_text(yaml.safe_dump(tasks, sort_keys=False), encoding="utf-8")
    renderer = SiteRenderer(load_data(data).catalogue)
    page = next(renderer.render(plan) for plan in renderer.plan() if plan.src_uri == "runbooks/sources/mail.md")
    cut, blocks = set_aside(page.body)
    assert blocks, "the steps are set aside"
    site_markdown.reset()
    return LexborHTMLParser(
        put_back(site_markdown.convert(cut + Abbreviations(renderer.catalogue).for_page(cut)), blocks)
    )


def test_hostile_titles_stay_text_in_a_runbook(hostile_runbook: LexborHTMLParser):
    assert not hostile_runbook.css("img, script")
    steps = [node.text() for node in hostile_runbook.css("li > span[id^=runbook-step-]")]

    assert steps == ["Task 100: <img src=x onerror=alert(1)>", "Task 200: </span><script>alert(1)</script> SME & *x*"]


def test_a_step_keeps_its_checkbox_label_owner_and_prerequisite(hostile_runbook: LexborHTMLParser):
    boxes = hostile_runbook.css("input.runbook-check")
    assert [box.attributes["data-task"] for box in boxes] == ["100", "200"]
    assert [box.attributes["aria-labelledby"] for box in boxes] == [
        "runbook-check-1 runbook-step-1",
        "runbook-check-2 runbook-step-2",
    ]
    second = hostile_runbook.css("li")[1]
    # The acronym in the title is marked as the abbr extension marks it elsewhere.
    assert [(abbr.text(), abbr.attributes["title"]) for abbr in second.css("abbr")] == [
        ("SME", "Subject matter expert")
    ]
    # A role's name follows its step; the mail runbook holds both tasks, so nothing is waited for.
    assert "waits for" not in second.text()
    assert [link.attributes["href"] for link in second.css("a")] == ["../../tasks/200.md", "../../roles/support.md"]


def test_a_role_runbook_names_what_it_waits_for_in_another_role(tmp_path: Path, site_markdown):
    renderer = SiteRenderer(load_data(MINIMAL).catalogue)
    page = next(renderer.render(plan) for plan in renderer.plan() if plan.src_uri == "runbooks/roles/support.md")
    cut, blocks = set_aside(page.body)
    site_markdown.reset()
    tree = LexborHTMLParser(put_back(site_markdown.convert(cut), blocks))

    steps = tree.css("ol.runbook-steps")
    assert [step.attributes.get("start") for step in steps] == [None, "2"]  # numbered on across stages
    first = tree.css("li")[0]
    assert first.text().strip() == "Task 200: Mail workshop · waits for Task 100 (Partner)"
    assert [link.attributes["href"] for link in first.css("a")][1:] == ["../../tasks/100.md", "../../roles/partner.md"]


def test_a_step_written_before_is_written_again_when_what_it_shows_changes(tmp_path: Path):
    data = tmp_path / "data"
    shutil.copytree(MINIMAL, data)

    def mail_runbook() -> str:
        renderer = SiteRenderer(load_data(data).catalogue)
        plan = next(plan for plan in renderer.plan() if plan.src_uri == "runbooks/sources/mail.md")
        return renderer.render(plan).body

    before = mail_runbook()
    assert mail_runbook() == before  # written again from what was kept, alike
    for old, new in [("Mail workshop", "Mail clinic"), ("name: Support team", "name: Help desk")]:
        for name in ("tasks.yml", "roles.yml"):
            path = data / name
            path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    after = mail_runbook()

    assert "Mail clinic" in after and "Mail workshop" not in after
    assert ">Help desk</a>" in after and "Support team" not in after


#: Edits of what a runbook step or a catalogue row shows, each made in turn: (file, old text, new text).
ROW_EDITS = [
    ("tasks.yml", "Mail workshop", "Mail <clinic>"),
    ("roles.yml", "name: Support team", "name: Help & desk"),
    ("migration.yml", "name: Prepare", "name: Get ready"),
    ("migration.yml", "name: Files", "name: File shares"),
    ("tasks.yml", "    sources: [mail]\n", "    sources: [mail, files]\n    optional: true\n"),
    ("tasks.yml", "    owner: support\n    stage: move", "    owner: partner\n    stage: prepare"),
]


@pytest.mark.parametrize(
    "page",
    [
        "catalogue.md",
        "runbooks/sources/mail.md",
        "runbooks/roles/support.md",
        "sources/mail.md",
        "roles/support.md",
        "stages/prepare.md",
        "tasks/index.md",
    ],
)
def test_rows_written_from_what_was_kept_are_those_written_afresh_after_each_edit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, page: str
):
    """Steps, catalogue rows and listing cells are kept by everything they show: after each edit, the page written
    with the rows kept is the page written with none kept, and it notes the same reads of the data (the preview's
    index)."""
    data = tmp_path / "data"
    shutil.copytree(MINIMAL, data)

    def rendered():
        renderer = SiteRenderer(load_data(data).catalogue, track_reads=True)
        return renderer.render(next(plan for plan in renderer.plan() if plan.src_uri == page))

    rendered()
    for name, old, new in ROW_EDITS:
        path = data / name
        assert old in path.read_text(encoding="utf-8")
        path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
        kept = rendered()
        monkeypatch.setattr(task_rows, "_STEP_TEXTS", {})
        afresh = rendered()
        assert (kept.body, kept.reads) == (afresh.body, afresh.reads), (name, new)


def test_a_record_opened_is_noted_as_read_once_and_holds_what_the_tracked_one_holds():
    record = Catalogue({"tasks": [{"id": 7, "title": "Seven", "owner": "partner"}]}).tracked().records("tasks")[0]
    with recording() as reads:
        plain = opened(record)
        assert reads == {("record", "tasks", 7)}
        assert type(plain) is dict and plain == record and list(plain.items()) == list(dict.items(record))
        reads.clear()
        assert plain["title"] == "Seven" and reads == set()  # its fields are read as a plain dict's
    assert opened(plain) is plain


def test_the_steps_a_rendering_process_writes_come_back_so_the_next_pages_reuse_them(monkeypatch):
    """The preview renders its second pass in a forked process: the runbook steps it writes come back with the
    pages, so that the next pass (another process, forked from this one) starts with them."""
    monkeypatch.setattr(task_rows, "_STEP_TEXTS", {})
    renderer = SiteRenderer(load_data(REPO / "data").catalogue)
    plans = renderer.plan()
    runbooks = [index for index, plan in enumerate(plans) if plan.src_uri.startswith("runbooks/sources/")]

    with Rendering(renderer, processes=1, wanted=runbooks) as rendering:
        apart = [rendering.page(index) for index in runbooks]

    learned = len(task_rows._STEP_TEXTS)
    assert learned > 0  # this process wrote none of them
    here = [renderer.render(plans[index]) for index in runbooks]
    assert len(task_rows._STEP_TEXTS) == learned  # every step taken from what came back
    assert [page.body for page in here] == [page.body for page in apart]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pipe capacities are Linux's")
def test_the_pages_come_back_through_a_pipe_wide_enough_for_a_runbook_in_one_or_two_reads():
    """This process reads the rendered pages in a thread that waits for the interpreter lock before each read:
    through Linux's 64 KB pipe, a 2 MB runbook took some thirty such waits."""
    renderer = SiteRenderer(load_data(REPO / "data").catalogue)
    with Rendering(renderer, processes=1, wanted=[0, 1]) as rendering:
        pipe = rendering._pool._result_queue._reader.fileno()  # type: ignore[union-attr]
        assert fcntl.fcntl(pipe, 1032) >= RESULT_PIPE_BYTES  # F_GETPIPE_SZ
        assert rendering.page(0).body == renderer.render(renderer.plan()[0]).body


def test_the_steps_written_since_a_mark_are_all_there_are_once_the_bound_dropped_them(monkeypatch):
    monkeypatch.setattr(task_rows, "_STEP_TEXTS", {})
    monkeypatch.setattr(task_rows, "STEP_TEXTS_KEPT", 3)
    task_rows.learn([(("a",), "A"), (("b",), "B")])
    mark = task_rows.learned_mark()
    task_rows.learn([(("c",), "C")])
    assert task_rows.learned_since(mark) == [(("c",), "C")]
    task_rows.learn([(("d",), "D")])  # the bound: everything before is dropped
    assert task_rows.learned_since(mark) == [(("d",), "D")]


# A listing's table of tasks -------------------------------------------------------------------------------------


@cache
def shipped_renderer() -> SiteRenderer:
    """The shipped data's renderer (not a fixture: Hypothesis prints a failing example's arguments)."""
    return SiteRenderer(load_data(REPO / "data").catalogue)


def markdown_cell(column: str, task: dict, number: int, source: str, x: Linker, scope: RoleScope) -> str:
    """A cell as the listing templates wrote it in Markdown before their tables were raw HTML: the specification."""
    if column == "number":
        return str(number)
    if column == "task":
        return x.to("tasks", task, task["id"])
    if column in ("title", "title_flags"):
        flags = column == "title_flags"
        return (
            escape_markdown(task["title"])
            + (" *(optional)*" if flags and task.get("optional") else "")
            + (" *(if applicable)*" if flags and task.get("if_applicable") else "")
        )
    if column == "owner":
        return x.to("roles", task["owner"]) + scope.only(task["owner"])
    if column == "owner_for_source":
        stand_in = scope.stand_in(task["owner"], source)
        return x.to("roles", task["owner"]) + (f" ({stand_in})" if stand_in else "")
    if column == "stage":
        return x.to("migration_stages", task["stage"])
    return ", ".join(x.to("migration_sources", source_id) for source_id in task.get("sources", [])) or "all"


TABLES = [
    (["Task", "Title", "Owner", "Migration sources"], ["task", "title", "owner", "sources"]),
    (["Task", "Title", "Stage"], ["task", "title", "stage"]),
    (["#", "Task", "Title", "Owner", "Stage"], ["number", "task", "title_flags", "owner_for_source", "stage"]),
    (["Task", "Title", "Owner", "Stage", "Migration sources"], ["task", "title", "owner", "stage", "sources"]),
]


@settings(max_examples=150, deadline=None)
@given(
    table=st.sampled_from(TABLES),
    rows=st.lists(
        st.tuples(
            # A title holds something besides spaces (the schema's `name`) and Markdown's placeholder marks
            st.lists(st.sampled_from([*PIECES, "IMAP", "FastTrack", "MVM"]), min_size=1, max_size=8)
            .map("".join)
            .filter(lambda title: title.replace("\x02", "").replace("\x03", "").strip()),
            st.booleans(),
            st.booleans(),
            st.integers(min_value=0, max_value=1000),
        ),
        min_size=1,
        max_size=6,
    ),
    first=st.integers(min_value=1, max_value=60),
    source=st.sampled_from(["imap", "box", "file-share"]),
)
def test_a_listing_table_is_the_html_markdown_made_of_the_table_it_replaces(
    site_markdown, table, rows, first: int, source: str
):
    """Titles of any text (acronyms, markup, entities), flags, every owner (the retired MVM with its stand-in and
    its "IMAP only"), any sources: the HTML is Python-Markdown's, byte for byte."""
    headers, columns = table
    shipped = shipped_renderer()
    catalogue = shipped.catalogue
    real = catalogue.records("tasks")
    roles = [role["id"] for role in catalogue.records("roles")]
    stages = [stage["id"] for stage in catalogue.records("migration_stages")]
    sources = [item["id"] for item in catalogue.records("migration_sources")]
    tasks = []
    for position, (title, optional, if_applicable, pick) in enumerate(rows):
        task = dict(real[(pick + position) % len(real)], title=title, optional=optional, if_applicable=if_applicable)
        task.update(owner=roles[pick % len(roles)], stage=stages[pick % len(stages)])
        task["sources"] = [s for index, s in enumerate(sources) if pick >> index & 1]
        tasks.append(task)
    x = Linker(f"sources/{source}.md", shipped.site_map)
    scope = RoleScope(shipped.relations, x)
    written = TaskTable(RunbookSteps(shipped.relations, x, shipped.inline_html, scope.stand_in_pieces), scope.only)

    html = written(headers, columns, tasks, first=first, source=source)

    lines = [
        "| " + " | ".join(markdown_cell(c, task, n, source, x, scope) for c in columns) + " |"
        for n, task in enumerate(tasks, start=first)
    ]
    table_markdown = "\n".join(["| " + " | ".join(headers) + " |", "|---" * len(headers) + "|", *lines]) + "\n"
    site_markdown.reset()
    expected = site_markdown.convert(table_markdown + Abbreviations(catalogue).for_page(table_markdown))
    assert html == expected


def test_a_listing_table_refuses_a_column_it_does_not_know():
    shipped = shipped_renderer()
    x = Linker("tasks.md", shipped.site_map)
    scope = RoleScope(shipped.relations, x)
    written = TaskTable(RunbookSteps(shipped.relations, x, shipped.inline_html, scope.stand_in_pieces), scope.only)
    with pytest.raises(ValueError, match="columns"):
        written(["Task"], ["owner_email"], [])


def prepare_stage_page(tmp_path: Path, template: str) -> Callable[[], str]:
    """The minimal data's Prepare stage page, rendered with this override of the stage template."""
    overrides = tmp_path / "overrides"
    overrides.mkdir()
    (overrides / "migration_stages.md.j2").write_text(template, encoding="utf-8")
    loaded = load_data(MINIMAL)
    renderer = SiteRenderer(loaded.catalogue, origin_lookup(loaded), [overrides])
    plan = next(plan for plan in renderer.plan() if plan.src_uri == "stages/prepare.md")
    return lambda: renderer.render(plan).body


HEADING = "# {{ record.name }}\n\n"
TABLE = 'task_table(["Task", "Title"], ["task", "title"], lists.tasks)'


@pytest.mark.parametrize(
    ("template", "line"),
    [
        # Indented into an admonition: the table's text, HTML already, would be read as Markdown, and a title's
        # `[x](javascript:…)` would become a link.
        (HEADING + '!!! note "Tasks"\n\n{% filter indent(4, true) %}{{ ' + TABLE + " }}{% endfilter %}\n", 5),
        (HEADING + "Tasks: {{ " + TABLE + " }}\n", 3),
    ],
    ids=["indented", "on-a-line-of-text"],
)
def test_a_table_of_tasks_a_template_does_not_write_alone_is_refused_at_its_line(
    tmp_path: Path, template: str, line: int
):
    with pytest.raises(DataError) as raised:
        prepare_stage_page(tmp_path, template)()

    [problem] = raised.value.problems
    assert (Path(problem.path).name, problem.line) == ("migration_stages.md.j2", line)
    assert "blank line before and after it" in problem.message and "task_table()" in problem.message


def test_a_filter_never_sees_a_table_of_tasks_only_a_placeholder_that_holds_no_data(tmp_path: Path):
    """A template gets a placeholder, and the table takes its place only where it stands alone: written once
    alone and once through filters, the table is on the page once, and no title went through a filter."""
    template = HEADING + "{% set t = " + TABLE + " %}\n{{ t }}\n\nSummary: {{ t | striptags }}; {{ t | upper }}\n"

    body = prepare_stage_page(tmp_path, template)()

    summary = body.split("Summary: ", 1)[1]
    assert body.count("<table>") == 1 and "<" not in summary
    assert "Assess the tenant" in body and "Assess the tenant" not in summary


def test_a_table_of_tasks_a_template_keeps_and_does_not_write_is_no_problem(tmp_path: Path):
    template = HEADING + "{% set t = " + TABLE + " %}\n{% if lists.tasks | length > 100 %}\n{{ t }}\n\n{% endif %}\n"

    body = prepare_stage_page(tmp_path, template + "No table here.\n")()

    assert "No table here." in body and "<table>" not in body and "\x02" not in body
