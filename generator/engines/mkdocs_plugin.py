"""The MkDocs plugin: a thin shell that feeds the generator's pages to MkDocs.

All the work happens in plain Python (validate, render, shortlinks); this module only wires it to MkDocs events.
Generated pages are virtual files: nothing is written into the docs folder or the data folder.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import os
import posixpath
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.livereload import LiveReloadServer
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page as MkDocsPage
from mkdocs.utils.meta import get_data

from generator.data.exports import Exporter
from generator.data.loader import LoadedData
from generator.data.validate import validate_data
from generator.engines.incremental import (
    FullBuild,
    InvalidData,
    KeptBuild,
    Rebuilt,
    Stash,
    Superseded,
    check_rebuilt_links,
    convert_once,
    edit_link_offset,
    material_plugin,
    rebuild,
    rebuild_edited,
    serialise_indexes,
    tag_entries,
)
from generator.engines.material_search import speed_up_search_scrub
from generator.engines.preview import EventDrivenServer
from generator.engines.raw_blocks import put_back, set_aside
from generator.engines.site import offline_enabled
from generator.errors import DataError, PlaybookError, Problem
from generator.links.link_origins import origin_lookup, page_origins
from generator.links.linkcheck import CheckOptions, PageStream, SiteIndex
from generator.links.report import render, render_links
from generator.pages.escape import escape_html, missing_head_title
from generator.pages.generate import INCLUDED_PAGES, THEME, hand_written_pages, home_page, site_extras
from generator.pages.raw_links import resolve_raw_links
from generator.pages.render import TEMPLATES, Origin, Rendering, SiteRenderer
from generator.pages.render import Page as RenderedPage
from generator.pages.shortlinks import resolve_shortlinks
from generator.pages.site_text import Abbreviations, focusable_acronyms
from generator.system.confine import links_leaving
from generator.system.progress import ProgressSink

log = logging.getLogger("mkdocs.plugins.playbook")


class PlaybookConfig(base.Config):
    data_dir = c.Dir(exists=False, default="data")
    """Folder of the YAML data files, relative to mkdocs.yml."""
    templates_dir = c.Dir(exists=False, default="overrides")
    """Folder whose `*.md.j2` files replace the generator's page templates of the same name."""
    data_edit_uri = c.Optional(c.Type(str))
    """Edit link base for data files, like edit_uri; by default edit_uri with the docs folder's part swapped."""
    edit_line_anchor = c.Type(str, default="#L{line}")
    """Appended to a data file's edit link to open it at the entity's line; empty where the host has none."""
    pages = c.Type(dict, default={uri: str(path) for uri, path in INCLUDED_PAGES.items()})
    """Files outside the docs folder that join the site: page path → file, relative to mkdocs.yml."""
    check_links = c.Type(bool, default=True)
    """Check every link and fragment of the built HTML, and fail the build on a broken one."""


class RenderedFile(File):
    """A generated page whose Markdown another process renders while MkDocs works on the pages before it;
    MkDocs takes it when it first reads the page, waiting only if it is not ready yet."""

    def __init__(self, config: MkDocsConfig, rendering: Rendering, index: int) -> None:
        super().__init__(rendering.plans[index].src_uri, None, config.site_dir, config.use_directory_urls)
        self.generated_by = config.plugins._current_plugin or "playbook"
        self._rendering, self._index = rendering, index
        #: Where the page's record is written, known once the page is rendered.
        self.origin: Origin | None = None
        #: The rendered page, what it read of the data included (the preview keeps it).
        self.rendered: RenderedPage | None = None

    def _take(self) -> None:
        if self._content is None:
            try:
                page = self._rendering.page(self._index)
                self._content, self.origin, self.rendered = page.markdown(), page.origin, page
            except DataError as err:
                raise PluginError(render(err.problems, "text", subject="templates")) from None
            except PlaybookError as err:
                raise PluginError(str(err)) from None

    # MkDocs reads a page through these two; each takes the rendered page first, setting them works as ever.
    content_string = property(lambda self: _taken(self, File.content_string), File.content_string.fset)
    content_bytes = property(lambda self: _taken(self, File.content_bytes), File.content_bytes.fset)

    def is_modified(self) -> bool:  # no file, no date to compare: a dirty rebuild renders it again
        return True


def _taken(file: RenderedFile, content: property) -> Any:
    file._take()
    return content.fget(file)  # type: ignore[misc]


