"""The build-time SVG diagrams: well-formed, labelled, every box a link to a page that is built, bounded in size."""

from __future__ import annotations

import posixpath
import re
import xml.etree.ElementTree as ET

import markdown
import pytest
from conftest import REPO, build_case_data

from generator.data.model import Catalogue
from generator.data.relations import Relations
from generator.data.validate import load_valid_catalogue
from generator.pages.addresses import OWN_PAGES, SECTION_INDEXES, Linker, SiteMap, address, built_path
from generator.pages.diagrams import SVG_NS, migration_flow, options_lifecycle
from generator.pages.escape import Markdown
from generator.pages.raw_links import resolve_raw_links

NS = f"{{{SVG_NS}}}"
HOSTILE = "</text><script>alert(1)</script>"
MARKDOWN_EXTENSIONS = ["md_in_html", "attr_list", "tables"]


@pytest.fixture(scope="module")
def shipped():
    return load_valid_catalogue(REPO / "data")


def linker_for(catalogue, page: str = "flow.md") -> Linker:
    return Linker(page, SiteMap(catalogue))


def flow(catalogue, page: str = "flow.md", **options) -> Markdown:
    relations = Relations(catalogue)
    options.setdefault("title", "The migration")
    return migration_flow(relations, linker_for(catalogue, page), relations.task_order, **options)


def svg_of(diagram: str) -> ET.Element:
    return ET.fromstring(diagram[diagram.index("<svg") : diagram.rindex("</svg>") + len("</svg>")])


def links(svg: ET.Element, kind: str | None = None) -> list[ET.Element]:
    return [a for a in svg.iter(f"{NS}a") if kind is None or a.get("class") == kind]


def tooltip(element: ET.Element) -> str:
    return element.find(f"{NS}title").text


def built_pages(catalogue, url_style: str) -> set[str]:
    """Every page the build writes for an entity or a section index, as a path within the site."""
    pages = {built_path(uri, url_style) for uri in SECTION_INDEXES.values()}
    for collection in OWN_PAGES:
        pages |= {built_path(address(collection, r).src_uri, url_style) for r in catalogue.records(collection)}
    return pages


def resolve(page: str, href: str, url_style: str) -> str:
    """The site path a relative href on `page` (a Markdown source path) leads to, once the engine has made it a
    link of the built site (as Zensical does, and raw_links for MkDocs), as the browser would follow it."""
    here = built_path(page, url_style)
    built = resolve_raw_links(f' href="{href}"', page, url_style == "directory")
    path = built.removeprefix(' href="').removesuffix('"').partition("#")[0]
    if not path:
        return here
    target = posixpath.normpath(posixpath.join(posixpath.dirname(here), path))
    if path.endswith("/"):
        target = "index.html" if target == "." else f"{target}/index.html"
    return target


# -- shape -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["flow", "options"])
def test_diagram_is_labelled_well_formed_svg(shipped, kind):
    diagram = flow(shipped) if kind == "flow" else options_lifecycle(shipped, linker_for(shipped))
    svg = svg_of(diagram)

    assert isinstance(diagram, Markdown)
    assert svg.tag == f"{NS}svg"
    assert f'<svg xmlns="{SVG_NS}"' in diagram
    assert svg.get("viewBox").startswith("0 0 ")
    assert svg.get("width") == "100%"
    assert svg.get("role") == "group"  # its boxes are links a screen reader must announce
    assert svg.get("aria-label")
    assert svg[0].tag == f"{NS}title" and svg[0].text
    assert svg.get("font-family") == "inherit"
    # Sizes are user units, so text scales with the diagram, on screen and in print.
    assert not re.search(r'="[\d.]+(px|pt|em|rem)"', diagram)
    assert " id=" not in diagram  # no ids that two diagrams on one page could share


@pytest.mark.parametrize("kind", ["flow", "options"])
def test_markdown_passes_the_diagram_through_as_raw_html(shipped, kind):
    diagram = flow(shipped) if kind == "flow" else options_lifecycle(shipped, linker_for(shipped))
    page = f"# A page\n\nSome text before.\n{diagram}Some text after.\n"

    html = markdown.markdown(page, extensions=MARKDOWN_EXTENSIONS)

    assert diagram.startswith("\n\n") and diagram.endswith("\n\n")
    assert diagram.strip() in html
    assert '<p><div class="playbook-diagram">' not in html and "<p><svg" not in html
    assert "<p>Some text after.</p>" in html


def test_rendering_is_deterministic(shipped):
    again = load_valid_catalogue(REPO / "data")

    assert flow(shipped) == flow(again)
    assert flow(shipped, max_per_stage=3) == flow(again, max_per_stage=3)
    assert options_lifecycle(shipped, linker_for(shipped)) == options_lifecycle(again, linker_for(again))


