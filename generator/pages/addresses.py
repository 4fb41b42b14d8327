"""Where each entity lives in the site: its page, or an anchor on its parent's page; and links between them.

Addresses are Markdown source paths (`tasks/3306.md`), so MkDocs, or any engine that reads Markdown, turns the
relative links into URLs and can check them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from generator.data.model import COLLECTION_BY_NAME, OWN_PAGES, Catalogue
from generator.data.reads import same_record
from generator.pages.escape import Markdown, escape_html, escape_markdown

Record = dict[str, Any]

#: Collections shown as a section of their parent's page: (parent collection, the field naming the parent).
ON_PARENT_PAGE = {
    "partner_types": ("options", "option"),
    "self_service_resources": ("options", "option"),
    "focus_areas": ("focus_area_groups", "group"),
    "responsibilities": ("roles", "role"),
}
#: Collections shown as a section of one fixed page.
ON_FIXED_PAGE = {
    "alignment_steps": "lifecycle/index.md",
    "glossary": "glossary.md",
    "source_pages": "provenance.md",
}
SECTION_INDEXES = {
    "options": "options/index.md",
    "lifecycle_phases": "lifecycle/index.md",
    "fasttrack_phases": "fasttrack/index.md",
    "services_offerings": "services/index.md",
    "roles": "roles/index.md",
    "migration_sources": "sources/index.md",
    "migration_stages": "stages/index.md",
    "tasks": "tasks/index.md",
}


@dataclass(frozen=True)
class Address:
    src_uri: str
    anchor: str | None = None


def anchor_id(collection: str, record_id: Any) -> str:
    """An HTML id that no heading of the page can take, since headings never start with the kind and a dash."""
    return f"{COLLECTION_BY_NAME[collection].kind}-{record_id}"


#: Rows a listing shows before it continues on a further page: a page stays small however large the catalogue.
PER_PAGE = 20


def continuation_uri(src_uri: str, number: int) -> str:
    """Page `number` of a listing that starts on `src_uri`: `roles/mvm.md` → `roles/mvm/page-2.md`."""
    if number == 1:
        return src_uri
    stem = src_uri.removesuffix(".md").removesuffix("/index")
    return f"{stem}/page-{number}.md"


def address(collection: str, record: Record) -> Address:
    if collection in OWN_PAGES:
        return Address(OWN_PAGES[collection].format(id=record["id"]))
    if collection in ON_PARENT_PAGE:
        parent, field = ON_PARENT_PAGE[collection]
        return Address(OWN_PAGES[parent].format(id=record[field]), anchor_id(collection, record["id"]))
    return Address(ON_FIXED_PAGE[collection], anchor_id(collection, record["id"]))


def display_name(collection: str, record: Record) -> str:
    if collection == "tasks":
        return f"Task {record['id']}"
    for field in ("name", "title", "term", "summary"):
        if field in record:
            return str(record[field])
    return str(record["id"])


def relative_link(from_uri: str, to_uri: str, anchor: str | None = None) -> str:
    """The relative path from one source file to another (both relative to the docs folder), plus the anchor.

    Computed on the strings, not with `posixpath.relpath`, which resolves against the working folder and
    costs more than the rest of a page's rendering.
    """
    suffix = f"#{anchor}" if anchor else ""
    if to_uri == from_uri:
        return suffix
    here, there = from_uri.split("/")[:-1], to_uri.split("/")
    common = 0
    while common < len(here) and common < len(there) - 1 and here[common] == there[common]:
        common += 1
    return "../" * (len(here) - common) + "/".join(there[common:]) + suffix


def built_path(src_uri: str, url_style: str) -> str:
    """The file MkDocs writes for a Markdown page: `tasks/3306/index.html` ("directory" URLs, the site) or
    `tasks/3306.html` ("file" URLs, the offline bundle)."""
    stem = src_uri.removesuffix(".md")
    if url_style == "file" or stem == "index" or stem.endswith("/index"):
        return stem + ".html"
    return stem + "/index.html"


def public_url(site_url: str, src_uri: str) -> str:
    """Where a page is published: `https://…/site/runbooks/sources/box/` for `runbooks/sources/box.md`."""
    path = built_path(src_uri, "directory").removesuffix("index.html")
    return site_url.rstrip("/") + "/" + path


def built_href(from_uri: str, to_uri: str, anchor: str | None, url_style: str) -> str:
    """The link from one built page to another (both given by their Markdown source path), as the browser
    follows it: `../roles/mvm/` ("directory" URLs) or `../roles/mvm.html` ("file" URLs)."""
    target = relative_link(built_path(from_uri, url_style), built_path(to_uri, url_style), anchor)
    if url_style == "directory":  # `../roles/mvm/index.html` is served, and written, as `../roles/mvm/`
        path, hash_, fragment = target.partition("#")
        if path == "index.html" or path.endswith("/index.html"):
            path = path.removesuffix("index.html") or "./"
        target = path + hash_ + fragment
    return target


class SiteMap:
    """Every entity's address, including those whose place on a paged listing depends on their position."""

    def __init__(self, catalogue: Catalogue, earlier: SiteMap | None = None) -> None:
        """`earlier`: the map of an earlier load of the same data (the live preview's, before a save), whose places
        are taken where the responsibilities are the records it placed (thousands of them, at each save)."""
        self.catalogue = catalogue
        responsibilities = catalogue.records("responsibilities")
        if earlier is not None and _same_records(earlier.catalogue.records("responsibilities"), responsibilities):
            self._placed: dict[tuple[str, Any], Address] = earlier._placed  # never changed once made
            return
        self._placed = {}
        by_role: dict[str, int] = {}
        for responsibility in responsibilities:
            position = by_role.get(responsibility["role"], 0)
            by_role[responsibility["role"]] = position + 1
            home = address("responsibilities", responsibility)
            page = continuation_uri(home.src_uri, position // PER_PAGE + 1)
            self._placed[("responsibilities", responsibility["id"])] = Address(page, home.anchor)

    def address(self, collection: str, record: Record) -> Address:
        return self._placed.get((collection, record["id"])) or address(collection, record)


def _same_records(before: list[Record], after: list[Record]) -> bool:
    """Whether two lists hold the same record objects."""
    return len(before) == len(after) and all(map(same_record, before, after))


class Linker:
    """Links from one page to entities and pages, as Markdown."""

    def __init__(self, from_uri: str, site_map: SiteMap) -> None:
        self.from_uri = from_uri
        self.site_map = site_map
        self.catalogue = site_map.catalogue

    def record(self, collection: str, record_id: Any) -> Record:
        return self.catalogue.index(collection)[record_id]

    def to(self, collection: str, record_or_id: Any, text: object = None) -> Markdown:
        """A link to an entity given by record or ID; the text defaults to the entity's name."""
        record = record_or_id if isinstance(record_or_id, dict) else self.record(collection, record_or_id)
        where = self.site_map.address(collection, record)
        label = escape_markdown(display_name(collection, record) if text is None else text)
        return Markdown(f"[{label}]({relative_link(self.from_uri, where.src_uri, where.anchor)})")

    def page(self, to_uri: str, text: object) -> Markdown:
        return Markdown(f"[{escape_markdown(text)}]({relative_link(self.from_uri, to_uri)})")

    def index(self, collection: str, text: object) -> Markdown:
        return self.page(SECTION_INDEXES[collection], text)

    def href(self, collection: str, record_or_id: Any) -> str:
        """An entity's link for raw HTML, written as a Markdown link is (`../tasks/3306.md#x`): every engine
        resolves it the same (see raw_links)."""
        record = record_or_id if isinstance(record_or_id, dict) else self.record(collection, record_or_id)
        where = self.site_map.address(collection, record)
        return self.page_href(where.src_uri, where.anchor)

    def page_href(self, to_uri: str, anchor: str | None = None) -> str:
        """A page's link for raw HTML, written as a Markdown link is."""
        return relative_link(self.from_uri, to_uri, anchor)

    @staticmethod
    def anchor(collection: str, record: Record) -> Markdown:
        """An invisible target for links to an entity that lives inside another page."""
        return Markdown(f'<a id="{escape_html(anchor_id(collection, record["id"]))}"></a>')
