"""The link checker: every internal link and fragment of a built site, checked exactly and fast.

Two phases, like the data's references: every page is read once (in parallel, one page in memory per worker) for
its links and its ids; then each link is resolved against the set of files and each fragment against its target
page's ids. Only pages with findings are read a second time, to say where in the file each broken link is.
"""

from __future__ import annotations

import bisect
import difflib
import multiprocessing
import os
import posixpath
import re
import stat
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urljoin, urlsplit

from generator.links.htmllinks import Link, PageLinks, locate, read_ids, read_links
from generator.system.processes import die_with_parent
from generator.system.progress import ProgressSink

if TYPE_CHECKING:  # the outside-link checker (and its HTTP client) loads only when outside links are checked
    from generator.links.external import UrlResult

SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
PLAUSIBLE_ADDRESS = re.compile(r"^[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+\.[^@\s<>(),;:\"]+$")
HTML_SUFFIXES = (".html", ".htm")
#: The most of one page that is read by default: far more than any page of ours, far less than a stray dump.
MAX_PAGE_BYTES = 32 * 2**20


@dataclass(frozen=True, order=True)
class Finding:
    page: str
    line: int
    column: int
    link: str
    reason: str
    hint: str = ""
    severity: str = "error"


@dataclass
class LinkReport:
    pages: int = 0
    links: int = 0
    findings: list[Finding] = field(default_factory=list)
    external: list[tuple[str, Link, str]] = field(default_factory=list)
    #: Page → the fragments links on other pages point at on it (as written and unquoted): the ids it must keep.
    fragments_into: dict[str, set[str]] = field(default_factory=dict)

    @property
    def broken(self) -> int:
        return sum(finding.severity == "error" for finding in self.findings)


@dataclass(frozen=True)
class Target:
    """What a link points at: a file of the site (maybe with a fragment), an outside URL, or nothing to check."""

    kind: str  # "file", "external", "skip", or "broken"
    path: str = ""
    fragment: str | None = None
    reason: str = ""
    hint: str = ""
    #: A missing file's path, for a hint naming the closest file (left to the caller, who bounds their number).
    misspelt: str = ""


@dataclass(frozen=True)
class SiteIndex:
    """The site's files and folders, as site-relative POSIX paths."""

    files: frozenset[str]
    folders: frozenset[str]
    #: Symlinks that lead out of the site folder, with where they point.
    leaving: dict[str, str] = field(default_factory=dict)

    @cached_property
    def file_names(self) -> NameIndex:
        return NameIndex(self.files)

    @property
    def pages(self) -> list[str]:
        """The HTML pages to read: every one but those that lead out of the site."""
        return sorted(path for path in self.files if path.endswith(HTML_SUFFIXES) and path not in self.leaving)

    @classmethod
    def from_paths(cls, paths: Iterable[str]) -> SiteIndex:
        """The index of a site yet to be written, from the paths of the files it will hold."""
        files = frozenset(paths)
        folders = {""}
        for path in files:
            parts = path.split("/")[:-1]
            folders.update("/".join(parts[: end + 1]) for end in range(len(parts)))
        return cls(files, frozenset(folders))

    @classmethod
    def of(cls, site: Path) -> SiteIndex:
        """The index of a built site; a symlink that leads out of it is listed apart, and never followed."""
        files, folders, leaving = set(), {""}, {}
        inside = site.resolve()
        for folder, subfolders, names in os.walk(site):  # symlinked folders are listed, not walked into
            relative = Path(folder).relative_to(site).as_posix()
            prefix = "" if relative == "." else relative + "/"
            for name in [*subfolders, *names]:
                path = Path(folder, name)
                if path.is_symlink() and not path.resolve().is_relative_to(inside):
                    leaving[prefix + name] = os.readlink(path)
            folders.update(prefix + name for name in subfolders)
            files.update(prefix + name for name in names)
        return cls(frozenset(files), frozenset(folders), leaving)


# -- resolving one link ---------------------------------------------------------------------------------------