# -- links -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url_style", ["directory", "file"])
@pytest.mark.parametrize("page", ["flow.md", "stages/onboard.md", "index.md"])
def test_every_link_leads_to_a_built_page(shipped, page, url_style):
    pages = built_pages(shipped, url_style)
    diagrams = [
        flow(shipped, page, max_per_stage=50),
        flow(shipped, page, max_per_stage=2),
        options_lifecycle(shipped, linker_for(shipped, page), max_options=3),
    ]
    for diagram in diagrams:
        hrefs = [a.get("href") for a in links(svg_of(diagram))]
        assert hrefs
        assert all(href is not None for href in hrefs)
        unresolved = {href for href in hrefs if resolve(page, href, url_style) not in pages}
        assert not unresolved, unresolved


def test_each_box_links_to_its_own_entity(shipped):
    linker = linker_for(shipped, "flow.md")
    svg = svg_of(flow(shipped, "flow.md", max_per_stage=3))
    for a in links(svg, "task"):
        assert a.get("href") == linker.href("tasks", int(a.get("data-task")))
    for a in links(svg, "stage") + links(svg, "more"):
        assert a.get("href") == linker.href("migration_stages", a.get("data-stage"))
    for a in links(svg, "role"):
        assert a.get("href") == linker.href("roles", a.get("data-role"))

    grid = svg_of(options_lifecycle(shipped, linker, max_options=3))
    for a in links(grid, "option") + links(grid, "mark"):
        assert a.get("href") == linker.href("options", a.get("data-option"))
    for a in links(grid, "phase"):
        assert a.get("href") == linker.href("lifecycle_phases", a.get("data-phase"))
    assert [a.get("href") for a in links(grid, "more")] == [linker.page_href("options/index.md")]


def test_every_box_is_a_link(shipped):
    """Every rectangle drawn is inside a link, but for the options grid's row stripes."""
    for diagram in (flow(shipped, max_per_stage=3), options_lifecycle(shipped, linker_for(shipped))):
        svg = svg_of(diagram)
        linked = {id(rect) for a in links(svg) for rect in a.iter(f"{NS}rect")}
        unlinked = [rect for rect in svg.iter(f"{NS}rect") if id(rect) not in linked]
        assert all(rect.get("fill") == "currentColor" for rect in unlinked)  # the zebra stripes of the grid


# -- the migration flow ------------------------------------------------------------------------------------------


def test_flow_has_one_column_per_stage_in_order(shipped):
    svg = svg_of(flow(shipped))
    stages = sorted(shipped.records("migration_stages"), key=lambda stage: stage["order"])
    heads = links(svg, "stage")

    assert [a.get("data-stage") for a in heads] == [stage["id"] for stage in stages]
    xs = [int(a.find(f"{NS}rect").get("x")) for a in heads]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)


def test_flow_draws_every_given_task_in_its_stage_column(shipped):
    relations = Relations(shipped)
    svg = svg_of(flow(shipped, max_per_stage=100))
    column = {a.get("data-stage"): a.find(f"{NS}rect").get("x") for a in links(svg, "stage")}
    boxes = {int(a.get("data-task")): a for a in links(svg, "task")}

    assert list(boxes) == [t["id"] for s in column for t in relations.tasks_by_stage.get(s, [])]
    for task in shipped.records("tasks"):
        assert boxes[task["id"]].find(f"{NS}rect").get("x") == column[task["stage"]]
    assert not links(svg, "more")


def test_flow_draws_an_arrow_for_each_prerequisite_shown(shipped):
    svg = svg_of(flow(shipped, max_per_stage=100))
    arrows = [(int(p.get("data-from")), int(p.get("data-to"))) for p in svg.iter(f"{NS}path") if p.get("data-to")]

    assert sorted(start for start, end in arrows if end == 3392) == sorted([3160, 3159, 3158, 3157, 1141])
    expected = {(p, t["id"]) for t in shipped.records("tasks") for p in t.get("prerequisites", [])}
    assert set(arrows) == expected
    assert len(arrows) == len(expected)


def test_arrows_run_from_the_prerequisite_to_the_dependent_box(shipped):
    svg = svg_of(flow(shipped, max_per_stage=100))
    boxes = {a.get("data-task"): a.find(f"{NS}rect") for a in links(svg, "task")}
    for path in (p for p in svg.iter(f"{NS}path") if p.get("data-to")):
        start, end = boxes[path.get("data-from")], boxes[path.get("data-to")]
        d = path.get("d")  # M{start} C{control} {control} {end} M{barb} L{tip} L{barb}
        assert d.split("C")[0] == f"M{int(start.get('x')) + int(start.get('width'))} {_middle(start)}"
        same_column = start.get("x") == end.get("x")
        edge = int(end.get("x")) + (int(end.get("width")) if same_column else 0)
        assert d.split("L")[1] == f"{edge} {_middle(end)}"


