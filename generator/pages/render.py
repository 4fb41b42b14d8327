"""Renders the catalogue into Markdown pages with Jinja: plain Python, no MkDocs.

Templates live in `generator/pages/templates/`; a file of the same name in an override folder replaces one. Every
`{{ value }}` is escaped for Markdown unless a helper marked it as Markdown already (`escape.Markdown`), so data
can never inject markup, links or HTML. Templates therefore avoid macros, whose output Jinja hands back as plain
text and would be escaped a second time.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import nullcontext, suppress
from dataclasses import InitVar, dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import Any

import markdown as python_markdown
from jinja2 import ChoiceLoader, Environment, FileSystemLoader
from markupsafe import Markup

from generator import __version__
from generator.data.model import COLLECTIONS, Catalogue
from generator.data.reads import Read, fingerprint, opened, recording
from generator.data.relations import Relations, TrackedRelations, record_reads
from generator.errors import DataError, PlaybookError, Problem
from generator.pages.addresses import (
    OWN_PAGES,
    PER_PAGE,
    SECTION_INDEXES,
    Linker,
    SiteMap,
    address,
    continuation_uri,
    public_url,
)
from generator.pages.diagrams import migration_flow, options_lifecycle
from generator.pages.escape import Markdown, escape_html, escape_markdown, markdown_link
from generator.pages.inline_html import InlineHtml
from generator.pages.task_rows import (
    CatalogueRows,
    RunbookSteps,
    StepTexts,
    TaskTable,
    learn,
    learned_mark,
    learned_since,
)
from generator.system.processes import die_with_parent

Record = dict[str, Any]

#: The package's page templates; a project's override folder can replace any of them by name.
TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Origin:
    """The file (its path as a contributor types it) and line that made a page: a data record's, or a
    hand-written page's file (no line)."""

    file: str
    line: int | None = None
    #: The record, as a contributor would name it: "playbook task 3392".
    label: str = ""

    def __str__(self) -> str:
        """`data/tasks.yml:134, playbook task 3392`, or `content/guide.md`."""
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}, {self.label}" if self.label else where


@dataclass(frozen=True)
class Page:
    src_uri: str
    body: str
    tags: tuple[str, ...] = ()
    origin: Origin | None = None
    #: Continuation pages of a listing hold nothing a search should find twice.
    searchable: bool = True
    #: How much search favours the page (Material's `search.boost`): an entity's own page over the pages that
    #: mention it, so its exact name finds it first.
    boost: int = 1
    #: What the page read of the data while it was rendered, when the renderer tracks reads (the live preview).
    reads: frozenset[Read] = frozenset()

    def markdown(self, *, title: bool = False) -> str:
        """The page as a Markdown file: front matter (tags, HTML-escaped since the theme prints them raw).

        With `title`, the front matter also gives the page's title, HTML-escaped: the theme writes the window's
        `<title>` from it as it is, where from the heading it would write `heading | striptags`, which turns
        `&lt;/title&gt;` back into live markup. (The MkDocs plugin sets the same as it builds.)
        """
        heading = heading_html(self.body) if title else ""
        meta = f"title: {json.dumps(heading, ensure_ascii=False)}\n" if heading else ""
        if self.tags:
            meta += "tags:\n" + "".join(
                f"  - {json.dumps(escape_html(tag), ensure_ascii=False)}\n" for tag in self.tags
            )
        if not self.searchable:
            meta += "search:\n  exclude: true\n"
        elif self.boost != 1:
            meta += f"search:\n  boost: {self.boost}\n"
        return f"---\n{meta}---\n\n{self.body}" if meta else self.body


@dataclass(frozen=True)
class PagePlan:
    """A page before it is rendered: where it goes, what it says of itself, and how to render it.

    Planning every page is cheap and rendering is the work, so a plan can be handed out at once (MkDocs needs
    every file's name up front) while the bodies are rendered elsewhere, in order.
    """

    src_uri: str
    template: str
    #: The template's variables, computed when the page is rendered, not when it is planned.
    context: Callable[[], dict[str, Any]] = field(default=dict, compare=False, repr=False)
    tags: tuple[str, ...] = ()
    #: The record the page shows, as (collection, index): its place in the data is the page's origin.
    shows: tuple[str, int] | None = None
    searchable: bool = True
    boost: int = 1


