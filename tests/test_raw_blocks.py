"""The catalogue's table, the runbooks' steps, the diagrams and the listings' tables skip Markdown's HTML parser,
and the page's HTML comes out byte for byte the same."""

from __future__ import annotations

import markdown
import pytest
from conftest import REPO
from mkdocs.config import load_config

from generator.data.loader import load_data
from generator.engines.raw_blocks import PLACEHOLDER, put_back, set_aside
from generator.pages.render import SiteRenderer


@pytest.fixture(scope="module")
def to_html():
    """Python-Markdown with the site's extensions, as MkDocs sets it up from mkdocs.yml."""
    config = load_config(str(REPO / "mkdocs.yml"))
    return lambda text: markdown.Markdown(
        extensions=config.markdown_extensions, extension_configs=config.mdx_configs
    ).convert(text)


def page_body(src_uri: str) -> str:
    renderer = SiteRenderer(load_data(REPO / "data").catalogue)
    plan = next(plan for plan in renderer.plan() if plan.src_uri == src_uri)
    return renderer.render(plan).body


def catalogue_body() -> str:
    return page_body("catalogue.md")


def test_the_catalogue_table_is_set_aside_and_its_html_is_unchanged(to_html):
    body = catalogue_body() + "\n*[MST]: Migration Support Team\n"  # as the plugin appends abbreviations

    cut, blocks = set_aside(body)

    assert len(blocks) == 1 and blocks[0].startswith('<div class="playbook-catalogue">')
    assert "<tr" not in cut and "<table>" in blocks[0]
    assert put_back(to_html(cut), blocks) == to_html(body)


def test_each_stage_of_a_runbook_is_set_aside_and_its_html_is_unchanged(to_html):
    body = page_body("runbooks/sources/google-drive.md")

    cut, blocks = set_aside(body)

    steps = [block for block in blocks if block.startswith('<ol class="runbook-steps"')]
    assert len(steps) == body.count("{ .runbook-stage }") > 1
    assert all(block.endswith("</ol>") for block in steps)
    assert "runbook-check" not in cut
    assert put_back(to_html(cut), blocks) == to_html(body)


@pytest.mark.parametrize("src_uri", ["flow.md", "options-by-phase.md", "runbooks/sources/imap.md"])
def test_each_diagram_is_set_aside_and_its_html_is_unchanged(to_html, src_uri: str):
    body = page_body(src_uri) + "\n*[MST]: Migration Support Team\n"

    cut, blocks = set_aside(body)

    diagrams = [block for block in blocks if block.startswith('<div class="playbook-diagram"')]
    assert len(diagrams) == body.count('<div class="playbook-diagram"') >= 1
    assert "<svg" not in cut
    assert put_back(to_html(cut), blocks) == to_html(body)


@pytest.mark.parametrize(
    "text",
    [
        '<div class="playbook-catalogue" markdown>\n<p>*Markdown* inside</p>\n</div>\n',  # Markdown asked for
        'Intro\n\n<div class="playbook-catalogue">\n<div>\n</div>\nText on the next line\n',  # no blank line after
        'Intro\n<div class="playbook-catalogue">\n</div>\n',  # no blank line before: part of a paragraph
        'Intro\n\n<div class="playbook-catalogue">\n<div>\n</div>\n',  # never closed
        'Intro\n\n<div class="playbook-catalogue">\n<p markdown="1">x</p>\n</div>\n',  # a tag asks for Markdown
    ],
)
def test_a_block_markdown_might_change_stays_in_the_markdown(text: str):
    assert set_aside(text) == (text, [])


def test_a_placeholder_markdown_did_not_keep_is_an_error():
    with pytest.raises(ValueError, match="did not come through Markdown"):
        put_back("<p>the placeholder is gone</p>", ["<div>table</div>"])
    with pytest.raises(ValueError):
        put_back(PLACEHOLDER.format(0) * 2, ["<div>table</div>"])


def test_a_raw_table_set_aside_comes_out_as_the_markdown_table_it_replaces(to_html):
    """A listing's table is the HTML Markdown made of a Markdown table (test_task_rows); set aside and put back,
    the page is the page that had the Markdown table, line breaks included."""
    table = "| Task | Title |\n|---|---|\n| [7](../tasks/7.md) | Seven *(optional)* |\n"
    written = to_html(table)
    assert written.startswith("<table>\n") and written.endswith("</table>")

    for before, after in [("Intro\n\n", "\nAfter\n"), ("## Tasks\n\n", "\n"), ("", "\n---\n\nSource\n")]:
        cut, blocks = set_aside(f"{before}{written}\n{after}")
        assert blocks == [written]
        assert put_back(to_html(cut), blocks) == to_html(f"{before}{table}{after}")


@pytest.mark.parametrize(
    "src_uri", ["stages/prepare.md", "roles/mvm.md", "sources/imap.md", "tasks/index.md", "tasks/by-number/page-2.md"]
)
def test_a_listing_pages_table_of_tasks_is_set_aside(src_uri: str):
    cut, blocks = set_aside(page_body(src_uri))

    assert [block[:8] for block in blocks if block.startswith("<table>")] == ["<table>\n"]
    assert "<tbody>" not in cut