def _middle(rect: ET.Element) -> int:
    return int(rect.get("y")) + int(rect.get("height")) // 2


def test_a_capped_stage_shows_its_first_tasks_and_a_box_for_the_rest(shipped):
    relations = Relations(shipped)
    svg = svg_of(flow(shipped, max_per_stage=2))
    shown = [int(a.get("data-task")) for a in links(svg, "task")]
    more = {a.get("data-stage"): a for a in links(svg, "more")}

    for stage, tasks in relations.tasks_by_stage.items():
        assert [t["id"] for t in tasks[:2]] == [t for t in shown if relations.tasks[t]["stage"] == stage]
        if len(tasks) > 2:
            hidden = len(tasks) - 2
            assert more[stage].get("data-hidden") == str(hidden)
            label = "".join(more[stage].itertext())
            assert f"+ {hidden} more task" in label
        else:
            assert stage not in more
    drawn = set(shown)
    for path in (p for p in svg.iter(f"{NS}path") if p.get("data-to")):
        assert int(path.get("data-from")) in drawn and int(path.get("data-to")) in drawn


def test_flow_of_a_subset_draws_only_those_tasks(shipped):
    relations = Relations(shipped)
    tasks = relations.tasks_for_source("imap")
    diagram = migration_flow(relations, linker_for(shipped), tasks, title="IMAP", max_per_stage=100)

    assert [int(a.get("data-task")) for a in links(svg_of(diagram), "task")] == [
        t["id"]
        for s in sorted(shipped.records("migration_stages"), key=lambda s: s["order"])
        for t in tasks
        if t["stage"] == s["id"]
    ]


def test_legend_lists_the_owners_drawn_in_role_order(shipped):
    relations = Relations(shipped)
    svg = svg_of(flow(shipped, max_per_stage=100))
    owners = {task["owner"] for task in relations.task_order}
    roles = [role["id"] for role in shipped.records("roles") if role["id"] in owners]

    assert [a.get("data-role") for a in links(svg, "role")] == roles
    for a in links(svg, "role"):
        assert "".join(a.itertext()).endswith(shipped.index("roles")[a.get("data-role")]["name"])
    colours = {a.get("data-role"): a.find(f"{NS}rect").get("stroke") for a in links(svg, "role")}
    for a in links(svg, "task"):
        task = relations.tasks[int(a.get("data-task"))]
        assert a.find(f"{NS}rect").get("stroke") == colours[task["owner"]]
    assert len(set(colours.values())) == len(colours)


def test_long_titles_are_cut_with_an_ellipsis_and_kept_whole_in_the_tooltip(shipped):
    title = "Request the migration environment build " * 6  # longer than a box's lines can hold
    tasks = [dict(task, title=title) if task["id"] == 3306 else task for task in shipped.records("tasks")]
    catalogue = Catalogue({**shipped.collections, "tasks": tasks})
    svg = svg_of(flow(catalogue, max_per_stage=100))
    box = next(a for a in links(svg, "task") if a.get("data-task") == "3306")
    shown = " ".join(t.text for t in box.iter(f"{NS}text"))

    assert shown.startswith("3306 · Request the")
    assert "…" in shown and title.strip() not in shown
    assert title.strip() in tooltip(box)


def test_shipped_titles_and_owner_names_show_whole(shipped):
    svg = svg_of(flow(shipped, max_per_stage=100))
    for box in links(svg, "task"):
        shown = " ".join(t.text for t in box.iter(f"{NS}text"))
        task = shipped.index("tasks")[int(box.get("data-task"))]
        assert "…" not in shown
        assert shown.endswith(shipped.index("roles")[task["owner"]]["name"])


def test_max_per_stage_must_be_positive(shipped):
    with pytest.raises(ValueError):
        flow(shipped, max_per_stage=0)
    with pytest.raises(ValueError):
        options_lifecycle(shipped, linker_for(shipped), max_options=0)


# -- the options grid --------------------------------------------------------------------------------------------


def test_options_grid_marks_where_an_option_helps(shipped):
    svg = svg_of(options_lifecycle(shipped, linker_for(shipped)))
    phases = sorted(shipped.records("lifecycle_phases"), key=lambda phase: phase["order"])
    names = {phase["id"]: phase["name"] for phase in phases}

    assert [a.get("data-phase") for a in links(svg, "phase")] == [phase["id"] for phase in phases]
    assert [a.get("data-option") for a in links(svg, "option")] == [o["id"] for o in shipped.records("options")]
    marks = {(a.get("data-option"), a.get("data-phase")): a for a in links(svg, "mark")}
    expected = {(o["id"], p) for o in shipped.records("options") for p in o["lifecycle_phases"]}
    assert set(marks) == expected
    for (option, phase), a in marks.items():
        assert tooltip(a) == f"{shipped.index('options')[option]['name']} helps in {names[phase]}"


