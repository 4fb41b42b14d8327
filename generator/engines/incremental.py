"""The live preview's rebuild after a data edit: only the pages the edit changes go through MkDocs again.

After a full build, `serve` keeps what it made (`KeptBuild`): MkDocs' configuration, files, navigation and theme,
every generated page's Markdown with what it read of the data (generator.data.reads), the hand-written pages'
Markdown, each page's search entries, the downloads. A save in the data folder is followed in two passes.

The first (`rebuild_edited`) is what the contributor waits for: it validates the data (a problem: the caller shows
it, as a full build would), finds the records the save changed, and builds their own pages alone, so the browser
can show the edited page at once. The second (`rebuild`), run after the browsers have reloaded:

1. validates the data again (the files the first pass read are not parsed again);
2. plans again the pages that are no record's own, and the pages of each record whose planning or page read
   something the edit changed (everything, where records moved in their collection); the same pages must come
   out (else a full build), with the same footer and glossary;
3. renders only the pages that read something the edit changed, or whose plan changed (in a process of its own,
   where there are a few), and keeps those whose Markdown (or record's line, for the edit link) differs;
4. puts each such page through MkDocs' own page steps (`_populate_page`, `_build_page`, with every plugin's
   events) as soon as it is rendered, writes it beside its file, and moves it over the file only when all are
   built (`PageBuilder`); the hand-written pages whose links changed follow;
5. writes the search index (entries in page order, as a clean build has them), the tags export and the
   downloads that changed, and checks the links of the rebuilt pages (and every page's, if a rebuilt page lost
   an id another page may link to).

The second pass compares the data with what the last full or second pass saw, so it finds the first pass's edits
too; a page the first pass built is rendered again (`KeptBuild.ahead`), and built again only if its Markdown
changed since. A newer save stops the second pass between two pages; the pages it had begun are built again by the
next (`KeptBuild.dirty`).

Whatever it cannot do raises `FullBuild`, with the reason, and the caller builds the whole site instead.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mkdocs.commands.build import _build_page, _populate_page, get_context
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page as MkDocsPage
from mkdocs.utils import write_file

from generator.data.exports import FOLDER as EXPORTS
from generator.data.exports import Exporter
from generator.data.loader import LoadedData, load_data
from generator.data.model import COLLECTION_BY_NAME, OWN_PAGES, Catalogue
from generator.data.reads import Read
from generator.data.relations import changed_reads
from generator.data.validate import Validation, validate_data
from generator.data.yamlsplice import changed_span
from generator.errors import DataError
from generator.links.htmllinks import read_ids
from generator.links.linkcheck import (
    CheckOptions,
    LinkReport,
    SiteIndex,
    built_page,
    check_pages,
    check_site,
    page_ids,
)
from generator.pages.escape import missing_head_title
from generator.pages.render import Page, PagePlan, Rendering, SiteRenderer
from generator.pages.site_text import footer_html

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig

    from generator.engines.mkdocs_plugin import PlaybookPlugin

#: Where a rebuilt page is written before it replaces the page served.
PENDING = ".playbook-pending"
#: From how many pages on the second pass renders them in a process of its own, while MkDocs builds those before.
RENDERED_APART = 4


#: A built page as it was before a pass rebuilt it: its bytes (None: unreadable), or the ids read from them.
OldPage = bytes | set[str] | None


class FullBuild(Exception):
    """The edit needs a full build; the message says why, in a few words."""


class InvalidData(FullBuild):
    """The data has problems: a build shows them, and nothing else."""


class Superseded(Exception):
    """A newer save came while the second pass was rendering: it stopped before writing anything, and the newer
    save's own passes do its work too (they start from the same kept build)."""


@dataclass
class KeptBuild:
    """What the last full build made, as the next edit needs it."""

    config: MkDocsConfig
    files: Files
    nav: Navigation
    env: Any
    renderer: SiteRenderer
    loaded: LoadedData
    #: The generated pages, by path in the docs folder: Markdown, origin and what each read of the data.
    pages: dict[str, Page]
    signatures: dict[str, tuple[Any, ...]]
    #: The hand-written pages' Markdown, their `[[kind:id]]` links resolved.
    hand_written: dict[str, str]
    #: Each page's search entries, in page order: the index is their concatenation.
    search_entries: dict[str, list[dict[str, Any]]]
    #: The plugin's own state and the search and tags plugins' at the end of the build, put back before an edit
    #: (a failed build in between has replaced them).
    plugin_state: dict[str, Any]
    search_index: Any
    tag_mappings: Any
    site_index: SiteIndex
    link_options: CheckOptions | None
    #: Page → the fragments the site's links point at on it: ids a rebuilt page must keep, or every page's links
    #: are checked again.
    fragments_into: dict[str, set[str]] = field(default_factory=dict)
    #: Built pages whose links are not checked yet, each with what it was when last checked (its bytes, None where
    #: it could not be read, until the check reads its ids from them), and whether the search index and tags
    #: export lag behind.
    unchecked: dict[str, OldPage] = field(default_factory=dict)
    index_stale: bool = False
    #: The tags export's entry of each page, by page URL, as Material takes it (`tag_entries`).
    tag_entries: dict[str, str] = field(default_factory=dict)
    #: The first pass's validation and renderer, which the second takes over where the data is still the same.
    first_pass: tuple[Validation, SiteRenderer] | None = None
    #: Each page's search entries as the index writes them, with the entries they were written from.
    search_json: dict[str, tuple[list[dict[str, Any]], str]] = field(default_factory=dict)
    #: The downloads' writer, which keeps each record's rows.
    exporter: Exporter = field(default_factory=Exporter)
    #: The data as the last pass read it (the first pass reads ahead of `loaded`): its unchanged files are reused.
    latest: LoadedData | None = None
    #: What planning each generated page read of the data (`SiteRenderer.plan_reads`).
    plan_reads: dict[str, frozenset[Read]] = field(default_factory=dict)
    #: Pages a pass began to build and did not finish (a newer save came): built again by the next pass.
    dirty: set[str] = field(default_factory=set)
    #: Pages a first pass built from data newer than `loaded`: the second pass renders them again whatever changed
    #: since `loaded` (a save that undoes the edit changes nothing since, but these pages show the edit).
    ahead: set[str] = field(default_factory=set)
    #: The long pages the first pass began to render in a process of its own, for the second (`head_start`).
    head_start: Rendering | None = None

    def drop_head_start(self) -> None:
        if self.head_start is not None:
            self.head_start.close(wait=False)
            self.head_start = None

    # Listed once (MkDocs goes through every file of the site for them): the same from one pass to the next, as a
    # page added or removed is a full build.
    @cached_property
    def documentation_pages(self) -> list[File]:
        """The site's pages as the preview serves them."""
        return self.files.documentation_pages(inclusion=InclusionLevel.is_in_serve)

    @cached_property
    def page_count(self) -> int:
        """How many pages the site has, as MkDocs counts them (drafts left out)."""
        return len(self.files.documentation_pages())

    @cached_property
    def page_urls(self) -> list[str]:
        """The URL of each served page, in their order (a property MkDocs computes at each read)."""
        return [file.page.url for file in self.documentation_pages if file.page is not None]


