"""Renders the catalogue into Markdown pages with Jinja: plain Python, no MkDocs.

Templates live in `generator/templates/`; a file of the same name in an override folder replaces one. Every
`{{ value }}` is escaped for Markdown unless a helper marked it as Markdown already (`escape.Markdown`), so data
can never inject markup, links or HTML. Templates therefore avoid macros, whose output Jinja hands back as plain
text and would be escaped a second time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader

from generator.addresses import OWN_PAGES, SECTION_INDEXES, Linker, address
from generator.escape import Markdown, escape_html, escape_markdown, markdown_link
from generator.model import Catalogue
from generator.relations import Relations

Record = dict[str, Any]


@dataclass(frozen=True)
class Origin:
    """The data file (name within the data folder) and line that define a page's entity."""

    file: str
    line: int


@dataclass(frozen=True)
class Page:
    src_uri: str
    body: str
    tags: tuple[str, ...] = ()
    origin: Origin | None = None

    def markdown(self) -> str:
        """The page as a Markdown file: front matter (tags, HTML-escaped since the theme prints them raw)."""
        if not self.tags:
            return self.body
        tags = "".join(f"  - {json.dumps(escape_html(tag), ensure_ascii=False)}\n" for tag in self.tags)
        return f"---\ntags:\n{tags}---\n\n{self.body}"


OriginLookup = Callable[[str, int], Origin | None]

LIMIT_NOTICES = {
    "retired": ("warning", "no longer applies"),
    "opt-in-only": ("note", "availability"),
    "does-not": ("info", "where the role stops"),
}


def make_environment(override_dirs: list[Path]) -> Environment:
    loaders = [FileSystemLoader(str(folder)) for folder in override_dirs if folder.is_dir()]
    loaders.append(PackageLoader("generator", "templates"))
    environment = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=False,  # HTML autoescaping is wrong for Markdown; `finalize` escapes for Markdown instead
        finalize=escape_markdown,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.globals.update(link=markdown_link, admonition=admonition, md=Markdown)
    return environment


def admonition(kind: str, title: object, text: object) -> Markdown:
    """A Material admonition; the title sits in double quotes, so quotes in data must not end it early."""
    safe_title = str(escape_markdown(title)).replace('"', "&quot;")
    return Markdown(f'!!! {kind} "{safe_title}"\n\n    {escape_markdown(text)}\n')


@dataclass
class SiteRenderer:
    catalogue: Catalogue
    origin_of: OriginLookup = field(default=lambda collection, index: None)
    override_dirs: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.relations = Relations(self.catalogue)
        self.environment = make_environment(self.override_dirs)

    def pages(self) -> list[Page]:
        return [*self._index_pages(), *self._entity_pages()]

    def _render(self, template: str, src_uri: str, **context: Any) -> str:
        linker = Linker(src_uri, self.catalogue)
        return self.environment.get_template(template).render(
            x=linker, r=self.relations, c=self.catalogue, notices=self.notices, tag_of=tag_label, **context
        )

    def _index_pages(self) -> Iterator[Page]:
        for collection, src_uri in SECTION_INDEXES.items():
            yield Page(src_uri, self._render(f"{collection}_index.md.j2", src_uri))
        for src_uri, template in (("glossary.md", "glossary.md.j2"), ("provenance.md", "provenance.md.j2")):
            yield Page(src_uri, self._render(template, src_uri))

    def _entity_pages(self) -> Iterator[Page]:
        for collection in OWN_PAGES:
            for index, record in enumerate(self.catalogue.records(collection)):
                src_uri = address(collection, record).src_uri
                body = self._render(f"{collection}.md.j2", src_uri, record=record)
                yield Page(src_uri, body, self.tags(collection, record), self.origin_of(collection, index))

    def tags(self, collection: str, record: Record) -> tuple[str, ...]:
        """Role, stage and source tags, so a reader can list every page about one of them."""
        index = self.catalogue.index
        if collection == "tasks":
            found = [("Role", index("roles")[record["owner"]]), ("Stage", index("migration_stages")[record["stage"]])]
            found += [("Source", index("migration_sources")[source]) for source in record.get("sources", [])]
            return tuple(tag_label(kind, entity) for kind, entity in found)
        kinds = {"roles": "Role", "migration_stages": "Stage", "migration_sources": "Source"}
        return (tag_label(kinds[collection], record),) if collection in kinds else ()

    def notices(self, role_ids: list[str]) -> Markdown:
        """Admonitions for the limits of the given roles: a retired role, one only some partners may use."""
        roles = self.catalogue.index("roles")
        blocks = []
        for role_id in role_ids:
            role = roles[role_id]
            for limit in role.get("limits", []):
                kind, what = LIMIT_NOTICES[limit["kind"]]
                blocks.append(admonition(kind, f"{role['name']}: {what}", limit["text"]))
        return Markdown("\n".join(blocks))


def tag_label(kind: str, record: Record) -> str:
    return f"{kind}: {record.get('acronym') or record['name']}"


def write_pages(pages: list[Page], out_dir: Path) -> None:
    for page in pages:
        target = out_dir / page.src_uri
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page.markdown(), encoding="utf-8")