def resolve(
    page: str,
    base: str | None,
    value: str,
    site: SiteIndex,
    *,
    file_urls: bool,
    root: str = "/",
    base_target: Target | None = None,
) -> Target:
    """Where `value`, written on `page` (site-relative), leads; `root` is the URL path the site is served at.

    `base_target` is where the page's <base href> leads, if the caller has resolved it once for all its links.
    """
    value = value.strip(" \t\n\r\f")
    scheme = SCHEME.match(value)
    if scheme:
        return _with_scheme(scheme.group(1).lower(), value)
    if value.startswith("//"):
        return Target("external", "https:" + value)
    document = page
    if base is not None:
        base_target = base_target or resolve_base(page, base, site, root)
        if base_target.kind == "external":
            return Target("external", urljoin(base_target.path, value))
        if base_target.kind != "file":
            return Target("broken", reason=f"the page's <base href> is unusable: {_shortened(base_target.reason)}")
        document = base_target.path if base_target.path.endswith(HTML_SUFFIXES) else base_target.path + "/"
    parts = urlsplit(value)
    fragment = parts.fragment if "#" in value else None
    if not parts.path:
        return Target("file", document + "index.html" if document.endswith("/") else document, fragment)
    path = parts.path
    if path.startswith("/"):
        if file_urls:
            return Target(
                "broken", reason="a root-relative link does not open from disk", hint="link relative to the page"
            )
        if not (path + "/").startswith(root):
            return Target("broken", reason=f"the link leads outside the site, which is served at {root}")
        path = "/" + path[len(root) :]
    return _local(document, path, fragment, site, file_urls=file_urls)


def _shortened(text: str, limit: int = 200) -> str:
    """`text` cut to `limit` characters: a message repeated for each link of a page must not repeat a huge value."""
    return text if len(text) <= limit else text[:limit] + "…"


def resolve_base(page: str, base: str, site: SiteIndex, root: str) -> Target:
    """Where a page's <base href> leads."""
    return resolve(page, None, base, site, file_urls=False, root=root) if base else Target("file", page)


def _with_scheme(scheme: str, value: str) -> Target:
    if scheme in ("http", "https"):
        return Target("external", value)
    if scheme == "mailto":
        addresses = unquote(value[len("mailto:") :].split("?", 1)[0])
        if not addresses or not all(_plausible(address.strip()) for address in addresses.split(",")):
            return Target("broken", reason="not a plausible e-mail address", hint="write mailto:name@example.com")
    return Target("skip")  # data:, javascript:, tel: and the rest open no page of ours


def _plausible(address: str) -> bool:
    # An address is at most 254 characters (RFC 5321), and the pattern backtracks over the dots of a long one.
    return len(address) <= 254 and PLAUSIBLE_ADDRESS.match(address) is not None


def _local(document: str, path: str, fragment: str | None, site: SiteIndex, *, file_urls: bool) -> Target:
    folder = "" if path.startswith("/") else posixpath.dirname(document)
    joined, escaped = _normalise(folder, path)
    if escaped:
        return Target("broken", reason="the link leads outside the site's root folder")
    candidates = dict.fromkeys([joined, unquote(joined)])
    for candidate in candidates:
        stripped = candidate.rstrip("/")
        if candidate in site.files and not path.endswith("/"):
            return Target("file", candidate, fragment)
        if stripped in site.folders:
            index = f"{stripped}/index.html" if stripped else "index.html"
            if index not in site.files:
                return Target("broken", reason=f"a folder without an index.html: {stripped or '/'}")
            if file_urls:
                return Target(
                    "broken",
                    reason="a link to a folder does not open from disk",
                    hint=f"link to {path.rstrip('/')}/index.html" if path.rstrip("/") else "link to index.html",
                )
            return Target("file", index, fragment)
    missing = unquote(joined)
    return Target("broken", reason=f"no such file: {missing or '/'}", misspelt=missing)