@dataclass
class Stash:
    """The served site folder moved aside (and what was kept of its build), while a problems page is served."""

    kept: KeptBuild
    folder: Path

    @classmethod
    def of(cls, kept: KeptBuild) -> Stash:
        site = Path(kept.config.site_dir)
        folder = Path(tempfile.mkdtemp(prefix="playbook-preview-", dir=site.parent))
        os.replace(site, folder / "site")
        site.mkdir()
        return cls(kept, folder)

    def restore(self) -> None:
        site = Path(self.kept.config.site_dir)
        shutil.rmtree(site)
        os.replace(self.folder / "site", site)
        self.drop()

    def drop(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class Rebuilt:
    #: The pages written again, by path in the docs folder.
    pages: list[str]
    total: int
    seconds: float
    #: How many of them went through MkDocs (the others only had their edit link's line changed).
    converted: int = 0


def material_plugin(config: MkDocsConfig, name: str) -> Any:
    """Material's plugin of that name (`search`, `tags`), however mkdocs.yml names it; None where it is not on."""
    return config.plugins.get(f"material/{name}") or config.plugins.get(name)


def data_texts(loaded: LoadedData) -> dict[str, str]:
    return {name: data_file.document.text if data_file.document else "" for name, data_file in loaded.files.items()}


def rebuild_edited(
    plugin: PlaybookPlugin, kept: KeptBuild, before_writing: Callable[[], None] = lambda: None
) -> Rebuilt:
    """The first pass after a save: the own pages of the records it changed, and nothing else; raises FullBuild
    where it cannot (records added or removed, an ID changed), InvalidData where the data has problems.

    `before_writing` is called once the data is known to be valid, before anything is written or changed. The
    pages that show these records elsewhere, the search index and the link check are left to `rebuild`.
    """
    started = time.monotonic()
    kept.drop_head_start()  # a save before the last one's second pass began: that pass will not take it
    validation, renderer = _validated(plugin, kept, before_writing)
    pages: dict[str, Page] = {}
    for collection, index in _edited_records(kept.loaded.catalogue, validation.loaded.catalogue):
        for plan in renderer.entity_plans(collection, index):
            if plan.src_uri not in kept.pages:
                raise FullBuild("pages were added or removed")
            try:
                pages[plan.src_uri] = renderer.render(plan)
            except DataError as err:
                raise FullBuild("a template failed") from err
    built = {
        uri
        for uri, page in pages.items()
        if uri in kept.dirty or _markdown_changed(page, kept) or page.origin != kept.pages[uri].origin
    }
    plugin.loaded, plugin.site_map = validation.loaded, renderer.site_map
    kept.unchecked |= _build_pages(kept.config, kept, pages, built)
    kept.ahead |= built
    kept.pages.update({uri: pages[uri] for uri in built})
    kept.latest, kept.first_pass = validation.loaded, (validation, renderer)
    kept.head_start = head_start(kept, renderer)
    return Rebuilt(sorted(built), kept.page_count, time.monotonic() - started, len(built))


#: How long (in characters of Markdown) a page that is no record's own must be for the first pass to begin rendering
#: it (`head_start`): the runbooks, the catalogue and the flow of a large catalogue.
HEAD_START_CHARACTERS = 100_000


def head_start(kept: KeptBuild, renderer: SiteRenderer) -> Rendering | None:
    """The long pages that are no record's own and read a record the edit changed, longest first, rendered from
    now on by a process of its own (where there is another core), for the second pass to take.

    That pass spends a third of a second at 5,000 tasks on what to render (groupings compared, pages planned)
    before its own rendering process begins with these, a tenth of a second each, while this one waits for them.
    Begun here, they are mostly ready by then. The guess costs nothing where it is wrong: a page the second pass
    does not render again is not taken, and one it does that is not here it renders as it would have."""
    if (os.cpu_count() or 1) < 2:
        return None
    before = {id(record) for records in kept.renderer.catalogue.collections.values() for record in records}
    # The tracked copies of the records the edit left alone are the last load's (`Catalogue.tracked`).
    edited = {
        getattr(record, "read", None)
        for records in renderer.catalogue.collections.values()
        for record in records
        if id(record) not in before
    }
    long = {
        uri
        for uri, signature in kept.signatures.items()
        if signature[3] is None
        and len(kept.pages[uri].body) >= HEAD_START_CHARACTERS
        and not kept.pages[uri].reads.isdisjoint(edited)
    }
    if len(long) < 2:  # one is rendered as soon by the second pass's process
        return None
    plans = [plan for plan in renderer.index_plans() if plan.src_uri in long]
    plans.sort(key=lambda plan: (-len(kept.pages[plan.src_uri].body), plan.src_uri))
    try:
        return Rendering(renderer, 1, plans=plans)
    except OSError:  # no process to be had (memory, a process limit): the second pass renders them, as it would
        return None


def _edited_records(before: Catalogue, after: Catalogue) -> Iterator[tuple[str, int]]:
    """(collection, index) of each record with pages of its own that differs between the two catalogues."""
    for collection in OWN_PAGES:
        old, new = before.collections.get(collection, []), after.collections.get(collection, [])
        if len(old) != len(new):
            raise FullBuild("pages were added or removed")  # each record has its own
        for index, (was, now) in enumerate(zip(old, new, strict=True)):
            if was is now or was == now:
                continue
            if was.get("id") != now.get("id"):  # by position: a record moved in its file looks the same
                raise FullBuild("a record's ID changed, or records moved in their file")
            yield collection, index


def _validated(
    plugin: PlaybookPlugin, kept: KeptBuild, before_writing: Callable[[], None]
) -> tuple[Validation, SiteRenderer]:
    """The data validated again, and a renderer for it, with the plugin and MkDocs' plugins as the kept build
    left them; raises FullBuild where what every page shows around its content changed."""
    config = kept.config
    vars(plugin).update(kept.plugin_state)
    search, tags = material_plugin(config, "search"), material_plugin(config, "tags")
    if search is not None:
        search.search_index = kept.search_index
    if tags is not None:
        tags.mappings = kept.tag_mappings
    data_dir = Path(plugin.config.data_dir)
    first_pass, kept.first_pass = kept.first_pass, None
    if first_pass is not None and _same_data(first_pass[0].loaded, data_dir):
        before_writing()
        return first_pass  # checked and framed already
    validation = validate_data(data_dir, previous=kept.latest or kept.loaded)
    if not validation.ok:
        raise InvalidData("the data has problems")
    before_writing()
    renderer = plugin.renderer_for(config, validation.loaded, track_reads=True, earlier=kept.renderer)
    # The templates are those of the last build (a change to one is a full build): compiled once, kept.
    renderer.environment = kept.renderer.environment
    _same_frame(plugin, kept, renderer)
    return validation, renderer


def _same_data(loaded: LoadedData, data_dir: Path) -> bool:
    """Whether the data folder still holds what `loaded` was read from (each file read again, none parsed)."""
    again = load_data(data_dir, loaded)
    return again.problems == loaded.problems and all(
        again.files[stem].document is data_file.document for stem, data_file in loaded.files.items()
    )


def rebuild(
    plugin: PlaybookPlugin,
    kept: KeptBuild,
    before_writing: Callable[[], None] = lambda: None,
    superseded: Callable[[], bool] = lambda: False,
    *,
    check_links: bool = True,
) -> Rebuilt:
    """Brings the served site up to date with the data folder; raises FullBuild where it cannot.

    `before_writing` is called once the data is known to be valid, before anything is written or changed.
    `superseded` is asked, while pages are rendered, whether a newer save waits; if so, Superseded is raised
    before anything is written, so that the save is not kept waiting. Without `check_links`, the rebuilt pages'
    links are left for `check_rebuilt_links` (they change nothing on the site, only whether it is kept).
    """
    started = time.monotonic()
    early, kept.head_start = kept.head_start, None
    try:
        return _rebuild(plugin, kept, early, before_writing, superseded, check_links=check_links, started=started)
    finally:
        if early is not None:
            early.close(wait=False)  # its pages taken, or not wanted: a page it is still on is not waited for


def _rebuild(
    plugin: PlaybookPlugin,
    kept: KeptBuild,
    early: Rendering | None,
    before_writing: Callable[[], None],
    superseded: Callable[[], bool],
    *,
    check_links: bool,
    started: float,
) -> Rebuilt:
    config = kept.config
    validation, renderer = _validated(plugin, kept, before_writing)
    if early is not None and early.renderer is not renderer:
        early = None  # begun for data since saved over: its pages are not this data's
    renderer.warm(templates={signature[1] for signature in kept.signatures.values()})
    changed = changed_reads(kept.renderer.relations, renderer.relations)
    replanned, same_plans = _plans_again(renderer, kept, changed)
    old_texts = data_texts(kept.loaded)
    # Files where a line was added or removed: their records' edit links may name other lines now.
    edited_files = {
        name for name, text in data_texts(validation.loaded).items() if _lines_moved(old_texts.get(name, ""), text)
    }
    pages: dict[str, Page] = {}
    signatures: dict[str, tuple[Any, ...]] = {}
    wanted: list[PagePlan] = []
    for uri, before in kept.pages.items():
        plan = replanned.get(uri)
        kept_signature = plan is None or uri in same_plans
        signatures[uri] = signature = kept.signatures[uri] if kept_signature else renderer.signature(plan)
        shows = signature[3]
        if plan is not None and (_must_render(kept, uri, changed) or signature != kept.signatures[uri]):
            wanted.append(plan)
        elif shows and COLLECTION_BY_NAME[shows[0]].file in edited_files:
            pages[uri] = replace(before, origin=renderer.origin_of(*shows))  # lines may have moved
        else:
            pages[uri] = before
    builder = PageBuilder(config, kept)
    # MkDocs builds each page as it comes, while the others are rendered on the other core (where there is one
    # and the pages are worth a process), the longest first (the runbooks, the catalogue: a page's cost goes with
    # its length); this process renders the shortest itself, from the last back, rather than wait.
    wanted.sort(key=lambda plan: (-len(kept.pages[plan.src_uri].body), plan.src_uri))
    # The long pages the first pass began rendering are taken from it; what it rendered that is not wanted is not.
    begun = {plan.src_uri: index for index, plan in enumerate(early.plans)} if early is not None else {}
    from_early = {begun[plan.src_uri] for plan in wanted if plan.src_uri in begun}
    wanted = [plan for plan in wanted if plan.src_uri not in begun]
    # Forked from the preview's thread while the server's threads run: the process only renders (no lock of theirs
    # is taken), sends its pages down its pipe, and dies with this one.
    processes = 1 if len(wanted) >= RENDERED_APART and (os.cpu_count() or 1) > 1 else 0
    plugin.loaded, plugin.site_map = validation.loaded, renderer.site_map  # what the page events read
    with builder.building(), Rendering(renderer, processes, plans=wanted) as rendering:
        # As each page comes, from the other processes or from this one.
        rendered = _as_ready(early, from_early, rendering.ready()) if early is not None else rendering.ready()
        while not superseded():
            try:
                _, page = next(rendered)
            except StopIteration:
                break
            except DataError as err:
                raise FullBuild("a template failed") from err
            pages[page.src_uri] = page
            if page.src_uri in kept.dirty or _markdown_changed(page, kept):
                builder.build(page.src_uri, page)
        else:
            raise Superseded
        if superseded():
            raise Superseded  # the last moment: the lines below change the site served
        rewritten = {file.src_uri for file in builder.built}
        # A page not rendered again is the page kept (most of thousands): only the others can have moved.
        moved = {
            uri for uri, page in pages.items() if page is not kept.pages[uri] and page.origin != kept.pages[uri].origin
        }
        moved -= rewritten
        builder.relink(plugin, {uri: pages[uri] for uri in moved})
        hand_written = plugin.resolved_hand_written(config, kept.files)
        # Hand-written pages whose links changed, and pages whose edit link could not be changed in place.
        also = {uri for uri, markdown in hand_written.items() if kept.hand_written.get(uri) != markdown}
        also |= kept.dirty & hand_written.keys()
        also |= builder.relinked()
        left = also - rewritten
        for file in builder.doc_files if left else ():
            if file.src_uri in left:
                builder.build(file.src_uri, pages.get(file.src_uri))
        rewritten |= also
        kept.unchecked |= builder.commit()
    _bound_unchecked(kept)
    _write_downloads(config, kept.files, _changed_downloads(kept, validation.loaded.catalogue))
    if check_links:
        check_rebuilt_links(kept)
    if kept.index_stale:
        _write_search_index(config, kept)
        _write_tags(config, kept)
        kept.index_stale = False
    kept.renderer, kept.loaded, kept.latest = renderer, validation.loaded, validation.loaded
    kept.pages = {uri: pages[uri] for uri in kept.pages}  # in plan order, as the next pass checks
    kept.plan_reads.update(renderer.plan_reads)
    kept.signatures, kept.hand_written, kept.ahead = signatures, hand_written, set()
    kept.plugin_state = plugin.state()
    changed = sorted(rewritten | moved)
    return Rebuilt(changed, kept.page_count, time.monotonic() - started, len(rewritten))


def _as_ready(
    early: Rendering, indices: set[int], rest: Iterator[tuple[int, Page]]
) -> Iterator[tuple[int | None, Page]]:
    """The pages of `indices` that `early` renders and the pages of `rest`, each as it is ready: the early ones
    first whenever there are some, as they are the longest to build."""
    waiting = set(indices)
    while waiting:
        for index, page in early.take_ready():
            if index in waiting:
                waiting.discard(index)
                yield None, page
        if not waiting:
            break
        try:
            yield next(rest)  # rendered by this process, or waited for from the other
        except StopIteration:
            for index in sorted(waiting):  # every other page is done: wait for these
                yield None, early.page(index)
            return
    yield from rest


def _plans_again(renderer: SiteRenderer, kept: KeptBuild, changed: set[Read]) -> tuple[dict[str, PagePlan], set[str]]:
    """The plans of the pages an edit may change, by page: every page that is no record's own (a few hundred), and
    the pages of each record whose planning or rendering read something the edit changed, or that a pass left for
    this one. Planning all seven thousand pages of a large catalogue, and comparing them, took a third of a second.
    The pages must be the same as before (FullBuild where they are not).

    Also the pages among them whose planning read nothing the edit changed: planned again only to be rendered
    again, their plans say what they said (their signatures are the kept ones)."""
    if any(read[0] == "collection" for read in changed):  # records moved in their collection: plan it all again
        plans = renderer.plan()
        if [plan.src_uri for plan in plans] != list(kept.pages):
            raise FullBuild("pages were added or removed")
        return {plan.src_uri: plan for plan in plans}, set()
    again = {plan.src_uri: plan for plan in renderer.index_plans()}
    pages_of: dict[Any, list[str]] = {}
    for uri, signature in kept.signatures.items():
        pages_of.setdefault(signature[3], []).append(uri)
    if list(again) != pages_of.get(None, []):
        raise FullBuild("pages were added or removed")
    planned, same = set(), set()
    for uri in kept.pages:
        shows = kept.signatures[uri][3]
        if shows is None or shows in planned:
            continue
        plan_read = kept.plan_reads.get(uri)
        if _must_render(kept, uri, changed) or plan_read is None or not plan_read.isdisjoint(changed):
            planned.add(shows)
            plans = renderer.plan_of(*shows)
            if [plan.src_uri for plan in plans] != pages_of[shows]:
                raise FullBuild("pages were added or removed")
            again.update((plan.src_uri, plan) for plan in plans)
            if plan_read is not None and plan_read.isdisjoint(changed):
                same.update(uri for uri in pages_of[shows] if uri not in kept.dirty and uri not in kept.ahead)
    return again, same


def _must_render(kept: KeptBuild, uri: str, changed: set[Read]) -> bool:
    """Whether a page is rendered again whatever its plan says: a pass began it and did not finish, a first pass
    built it from newer data, or it read something the edit changed."""
    return uri in kept.dirty or uri in kept.ahead or not kept.pages[uri].reads.isdisjoint(changed)


def _lines_moved(old: str, new: str) -> bool:
    """Whether any line of `old` has another number in `new`: not so where the texts differ within one line."""
    if old == new:
        return False
    start, old_end, new_end = changed_span(old, new)
    return "\n" in old[start:old_end] or "\n" in new[start:new_end]


def _markdown_changed(page: Page, kept: KeptBuild) -> bool:
    return page.markdown() != kept.pages[page.src_uri].markdown()


#: Characters an HTML template could write otherwise than as they are: an address holding none is written as is.
_ESCAPED = re.compile(r"[&<>\"']")


def edit_link_offset(html: str, edit_url: str | None) -> int | None:
    """Where the page's edit link starts in the page as MkDocs writes it (UTF-8, characters it cannot write as
    references), in bytes; None where the address is not in it exactly once (which one is the link is not known)."""
    places = _whole_places(html, edit_url) if edit_url else []
    if len(places) != 1:
        return None
    head = html[: places[0]]
    return len(head) if head.isascii() else len(head.encode("utf-8", errors="xmlcharrefreplace"))


#: What may follow an address written whole (in an attribute, or as text): the quote that ends it, a space, a tag's
#: end. `…tasks.yml#L12` is not the start of `…tasks.yml#L120`.
_ADDRESS_ENDS = "\"' \t\r\n>"
_ADDRESS_END_BYTES = _ADDRESS_ENDS.encode("ascii")


def _whole_places(text: Any, address: Any) -> list[int]:
    """Where `address` (str in str, bytes in bytes) is written whole in `text`: the first two places, at most."""
    ends = _ADDRESS_END_BYTES if isinstance(text, bytes) else _ADDRESS_ENDS
    places: list[int] = []
    at = text.find(address)
    while at >= 0 and len(places) < 2:
        end = at + len(address)
        if end == len(text) or text[end : end + 1] in ends:
            places.append(at)
        at = text.find(address, at + 1)
    return places


def _whole_at(read: bytes, address: bytes) -> bool:
    """Whether bytes read at a place (the address's length and one more) hold the address written whole."""
    return read[: len(address)] == address and (len(read) == len(address) or read[len(address) :] in _ADDRESS_END_BYTES)


@dataclass
class _Relink:
    """A page whose edit link alone changes: its record moved in its file (a line added above it)."""

    file: File
    page: Page
    old: bytes
    new: bytes
    #: Where the old address starts in the page served: where its build left it, then as found.
    at: int | None
    #: Whether a copy of the page with the new address waits beside it (an address of another length).
    copied: bool = False


def _found_once(path: Path, old: bytes, at: int | None) -> int | bool | None:
    """Where `old` starts in the page: at `at` if it is there (the page's build wrote it there, once), else where
    the page holds it once; None where it does not hold it (nothing to change), False where it holds it more than
    once or cannot be read."""
    try:
        if at is not None:  # thousands of pages after a line added near the top: a few bytes read from each
            descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                if _whole_at(os.pread(descriptor, len(old) + 1, at), old):
                    return at
            finally:
                os.close(descriptor)
        html = path.read_bytes()
    except OSError:
        return False
    places = _whole_places(html, old)
    return places[0] if len(places) == 1 else (None if not places else False)


def _frame(page: MkDocsPage, meta: dict[str, Any]) -> tuple[Any, ...]:
    """What the theme shows of a page around its content: its title, its table of contents, its meta."""
    return page.title, _toc_shape(page.toc), meta


def _toc_shape(toc: Any) -> tuple[Any, ...]:
    return tuple((link.title, link.id, link.level, _toc_shape(link.children)) for link in toc)


def _meta_as_shown(page: MkDocsPage) -> dict[str, Any]:
    """The page's meta as the plugin's `on_page_context` leaves it (the title the `<title>` prints, added)."""
    return {**page.meta, **missing_head_title(page.meta, page.title)}


def _relinked_in_place(path: str, relink: _Relink) -> None:
    """The page's edit link changed where it is (an address of the same length): a few bytes written over as many,
    where the old address still is."""
    assert relink.at is not None
    descriptor = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    try:
        if not _whole_at(os.pread(descriptor, len(relink.old) + 1, relink.at), relink.old):
            raise OSError(errno.ESTALE, "the page's edit link is no longer where it was", path)
        if os.pwrite(descriptor, relink.new, relink.at) != len(relink.new):
            raise OSError(errno.EIO, "the page's edit link was written in part", path)
    finally:
        os.close(descriptor)


def _same_frame(plugin: PlaybookPlugin, kept: KeptBuild, renderer: SiteRenderer) -> None:
    """What every page shows besides its own content must not have changed: the footer, the glossary's acronyms,
    where each responsibility sits."""
    if footer_html(renderer.catalogue, plugin.copyright) != kept.config.copyright:
        raise FullBuild("the footer's source pages changed")
    if renderer.catalogue.collections.get("glossary") != kept.renderer.catalogue.collections.get("glossary"):
        raise FullBuild("the glossary changed")
    if renderer.site_map._placed != kept.renderer.site_map._placed:
        raise FullBuild("responsibilities moved between pages")


def _changed_downloads(kept: KeptBuild, catalogue: Catalogue) -> dict[str, str]:
    """The downloads whose content differs. Every collection is written again, each record's part taken from
    what the exporter kept where the record holds the same (in the same order: a reordered record's JSON
    changes, though the record compares equal)."""
    changed = {}
    for name, source in kept.exporter.files(catalogue).items():
        file = kept.files.get_file_from_path(f"{EXPORTS}/{name}")
        if file is None:
            raise FullBuild(f"a new download, {EXPORTS}/{name}")
        if file.content_string != source:
            changed[file.src_uri] = source
    return changed


def _build_pages(
    config: MkDocsConfig, kept: KeptBuild, pages: dict[str, Page], changed: set[str]
) -> dict[str, OldPage]:
    """The changed pages through MkDocs' own steps, then moved into place; returns what `PageBuilder.commit`
    returns."""
    builder = PageBuilder(config, kept)
    with builder.building():
        for file in builder.doc_files:
            if file.src_uri in changed:
                builder.build(file.src_uri, pages.get(file.src_uri))
        return builder.commit()


#: While serving, what Markdown made of each generated page that has set-aside blocks (a listing page, a runbook,
#: the catalogue), by site folder (a process may serve more than one site) and page: an edit mostly changes such a
#: page's blocks alone, and its Markdown, the same again, is then not converted again (`PageBuilder`). One entry a
#: page, replaced by each conversion of it, a full build's included (`convert_once`).
_CONVERTED: dict[tuple[str, str], tuple[Any, ...]] = {}
#: The pages whose last conversion `PageBuilder` lets a conversion reuse (a full build converts every page afresh:
#: the files its links resolve against may have changed), and those whose last conversion was reused.
_REUSABLE: set[tuple[str, str]] = set()
_REUSED: set[tuple[str, str]] = set()


def convert_once(config: MkDocsConfig, page: MkDocsPage, keep: bool) -> None:
    """For a generated page whose Markdown MkDocs converts next (the plugin's `on_page_markdown` calls this while
    serving): its `render`, once, reuses the page's last conversion where `PageBuilder` allows it and the Markdown
    and front matter are those converted then; else it converts, and keeps what MkDocs' `Page.render` made (before
    any `on_page_content` handler sees it) where `keep` (the page has set-aside blocks)."""
    key = (config.site_dir, page.file.src_uri)

    def render(config: MkDocsConfig, files: Files) -> None:
        del page.render  # type: ignore[attr-defined]
        kept = _CONVERTED.get(key)
        if key in _REUSABLE and kept is not None and kept[0] == page.markdown and kept[1] == page.meta:
            page.content, page.toc, page._title_from_render, page.present_anchor_ids, links = kept[2:]  # type: ignore[attr-defined]
            if links is not None:
                page.links_to_anchors = links
            _REUSED.add(key)
            return
        type(page).render(page, config, files)
        if not keep:
            _CONVERTED.pop(key, None)
            return
        _CONVERTED[key] = (
            page.markdown,
            dict(page.meta),
            page.content,
            page.toc,
            page._title_from_render,  # type: ignore[attr-defined]
            page.present_anchor_ids,
            page.links_to_anchors,
        )

    page.render = render  # type: ignore[method-assign]


def _populated_reusing(config: MkDocsConfig, page: MkDocsPage, files: Files) -> bool:
    """MkDocs' `_populate_page`, the page's last conversion reused where it can be (`convert_once`); returns
    whether it was."""
    key = (config.site_dir, page.file.src_uri)
    _REUSABLE.add(key)
    _REUSED.discard(key)
    try:
        _populate_page(page, config, files)
        return key in _REUSED
    finally:
        _REUSABLE.discard(key)
        _REUSED.discard(key)


class PageBuilder:
    """Pages put through MkDocs' own steps (`_populate_page`, `_build_page`, every plugin's page events) one at a
    time, as each is ready: each is written beside the page served, and all are moved over theirs at once
    (`commit`). Should the pass stop before (a newer save, an error), the pages written are removed, the served
    ones stay as they were, and the pages begun are noted (`KeptBuild.dirty`) for the next pass to build again:
    MkDocs' state of them (content, search entries, tags) is no longer the served page's."""

    def __init__(self, config: MkDocsConfig, kept: KeptBuild) -> None:
        self.config, self.kept = config, kept
        self.doc_files = kept.documentation_pages
        self._by_uri = {file.src_uri: file for file in self.doc_files}
        self._in_nav = {id(page) for page in kept.nav.pages}
        self._tags = material_plugin(config, "tags")
        self._search = material_plugin(config, "search")
        self._site = Path(config.site_dir)
        #: Each page built as it was before (a page another page links into must keep its ids), by page: read
        #: for the content swap anyway, and its ids read by the link check, after the browsers reload.
        self.old_pages: dict[str, OldPage] = {}
        self.built: list[File] = []
        #: The pages whose destination is their pending file, not the served one, until it is moved over it.
        self._aside: deque[File] = deque()
        #: Pages whose edit link alone changes (`relink`); once found in each page (`relinked`), those to change at
        #: `commit`, and those to build instead.
        self._relinks: list[_Relink] = []
        self._found: deque[_Relink] = deque()
        self._not_relinked: set[str] = set()
        self._post_page_passive = all(
            getattr(getattr(handler, "__self__", None), "post_page_leaves_html_alone", False)
            for handler in config.plugins.events["post_page"]
        )

    @contextmanager
    def building(self) -> Iterator[PageBuilder]:
        try:
            yield self
        except BaseException:
            self.abandon()
            raise

    def build(self, src_uri: str, page: Page | None) -> None:
        """One page, written beside the served one; `page` is its new Markdown (None: a hand-written page)."""
        file = self._by_uri[src_uri]
        mkdocs_page = file.page
        assert mkdocs_page is not None
        kept, config = self.kept, self.config
        served = built_page(self._site, file.dest_uri)
        # A page built twice before its links are checked: the ids it had when last checked count.
        self.old_pages[file.dest_uri] = kept.unchecked.get(file.dest_uri, served)
        # What the page served was made of: where only its content changes, the content is changed in it.
        served_content = mkdocs_page.content if src_uri not in kept.dirty else None
        served_markdown, served_edit_url = mkdocs_page.markdown, mkdocs_page.edit_url
        # What the theme shows around the content, as the page served was made: its title, table of contents and
        # meta (as the page events left them).
        served_frame = _frame(mkdocs_page, dict(mkdocs_page.meta)) if served_content is not None else None
        # Aside before anything can fail: a page given up is removed from where it was being written, never from
        # where it is served.
        file.__dict__["abs_dest_path"] = os.path.normpath(os.path.join(file.dest_dir, file.dest_uri)) + PENDING
        self._aside.append(file)
        self.built.append(file)
        kept.dirty.add(src_uri)  # until it is committed
        title = mkdocs_page.title
        if page is not None:
            file._content, file.origin = page.markdown(), page.origin  # type: ignore[attr-defined]
        if self._tags is not None:
            self._tags.mappings.data.pop(mkdocs_page.url, None)
        reused = _populated_reusing(config, mkdocs_page, kept.files)
        if self._tags is not None:  # its entry as the export takes it, before the page's events add a head title
            mapping = self._tags.mappings.data.get(mkdocs_page.url)
            if mapping is None:
                kept.tag_entries.pop(mkdocs_page.url, None)
            else:
                kept.tag_entries[mkdocs_page.url] = _tag_entry(mapping)
        if id(mkdocs_page) in self._in_nav and mkdocs_page.title != title:
            raise FullBuild("a page's title in the navigation changed")
        search = self._search
        if search is not None:
            search.search_index.entries = []
        # The Markdown and front matter the page served was made of (its blocks alone changed), and the same edit
        # link: the theme's page around the content is the same too.
        # Or whose Markdown changed but not what the theme shows around it (a listing page whose notices changed).
        same_frame = (
            served_content is not None
            and mkdocs_page.edit_url == served_edit_url
            and (
                (reused and mkdocs_page.markdown == served_markdown)
                or _frame(mkdocs_page, _meta_as_shown(mkdocs_page)) == served_frame
            )
        )
        if not (same_frame and self._content_replaced(mkdocs_page, served, served_content)):
            _build_page(mkdocs_page, config, self.doc_files, kept.nav, kept.env)
        if search is not None:
            kept.search_entries[src_uri] = search.search_index.entries

    def _content_replaced(self, page: MkDocsPage, served_page: bytes | None, served_content: Any) -> bool:
        """MkDocs' `_build_page` (every plugin's page events included) with the theme's template not rendered
        again: the page served, its old content replaced by the new, where the page's frame is the same and the old
        content is found in it once. False, and nothing done, where it cannot be (the page is then built).

        Every `post_page` handler must leave the HTML as it is: what is served is what they returned."""
        if not served_content or served_page is None or not self._post_page_passive:
            return False
        try:
            # Read as bytes: a text read would turn a carriage return in the page into a line feed.
            served = served_page.decode("utf-8")
        except UnicodeDecodeError:
            return False
        # Material's template writes the page's title as a heading of its own where the content has none.
        if served.count(served_content) != 1 or ("<h1" in served_content) != ("<h1" in page.content):
            return False
        config, nav = self.config, self.kept.nav
        config._current_page = page
        page.active = True
        try:
            context = get_context(nav, self.doc_files, config, page)
            config.plugins.on_page_context(context, page=page, config=config, nav=nav)
            output = config.plugins.on_post_page(served.replace(served_content, page.content), page=page, config=config)
            write_file(output.encode("utf-8", errors="xmlcharrefreplace"), page.file.abs_dest_path)
        finally:
            page.active = False
            config._current_page = None
        return True

    def relink(self, plugin: PlaybookPlugin, moved: dict[str, Page]) -> None:
        """Notes the pages whose edit link alone changes: their Markdown is the same, but their record moved in its
        file (a line added above it). `relinked` finds the link in each page, `commit` changes it."""
        config = self.config
        # Where each page's build wrote its edit link counts only where no later handler can have moved it.
        known = plugin.edit_link_at if self._post_page_passive else {}
        for uri, page in moved.items():
            file = self._by_uri[uri]
            assert file.page is not None
            old, new = (plugin.edit_url_of(config, origin) for origin in (self.kept.pages[uri].origin, page.origin))
            # Written once (the edit button), or not at all (a theme without one); escaped or not, the same text.
            if not old or not new or _ESCAPED.search(old + new):
                self._not_relinked.add(uri)
                continue
            self._relinks.append(_Relink(file, page, old.encode("utf-8"), new.encode("utf-8"), known.get(uri)))

    def relinked(self) -> set[str]:
        """Finds the old edit link in each page noted by `relink`; returns the pages where it cannot be changed
        safely (the old address is not there exactly once, as written), to be built instead. Where the new address
        is longer or shorter, a copy of the page with it is written beside the page, to be moved over it.

        After a line added near the top of the tasks file, thousands of pages: where each build wrote its link is
        known (`edit_link_offset`), and a few bytes read there find it."""
        for relink in self._relinks:
            path = Path(relink.file.abs_dest_path)
            relink.at = found = _found_once(path, relink.old, relink.at)
            if found is False:
                self._not_relinked.add(relink.file.src_uri)
                continue
            self._found.append(relink)  # listed before a copy is begun: `abandon` removes it, however far it got
            if found is not None and len(relink.new) != len(relink.old):
                relink.copied = True
                html = path.read_bytes()
                relinked = html[:found] + relink.new + html[found + len(relink.old) :]
                path.with_name(path.name + PENDING).write_bytes(relinked)
        self._relinks = []
        return self._not_relinked

    def commit(self) -> dict[str, OldPage]:
        """Every page built moved over the served one, and every copy of a page relinked; returns `old_pages`."""
        kept = self.kept
        if self._tags is not None:  # in page order, as a clean build adds them
            data = self._tags.mappings.data
            self._tags.mappings.data = {url: data[url] for url in kept.page_urls if url in data}
        while self._aside:
            pending = self._aside[0].abs_dest_path
            os.replace(pending, pending.removesuffix(PENDING))
            self._aside.popleft().__dict__.pop("abs_dest_path", None)
        if self._found:
            self._change_edit_links()
        log_level = self.config.validation.links.anchors
        for file in self.built:
            assert file.page is not None
            file.page.validate_anchor_links(files=kept.files, log_level=log_level)
            kept.dirty.discard(file.src_uri)
        kept.index_stale = kept.index_stale or bool(self.built)
        return self.old_pages

    def _change_edit_links(self) -> None:
        """The edit links found by `relinked` changed: each in place, or its page's copy moved over it. Should one
        fail, the others are still changed; those not changed stay listed (`abandon` removes their copies), and the
        first failure is raised."""
        failures: list[BaseException] = []
        left: deque[_Relink] = deque()
        for relink in self._found:
            path = relink.file.abs_dest_path
            try:
                if relink.copied:
                    os.replace(path + PENDING, path)
                elif relink.at is not None:  # else the page has no edit link: nothing to change in it
                    _relinked_in_place(path, relink)
            except OSError as failure:
                failures.append(failure)
                left.append(relink)
            else:
                relink.file.page.edit_url = relink.new.decode("utf-8")  # type: ignore[union-attr]
                relink.file.origin = relink.page.origin  # type: ignore[attr-defined]
        self._found = left
        if failures:
            raise failures[0]

    def abandon(self) -> None:
        """The pages still aside removed, and the relinked copies not moved yet; those moved into place already
        stay, and stay dirty (built again)."""
        for file in self._aside:
            with suppress(OSError):
                os.remove(file.abs_dest_path)
            file.__dict__.pop("abs_dest_path", None)
        self._aside.clear()
        for relink in self._found:
            if relink.copied:
                with suppress(OSError):
                    os.remove(relink.file.abs_dest_path + PENDING)
        self._relinks, self._found = [], deque()
        self.kept.index_stale = self.kept.index_stale or bool(self.built)


def check_rebuilt_links(kept: KeptBuild, superseded: Callable[[], bool] = lambda: False) -> None:
    """The rebuilt pages' links; every page's where a rebuilt page lost an id that another page may link to.
    A broken one raises FullBuild: the full build reports it, as it would have. The pages are checked one at a
    time, and `superseded` asked before each: a newer save does not wait, and the pages left stay unchecked."""
    config, options, old_pages = kept.config, kept.link_options, kept.unchecked
    pages = sorted(old_pages)
    if options is None or not pages:
        kept.unchecked = {}
        return
    site = Path(config.site_dir)
    # Each step one page at a time, asking first: a runbook's megabytes take a while, and a save should not wait.
    old_ids: dict[str, set[str]] = {}
    for page in pages:
        if superseded():
            kept.unchecked = {page: old_ids.get(page, old_pages[page]) for page in pages}
            return
        old_ids[page] = _ids_of(old_pages[page])
    kept.unchecked = dict(old_ids)  # their ids alone are kept from now on: the pages' bytes would pile up
    lost = False
    for page in pages:
        if superseded():
            return
        if (old_ids[page] - page_ids(site, page)) & kept.fragments_into.get(page, set()):
            lost = True
            break
    if lost:
        kept.unchecked = {}
        _take_report(kept, check_site(site, options))
        return
    for page in pages:
        if superseded():
            return  # the pages not checked yet stay in kept.unchecked
        _take_report(kept, check_pages(site, kept.site_index, options, [page]))
        del kept.unchecked[page]


#: How many bytes of pages as they were before a pass (`KeptBuild.unchecked`) wait for a link check before their
#: ids are read at once: saves that keep coming put the check off, and each page keeps its oldest bytes.
UNCHECKED_BYTES_KEPT = 64 * 2**20


def _bound_unchecked(kept: KeptBuild) -> None:
    waiting = sum(len(page) for page in kept.unchecked.values() if isinstance(page, bytes))
    if waiting > UNCHECKED_BYTES_KEPT:
        kept.unchecked = {page: _ids_of(old) for page, old in kept.unchecked.items()}


def _ids_of(page: OldPage) -> set[str]:
    if isinstance(page, set):
        return page
    return read_ids(page) if page is not None else set()


def _take_report(kept: KeptBuild, report: LinkReport) -> None:
    if report.broken:
        kept.unchecked = {}
        raise FullBuild("a link is broken (the full build reports it)")
    for target, fragments in report.fragments_into.items():  # links added by the rebuilt pages
        kept.fragments_into.setdefault(target, set()).update(fragments)


def _write_downloads(config: MkDocsConfig, files: Files, downloads: dict[str, str]) -> None:
    for uri, content in downloads.items():
        file = files.get_file_from_path(uri)
        assert file is not None
        file.content_string = content
        _write_atomically(Path(file.abs_dest_path), content.encode("utf-8"))


def serialise_indexes(kept: KeptBuild) -> None:
    """Every page's search entries serialised now, as the search index writes them, while nothing waits (after the
    preview's full build): the first edit's pass then serialises only the pages it builds (0.2 s at 5,000 tasks).
    The tags export's entries were taken during the build, when Material takes them (`tag_entries`)."""
    if _enabled_search(kept.config) is not None:
        _search_fragments(kept)


def _write_search_index(config: MkDocsConfig, kept: KeptBuild) -> None:
    search = _enabled_search(config)
    if search is None:
        return
    index = search.search_index
    # Material writes `json.dumps({"config": ..., "docs": entries}, separators=(",", ":"), default=str)`: the
    # frame is taken from Material itself (no entries), and each page's entries are serialised once, again only
    # once the page is built again (its entries are then a new list). Where the frame is not as expected, Material
    # writes the whole index.
    index.entries = []
    frame = index.generate_search_index(None)
    if not frame.endswith(_NO_DOCS):
        index.entries = [entry for entries in kept.search_entries.values() for entry in entries]
        data = index.generate_search_index(None)
    else:
        data = frame.removesuffix(_NO_DOCS) + '"docs":[' + ",".join(_search_fragments(kept)) + "]}"
    _write_atomically(Path(config.site_dir) / "search" / "search_index.json", data.encode("utf-8"))


_NO_DOCS = '"docs":[]}'


def _search_fragments(kept: KeptBuild) -> list[str]:
    """Each page's search entries as the index writes them, in page order (a page without entries has none)."""
    serialised, fragments = kept.search_json, []
    for uri, entries in kept.search_entries.items():
        known = serialised.get(uri)
        if known is None or known[0] is not entries:
            known = serialised[uri] = (entries, ",".join(_entry_json(entry) for entry in entries))
        if known[1]:
            fragments.append(known[1])
    return fragments


def _entry_json(entry: dict[str, Any]) -> str:
    return json.dumps(entry, separators=(",", ":"), default=str)


def _enabled_search(config: MkDocsConfig) -> Any:
    """Material's search plugin, where it is on; else None."""
    search = material_plugin(config, "search")
    return search if search is not None and search.config.enabled else None


def _exported_tags(config: MkDocsConfig) -> Any:
    """Material's tags plugin, where it is on and exports the tags; else None."""
    tags = material_plugin(config, "tags")
    return tags if tags is not None and tags.config.enabled and tags.config.export else None


def _write_tags(config: MkDocsConfig, kept: KeptBuild) -> None:
    """The tags export as Material's `MappingStorage.save` writes it (`json.dump` of every page's entry, in page
    order), each page's entry serialised once and again only after the page is built again."""
    tags = _exported_tags(config)
    if tags is None:
        return
    text = '{"mappings": [' + ", ".join(_tag_texts(tags, kept)) + "]}"
    _write_atomically(Path(os.path.normpath(os.path.join(config.site_dir, tags.config.export_file))), text.encode())


def _tag_texts(tags: Any, kept: KeptBuild) -> list[str]:
    """Each page's entry of the tags export, in page order: each taken when Material takes it, by the full build
    (`tag_entries`) or by the pass that built the page again (`PageBuilder.build`)."""
    return [kept.tag_entries[mapping.item.url] for mapping in tags.mappings]


def tag_entries(config: MkDocsConfig) -> dict[str, str]:
    """Every page's entry of the tags export, by page URL, as Material takes them: when every page is converted and
    none is built yet (`on_env`). A page's title is read then: once built, a page whose title holds a quote has it
    escaped in its meta (the head title our `on_page_context` adds), which the export must not show."""
    tags = _exported_tags(config)
    return {mapping.item.url: _tag_entry(mapping) for mapping in tags.mappings} if tags is not None else {}


def _tag_entry(mapping: Any) -> str:
    from material.plugins.tags.structure.mapping.storage import _mapping_to_json

    return json.dumps(_mapping_to_json(mapping))


def _write_atomically(path: Path, content: bytes) -> None:
    pending = path.with_name(path.name + PENDING)
    pending.write_bytes(content)
    os.replace(pending, path)
