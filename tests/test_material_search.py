"""Material's search handler, its scrub done by a faster scan (engines/material_search): the site it builds is the
one Material's own handler builds, byte for byte; each page and the index come out as Material's handler leaves
them; the scrub is Material's own expression's, on any text."""

from __future__ import annotations

import filecmp
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from material.plugins.search.plugin import SearchPlugin
from site_helpers import make_project

import generator.engines.mkdocs_plugin as mkdocs_plugin
from generator.engines.material_search import scrubbed, speed_up_search_scrub
from generator.engines.site import build_site, load_mkdocs_config


def _files(site: Path) -> dict[str, bytes]:
    return {str(path.relative_to(site)): path.read_bytes() for path in sorted(site.rglob("*")) if path.is_file()}


def test_the_faster_handler_builds_the_site_materials_own_builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    project = make_project(tmp_path / "project")
    faster: list[bool] = []

    def noting(config):
        faster.append(speed_up_search_scrub(config))
        return faster[-1]

    monkeypatch.setattr(mkdocs_plugin, "speed_up_search_scrub", noting)
    build_site(project / "mkdocs.yml", tmp_path / "faster")
    assert faster == [True]
    monkeypatch.setattr(mkdocs_plugin, "speed_up_search_scrub", lambda config: False)
    build_site(project / "mkdocs.yml", tmp_path / "material")
    faster_site, material_site = _files(tmp_path / "faster"), _files(tmp_path / "material")
    assert faster_site.keys() == material_site.keys()
    different = [name for name in faster_site if faster_site[name] != material_site[name]]
    assert different == []
    assert filecmp.cmp(tmp_path / "faster/search/search_index.json", tmp_path / "material/search/search_index.json")


@pytest.fixture
def search_config(tmp_path: Path):
    project = make_project(tmp_path / "project")
    return load_mkdocs_config(project / "mkdocs.yml")


@pytest.fixture
def faster_config(search_config):
    assert speed_up_search_scrub(search_config)
    assert not hasattr(_handler(search_config), "__func__")  # replaced: no longer Material's bound method
    return search_config


def _page(content: str) -> SimpleNamespace:
    return SimpleNamespace(content=content, meta={}, toc=[], url="page/", title="Page")


def _handler(config) -> object:
    (handler,) = [handler for handler in config.plugins.events["page_context"] if "search" in handler.__module__]
    return handler


#: Pieces of a page: attributes Material's expression removes (a value in quotes) and some it leaves (no value, an
#: empty one), spaces of every kind before them, and text that looks like them.
PIECES = [
    '<h2 id="a" data-search-exclude="yes">A</h2>',
    "<section data-search-exclude>",
    '<p data-search-boost="2">',
    ' data-search-x=""',
    '\tdata-search-exclude="1"',
    "\n",
    "data-search-",
    " data-search",
    "<p>words</p>",
    '\xa0data-search-nbsp="v"',
    '\x1cdata-search-sep="v"',
    '  data-search-two="a"data-search-next="b"',
    'data-search-open="x data-search-inner="y"',
    '"',
    '<h2 id="b">B</h2>',
    "</section>",
]


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(PIECES), max_size=12).map("".join))
def test_the_faster_handler_leaves_each_page_and_the_index_as_materials_own_does(faster_config, content: str):
    search_config = faster_config
    faster = _handler(search_config)
    search = search_config.plugins["material/search"]
    search.on_config(search_config)  # its index, afresh
    by_material, by_faster = _page(content), _page(content)
    SearchPlugin.on_page_context(search, {}, page=by_material, config=search_config, nav=None)
    material_entries = search.search_index.entries
    search.search_index.entries = []
    faster({}, page=by_faster, config=search_config, nav=None)
    assert by_faster.content == by_material.content
    assert search.search_index.entries == material_entries


def test_another_materials_handler_is_left_alone(search_config, monkeypatch: pytest.MonkeyPatch):
    def on_page_context(self, context, *, page, config, nav):  # does something else
        return None

    monkeypatch.setattr(SearchPlugin, "on_page_context", on_page_context)
    assert not speed_up_search_scrub(search_config)


#: Material's own expression, as its handler's code holds it.
MATERIALS = next(
    text for text in SearchPlugin.on_page_context.__code__.co_consts if isinstance(text, str) and "data-search" in text
)


@settings(max_examples=1000, deadline=None)
@given(
    st.lists(
        st.sampled_from([*PIECES, *' \t\n\x0b"=-_x', "data-search-", "data-search-a=", "\u2003"]), max_size=30
    ).map("".join)
)
def test_the_scrub_removes_what_materials_expression_removes_from_any_text(content: str):
    assert scrubbed(content) == re.sub(MATERIALS, "", content)