def _normalise(folder: str, path: str) -> tuple[str, bool]:
    """`folder`/`path` with `.` and `..` resolved; whether it climbed above the root. Keeps a trailing slash."""
    parts: list[str] = [part for part in folder.split("/") if part]
    escaped = False
    steps = path.split("/")
    for step in steps:
        if step in ("", "."):
            continue
        if step == "..":
            if parts:
                parts.pop()
            else:
                escaped = True
        else:
            parts.append(step)
    trailing = "/" if path.endswith("/") or steps[-1] in (".", "..") else ""
    joined = "/".join(parts)
    return (joined + trailing if joined else trailing.lstrip("/")), escaped


def _closest_file(path: str, site: SiteIndex) -> str:
    close = site.file_names.closest(path)
    return f"did you mean {close}?" if close else ""


#: How many broken links of one page get a hint; a page with thousands of them costs no more than this many.
HINTS_PER_PAGE = 100


class NameIndex:
    """Names sorted by how they start and by how they end, for hints that compare a misspelling with few names.

    Comparing each of 5,000 broken fragments with each of 5,000 ids took minutes. A misspelling mostly keeps
    its start or its end, so the names that sort nearest it, either way and case aside, are the ones to try.
    """

    NEIGHBOURS = 8  # on each side, in each order

    def __init__(self, names: Iterable[str]) -> None:
        self.by_start = sorted(names, key=self._start)
        self.by_end = sorted(self.by_start, key=self._end)

    def closest(self, word: str) -> str | None:
        nearby = [*self._near(self.by_start, word, self._start), *self._near(self.by_end, word, self._end)]
        close = difflib.get_close_matches(word, dict.fromkeys(nearby), n=1, cutoff=0.6)
        return close[0] if close else None

    def _near(self, names: list[str], word: str, key: Callable[[str], tuple[str, str]]) -> list[str]:
        middle = bisect.bisect_left(names, key(word), key=key)
        return names[max(0, middle - self.NEIGHBOURS) : middle + self.NEIGHBOURS]

    @staticmethod
    def _start(name: str) -> tuple[str, str]:
        return name.casefold(), name

    @staticmethod
    def _end(name: str) -> tuple[str, str]:
        return name[::-1].casefold(), name


# -- checking a whole site ------------------------------------------------------------------------------------


@dataclass
class _PageResult:
    page: str
    ids: set[str]
    links: int
    broken: list[tuple[Link, str, str]]
    fragments: list[tuple[Link, str, str]]  # (link, target page, fragment)
    external: list[tuple[Link, str]]
    unread: Unread | None = None


@dataclass(frozen=True)
class CheckOptions:
    file_urls: bool = False
    excludes: tuple[str, ...] = ()
    #: The URL path the site is served at (`/docs/` for https://example.com/docs/), for root-relative links.
    root: str = "/"
    #: The most of one page that is read; a bigger page is reported, not read.
    max_page_bytes: int = MAX_PAGE_BYTES

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", "/" + self.root.strip("/") + "/" if self.root.strip("/") else "/")


# A worker process's share of the job, set once when it starts (the index is large; pages are many).
_WORKER: tuple[Path | None, SiteIndex, CheckOptions] | None = None


def _start_worker(folder: Path | None, site: SiteIndex, options: CheckOptions) -> None:
    global _WORKER
    _WORKER = (folder, site, options)


def _start_pool_worker(parent: int, folder: Path | None, site: SiteIndex, options: CheckOptions) -> None:
    """A pool's worker: as `_start_worker`, and it ends with the command if that is killed (no orphan checker)."""
    die_with_parent(parent)
    _start_worker(folder, site, options)


def _check_files(pages: Sequence[str]) -> list[_PageResult]:
    assert _WORKER is not None and _WORKER[0] is not None
    folder, site, options = _WORKER
    results = []
    for page in pages:
        try:
            html = read_page(folder, page, options.max_page_bytes)
        except UnreadablePage as err:
            results.append(_PageResult(page, set(), 0, [], [], [], unread=err.unread))
        else:
            results.append(_check_links(page, read_links(html), site, options))
    return results


