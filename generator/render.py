"""Renders the catalogue into Markdown pages with Jinja: plain Python, no MkDocs.

Templates live in `generator/templates/`; a file of the same name in an override folder replaces one. Every
`{{ value }}` is escaped for Markdown unless a helper marked it as Markdown already (`escape.Markdown`), so data
can never inject markup, links or HTML. Templates therefore avoid macros, whose output Jinja hands back as plain
text and would be escaped a second time.
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader

from generator.addresses import OWN_PAGES, PER_PAGE, SECTION_INDEXES, Linker, SiteMap, address, continuation_uri
from generator.diagrams import migration_flow, options_lifecycle
from generator.escape import Markdown, escape_html, escape_markdown, markdown_link
from generator.model import COLLECTIONS, Catalogue
from generator.relations import Relations

Record = dict[str, Any]


@dataclass(frozen=True)
class Origin:
    """The data file (its path as a contributor types it) and line that define a page's entity."""

    file: str
    line: int
    #: The record, as a contributor would name it: "playbook task 3392".
    label: str = ""


@dataclass(frozen=True)
class Page:
    src_uri: str
    body: str
    tags: tuple[str, ...] = ()
    origin: Origin | None = None
    #: Continuation pages of a listing hold nothing a search should find twice.
    searchable: bool = True

    def markdown(self) -> str:
        """The page as a Markdown file: front matter (tags, HTML-escaped since the theme prints them raw)."""
        meta = ""
        if self.tags:
            meta += "tags:\n" + "".join(
                f"  - {json.dumps(escape_html(tag), ensure_ascii=False)}\n" for tag in self.tags
            )
        if not self.searchable:
            meta += "search:\n  exclude: true\n"
        return f"---\n{meta}---\n\n{self.body}" if meta else self.body


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
        auto_reload=False,  # one build renders thousands of pages from a dozen templates; no need to stat them
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
    #: How MkDocs names built pages: "directory" (tasks/3306/) or "file" (tasks/3306.html, the offline bundle).
    url_style: str = "directory"

    def __post_init__(self) -> None:
        self.relations = Relations(self.catalogue)
        self.site_map = SiteMap(self.catalogue, self.url_style)
        self.environment = make_environment(self.override_dirs)

    def pages(self, workers: int = 1) -> list[Page]:
        """Every page, in a fixed order. With `workers` > 1, the pages of the entities are rendered in that many
        forked processes, which share the catalogue as it is and hand back only the pages' text."""
        jobs: list[tuple[str, int, int]] = [("", 0, 0)]  # the index and whole-catalogue pages
        for collection in OWN_PAGES:
            count = len(self.catalogue.records(collection))
            step = max(50, count // (max(workers, 1) * 4) + 1)
            jobs += [(collection, start, min(start + step, count)) for start in range(0, count, step)]
        if workers > 1 and len(jobs) > 2 and "fork" in multiprocessing.get_all_start_methods():
            self._warm()
            global _FORKED
            _FORKED = self
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                batches = list(pool.map(_render_job, jobs))
        else:
            batches = [self._job(*job) for job in jobs]
        return [page for batch in batches for page in batch]

    def _job(self, collection: str, start: int, end: int) -> list[Page]:
        if not collection:
            return list(self._index_pages())
        return list(self._entity_pages(collection, start, end))

    def _warm(self) -> None:
        """Compute what every page reads before forking, so each process does not compute it again."""
        relations = self.relations
        for name in (
            "task_order",
            "needed_by",
            "citations",
            "tasks_by_owner",
            "tasks_by_stage",
            "responsibilities_by_role",
            "responsibilities_involving",
            "options_by_phase",
            "offerings_by_phase",
            "focus_areas_by_group",
            "partner_types_by_option",
            "resources_by_option",
            "options_using",
            "steps_by_phase",
        ):
            getattr(relations, name)
        for collection in {c.name for c in COLLECTIONS}:
            self.catalogue.index(collection)
            if collection in OWN_PAGES and self.catalogue.records(collection):
                self.origin_of(collection, 0)  # reads the file's positions once, here

    def _render(self, template: str, src_uri: str, **context: Any) -> str:
        linker = Linker(src_uri, self.site_map)

        def flow(tasks: list[Record], title: str, per_stage: int = 8) -> Markdown:
            return migration_flow(self.relations, linker, tasks, title=title, max_per_stage=per_stage)

        def options_grid() -> Markdown:
            return options_lifecycle(self.catalogue, linker)

        return self.environment.get_template(template).render(
            x=linker,
            r=self.relations,
            c=self.catalogue,
            notices=self.notices,
            flow=flow,
            options_grid=options_grid,
            **context,
        )

    def _paged(self, template: str, src_uri: str, lists: dict[str, list[Any]], **context: Any) -> Iterator[str]:
        """The page, and as many continuation pages as its longest list needs; each gets its share of every list."""
        count = max([1, *((len(items) + PER_PAGE - 1) // PER_PAGE for items in lists.values())])
        for number in range(1, count + 1):
            pager = Pager(src_uri, number, count)
            chunks = {name: items[pager.offset : pager.offset + PER_PAGE] for name, items in lists.items()}
            yield self._render(template, pager.uri, pager=pager, lists=chunks, **context)

    def _index_pages(self) -> Iterator[Page]:
        for collection, src_uri in SECTION_INDEXES.items():
            lists = {"tasks": self.relations.task_order} if collection == "tasks" else {}
            for number, body in enumerate(self._paged(f"{collection}_index.md.j2", src_uri, lists), start=1):
                yield Page(continuation_uri(src_uri, number), body, searchable=number == 1)
        for src_uri, template in (("glossary.md", "glossary.md.j2"), ("provenance.md", "provenance.md.j2")):
            yield Page(src_uri, self._render(template, src_uri))
        yield Page("downloads.md", self._render("downloads.md.j2", "downloads.md", collections=COLLECTIONS))
        yield Page("catalogue.md", self._render("catalogue.md.j2", "catalogue.md"), searchable=False)
        yield Page("flow.md", self._render("flow.md.j2", "flow.md"))
        yield Page("options-by-phase.md", self._render("options_by_phase.md.j2", "options-by-phase.md"))
        yield from self._runbooks()

    def _runbooks(self) -> Iterator[Page]:
        """A checklist per migration source and per role; search finds the tasks on their own pages."""
        yield Page("runbooks/index.md", self._render("runbooks_index.md.j2", "runbooks/index.md"))
        relations = self.relations
        for source in self.catalogue.records("migration_sources"):
            tasks = relations.tasks_for_source(source["id"])
            intro = f"Every task that applies to a {source['name']} migration."
            yield self._runbook(f"runbooks/sources/{source['id']}.md", f"{source['name']} migration", intro, tasks)
        for role in self.catalogue.records("roles"):
            tasks = relations.tasks_by_owner.get(role["id"], [])
            intro = f"Every task the {role['name']} owns."
            yield self._runbook(f"runbooks/roles/{role['id']}.md", role["name"], intro, tasks, role["id"])

    def _runbook(self, src_uri: str, title: str, intro: str, tasks: list[Record], role: str | None = None) -> Page:
        owners = [role] if role else list(dict.fromkeys(task["owner"] for task in tasks))
        body = self._render(
            "runbook.md.j2",
            src_uri,
            title=title,
            intro=intro,
            groups=self.relations.runbook(tasks),
            included={task["id"] for task in tasks},
            subject_role=role,
            roles=owners,  # whose limits the reader must see before following the steps
            tasks_in_order=self.relations.in_task_order(tasks),
        )
        return Page(src_uri, body, searchable=False)

    def _entity_pages(self, collection: str, start: int, end: int) -> Iterator[Page]:
        for index in range(start, end):
            record = self.catalogue.records(collection)[index]
            src_uri = address(collection, record).src_uri
            tags, origin = self.tags(collection, record), self.origin_of(collection, index)
            pages = self._paged(f"{collection}.md.j2", src_uri, self._lists(collection, record), record=record)
            for number, body in enumerate(pages, start=1):
                first = number == 1
                yield Page(continuation_uri(src_uri, number), body, tags if first else (), origin, searchable=first)

    def _lists(self, collection: str, record: Record) -> dict[str, list[Any]]:
        """The lists of an entity page that grow with the catalogue, and so are spread over pages."""
        relations, key = self.relations, record["id"]
        if collection == "roles":
            return {
                "responsibilities": relations.responsibilities_by_role.get(key, []),
                "tasks": relations.tasks_by_owner.get(key, []),
            }
        if collection == "migration_sources":
            return {"tasks": relations.tasks_for_source(key)}
        if collection == "migration_stages":
            return {"tasks": relations.tasks_by_stage.get(key, [])}
        return {}

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
        """Admonitions for the limits of the given roles: a retired role, one only some partners may use.

        Hundreds of task pages repeat the same notice; search indexes it on the role's page only.
        """
        roles = self.catalogue.index("roles")
        blocks = []
        for role_id in role_ids:
            role = roles[role_id]
            for limit in role.get("limits", []):
                kind, what = LIMIT_NOTICES[limit["kind"]]
                blocks.append(admonition(kind, f"{role['name']}: {what}", limit["text"]))
        if not blocks:
            return Markdown("")
        return Markdown("<div data-search-exclude markdown>\n\n" + "\n".join(blocks) + "\n</div>\n")


@dataclass(frozen=True)
class Pager:
    """Where a page stands in a listing spread over several pages."""

    first_uri: str
    number: int
    count: int

    @property
    def uri(self) -> str:
        return continuation_uri(self.first_uri, self.number)

    @property
    def offset(self) -> int:
        return (self.number - 1) * PER_PAGE

    @property
    def first(self) -> bool:
        return self.number == 1

    def neighbours(self) -> list[tuple[str, str]]:
        """(label, uri) of the previous and next pages, where they exist."""
        links = []
        if self.number > 1:
            links.append(("previous page", continuation_uri(self.first_uri, self.number - 1)))
        if self.number < self.count:
            links.append(("next page", continuation_uri(self.first_uri, self.number + 1)))
        return links


#: The renderer a forked worker inherits from its parent (set just before the fork, read only in the child).
_FORKED: SiteRenderer | None = None


def _render_job(job: tuple[str, int, int]) -> list[Page]:
    assert _FORKED is not None
    return _FORKED._job(*job)


def tag_label(kind: str, record: Record) -> str:
    return f"{kind}: {record.get('acronym') or record['name']}"


def write_pages(pages: list[Page], out_dir: Path, suffix: str = "") -> None:
    for page in pages:
        target = out_dir / page.src_uri
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page.markdown() + suffix, encoding="utf-8")