class PlaybookPlugin(BasePlugin[PlaybookConfig]):
    rendering: Rendering | None = None
    links: PageStream | None = None
    #: Told how far the build has got; the `playbook` command shows it on a terminal.
    progress: ProgressSink | None = None
    pages_total = pages_read = pages_written = 0
    #: Whether this is `serve`'s preview, which shows the problems of a site that cannot be built.
    serving = False
    #: Its `on_post_page` returns the page's HTML as it is given (the preview counts on it: engines/incremental).
    post_page_leaves_html_alone = True
    unbuildable = ""
    #: Why the preview's last build failed once begun, to be shown by the build after it (`_full_build`).
    failed_build = ""
    #: Why the current build failed, as this plugin or the error MkDocs reports says it.
    failure = ""
    #: The preview's last good site and its state, set aside while the data has problems.
    stashed: Stash | None = None
    #: Held while the preview rebuilds, in the build loop or after it (the rest of an edit).
    _preview_lock = threading.RLock()
    #: The first pass's hold on the cycle collector, handed to the rest of its edit (`_finish`).
    _handed_hold: _CollectorHold | None = None

    def sources(self, config: MkDocsConfig) -> list[Path]:
        """Every folder and file the site is made from, the configuration included."""
        root = Path(config.config_file_path).resolve().parent
        folders = [config.docs_dir, self.config.data_dir, self.config.templates_dir, config.theme.custom_dir]
        included = [root / path for path in self.config.pages.values()]
        return [Path(config.config_file_path), *(Path(folder) for folder in folders if folder), *included]

    def on_startup(self, *, command: str, dirty: bool) -> None:
        # Defining this event makes MkDocs keep the plugin across the rebuilds of `serve`: on_config starts afresh.
        self.serving = command == "serve"

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        self.rendering, self.links, self.pages_read, self.pages_written = None, None, 0, 0
        #: The last full build, which a preview's data edit updates in part (generator.engines.incremental).
        self.kept: KeptBuild | None = None
        #: The hand-written pages' Markdown with their [[kind:id]] links resolved, and each page's search entries.
        self.hand_written_markdown: dict[str, str] = {}
        self.search_entries: dict[str, list[dict[str, Any]]] = {}
        #: While serving, each page's entry of the tags export, as Material took them (`tag_entries`).
        self.tag_entries: dict[str, str] = {}
        #: While serving, where each generated page's edit link starts in the page written, in bytes: a line added
        #: above a record changes only that link's line, which the preview then writes in place (`PageBuilder`).
        self.edit_link_at: dict[str, int] = {}
        self.problems: list[Problem] = []
        #: Raw HTML blocks of a page kept out of Markdown's parser, by page, until its HTML is made.
        self.set_aside: dict[str, list[str]] = {}
        self.repo_root = Path(config.config_file_path).resolve().parent
        #: Why the site cannot be built; a preview shows it in the browser instead of failing.
        self.unbuildable = self._refusal(config)
        if config.theme.name == "material":  # our override of Material's main.html, unless the project has one
            # (the problems page's too: it names the search dialog, which axe requires of every page)
            config.theme.dirs.insert(1 if config.theme.custom_dir else 0, str(THEME))
        if self.unbuildable:
            if not self.serving:
                raise PluginError(self.unbuildable)
            if self.failed_build:  # MkDocs has just logged it
                log.info("the problems above are shown in the browser until a save mends them")
            else:
                log.error(self.unbuildable)
            config.nav = None  # the one page there is
            return config
        self.edit_bases: dict[Path, str | None] = {}
        self.data_edit_bases: dict[str, str | None] = {}
        self.abbreviations = Abbreviations(self.loaded.catalogue)
        self.copyright = config.copyright
        self.offline = offline_enabled(config)
        speed_up_search_scrub(config)
        # While serving, the downloads' writer is kept for the edits to come (it keeps each record's rows).
        self.exporter = Exporter()
        self.extras = site_extras(self.loaded.catalogue, config.copyright, offline=self.offline, exporter=self.exporter)
        config.copyright = self.extras.footer
        config.extra_javascript.extend(self.extras.javascript)
        config.extra_css.extend(self.extras.stylesheets)
        if self.offline:
            # Opened from disk, a page must fetch nothing: no unpkg.com shim (ours is named so that the offline
            # plugin sees it), and no repository widget, whose script asks api.github.com for stars; edit links
            # would lead online anyway.
            config.extra["polyfills"] = list(self.extras.polyfills)
            config.extra["homepage"] = self.extras.homepage
            config.repo_url = config.repo_name = None
            config.edit_uri = ""
        # A preview notes what each page reads of the data, to rebuild only the pages a data edit changes.
        renderer = self.renderer_for(config, self.loaded, track_reads=self.serving)
        self.site_map = renderer.site_map
        # Rendering starts now, on the other core, while MkDocs reads the theme and the docs folder and then
        # turns page after page into HTML; it stays well ahead of MkDocs, which never waits for a page.
        # A template that fails says so when MkDocs reads the page that uses it (RenderedFile).
        self.rendering = Rendering(renderer, processes=1 if (os.cpu_count() or 1) > 1 else 0)
        return config

    def renderer_for(
        self, config: MkDocsConfig, loaded: LoadedData, *, track_reads: bool, earlier: SiteRenderer | None = None
    ) -> SiteRenderer:
        """A renderer of the data; `earlier` renders an earlier load of it (the preview's, before a save)."""
        return SiteRenderer(
            loaded.catalogue,
            origin_lookup(loaded),
            [Path(self.config.templates_dir)],
            site_url=config.site_url or "",
            hand_written=hand_written_pages(Path(config.docs_dir), self._included_pages()),
            track_reads=track_reads,
            earlier_site_map=earlier.site_map if earlier is not None else None,
            earlier_catalogue=earlier.catalogue if earlier is not None else None,
        )

    def _included_pages(self) -> dict[str, Path]:
        return {uri: self.repo_root / path for uri, path in self.config.pages.items()}

    def _refusal(self, config: MkDocsConfig) -> str:
        """What stops the build before it starts (bad data, a link out of the project), as a report; or ""."""
        if self.failed_build:  # the preview's last build failed half-way: this one shows why (`_full_build`)
            return self.failed_build
        data_dir = Path(self.config.data_dir)
        # MkDocs would copy a link's target (/etc/ssl, /proc/self/environ) into the site and the bundle.
        checked = [path for path in self.sources(config) if path.exists() and path != data_dir]  # data: validate
        leaving = links_leaving(checked, self.repo_root)
        if leaving:
            return "links out of the project:\n" + render(leaving, "text", subject="content")
        # The preview's first edit parses only the record it changes, which needs the file's positions.
        validation = validate_data(data_dir, positions=self.serving)
        if not validation.ok:
            return "the playbook data is invalid:\n" + render(validation.problems, "text", subject=str(data_dir))
        self.loaded = validation.loaded
        return ""

    def on_files(self, files: Files, config: MkDocsConfig) -> Files:
        if self.unbuildable:  # only the theme's files, and a page that lists the problems
            kept = [file for file in files if not file.is_documentation_page()]
            return Files([*kept, File.generated(config, "index.md", content=problems_page(self.unbuildable))])
        assert self.rendering is not None
        for index, plan in enumerate(self.rendering.plans):
            if files.get_file_from_path(plan.src_uri) is not None:
                raise PluginError(f"{config.docs_dir}/{plan.src_uri} is generated from the data; rename the page")
            files.append(RenderedFile(config, self.rendering, index))
        self.included: dict[str, Path] = {}
        for src_uri, source in self.config.pages.items():
            path = self.repo_root / source
            if files.get_file_from_path(src_uri) is None and path.is_file():
                files.append(File.generated(config, src_uri, abs_src_path=str(path)))
                self.included[src_uri] = path
        for uri, source in self.extras.files.items():
            if isinstance(source, Path):
                files.append(File.generated(config, uri, abs_src_path=str(source)))
            else:
                files.append(File.generated(config, uri, content=source))
        if files.get_file_from_path("index.md") is None:  # a project without a home page of its own
            pages = {plan.src_uri for plan in self.rendering.plans}
            files.append(File.generated(config, "index.md", content=home_page(config.site_name, pages)))
        return files

    def on_nav(self, nav: Any, config: MkDocsConfig, files: Files) -> Any:
        self.pages_total = len(files.documentation_pages())  # every plugin has added its files by now
        self.nav, self.files = nav, files
        return nav

    @event_priority(50)  # before other plugins see the Markdown, so they see links, not [[...]]
    def on_page_markdown(self, markdown: str, page: MkDocsPage, config: MkDocsConfig, files: Files) -> str:
        if self.unbuildable:
            return markdown
        self.pages_read += 1
        if self.progress is not None:
            self.progress("reading pages", self.pages_read, self.pages_total)
        if isinstance(page.file, RenderedFile):
            page.edit_url = self.edit_url_of(config, page.file.origin)
            markdown, self.set_aside[page.file.src_uri] = set_aside(markdown)
            if self.serving:  # the preview converts again only what changed (see incremental.convert_once)
                convert_once(config, page, keep=bool(self.set_aside[page.file.src_uri]))
        else:
            source = self.included.get(page.file.src_uri) or Path(config.docs_dir) / page.file.src_path
            if page.file.src_uri in self.included:
                page.edit_url = self._edit_url(config, source, None)
            markdown = self._resolved(config, page.file, markdown)
            self.hand_written_markdown[page.file.src_uri] = markdown
        return markdown + self.abbreviations.for_page(markdown)

    def _resolved(self, config: MkDocsConfig, file: File, markdown: str) -> str:
        """A hand-written page's Markdown with its [[kind:id]] links resolved; unknown IDs become problems."""
        source = self.included.get(file.src_uri) or Path(config.docs_dir) / file.src_path
        resolved = resolve_shortlinks(markdown, file.src_uri, os.path.relpath(source), self.site_map)
        self.problems.extend(resolved.problems)
        return resolved.markdown

    def resolved_hand_written(self, config: MkDocsConfig, files: Files) -> dict[str, str]:
        """Every hand-written page's Markdown as `on_page_markdown` would make it now, by path in the docs folder."""
        resolved = {}
        for file in files.documentation_pages():
            if file.src_uri in self.hand_written_markdown:
                markdown, _ = get_data(file.content_string)
                resolved[file.src_uri] = self._resolved(config, file, markdown)
        if self.problems:
            raise FullBuild("a page links to an unknown ID")
        return resolved

    def on_page_content(self, html: str, page: MkDocsPage, config: MkDocsConfig, files: Files) -> str:
        # MkDocs leaves raw HTML's links as written; ours are written as Markdown links are (see raw_links). The
        # offline plugin has turned directory URLs off by now, if it is on. Markdown's part of the page and each
        # block set aside are resolved apart, so that the megabytes of a runbook's steps are searched once, and a
        # preview's rebuild, which meets most of a page's blocks again unchanged, does not search them again.
        uri, directory_urls = page.file.src_uri, config.use_directory_urls
        resolved = _block_links_resolved if self.serving else resolve_raw_links
        blocks = [resolved(block, uri, directory_urls) for block in self.set_aside.pop(uri, [])]
        try:
            html = put_back(resolve_raw_links(html, uri, directory_urls), blocks)
        except ValueError as err:
            raise PluginError(f"{uri}: {err}") from None
        return focusable_acronyms(html)

    def on_page_context(self, context: dict[str, Any], page: MkDocsPage, config: MkDocsConfig, nav: Any) -> Any:
        page.meta.update(missing_head_title(page.meta, page.title))
        if self.serving:  # Material's search has added the page's entries by now (its event comes first)
            search = material_plugin(config, "search")
            entries = search.search_index.entries if search is not None else []
            self.search_entries[page.file.src_uri] = entries[self._search_mark :]
            self._search_mark = len(entries)
        return context

    def on_env(self, env: Any, config: MkDocsConfig, files: Files) -> Any:
        # Pages are turned into HTML before this event; every unresolved [[...]] of every page is known by now.
        if self.rendering is not None:
            self.rendering.close()
        if self.problems:
            self.failure = "links to unknown IDs:\n" + render(sorted(self.problems), "text", subject="content")
            raise PluginError(self.failure)
        if self.config.check_links and not self.unbuildable:
            # Every file the site will hold is known now; each page is checked, on the other core, as it is written.
            index = SiteIndex.from_paths(file.dest_uri for file in files)
            root = "/" if self.offline else (urlsplit(config.site_url or "").path or "/")
            self.site_index, self.link_options = index, CheckOptions(file_urls=self.offline, root=root)
            self.links = PageStream(Path(config.site_dir), index, self.link_options)
        self.env, self._search_mark = env, 0
        if self.serving and not self.unbuildable:
            self.tag_entries = tag_entries(config)  # what the tags export holds, for the edits to update
        return env

    def on_post_page(self, output: str, page: MkDocsPage, config: MkDocsConfig) -> str:
        self.pages_written += 1
        if self.progress is not None:
            self.progress("writing pages", self.pages_written, self.pages_total)
        if self.links is not None:
            self.links.add(page.file.dest_uri)
        if self.serving and isinstance(page.file, RenderedFile):
            at = edit_link_offset(output, page.edit_url)
            if at is None:
                self.edit_link_at.pop(page.file.src_uri, None)
            else:
                self.edit_link_at[page.file.src_uri] = at
        return output

    @event_priority(-50)  # after the search index is written, before the offline plugin (-100) inlines it
    def on_post_build(self, config: MkDocsConfig) -> None:
        if self.unbuildable:
            # Whatever page the browser asks for, the preview serves the problems as its 404 page (`problems_404`).
            home = (Path(config.site_dir) / "index.html").read_text(encoding="utf-8")
            root = urlsplit(config.site_url or "").path or "/"
            (Path(config.site_dir) / "404.html").write_text(problems_404(home, root), encoding="utf-8")
        if self.links is not None:
            report = self.links.finish()
            self.links, self.fragments_into = None, report.fragments_into
            if report.broken:
                data, docs, templates = self.config.data_dir, config.docs_dir, self.config.templates_dir
                origins = page_origins(Path(data), Path(docs), Path(templates))
                raise PluginError("broken links in the built site:\n" + render_links(report, "text", origins))
        if self.serving and not self.unbuildable:
            self.kept = self._kept(config)
            if self.kept is not None:
                serialise_indexes(self.kept)
            _collect_while_idle()  # the build's garbage gone, the site kept set aside before the first edit

    def _kept(self, config: MkDocsConfig) -> KeptBuild | None:
        assert self.rendering is not None
        pages = {}
        for file in self.files:
            if isinstance(file, RenderedFile):
                assert file.rendered is not None
                pages[file.src_uri] = file.rendered
        renderer = self.rendering.renderer
        search, tags = material_plugin(config, "search"), material_plugin(config, "tags")
        if tags is not None and any(True for _ in tags.listings):
            return None  # a page lists tags: every page's tags make it (not a case the preview updates in part)
        renderer.warm()  # the templates compiled here, once: each edit's rendering process inherits them
        return KeptBuild(
            config=config,
            files=self.files,
            nav=self.nav,
            env=self.env,
            renderer=renderer,
            loaded=self.loaded,
            pages=pages,
            signatures={plan.src_uri: renderer.signature(plan) for plan in renderer.plan()},
            hand_written=dict(self.hand_written_markdown),
            search_entries={
                file.src_uri: self.search_entries.get(file.src_uri, []) for file in self.files.documentation_pages()
            },
            plugin_state=self.state(),
            search_index=search.search_index if search is not None else None,
            tag_mappings=tags.mappings if tags is not None else None,
            site_index=getattr(self, "site_index", SiteIndex.from_paths([])),
            link_options=getattr(self, "link_options", None) if self.config.check_links else None,
            plan_reads=dict(renderer.plan_reads),
            fragments_into=getattr(self, "fragments_into", {}),
            exporter=self.exporter,
            tag_entries=dict(self.tag_entries),
        )

    def state(self) -> dict[str, Any]:
        """What the page events use of this plugin, as a build leaves it (the preview puts it back before an edit)."""
        state = {
            name: value
            for name, value in vars(self).items()
            if name not in ("kept", "stashed", "config", "later", "_handed_hold")
        }
        state.update(rendering=None, links=None, problems=[], progress=None)
        return state

    def on_build_error(self, error: Exception) -> None:
        self.failure = self.failure or str(error)  # what the preview's problems page says (`_full_build`)
        self._forget_kept()  # the site is not what was kept of it: the next edit builds it whole
        self.stop()

    def _forget_kept(self) -> None:
        """The next edit builds the site whole; pages the last edit's first pass began rendering are not waited for."""
        if self.kept is not None:
            self.kept.drop_head_start()
        self.kept = None

    def stop(self) -> None:
        """Stops the processes that render and check pages (the build failed or was interrupted)."""
        if self.rendering is not None:
            self.rendering.close()
        if self.links is not None:
            self.links.cancel()
            self.links = None

    def on_serve(self, server: LiveReloadServer, config: MkDocsConfig, builder: Any) -> LiveReloadServer:
        for folder in (Path(self.config.data_dir), Path(self.config.templates_dir), TEMPLATES):
            if folder.is_dir():
                server.watch(str(folder))
        if isinstance(server, EventDrivenServer):  # it says which files changed: a data edit is rebuilt in part
            server.builder = partial(self._preview_build, server, builder)
        return server

    def _preview_build(self, server: EventDrivenServer, full_build: Any) -> str:
        """After a data edit, the pages it changes; after any other change (or one it cannot follow), the site.

        The pages of the records the edit changed come first, and the browsers reload; every other page the edit
        changes, the search index and the link check follow in the background (`later`), and the browsers reload
        again.
        Data with problems is shown as a full build shows it (the problems in the terminal and as the page), while
        the last good site waits aside with what was kept of it; the save that mends the data updates that site.
        Returns the line it logged.
        """
        with self._preview_lock:
            # The rest of the last edit has not started yet: it no longer holds the collector off for what follows
            # (a full build, say), where it would only let garbage pile up.
            if self._handed_hold is not None:
                self._handed_hold.release()
                self._handed_hold = None
            reason = self._why_full(server.take_changes())
            if reason is None:
                kept = self.kept or (self.stashed.kept if self.stashed else None)
                assert kept is not None
                hold = _CollectorHold()  # until the rest of the edit is done (`_finish`), or it fails here
                try:
                    try:
                        rebuilt = rebuild_edited(self, kept, before_writing=self._unstash)
                    except BaseException:
                        hold.release()  # no rest follows: what does (a full build) runs with the collector on
                        raise
                except InvalidData:
                    if self.stashed is None:
                        self.stashed = Stash.of(kept)
                    self._full_build(full_build)
                    return "problems shown"
                except FullBuild as why:
                    reason = str(why)
                except Exception as err:  # never a broken preview: the full build says what is wrong, if anything
                    reason = f"the partial rebuild failed ({type(err).__name__}: {err})"
                else:
                    try:
                        self.kept = kept
                        line = self._rebuilt_line(rebuilt, "the rest follows")
                        self._handed_hold = hold
                        self.later(partial(self._finish, server, kept, hold))
                    except BaseException:
                        hold.release()
                        raise
                    return line
            line = f"full rebuild: {reason}"
            log.info(line)
            self._forget_kept()
            self._drop_stash()
            self._full_build(full_build)
            return line

    def _full_build(self, full_build: Any) -> None:
        """MkDocs' build of the whole site; where it fails once begun (a hand-written page links to an ID the data
        no longer has), a build of the problems page, as for data with problems, in its place. MkDocs' server held
        every request after a failed build, until the next save: the browser waited, with nothing to say why."""
        self.failure = ""
        try:
            full_build()
        except Exception as err:
            # MkDocs has logged why (a plugin's error, or the exception's traceback); the page says it too.
            self.failed_build = self.failure or f"the site could not be built ({type(err).__name__}: {err})"
            try:
                full_build()
            finally:
                self.failed_build = ""

    def _finish(self, server: EventDrivenServer, kept: KeptBuild, hold: _CollectorHold) -> None:
        """The work an edit's rebuild left for later; a failure asks the build loop for a full build. Once serve
        is stopping, the work stops, and says nothing: the site folder is being removed under it. The first pass's
        hold on the cycle collector is released at the end (if the next save has not released it)."""
        try:
            self._finish_holding(server, kept)
        finally:
            hold.release(set_aside=True)

    def _finish_holding(self, server: EventDrivenServer, kept: KeptBuild) -> None:
        def superseded() -> bool:
            return server.changes_waiting() or server.stopping()

        with self._preview_lock:
            if self.kept is not kept:  # an edit since, or a full build, has taken it over
                return
            try:
                with _no_cyclic_collection():
                    rebuilt = rebuild(self, kept, superseded=superseded, check_links=False)
            except Superseded:
                if not server.stopping():
                    log.info("a newer save came: the rest of this edit follows with it")
                return
            except Exception as err:
                if not server.stopping():
                    log.info(f"the pages that show the whole catalogue could not follow ({err}): a full build comes")
                    self._forget_kept()
                    server.request_build()
                return
            self._rebuilt_line(rebuilt, "the rest of the edit")
        server.reload_browsers()
        # The site is current; its links are checked after the reload, as they change nothing on it. A newer save
        # leaves them to its own pass (the pages stay listed as unchecked).
        with self._preview_lock:
            if self.kept is not kept or superseded():
                return
            try:
                with _no_cyclic_collection():
                    check_rebuilt_links(kept, superseded=superseded)
            except Exception as why:  # a broken link (FullBuild), or the check could not run: the full build says
                if not server.stopping():
                    log.info(f"full rebuild: {why}")
                    self._forget_kept()
                    server.request_build()
                return
            if not superseded():
                _collect_while_idle()

    def _rebuilt_line(self, rebuilt: Rebuilt, note: str) -> str:
        line = f"rebuilt {len(rebuilt.pages):,} of {rebuilt.total:,} pages in {rebuilt.seconds:.2f} s"
        moved = len(rebuilt.pages) - rebuilt.converted
        if moved:
            line += f" ({moved:,} only had their edit link moved to their record's new line)"
        line += f"; {note}" if note else ""
        log.info(line)
        return line

    @staticmethod
    def later(work: Callable[[], None]) -> None:
        """Runs `work` beside the build loop (tests run it at once)."""
        threading.Thread(target=work, name="playbook-preview", daemon=True).start()

    def _why_full(self, changes: set[str]) -> str | None:
        """Why the changed files need a full build, or None where the pages they change can be rebuilt alone."""
        if self.kept is None and self.stashed is None:
            return "the last build did not finish" if not self.unbuildable else "the last build showed problems"
        data_dir = Path(self.config.data_dir).resolve()
        if not changes:
            return "a change the watcher did not name"
        for path in sorted(changes):
            if not Path(path).resolve().is_relative_to(data_dir):
                return f"{os.path.relpath(path)} changed"
        return None

    def _unstash(self) -> None:
        """The last good site back in the served folder, in place of the problems page."""
        if self.stashed is not None:
            self.stashed.restore()
            self.stashed = None

    def _drop_stash(self) -> None:
        if self.stashed is not None:
            self.stashed.drop()
            self.stashed = None

    def on_shutdown(self) -> None:
        self._forget_kept()
        gc.unfreeze()  # the process's objects as the collector found them (serve may run inside another program)
        self._drop_stash()

    def edit_url_of(self, config: MkDocsConfig, origin: Origin | None) -> str | None:
        """The edit link of a generated page: its record's data file, at the record's line."""
        if origin is None:
            return None
        # Thousands of pages share a dozen data files: each file's link is found once, by the name the page gives
        # (a path's parsing cost more than all the rest, twice a page when a line added moves thousands of links).
        if origin.file not in self.data_edit_bases:
            data_file = Path(self.config.data_dir) / Path(origin.file).name
            self.data_edit_bases[origin.file] = self._edit_base_of(config, data_file)
        return self._at_line(self.data_edit_bases[origin.file], origin.line)

    def _edit_url(self, config: MkDocsConfig, source: Path | None, line: int | None) -> str | None:
        """The edit link of a file of the repository outside the docs folder, at a line where the host can."""
        return self._at_line(self._edit_base_of(config, source), line) if source is not None else None

    def _edit_base_of(self, config: MkDocsConfig, source: Path) -> str | None:
        if source not in self.edit_bases:
            self.edit_bases[source] = self._edit_base(config, source)
        return self.edit_bases[source]

    def _at_line(self, base: str | None, line: int | None) -> str | None:
        if base is None:
            return None
        anchor = self.config.edit_line_anchor.format(line=line) if line and self.config.edit_line_anchor else ""
        return base + anchor

    def _edit_base(self, config: MkDocsConfig, source: Path) -> str | None:
        if not config.repo_url:
            return None
        prefix = _edit_prefix(config, self.repo_root)
        if prefix is None:
            return None
        if self.config.data_edit_uri and source.resolve().parent == Path(self.config.data_dir).resolve():
            path = f"{self.config.data_edit_uri.strip('/')}/{source.name}"
        else:
            path = prefix + source.resolve().relative_to(self.repo_root).as_posix()
        return f"{config.repo_url.rstrip('/')}/{path}"


