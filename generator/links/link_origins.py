"""Which source made a page of the built site: the data record (file and line) or the hand-written Markdown file.

A link checker that reads only HTML can say a link is broken; only the generator knows which YAML record or
Markdown file a contributor must open to fix it.
"""

from __future__ import annotations

import os
from pathlib import Path

from generator.data.loader import LoadedData
from generator.data.model import COLLECTION_BY_NAME
from generator.data.validate import validate_data
from generator.pages.generate import INCLUDED_PAGES
from generator.pages.render import Origin, OriginLookup, SiteRenderer


def html_paths(src_uri: str) -> list[str]:
    """The pages MkDocs writes for a Markdown file, with directory URLs (the site) and without (the bundle)."""
    stem = src_uri.removesuffix(".md")
    if stem == "index" or stem.endswith("/index"):
        return [stem + ".html"]
    return [stem + "/index.html", stem + ".html"]


def origin_lookup(loaded: LoadedData) -> OriginLookup:
    """Where each record was written: its file (as a contributor types the path), its line, and its name."""

    def origin(collection: str, index: int) -> Origin:
        where = loaded.locate(collection, index)
        record_id = loaded.catalogue.records(collection)[index].get("id")
        return Origin(where.path, where.line, f"{COLLECTION_BY_NAME[collection].label} {record_id}")

    return origin


def page_origins(data_dir: Path | None, docs_dir: Path | None, templates_dir: Path | None) -> dict[str, Origin]:
    """Built page → where it came from (a data record, or a Markdown file), for every page the sources account for."""
    origins: dict[str, Origin] = {}
    if docs_dir and docs_dir.is_dir():
        for source in docs_dir.rglob("*.md"):
            for page in html_paths(source.relative_to(docs_dir).as_posix()):
                origins[page] = Origin(os.path.relpath(source))
        for src_uri, source in INCLUDED_PAGES.items():
            for page in html_paths(src_uri):
                origins.setdefault(page, Origin(os.path.relpath(docs_dir.parent / source)))
    if data_dir and data_dir.is_dir():
        validation = validate_data(data_dir)
        if not validation.ok:
            return origins  # the data is broken: `playbook validate` is the place to say so
        loaded = validation.loaded
        # The plan names every page and its record; nothing needs rendering.
        renderer = SiteRenderer(loaded.catalogue, origin_lookup(loaded), [templates_dir] if templates_dir else [])
        for page in renderer.plan():
            origin = renderer.origin(page) or Origin(os.path.relpath(data_dir))
            for path in html_paths(page.src_uri):
                origins[path] = origin
    return origins