@dataclass(frozen=True)
class Unread:
    """Why a page was not read, for its finding."""

    reason: str
    hint: str = ""
    #: Where a symlink that leads out of the site points.
    target: str = ""


class UnreadablePage(Exception):
    def __init__(self, unread: Unread) -> None:
        super().__init__(unread)
        self.unread = unread


def read_page(site: Path, page: str, limit: int) -> bytes:
    """The bytes of `page`, read only if it is a regular file of the site of at most `limit` bytes.

    A page that is a symlink out of the site is not followed (it would publish whatever it points at), and a
    bigger one is not read at all: a symlink to a 1.5 GB file used to be read whole.
    """
    path = site / page
    if not path.resolve().is_relative_to(site.resolve()):
        raise UnreadablePage(leaving_site(os.readlink(path) if path.is_symlink() else str(path.resolve())))
    try:
        with open(path, "rb") as file:
            status = os.fstat(file.fileno())
            if not stat.S_ISREG(status.st_mode):
                raise UnreadablePage(Unread("not a regular file; it is not read"))
            if status.st_size > limit:
                raise UnreadablePage(too_big(status.st_size, limit))
            html = file.read(limit + 1)
    except OSError as err:
        raise UnreadablePage(Unread(f"the page cannot be read: {err.strerror or err}")) from None
    if len(html) > limit:  # it grew after it was measured
        raise UnreadablePage(too_big(len(html), limit))
    return html


def leaving_site(target: str) -> Unread:
    return Unread(
        "a symlink that leads out of the site folder; it is not followed", "copy what it points at instead", target
    )


def too_big(size: int, limit: int) -> Unread:
    return Unread(f"the page is {size:,} bytes, more than the {limit:,} read of one page; it is not checked")


def _check_links(page: str, links: PageLinks, site: SiteIndex, options: CheckOptions) -> _PageResult:
    patterns = [re.compile(pattern) for pattern in options.excludes]
    result = _PageResult(page, links.ids, len(links.links), [], [], [])
    # Resolved once: a long <base href> resolved again for each of many links made a page quadratic.
    base = resolve_base(page, links.base, site, options.root) if links.base is not None else None
    # A page names the same few pages many times over (a runbook, its roles on every step): each value once.
    resolved: dict[str, Target] = {}
    for link in links.links:
        if patterns and any(pattern.search(link.value) for pattern in patterns):
            continue
        target = resolved.get(link.value)
        if target is None:
            target = resolved[link.value] = resolve(
                page, links.base, link.value, site, file_urls=options.file_urls, root=options.root, base_target=base
            )
        if target.kind == "broken":
            hint = target.hint
            if target.misspelt and len(result.broken) < HINTS_PER_PAGE:
                hint = _closest_file(target.misspelt, site)
            result.broken.append((link, target.reason, hint))
        elif target.kind == "external":
            result.external.append((link, target.path))
        elif target.kind == "file" and _needs_fragment_check(target):
            result.fragments.append((link, target.path, target.fragment or ""))
    return result


def _needs_fragment_check(target: Target) -> bool:
    """A fragment names an element of an HTML page; `#top` and an empty one always work."""
    return bool(target.fragment) and target.fragment.lower() != "top" and target.path.endswith(HTML_SUFFIXES)


def html_pages(site: Path) -> list[str]:
    return SiteIndex.of(site).pages