#: A set-aside block's pieces with their raw links resolved, by folder (and URL style) and piece: kept for the
#: preview's next rebuild, which meets the same rows again (a runbook's steps, the catalogue's rows), few changed.
_RESOLVED_PIECES: dict[tuple[str, str, bool], dict[str, str]] = {}
#: How many characters the pieces kept may hold, keys and values, all pages together, before they are all dropped
#: (at 5,000 tasks a serve's full build keeps about 60 million); and how many they hold now.
RESOLVED_CHARACTERS_KEPT = 160_000_000
_resolved_characters = 0
#: Where a block is cut into rows (a table's, a runbook's steps), and a row into pieces (before each link as our
#: rows write them). The cuts are marked, then split at (ten times faster on megabytes than a regular
#: expression's split at a lookahead); a block that holds the mark is resolved whole.
_ROW_OPENINGS = ("<li", "<tr")
_LINK_OPENING = "<a "
_CUT = "\x00"


def _block_links_resolved(block: str, src_uri: str, directory_urls: bool) -> str:
    """A set-aside block's raw links resolved row by row, each row once for the preview's whole life: the
    thousands of rows an edit leaves alone are only looked up. A row met for the first time is resolved link by
    link (a link and the text up to the next), each of those once too: a stage edit shifts the number of every
    row after the task, on every page of the listing, and of every step after it on a runbook, but not their links.

    A cut comes before a `<`, and a link is one attribute inside a tag, its value holding no `<`: it lies within
    one piece, and so does the character before it that `resolve_raw_links` looks at. Only pieces that hold a
    link are kept."""
    global _resolved_characters
    if _CUT in block:
        return resolve_raw_links(block, src_uri, directory_urls)
    rows = _cut_before(block, _ROW_OPENINGS)
    if _resolved_characters + 3 * (len(block) + len(rows)) > RESOLVED_CHARACTERS_KEPT:
        _RESOLVED_PIECES.clear()
        _resolved_characters = 0
    # A link resolves alike from every page of one folder that is not its index (each lies as deep in the built
    # site), but for a link to the page itself, or (directory URLs: `roles/mvm.md` is served as `roles/mvm/`) to
    # a page in a folder of the page's name: the pages of a listing share their rows, which a stage edit moves from
    # one page to the next. A row that names the page's file or such a folder is resolved for the page alone.
    folder, name = posixpath.split(src_uri)
    own_folder = posixpath.splitext(name)[0] + "/"
    kept = _RESOLVED_PIECES.setdefault((folder, name if name in _INDEXES else "", directory_urls), {})
    resolved = [
        resolve_raw_links(row, src_uri, directory_urls)
        if name in row or own_folder in row
        else kept.get(row) or _resolved_row(kept, row, src_uri, directory_urls)
        for row in rows
    ]
    return "".join(resolved)