OriginLookup = Callable[[str, int], Origin | None]

#: Search's boost for the page of an option, a role, a source and every other entity but a task.
ENTITY_BOOST = 10

#: How a limit other than a retirement is shown: admonition kind, and what its title says of the role.
LIMIT_NOTICES = {
    "opt-in-only": ("note", "availability"),
    "does-not": ("info", "where the role stops"),
}


def make_environment(override_dirs: list[Path]) -> Environment:
    loaders = [FileSystemLoader(str(folder)) for folder in override_dirs if folder.is_dir()]
    loaders.append(FileSystemLoader(str(TEMPLATES)))
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


def admonition(kind: str, title: object, *paragraphs: object) -> Markdown:
    """A Material admonition; the title sits in double quotes, so quotes in data must not end it early."""
    safe_title = str(escape_markdown(title)).replace('"', "&quot;")
    body = "\n\n".join(f"    {escape_markdown(text)}" for text in paragraphs if text)
    return Markdown(f'!!! {kind} "{safe_title}"\n\n{body}\n')


def _names(names: list[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


@dataclass
class SiteRenderer:
    catalogue: Catalogue
    origin_of: OriginLookup = field(default=lambda collection, index: None)
    override_dirs: list[Path] = field(default_factory=list)
    #: Where the site is published (mkdocs.yml's `site_url`), for the address a printed page carries.
    site_url: str = ""
    #: The hand-written pages (paths in the docs folder), which a template links to only if the project has them
    #: (`has_page`); None when not known, and every such link is made.
    hand_written: frozenset[str] | None = None
    #: Whether each page notes what it reads of the data (`Page.reads`), for the live preview's dependency index.
    track_reads: bool = False
    #: The site map of a renderer of an earlier load of the same data, whose places are taken where they hold
    #: (`SiteMap`); not kept (each renderer would keep the one before alive, and so on).
    earlier_site_map: InitVar[SiteMap | None] = None
    #: The catalogue of a renderer of an earlier load, whose tracked copies of the records this load shares are
    #: taken as they are (`Catalogue.tracked`); not kept either.
    earlier_catalogue: InitVar[Catalogue | None] = None

    def __post_init__(self, earlier_site_map: SiteMap | None, earlier_catalogue: Catalogue | None) -> None:
        if self.track_reads:
            self.catalogue = self.catalogue.tracked(earlier_catalogue)
        self.relations = TrackedRelations(self.catalogue) if self.track_reads else Relations(self.catalogue)
        self.site_map = SiteMap(self.catalogue, earlier_site_map)
        self.environment = make_environment(self.override_dirs)
        self.environment.globals["has_page"] = self.has_page
        #: Text as Markdown makes it into HTML, for rows written as HTML; read before any page, so no page notes
        #: the glossary as read (the preview builds the whole site when it changes).
        self.inline_html = InlineHtml.of(self.catalogue.records("glossary"))
        self._plans: list[PagePlan] | None = None
        #: What planning each record's pages read of the data, by page (`plan_of` notes it where reads are tracked):
        #: a record whose plan read nothing an edit changed has the same pages, tags and lists after it.
        self.plan_reads: dict[str, frozenset[Read]] = {}

    def has_page(self, src_uri: str) -> bool:
        return self.hand_written is None or src_uri in self.hand_written

    def plan(self) -> list[PagePlan]:
        """Every page of the site, in a fixed order, not yet rendered."""
        if self._plans is None:
            self._plans = [*self.index_plans(), *self._entity_plans()]
        return self._plans

    def plan_of(self, collection: str, index: int) -> list[PagePlan]:
        """The pages of one record with pages of its own (`entity_plans`), noting what planning them read."""
        if not self.track_reads:
            return list(self.entity_plans(collection, index))
        with recording() as noted:
            plans = list(self.entity_plans(collection, index))
        read = frozenset(noted)
        self.plan_reads.update((plan.src_uri, read) for plan in plans)
        return plans

    def render(self, plan: PagePlan) -> Page:
        """A planned page, rendered; a failing template is reported at its file and line (a DataError)."""
        with recording() if self.track_reads else nullcontext(set()) as noted:
            try:
                body = self._render(plan.template, plan.src_uri, **plan.context())
            except Exception as err:  # an override template can fail in any way its expressions can
                raise DataError([self._template_problem(err, plan.src_uri)], "templates") from None
        reads = frozenset(noted) if self.track_reads else frozenset()
        return Page(plan.src_uri, body, plan.tags, self.origin(plan), plan.searchable, plan.boost, reads)

    def signature(self, plan: PagePlan) -> tuple[Any, ...]:
        """What a page's plan says besides its reads: its template, its front matter, and the lists the plan
        hands it (their members, by name), which the page iterates without looking them up."""
        if not hasattr(self, "_record_reads"):
            self._record_reads = record_reads(self.catalogue)
        given = fingerprint(plan.context.keywords, self._record_reads) if isinstance(plan.context, partial) else None
        return (plan.src_uri, plan.template, plan.tags, plan.shows, plan.searchable, plan.boost, given)

    def origin(self, plan: PagePlan) -> Origin | None:
        """Where the page's record is written. Finding lines means reading the data file again, so a build
        leaves it to the process that renders the page."""
        return self.origin_of(*plan.shows) if plan.shows else None

    def pages(self, processes: int = 0) -> list[Page]:
        """Every page, in the order of `plan()`; `processes` as for `Rendering`."""
        with Rendering(self, processes) as rendering:
            return [rendering.page(index) for index in range(len(rendering.plans))]

    def _template_problem(self, err: Exception, src_uri: str) -> Problem:
        """Where a template failed: its file and line (from Jinja's error, or from the traceback, which Jinja
        rewrites so that its frames name the template), and what went wrong."""
        path, line = getattr(err, "filename", None), getattr(err, "lineno", None)
        if path is None:
            for frame in reversed(traceback.extract_tb(err.__traceback__)):
                if frame.filename.endswith(".j2"):
                    path, line = frame.filename, frame.lineno
                    break
        what = getattr(err, "message", None) or str(err) or type(err).__name__
        message = f"template error while rendering {src_uri}: {what}"
        overridden = path is not None and any(
            Path(path).resolve().is_relative_to(folder.resolve()) for folder in self.override_dirs
        )
        hint = (
            "fix the template, or delete it from the overrides folder to use the generator's own"
            if overridden
            else "the generator's own template failed: please report this as a bug"
        )
        return Problem(os.path.relpath(path) if path else "<template>", line or 1, 1, message, hint)

    def warm(self, templates: Iterable[str] | None = None) -> None:
        """Compute what every page reads, and compile every template the pages use (or these), before forking, so
        that each process does not do it again (the live preview forks one for each edit)."""
        for name, attribute in vars(Relations).items():
            if isinstance(attribute, cached_property):
                getattr(self.relations, name)
        for collection in {c.name for c in COLLECTIONS}:
            self.catalogue.index(collection)
        for template in sorted(set(templates) if templates is not None else {plan.template for plan in self.plan()}):
            with suppress(Exception):  # a broken or unreadable template: the page that uses it reports it (render)
                self.environment.get_template(template)

    def _render(self, template: str, src_uri: str, **context: Any) -> str:
        linker = Linker(src_uri, self.site_map)

        def flow(tasks: list[Record], title: str, per_stage: int = 8) -> Markdown:
            return migration_flow(self.relations, linker, tasks, title=title, max_per_stage=per_stage)

        def options_grid() -> Markdown:
            return options_lifecycle(self.catalogue, linker)

        scope = RoleScope(self.relations, linker)
        steps = RunbookSteps(self.relations, linker, self.inline_html, scope.stand_in_pieces)
        written: dict[str, tuple[str, str]] = {}
        compiled = self.environment.get_template(template)
        body = compiled.render(
            steps=_noting(written, "steps", steps),
            task_table=_noting(written, "task_table", TaskTable(steps, scope.only)),
            catalogue_rows=CatalogueRows(linker),
            x=linker,
            r=self.relations,
            c=self.catalogue,
            notices=scope.notices,
            # A task whose link, as the engine writes it, shows the task index's jump box where a number goes.
            sample_task=next(iter(self.catalogue.records("tasks")), None),
            stand_in=scope.stand_in,
            only=scope.only,
            replacement=scope.replacement,
            flow=flow,
            options_grid=options_grid,
            **context,
        )
        return _blocks_put_in(body, written, compiled.filename)

    def _paged(
        self,
        template: str,
        src_uri: str,
        lists: dict[str, list[Any]],
        *,
        tags: tuple[str, ...] = (),
        shows: tuple[str, int] | None = None,
        boost: int = 1,
        **context: Any,
    ) -> Iterator[PagePlan]:
        """The page, and as many continuation pages as its longest list needs; each gets its share of every list.

        Only the first page carries the tags and is searched: the others repeat its subject.
        """
        count = max([1, *((len(items) + PER_PAGE - 1) // PER_PAGE for items in lists.values())])
        for number in range(1, count + 1):
            pager = Pager(src_uri, number, count)
            chunks = {name: items[pager.offset : pager.offset + PER_PAGE] for name, items in lists.items()}
            variables = partial(dict, pager=pager, lists=chunks, **context)
            yield PagePlan(pager.uri, template, variables, tags if pager.first else (), shows, pager.first, boost)

    def index_plans(self) -> Iterator[PagePlan]:
        """The pages that are no record's own: section indexes, listings, runbooks and the like."""
        for collection, src_uri in SECTION_INDEXES.items():
            lists = {"tasks": self.relations.task_order} if collection == "tasks" else {}
            yield from self._paged(f"{collection}_index.md.j2", src_uri, lists)
        by_number = sorted(self.catalogue.records("tasks"), key=lambda task: task["id"])
        yield from self._paged("tasks_by_number.md.j2", "tasks/by-number.md", {"tasks": by_number})
        yield PagePlan("glossary.md", "glossary.md.j2")
        yield PagePlan("provenance.md", "provenance.md.j2")
        yield PagePlan("downloads.md", "downloads.md.j2", partial(dict, collections=COLLECTIONS))
        yield PagePlan("catalogue.md", "catalogue.md.j2", searchable=False)
        yield PagePlan("flow.md", "flow.md.j2")
        yield PagePlan("options-by-phase.md", "options_by_phase.md.j2")
        yield from self._runbooks()

    def _runbooks(self) -> Iterator[PagePlan]:
        """A checklist per migration source and per role; search finds the tasks on their own pages."""
        yield PagePlan("runbooks/index.md", "runbooks_index.md.j2")
        relations = self.relations
        for source in self.catalogue.records("migration_sources"):
            tasks = partial(relations.tasks_for_source, source["id"])
            uri = f"runbooks/sources/{source['id']}.md"
            yield self._runbook(uri, partial(_source_runbook_words, source), tasks, source=source["id"])
        for role in self.catalogue.records("roles"):
            # Looked up when the page is rendered, so that the page notes it reads the role's list of tasks.
            tasks = partial(lambda role_id: relations.tasks_by_owner.get(role_id, []), role["id"])
            uri = f"runbooks/roles/{role['id']}.md"
            yield self._runbook(uri, partial(_role_runbook_words, role), tasks, role=role["id"])

    def _runbook(
        self,
        src_uri: str,
        words: Callable[[], tuple[str, str]],
        tasks_of: Callable[[], list[Record]],
        *,
        role: str | None = None,
        source: str | None = None,
    ) -> PagePlan:
        """A runbook's plan; its title and introduction (`words`) and its tasks are read when it is rendered, so
        that the page notes what it read (a source renamed renders its runbook again)."""

        def variables() -> dict[str, Any]:
            title, intro = words()
            tasks = [opened(task) for task in tasks_of()]  # each read whole (every step shows it)
            groups = self.relations.runbook(tasks, ordered=True)  # the grouping's order, which the page read
            return dict(
                title=title,
                intro=intro,
                groups=groups,
                included={task["id"] for task in tasks},
                subject_role=role,
                subject_source=source,
                notice_sources=[source] if source else [s["id"] for s in self.catalogue.records("migration_sources")],
                edition=self.edition(src_uri),
                # whose limits the reader must see before following the steps
                roles=[role] if role else list(dict.fromkeys(task["owner"] for task in tasks)),
                tasks_in_order=[task for _, steps in groups for task in steps],
            )

        return PagePlan(src_uri, "runbook.md.j2", variables, searchable=False)

    def edition(self, src_uri: str) -> Markdown:
        """What a printed page needs to be trusted later: the site's version, when its facts were last checked
        against their sources, and where the page lives."""
        pages = self.catalogue.records("source_pages")
        checked = max((page["reviewed"] for page in pages if "reviewed" in page), default="")
        parts = [f"Partner Playbook {escape_markdown(__version__)}"]
        if checked:
            parts.append(f"facts last checked against their sources on {escape_markdown(checked)}")
        if self.site_url:
            url = public_url(self.site_url, src_uri)
            parts.append(f"this page: {markdown_link(url, url)}")
        return Markdown(" · ".join(parts))

    def _entity_plans(self) -> Iterator[PagePlan]:
        for collection in OWN_PAGES:
            for index in range(len(self.catalogue.records(collection))):
                yield from self.plan_of(collection, index)

    def entity_plans(self, collection: str, index: int) -> Iterator[PagePlan]:
        """The pages of one record of a collection with pages of its own: its page and its continuation pages."""
        record = self.catalogue.records(collection)[index]
        yield from self._paged(
            f"{collection}.md.j2",
            address(collection, record).src_uri,
            self._lists(collection, record),
            tags=self.tags(collection, record),
            shows=(collection, index),
            # Thousands of task pages name a role or a source; the entity's own page must come first.
            boost=1 if collection == "tasks" else ENTITY_BOOST,
            record=record,
        )

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


def _noting(written: dict[str, tuple[str, str]], name: str, write: Callable[..., Markdown]) -> Callable[..., Markdown]:
    """`write` (the template's function `name`) giving the template a placeholder of its own for each block of raw
    HTML it writes, noted in `written` (see `_blocks_put_in`). Data cannot hold the placeholder: escaped text drops
    the two characters that mark it (as Python-Markdown does)."""

    def noted(*args: Any, **kwargs: Any) -> Markdown:
        placeholder = f"\x02playbook-{name}-{len(written)}\x03"
        written[placeholder] = (name, write(*args, **kwargs))
        return Markdown(placeholder)

    return noted


class _NotAlone(ValueError):
    """A block of raw HTML a template did not write alone; where the template calls the function that wrote it."""

    def __init__(self, message: str, filename: str | None, lineno: int) -> None:
        super().__init__(message)
        self.filename, self.lineno = filename, lineno


def _blocks_put_in(body: str, written: dict[str, tuple[str, str]], template: str | None) -> str:
    """The page with each block of raw HTML a template wrote (runbook steps, a table of tasks) in place of its
    placeholder. Each must stand where it was written at the start of a line, with a blank line before and after it:
    only there does Markdown pass it through as it is. Indented (in an admonition, say) or written through a
    filter, its text, already HTML, would be read as Markdown, and a title's `[x](javascript:…)` would become a
    link; so every placeholder found elsewhere is a template problem, at the template's first call of the function
    that wrote it. A placeholder not written at all (a block the template kept and did not use) is no problem, and
    one a filter changed is text that holds no data (the filter never sees the block)."""
    for placeholder, (name, block) in written.items():
        start = 0
        while (at := body.find(placeholder, start)) >= 0:
            end = at + len(placeholder)
            alone_before = at == 0 or body.endswith("\n\n", 0, at)
            alone_after = body.startswith("\n\n", end) or body[end:] in ("", "\n")
            if not (alone_before and alone_after):
                raise _NotAlone(
                    f"the raw HTML that {name}() writes (`{block[: block.find('>') + 1]}`) must be written as it is,"
                    " at the start of a line, with a blank line before and after it (not indented, not through a"
                    " filter): only there does Markdown leave the data in it as text",
                    template,
                    _line_calling(template, name),
                )
            start = end
        body = body.replace(placeholder, block)
    return body


def _line_calling(template: str | None, name: str) -> int:
    """The first line of the template that calls `name`; 1 where none is found (or the file cannot be read)."""
    try:
        lines = Path(template).read_text(encoding="utf-8").splitlines() if template else []
    except (OSError, UnicodeDecodeError):
        return 1
    return next((number for number, line in enumerate(lines, start=1) if f"{name}(" in line), 1)


#: Escaped Markdown text, or the (collection, id) of an entity to link to.
StandInPiece = str | tuple[str, Any]


@dataclass(frozen=True)
class RoleScope:
    """What a page says of the roles whose work it shows: their limits and, for a role retired for some
    migration sources, whether it applies to the sources the page is about and what the source page says
    takes its place (nothing more: it names no new owner, so neither do we)."""

    relations: Relations
    linker: Linker

    def notices(self, role_ids: list[str], sources: list[str] | None = None, searchable: bool = False) -> Markdown:
        """Admonitions for the limits of the given roles, for these migration sources (None: in general).

        Hundreds of pages repeat the same notice; search indexes it on the role's own page only (`searchable`).
        """
        roles = self.relations.catalogue.index("roles")
        blocks = [
            self._notice(roles[role_id], limit, sources)
            for role_id in role_ids
            for limit in roles[role_id].get("limits", [])
        ]
        if not blocks:
            return Markdown("")
        if searchable:
            return Markdown("\n".join(blocks) + "\n")
        # A <section>, not a <div>: Material's search parser tells elements apart by tag name alone, so the first
        # admonition <div> to close would end a <div>'s exclusion and let the notices after it into the index.
        opening = '<section class="playbook-notices" data-search-exclude markdown>'
        return Markdown(f"{opening}\n\n" + "\n".join(blocks) + "\n</section>\n")

    def stand_in(self, role_id: str, source_id: str) -> Markdown:
        """For a step of a retired role in a migration from a source it no longer applies to: who does the
        work now, as the source page puts it; empty where the role still applies."""
        return self._joined(self.stand_in_pieces(role_id, source_id))

    def stand_in_pieces(self, role_id: str, source_id: str) -> list[StandInPiece]:
        """`stand_in` as escaped Markdown text and the (collection, id) of each link, for a caller that writes
        the links itself (a runbook's steps are HTML)."""
        limit = self.relations.retirement(role_id)
        if limit is None or self.relations.role_applies(role_id, source_id):
            return []
        where = escape_markdown(self._source_name(source_id))
        if not limit.get("replaced_by"):
            return [f"retired for {where}; the source page names nothing in its place"]
        return [f"retired for {where}: now ", *self._replacement_pieces(limit)]

    def only(self, role_id: str) -> Markdown:
        """` (IMAP only)` after a retired role's name wherever it is listed without a source in view; else empty."""
        limit = self.relations.retirement(role_id)
        kept = limit.get("except_sources", []) if limit else []
        if not kept:
            return Markdown("")
        return Markdown(f" ({escape_markdown(_names([self._source_name(source) for source in kept]))} only)")

    def replacement(self, limit: Record) -> Markdown:
        """ "the Migration Hub Learning Center's guidance, with the Migration Support Team for questions"; for a
        limit with a `replaced_by` only."""
        return self._joined(self._replacement_pieces(limit))

    def _replacement_pieces(self, limit: Record) -> list[StandInPiece]:
        replaced = limit["replaced_by"]
        pieces: list[StandInPiece] = [f"the {escape_markdown(replaced['guidance'])}'s guidance"]
        if replaced.get("questions_to"):
            pieces += [", with the ", ("roles", replaced["questions_to"]), " for questions"]
        return pieces

    def _joined(self, pieces: list[StandInPiece]) -> Markdown:
        return Markdown("".join(piece if isinstance(piece, str) else self.linker.to(*piece) for piece in pieces))

    def _notice(self, role: Record, limit: Record, sources: list[str] | None) -> Markdown:
        if limit["kind"] != "retired":
            kind, what = LIMIT_NOTICES[limit["kind"]]
            return admonition(kind, f"{role['name']}: {what}", limit["text"])
        kept = limit.get("except_sources", [])
        if sources is None:
            return admonition("warning", self._retired_title(role, kept), limit["text"])
        applies = [source for source in sources if source in kept]
        retired = [source for source in sources if source not in kept]
        if not retired:
            names = _names([self._source_name(source) for source in applies])
            return admonition(
                "info",
                f"{role['name']}: takes part in {names} migrations",
                Markdown(
                    f"The {escape_markdown(role['name'])} is retired for commercial migrations from other sources, "
                    f"but not for {escape_markdown(names)}: here it does the work it owns."
                ),
            )
        names = _names([self._source_name(source) for source in retired])
        title = f"{role['name']}: retired for {names} migrations" if not applies else self._retired_title(role, kept)
        who = (
            Markdown(
                f"For {escape_markdown(names)}, its work now goes to {self.replacement(limit)}. The source page "
                "says this of the role's work as a whole and names no new owner for each task; the site applies it "
                "to each of the role's steps, which is our reading."
            )
            if limit.get("replaced_by")
            else Markdown(f"For {escape_markdown(names)}, the source page names nothing in its place.")
        )
        still = (
            Markdown(f"For {escape_markdown(_names([self._source_name(s) for s in applies]))} it still does the work.")
            if applies
            else ""
        )
        return admonition("warning", title, limit["text"], who, still)

    def _retired_title(self, role: Record, kept: list[str]) -> str:
        if not kept:
            return f"{role['name']}: no longer applies"
        return f"{role['name']}: retired except for {_names([self._source_name(s) for s in kept])}"

    def _source_name(self, source_id: str) -> str:
        return str(self.relations.catalogue.index("migration_sources")[source_id]["name"])


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


#: How many pages, the first and the last, `Rendering` sends its processes one at a time.
SINGLY = 48


class Rendering:
    """The bodies of a renderer's planned pages (all, or the `wanted` ones by index in the plan, in the order they
    will most likely be asked for), handed out each once: in any order one by one (`page`), or each as soon as it
    is ready (`ready`).

    With `processes` ≥ 1 they are rendered, in that order, by that many forked processes, which inherit the
    catalogue and the compiled templates as they are and send back only text (and the runbook steps they wrote,
    which this process keeps for the next): the caller goes on with its own work (MkDocs turning the pages before
    into HTML) and waits only for a page not rendered yet. With 0, or where processes cannot be forked, each page
    is rendered when asked for.
    """

    def __init__(
        self,
        renderer: SiteRenderer,
        processes: int = 0,
        wanted: list[int] | None = None,
        plans: list[PagePlan] | None = None,
    ) -> None:
        self.renderer = renderer
        #: The plans of the pages (the renderer's whole plan, unless given), which `wanted` and `page` index.
        self.plans = renderer.plan() if plans is None else plans
        self._order = list(range(len(self.plans))) if wanted is None else wanted
        #: Pages rendered by a forked process and not handed out yet, by index in the plan.
        self._ready: dict[int, Page | DataError] = {}
        self._pool: ProcessPoolExecutor | None = None
        #: The batches sent to the processes, oldest first: their indices, and the pages to come.
        self._batches: deque[tuple[list[int], Future[tuple[list[Page | DataError], StepTexts]]]] = deque()
        if processes >= 1 and len(self._order) > 1 and "fork" in multiprocessing.get_all_start_methods():
            if processes > 1:  # else the one process computes them itself, leaving this one free sooner
                renderer.warm()
            self._pool = ProcessPoolExecutor(
                max_workers=processes,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_adopt,
                initargs=(renderer, self.plans, os.getpid()),  # inherited through the fork, never pickled
            )
            _widen_result_pipe(self._pool)
            # Small batches keep the first pages quick to arrive and the processes evenly loaded; the first few dozen
            # go one by one (a preview's pass puts its longest pages, the runbooks, first), for this process to take
            # its share of the long ones too, and so do the last few dozen: this process takes batches from the end
            # (`ready`), and one it takes whole while the processes have nothing left leaves them idle until it is
            # done (a preview's stage edit waited a quarter of a second on a batch of 26 pages).
            order = self._order
            step = max(1, min(64, len(order) // (processes * 8) + 1))
            last = max(SINGLY, len(order) - SINGLY)
            batches = [[index] for index in order[:SINGLY]]
            batches += [order[start : min(start + step, last)] for start in range(SINGLY, last, step)]
            batches += [[index] for index in order[last:]]
            for batch in batches:
                self._batches.append((batch, self._pool.submit(_render_pages, batch)))

    def page(self, index: int) -> Page:
        if self._pool is None:
            return self.renderer.render(self.plans[index])
        while index not in self._ready:
            self._receive()
        return _handed(self._ready.pop(index))

    def ready(self) -> Iterator[tuple[int, Page]]:
        """Every page not handed out yet, each as soon as it is ready, in any order. Rather than wait for a forked
        process, this one renders the batches no process has begun, from the last one back."""
        if self._pool is None:
            for index in self._order:
                yield index, self.renderer.render(self.plans[index])
            return
        while self._ready or self._batches:
            if self._ready:
                index, page = self._ready.popitem()
                yield index, _handed(page)
            elif self._batches[0][1].done() or len(self._batches) == 1 or not self._batches[-1][1].cancel():
                self._receive()
            else:
                for index in self._batches.pop()[0]:
                    yield index, self.renderer.render(self.plans[index])

    def _receive(self) -> None:
        """The oldest batch's pages, waited for."""
        indices, future = self._batches.popleft()
        try:
            pages, learned = future.result()
        except BrokenProcessPool:
            self.close()
            raise PlaybookError(
                "a rendering process stopped before its pages were done (killed, or out of memory?); "
                "run the command again, and if it stops again, with fewer other programs running"
            ) from None
        learn(learned)
        self._ready.update(zip(indices, pages, strict=True))
        if not self._batches:
            self.close()

    def take_ready(self) -> list[tuple[int, Page]]:
        """The pages the forked processes have rendered by now and not handed out yet, without waiting."""
        while self._batches and self._batches[0][1].done():
            self._receive()
        ready, self._ready = self._ready, {}
        return [(index, _handed(page)) for index, page in ready.items()]

    def close(self, wait: bool = True) -> None:
        """Stops the processes, those still rendering included (after a failed build, say); without `wait`, each
        stops once its page is done, and this process does not wait for it."""
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=True)

    def __enter__(self) -> Rendering:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


#: The capacity asked for the pipe the pages come back through (Linux's default is 64 KB; 1 MB is the most an
#: unprivileged process may ask, by default).
RESULT_PIPE_BYTES = 2**20


def _widen_result_pipe(pool: ProcessPoolExecutor) -> None:
    """The pipe the rendered pages come back through, widened where the system allows. A runbook of 5,000 tasks
    is 2 MB; this process reads the pipe in a thread, which waits for the interpreter lock (up to its 5 ms switch
    interval, while the main thread builds pages) before each read of what the pipe holds: some thirty waits a
    runbook at 64 KB, two at 1 MB. The preview's second pass waited 70 to 130 ms between two runbooks for it."""
    reader = getattr(getattr(pool, "_result_queue", None), "_reader", None)  # the executor's own pipe
    with suppress(ImportError, AttributeError, OSError, ValueError):  # not Linux, another Python, or refused
        import fcntl

        fcntl.fcntl(reader.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), RESULT_PIPE_BYTES)  # type: ignore[union-attr]


def _handed(page: Page | DataError) -> Page:
    if isinstance(page, DataError):
        raise page
    return page


#: The renderer of a forked rendering process and the plans it renders, adopted from its parent when the process
#: starts.
_ADOPTED: SiteRenderer | None = None
_ADOPTED_PLANS: list[PagePlan] = []


def _adopt(renderer: SiteRenderer, plans: list[PagePlan], parent: int) -> None:
    global _ADOPTED, _ADOPTED_PLANS
    die_with_parent(parent)
    _ADOPTED, _ADOPTED_PLANS = renderer, plans


def _render_pages(indices: list[int]) -> tuple[list[Page | DataError], StepTexts]:
    """The pages of these indices of the plan, and the runbook steps written for them; a page that fails is its
    error, raised when that page is asked for."""
    assert _ADOPTED is not None
    plans = _ADOPTED_PLANS
    mark = learned_mark()
    rendered: list[Page | DataError] = []
    for index in indices:
        try:
            rendered.append(_ADOPTED.render(plans[index]))
        except DataError as err:
            rendered.append(err)
    return rendered, learned_since(mark)


def _source_runbook_words(source: Record) -> tuple[str, str]:
    return f"{source['name']} migration", f"Every task that applies to a migration from {source['name']}."


def _role_runbook_words(role: Record) -> tuple[str, str]:
    return role["name"], f"Every task the {role['name']} owns."


def tag_label(kind: str, record: Record) -> str:
    return f"{kind}: {record.get('acronym') or record['name']}"


def write_pages(pages: list[Page], out_dir: Path, ending: Callable[[str], str] = lambda markdown: "") -> None:
    """Each page as a Markdown file, followed by what `ending` gives for it (the abbreviations it uses)."""
    for page in pages:
        target = out_dir / page.src_uri
        target.parent.mkdir(parents=True, exist_ok=True)
        markdown = page.markdown(title=True)
        target.write_text(markdown + ending(markdown), encoding="utf-8")


_HEADING = re.compile(r"^# (.+)$", re.M)


def heading_html(body: str) -> str:
    """The text of the page's first heading, HTML-escaped; "" if it has none."""
    heading = _HEADING.search(body)
    if heading is None:
        return ""
    html = python_markdown.markdown(heading[1])  # the heading's Markdown: escapes, emphasis, entities
    return escape_html(Markup(html).striptags())
