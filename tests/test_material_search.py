"""Material's search handler, spared its needless step (engines/material_search): the site it builds is the one
Material's own handler builds, byte for byte, and a page that holds `data-search-` attributes still loses them."""

from __future__ import annotations

import filecmp
from pathlib import Path
from types import SimpleNamespace

import pytest
from material.plugins.search.plugin import SearchPlugin
from site_helpers import make_project

import generator.engines.mkdocs_plugin as mkdocs_plugin
from generator.engines.material_search import spare_search_scrub
from generator.engines.site import build_site, load_mkdocs_config


def _files(site: Path) -> dict[str, bytes]:
    return {str(path.relative_to(site)): path.read_bytes() for path in sorted(site.rglob("*")) if path.is_file()}


def test_the_spared_handler_builds_the_site_materials_own_builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    project = make_project(tmp_path / "project")
    spared: list[bool] = []

    def noting(config):
        spared.append(spare_search_scrub(config))
        return spared[-1]

    monkeypatch.setattr(mkdocs_plugin, "spare_search_scrub", noting)
    build_site(project / "mkdocs.yml", tmp_path / "spared")
    assert spared == [True]
    monkeypatch.setattr(mkdocs_plugin, "spare_search_scrub", lambda config: False)
    build_site(project / "mkdocs.yml", tmp_path / "material")
    spared_site, material_site = _files(tmp_path / "spared"), _files(tmp_path / "material")
    assert spared_site.keys() == material_site.keys()
    different = [name for name in spared_site if spared_site[name] != material_site[name]]
    assert different == []
    assert filecmp.cmp(tmp_path / "spared/search/search_index.json", tmp_path / "material/search/search_index.json")


@pytest.fixture
def search_config(tmp_path: Path):
    project = make_project(tmp_path / "project")
    return load_mkdocs_config(project / "mkdocs.yml")


def _page(content: str) -> SimpleNamespace:
    return SimpleNamespace(content=content, meta={}, toc=[], url="page/", title="Page")


def _handler(config) -> object:
    (handler,) = [handler for handler in config.plugins.events["page_context"] if "search" in handler.__module__]
    return handler


def test_a_page_with_search_attributes_still_loses_them(search_config):
    assert spare_search_scrub(search_config)
    handler = _handler(search_config)
    assert not hasattr(handler, "__func__")  # replaced
    search = search_config.plugins["material/search"]
    search.on_config(search_config)  # its index, afresh
    marked = _page('<h2 id="a" data-search-exclude="yes">A</h2><p>text</p>')
    handler({}, page=marked, config=search_config, nav=None)
    assert marked.content == '<h2 id="a">A</h2><p>text</p>'
    plain = _page('<h2 id="b">B</h2><p>data-search in the text, no attribute</p>')
    before = plain.content
    handler({}, page=plain, config=search_config, nav=None)
    assert plain.content is before
    indexed = {entry["location"] for entry in search.search_index.entries}
    assert "page/#b" in indexed and "page/#a" not in indexed  # the section marked to be left out is left out


def test_another_materials_handler_is_left_alone(search_config, monkeypatch: pytest.MonkeyPatch):
    def on_page_context(self, context, *, page, config, nav):  # does something else
        return None

    monkeypatch.setattr(SearchPlugin, "on_page_context", on_page_context)
    assert not spare_search_scrub(search_config)