#: The names of a folder's index page (its URL is the folder's).
_INDEXES = frozenset({"index.md", "README.md"})


def _cut_before(text: str, openings: tuple[str, ...]) -> list[str]:
    """`text` cut before each of the openings (none of them holds `_CUT`, and neither does `text`)."""
    for opening in openings:
        text = text.replace(opening, _CUT + opening)
    return text.split(_CUT)


def _resolved_row(kept: dict[str, str], row: str, src_uri: str, directory_urls: bool) -> str:
    links = _cut_before(row, (_LINK_OPENING,))
    resolved = "".join(kept.get(piece) or _resolved_piece(kept, piece, src_uri, directory_urls) for piece in links)
    return _kept(kept, row, resolved)


def _resolved_piece(kept: dict[str, str], piece: str, src_uri: str, directory_urls: bool) -> str:
    return _kept(kept, piece, resolve_raw_links(piece, src_uri, directory_urls))


def _kept(kept: dict[str, str], text: str, resolved: str) -> str:
    """`resolved`, kept as what `text` resolves to where a link in it changed (one without costs less to look at
    again than to keep)."""
    global _resolved_characters
    if resolved != text:
        kept[text] = resolved
        _resolved_characters += len(text) + len(resolved)
    return resolved


def _collect_while_idle() -> None:
    """A full collection of cyclic garbage now, while nothing waits, and what survives it set aside from the
    collections to come (`gc.freeze`): the kept build is millions of objects, and a collection that met them all
    took 0.6 s at 5,000 tasks, wherever Python happened to start it (the next save's first pass included).
    Everything set aside is put back (`gc.unfreeze`) for the next idle collection, which frees what has died."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


#: How many pieces of the preview's work hold Python's cycle collector off, and whether it was on before the first.
_collector_holds = 0
_collector_was_on = False
_collector_lock = threading.Lock()


def _hold_collector() -> None:
    """Python's cycle collector paused until every hold is released (`_release_collector`): a kept build of
    thousands of pages holds millions of objects, and a full collection in the middle of a pass costs more than the
    first pass itself. An edit holds it from its first pass to the end of its link check, where it is collected
    while idle: re-enabled between, the collector first went through everything the pass had made (55 ms at 5,000
    tasks), before the second pass could start and again before the browsers' reload."""
    global _collector_holds, _collector_was_on
    with _collector_lock:
        if _collector_holds == 0:
            _collector_was_on = gc.isenabled()
            gc.disable()
        _collector_holds += 1