def check_site(
    site: Path,
    options: CheckOptions | None = None,
    *,
    workers: int | None = None,
    progress: ProgressSink | None = None,
) -> LinkReport:
    """Every internal link and fragment of the built site at `site`; outside links are collected, not checked."""
    options = options or CheckOptions()
    index = SiteIndex.of(site)
    pages = index.pages
    workers = workers or os.cpu_count() or 1
    size = max(16, len(pages) // (workers * 8))
    chunks = [pages[start : start + size] for start in range(0, len(pages), size)]
    results: list[_PageResult] = []

    def collect(checked: Iterable[list[_PageResult]]) -> LinkReport:
        for chunk in checked:
            results.extend(chunk)
            if progress is not None:
                progress("checking pages", len(results), len(pages))
        report = _report(site, results)
        leaving = [_unread_finding(path, leaving_site(target)) for path, target in index.leaving.items()]
        report.findings = sorted([*report.findings, *leaving])
        return report

    if workers == 1 or len(pages) < 64:  # a small site: starting processes would cost more than checking it
        _start_worker(site, index, options)
        return collect(map(_check_files, chunks))
    # Forked explicitly: the workers share the index without pickling it, and `parent` is then their parent.
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_start_pool_worker,
        initargs=(os.getpid(), site, index, options),
    )
    with pool:
        return collect(pool.map(_check_files, chunks))


def check_pages(site: Path, index: SiteIndex, options: CheckOptions, pages: Sequence[str]) -> LinkReport:
    """The links of some pages of a built site (the live preview's rebuilt pages), each fragment looked up on the
    page it points at as that page is on disk now; the other pages' own links are not checked."""
    _start_worker(site, index, options)
    results = _check_files(list(pages))
    targets = sorted({target for result in results for _, target, _ in result.fragments} - set(pages))
    for target in targets:  # only their ids are wanted, to resolve the fragments into them
        try:
            ids = read_ids(read_page(site, target, options.max_page_bytes))
        except UnreadablePage as err:
            results.append(_PageResult(target, set(), 0, [], [], [], unread=err.unread))
        else:
            results.append(_PageResult(target, ids, 0, [], [], []))
    return _report(site, results)


def built_page(site: Path, page: str) -> bytes | None:
    """A built page's bytes (`read_page`, with the default limit); None for a page that cannot be read."""
    try:
        return read_page(site, page, MAX_PAGE_BYTES)
    except UnreadablePage:
        return None


def page_ids(site: Path, page: str) -> set[str]:
    """The ids a built page holds (the targets of fragments into it); none for a page that cannot be read."""
    html = built_page(site, page)
    return read_ids(html) if html is not None else set()


class PageStream:
    """Checks pages as they are written, in another process, for a build that keeps the first core busy.

    The site's files must be known up front (MkDocs knows them before it renders a page). Only page names cross
    to the worker, down a pipe, each written straight from the build's thread (no queue, no helper thread to
    compete with MkDocs for the interpreter). The worker reads each page from disk once the next page is
    announced (by then MkDocs has written it), keeps every result itself, and resolves fragments across pages
    when the last page is in.
    """

    def __init__(self, site: Path, index: SiteIndex, options: CheckOptions) -> None:
        receive_pages, self._send_pages = multiprocessing.Pipe(duplex=False)
        self._receive_report, send_report = multiprocessing.Pipe(duplex=False)
        # The worker is given this process's end of the pages' pipe only to close it: a fork inherits it, and
        # while the worker holds it open, it never sees the pipe end should this process die.
        self._worker = multiprocessing.Process(
            target=_check_stream,
            args=(site, index, options, receive_pages, send_report, self._send_pages, os.getpid()),
            daemon=True,
        )
        self._worker.start()
        receive_pages.close()  # the worker's ends: this process keeps only its own
        send_report.close()
        self._announced: str | None = None

    def add(self, page: str) -> None:
        """`page` is about to be written: the page announced before it is on disk now."""
        if self._announced is not None:
            self._send_pages.send_bytes(self._announced.encode("utf-8"))
        self._announced = page

    def finish(self) -> LinkReport:
        """The report, once the last page (written by now) is checked."""
        try:
            self.add("")  # the last page is on disk too
            self._send_pages.send_bytes(b"")  # the end: no page has an empty name
            try:
                outcome = self._receive_report.recv()
            except EOFError:
                raise RuntimeError(f"the link check stopped (exit code {self._worker.exitcode})") from None
        finally:
            self._close()
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def cancel(self) -> None:
        """Stops the worker without waiting for a report (the build failed)."""
        self._worker.terminate()
        self._close()

    def _close(self) -> None:
        self._send_pages.close()
        self._worker.join()
        self._receive_report.close()