def test_options_grid_is_capped(shipped):
    svg = svg_of(options_lifecycle(shipped, linker_for(shipped), max_options=2))

    assert len(links(svg, "option")) == 2
    assert {a.get("data-option") for a in links(svg, "mark")} <= {o["id"] for o in shipped.records("options")[:2]}
    [more] = links(svg, "more")
    assert more.get("data-hidden") == str(len(shipped.records("options")) - 2)


# -- hostile data ------------------------------------------------------------------------------------------------


def test_hostile_text_stays_text(tmp_path):
    edits = {
        "tasks.yml": [("title: Mail workshop", f"title: '{HOSTILE} & \"quoted\"'")],
        "roles.yml": [("name: Support team", "name: '<b>Support</b> \"team\" & co'")],
        "migration.yml": [("name: Move", "name: '<img src=x onerror=alert(1)>'")],
        "options.yml": [("name: Self-service", "name: '<script>alert(2)</script>'")],
        "lifecycle.yml": [("name: Plan", "name: '</title><script>alert(3)</script>'")],
    }
    catalogue = load_valid_catalogue(build_case_data({"edit": edits}, tmp_path / "data"))
    relations = Relations(catalogue)
    diagrams = {
        f"Flow {HOSTILE}": migration_flow(
            relations, linker_for(catalogue), relations.task_order, title=f"Flow {HOSTILE}"
        ),
        f"Grid {HOSTILE}": options_lifecycle(catalogue, linker_for(catalogue), title=f"Grid {HOSTILE}"),
    }
    for title, diagram in diagrams.items():
        svg = svg_of(diagram)  # parses: nothing closed an element early
        tags = {element.tag.removeprefix(NS) for element in svg.iter()}
        assert tags <= {"svg", "title", "g", "a", "rect", "text", "path", "circle"}
        assert "<script" not in diagram and "<img" not in diagram and "<b>" not in diagram
        assert tooltip(svg) == title and svg.get("aria-label").startswith(title)
        html = markdown.markdown(diagram, extensions=MARKDOWN_EXTENSIONS)
        assert "<script" not in html and diagram.strip() in html

    flow_svg = svg_of(migration_flow(relations, linker_for(catalogue), relations.task_order, title="Flow"))
    box = next(a for a in links(flow_svg, "task") if a.get("data-task") == "200")
    assert tooltip(box).startswith(f'Task 200: {HOSTILE} & "quoted"')
    assert "</text><script>" in " ".join(text.text for text in box.iter(f"{NS}text"))  # shown as characters
    [support] = [a for a in links(flow_svg, "role") if a.get("data-role") == "support"]
    assert "".join(support.itertext()).endswith('<b>Support</b> "team" & co')
    move = next(a for a in links(flow_svg, "stage") if a.get("data-stage") == "move")
    assert "<img src=x onerror=alert(1)>" in tooltip(move)


# -- size at scale -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    import sys

    sys.path.insert(0, str(REPO / "benchmarks"))
    from synthetic import write_catalogue

    return load_valid_catalogue(write_catalogue(tmp_path_factory.mktemp("large") / "data", 5000))


def test_flow_of_5000_tasks_stays_small(large):
    relations = Relations(large)
    assert len(relations.task_order) == 5000
    diagram = migration_flow(relations, linker_for(large), relations.task_order, title="Everything")
    svg = svg_of(diagram)

    assert len(diagram.encode("utf-8")) < 40_000
    stages = [stage["id"] for stage in large.records("migration_stages")]
    per_stage = {stage: 0 for stage in stages}
    for a in links(svg, "task"):
        per_stage[relations.tasks[int(a.get("data-task"))]["stage"]] += 1
    assert all(count <= 8 for count in per_stage.values())
    assert {a.get("data-stage") for a in links(svg, "more")} == {
        s for s, ts in relations.tasks_by_stage.items() if len(ts) > 8
    }
    hidden = sum(int(a.get("data-hidden")) for a in links(svg, "more"))
    assert hidden + len(links(svg, "task")) == 5000


def test_flow_size_does_not_grow_with_the_catalogue(shipped, large):
    """Past the caps, more tasks change which boxes are drawn, not how many: the size stays within a margin."""
    small_relations, large_relations = Relations(shipped), Relations(large)
    small = migration_flow(
        small_relations, linker_for(shipped), small_relations.task_order, title="All", max_per_stage=4
    )
    big = migration_flow(large_relations, linker_for(large), large_relations.task_order, title="All", max_per_stage=4)

    assert len(links(svg_of(big), "task")) <= 4 * len(large.records("migration_stages"))
    assert len(big) < 2 * len(small)
