"""The parts of the engine-neutral site source that need no build: raw HTML links resolved as Zensical resolves
them, and the generated mkdocs.yml keeping the project's own settings beside ours."""

from __future__ import annotations

import pytest
import yaml
from conftest import REPO
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.data.validate import load_valid_catalogue
from generator.engines.mkdocs_plugin import _block_links_resolved
from generator.pages.generate import site_extras
from generator.pages.plain_config import plain_config, read_settings
from generator.pages.raw_links import resolve_raw_links


@pytest.mark.parametrize(
    ("page", "href", "directory", "built"),
    [
        ("catalogue.md", "tasks/3306.md", True, "../tasks/3306/"),  # a page's folder is one deeper than its file
        ("catalogue.md", "tasks/3306.md", False, "tasks/3306.html"),
        ("tasks/index.md", "3306.md#prerequisites", True, "3306/#prerequisites"),  # an index page is its folder
        ("runbooks/sources/box.md", "../../roles/index.md", True, "../../../roles/"),
        ("runbooks/sources/box.md", "../../roles/index.md", False, "../../roles/index.html"),
        ("flow.md", "index.md", True, "../"),
    ],
)
def test_a_raw_link_to_a_markdown_file_leads_to_the_page_as_built(page, href, directory, built) -> None:
    html = f'<td><a href="{href}">x</a></td><svg><a class="task" href=\'{href}\'><text>t</text></a></svg>'

    resolved = resolve_raw_links(html, page, directory)

    assert resolved == f'<td><a href="{built}">x</a></td><svg><a class="task" href=\'{built}\'><text>t</text></a></svg>'


@pytest.mark.parametrize(
    "link",
    [
        'href="../tasks/3306/"',  # already a link of the built site (Markdown's, resolved by the engine)
        'href="https://example.com/page.md"',
        'href="/partner-playbook/x.md"',
        'href="#top"',
        'xlink:href="x.md"',  # Zensical leaves it alone too
        'data-href="x.md"',
        'href="../../../outside.md"',  # out of the docs folder: broken either way, so left as written
    ],
)
def test_other_links_are_left_as_written(link: str) -> None:
    html = f"<a {link}>x</a>"
    assert resolve_raw_links(html, "tasks/3306.md", directory_urls=True) == html


#: Pieces of raw HTML as the pages write them, and the awkward ones: a link cut over a line, quotes, a tag started
#: at a line's start, letters that lowering lengthens, links out of the folder.
_HTML_PIECES = st.sampled_from(
    [
        '<a href="../tasks/3306.md">',
        "<a\nhref='3306.md#x'>",
        'href="../../roles/index.md"',
        "<li>",
        "</li>\n",
        "\n",
        "\n<",
        " ",
        '"',
        "'",
        "=",
        "x.md",
        'src="İ.MD"',
        "İ",
        'data-href="a.md"',
        '<tr data-role="p">',
        'href="../../../out.md"',
        "<!-- -->",
        "<svg><a href='flow.md'>",
        "\n\n",
        # Links to pages of the same folder, the page itself among them.
        'href="page-3.md"',
        "<a href='box.md#y'>",
        'href="index.md"',
        # Where the preview cuts a block into pieces, and what looks like it.
        "<a ",
        "<a href=",
        "<tr",
        "<li ",
        "\x00",
        "<A HREF='Box.MD'>",
        '<a  href="page-4.md">',
        "<abbr ",
        # A link into a folder named as a page beside it (`stages/prepare.md` is served as `stages/prepare/`).
        'href="prepare/page-3.md"',
        "<a href='../stages/prepare/page-4.md'>",
    ]
)
#: Pages of one folder (an index among them), which share what they resolved, and pages elsewhere.
_PAGES = st.sampled_from(
    [
        "catalogue.md",
        "runbooks/sources/box.md",
        "runbooks/sources/imap.md",
        "runbooks/sources/index.md",
        "stages/prepare/page-3.md",
        "stages/prepare/page-4.md",
        "stages/prepare.md",
        "stages/move.md",
    ]
)


@given(pieces=st.lists(_HTML_PIECES, max_size=40), pages=st.lists(_PAGES, min_size=1, max_size=4))
@settings(max_examples=300, deadline=None)
def test_a_block_resolved_piece_by_piece_is_the_block_resolved_whole(pieces, pages) -> None:
    """The preview resolves a set-aside block's links a line at a time, reusing the lines it met before on any
    page of the same folder (a listing's rows move from one page to the next); a build resolves the whole block.
    Both must give the same page, byte for byte."""
    block = "".join(pieces)
    for page in pages:
        for directory in (True, False):
            whole = resolve_raw_links(block, page, directory)
            assert _block_links_resolved(block, page, directory) == whole
            assert _block_links_resolved(block, page, directory) == whole  # the second time from what it kept


@pytest.fixture(scope="module")
def extras():
    return site_extras(load_valid_catalogue(REPO / "tests" / "fixtures" / "minimal"), "Us.", offline=True)


def test_the_generated_config_keeps_the_projects_own_lists_and_extra_settings(extras) -> None:
    project = (
        "site_name: Mine\n"
        "edit_uri: edit/main/content/\n"
        "extra_javascript:\n  - js/own.js\n"
        "extra:\n    version: 2  # four spaces, as the project wrote them\n"
        "plugins:\n  - search\n  - playbook:\n      data_dir: data\n  - tags\n"
        "theme:\n  name: material\n  custom_dir: overrides\n"
    )

    config = yaml.safe_load(plain_config(project, extras, docs="docs", theme="theme", hooks=["hooks/raw_links.py"]))

    assert config["extra_javascript"] == ["js/own.js", *extras.javascript]
    assert config["extra"] == {"version": 2, "polyfills": list(extras.polyfills), "homepage": "index.html"}
    assert config["plugins"] == ["search", "tags"]
    assert config["theme"] == {"name": "material", "custom_dir": "theme"}
    assert config["hooks"] == ["hooks/raw_links.py"]
    assert config["edit_uri"] == "" and config["docs_dir"] == "docs"
    assert config["copyright"] == extras.footer and config["copyright"].startswith("Us. Facts from: ")


def test_the_shipped_config_keeps_its_env_tags(extras) -> None:
    text = plain_config((REPO / "mkdocs.yml").read_text(), extras, docs="docs", theme="theme", hooks=[])
    assert "enabled: !ENV [OFFLINE, false]" in text  # still switched by OFFLINE, as `playbook bundle` does
    assert read_settings(text)["site_name"] == "Partner Playbook"