def _check_stream(
    site: Path,
    index: SiteIndex,
    options: CheckOptions,
    pages: Connection,
    report: Connection,
    parents_end: Connection,
    parent: int,
) -> None:
    """The worker of a PageStream: checks each page named on `pages` until the empty name, then reports."""
    die_with_parent(parent)
    parents_end.close()
    _start_worker(site, index, options)
    results: list[_PageResult] = []
    try:
        while page := pages.recv_bytes().decode("utf-8"):
            results.extend(_check_files([page]))
        outcome: LinkReport | Exception = _report(site, results)
    except EOFError:
        return  # the build stopped; nobody waits for a report
    except Exception as err:  # reported in the build's process, which stops with it
        outcome = err
    report.send(outcome)


def _report(site: Path, results: list[_PageResult]) -> LinkReport:
    ids = {result.page: result.ids for result in results if result.unread is None}
    names: dict[str, NameIndex] = {}  # made for a page only when a fragment is missing from it
    report = LinkReport(pages=len(results), links=sum(result.links for result in results))
    unplaced: dict[str, list[tuple[Link, str, str]]] = {}
    for result in results:
        if result.unread is not None:
            report.findings.append(_unread_finding(result.page, result.unread))
            continue
        broken = list(result.broken)
        for link, target, fragment in result.fragments:
            name = unquote(fragment)
            if target != result.page:
                report.fragments_into.setdefault(target, set()).update((fragment, name))
            if target not in ids:  # a page that was not read (it has its own finding): its ids are unknown
                continue
            present = ids[target]
            if fragment not in present and name not in present:
                close = None
                if len(broken) < HINTS_PER_PAGE:
                    if target not in names:
                        names[target] = NameIndex(present)
                    close = names[target].closest(name)
                where = "this page" if target == result.page else target
                broken.append((link, f"no element with id '{name}' on {where}", _hint(close)))
        if broken:
            unplaced[result.page] = broken
        report.external.extend((result.page, link, url) for link, url in result.external)
    report.findings = sorted([*report.findings, *_placed(site, unplaced)])
    return report


def _unread_finding(page: str, unread: Unread) -> Finding:
    return Finding(page, 1, 1, unread.target, unread.reason, unread.hint)


def _hint(close: str | None) -> str:
    return f"did you mean '#{close}'?" if close else ""


def _placed(site: Path, broken: dict[str, list[tuple[Link, str, str]]], severity: str = "error") -> Iterable[Finding]:
    for page, items in broken.items():
        try:
            html = read_page(site, page, MAX_PAGE_BYTES).decode("utf-8", errors="replace")
        except UnreadablePage:
            html = ""  # it changed since it was checked: the findings stand, on line 1
        positions = locate(html, [link for link, _, _ in items])
        for link, reason, hint in items:
            line, column = positions[link]
            yield Finding(page, line, column, link.value, reason, hint, severity)


def add_external_findings(site: Path, report: LinkReport, results: dict[str, UrlResult]) -> None:
    """Broken outside links as errors; redirected ones, and those neither good nor broken, as warnings."""
    broken: dict[str, list[tuple[Link, str, str]]] = {}
    doubtful: dict[str, list[tuple[Link, str, str]]] = {}
    for page, link, url in report.external:
        result = results.get(url)
        if result is None:
            continue
        if result.unsure:
            doubtful.setdefault(page, []).append((link, f"outside link {result.error}", ""))
        elif not result.ok:
            reason = f"HTTP {result.status}" if result.status else result.error
            broken.setdefault(page, []).append((link, f"outside link failed: {reason}", ""))
        elif result.redirected:
            doubtful.setdefault(page, []).append(
                (link, f"redirects to {result.final_url}", "link to the final address")
            )
    report.findings = sorted([*report.findings, *_placed(site, broken), *_placed(site, doubtful, "warning")])