def _release_collector(set_aside: bool = False) -> None:
    """One hold let go; with `set_aside`, where it was the last, what was made while the collector was off is set
    aside with the rest (`gc.freeze`), for the idle collection (`_collect_while_idle`): re-enabled over it, the
    collector went through it all at the next allocation, 0.12 s at 5,000 tasks, which a save that came during the
    link check waited for. Only the end of an edit sets it aside: a full build follows the other releases (the
    problems page's included, after which nothing is collected while idle), and what it lets die must be collected."""
    global _collector_holds
    with _collector_lock:
        _collector_holds -= 1
        if _collector_holds == 0 and _collector_was_on:
            if set_aside:
                gc.freeze()
            gc.enable()


class _CollectorHold:
    """One hold on the cycle collector, taken at once and released once, by whichever asks first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held = True
        _hold_collector()

    def release(self, *, set_aside: bool = False) -> None:
        with self._lock:
            if self._held:
                self._held = False
                _release_collector(set_aside)


@contextmanager
def _no_cyclic_collection() -> Iterator[None]:
    """The collector held off while the block runs (`_hold_collector`)."""
    _hold_collector()
    try:
        yield
    finally:
        _release_collector()


def _edit_prefix(config: MkDocsConfig, repo_root: Path) -> str | None:
    """`edit/main/content/` → `edit/main/`: the edit link of the repository's root, from the docs folder's."""
    edit_uri = (config.edit_uri or "").strip("/")
    docs_dir = Path(config.docs_dir).resolve()
    if not docs_dir.is_relative_to(repo_root):  # no docs folder of the project's own: `playbook build` lent one
        return None
    docs = docs_dir.relative_to(repo_root).as_posix()
    if not edit_uri.endswith(docs):
        return None
    return edit_uri[: len(edit_uri) - len(docs)]


#: Marks the preview's problems page as served for any address, with a digest of its report (`problems_404`).
PROBLEMS_MARK = '<meta name="playbook-problems" content="{}">'
#: Asks for the address shown every second, and reloads once the answer is not this problems page: the site is
#: back, another report replaced this one, or the address is missing for good (the theme's own 404 page says so).
#: A page that reloaded itself on a timer (a refresh every 2 s) restarted a screen reader on it each time, and axe
#: counts it as serious. Links within the page stay on it (`<base>` would send them to the site's root).
_ASK_AGAIN = (
    "<script>(function(){{var mark={mark};"
    "document.querySelectorAll(\"a[href^='#']\").forEach(function(link){{"
    'link.setAttribute("href",location.pathname+location.search+link.getAttribute("href"))}});'
    "(function ask(){{setTimeout(function(){{"
    'fetch(location.href,{{cache:"no-store"}}).then(function(answer){{'
    "return answer.ok?location.reload():answer.text().then(function(text){{"
    "text.indexOf(mark)<0?location.reload():ask()}})}}).catch(ask)}},1000)}})()}})()</script>"
)
#: Where Material's configuration and its palette script name the site's root, relative to the page.
_HOME_CONFIG, _HOME_BASE = '<script id="__config" type="application/json">', '"base": "."'
_HOME_SCOPE = '__md_scope=new URL(".",location)'
_CHARSET = '<meta charset="utf-8">'


def problems_404(home: str, root: str) -> str:
    """The preview's problems page (`home`, built as the site's home) as its 404 page, served for whatever address
    the browser asks for. MkDocs' live reload is only added to pages found, so this one asks again by itself until
    it changes. Its addresses were written for the home page: a `<base>` of the site's root (`root`) keeps them
    right at tasks/1699/, where the theme's styles and scripts were looked for under tasks/1699/assets/ and the page
    came unstyled, in the light palette whatever the system's; Material's own scripts resolve the site's root (the
    search index, the palette a reader picked) against the page's address, so they are told it too."""
    root_json = json.dumps(root).replace("<", "\\u003c")  # in a script: no `</script>` can end it early
    mark = PROBLEMS_MARK.format(hashlib.sha256(home.encode("utf-8", "surrogatepass")).hexdigest()[:16])
    added = f'{mark}\n<base href="{escape_html(root)}">'
    # After the character set, which a browser looks for in the first 1,024 bytes only.
    page = (
        home.replace(_CHARSET, f"{_CHARSET}\n{added}", 1)
        if _CHARSET in home
        else home.replace("<head>", f"<head>\n{added}", 1)
    )
    head, config, rest = page.partition(_HOME_CONFIG)  # the configuration's own key, not a page text's
    page = head + config + rest.replace(_HOME_BASE, f'"base": {root_json}', 1) if config else page
    page = page.replace(_HOME_SCOPE, _HOME_SCOPE.replace('"."', root_json), 1)
    script = _ASK_AGAIN.format(mark=json.dumps(mark).replace("<", "\\u003c"))
    before, end, after = page.rpartition("</body>")
    return f"{before}{script}\n{end}{after}" if end else f"{page}{script}"


def problems_page(report: str) -> str:
    """The preview's one page while the site cannot be built: the report, as it is, escaped."""
    return (
        "# The site cannot be built\n\n"
        "Fix the problems below and save: this page reloads by itself.\n\n"
        # In a code block, as Material styles one: a long line scrolls inside it, not the page on a phone.
        f"<pre><code>{escape_html(report)}</code></pre>\n"
    )
