"""Helpers for end-to-end tests: a throwaway project folder, a build, and a look at the HTML it produced."""

from __future__ import annotations

import functools
import hashlib
import posixpath
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from conftest import REPO


def make_project(target: Path) -> Path:
    """A copy of the repository's site sources (config, pages, templates, data) in `target`."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("mkdocs.yml", "CONTRIBUTING.md"):
        shutil.copyfile(REPO / name, target / name)
    for folder in ("content", "data", "overrides"):  # overrides/: the project's own templates; tests add some
        shutil.copytree(REPO / folder, target / folder)
    return target


def built(folder: Path, *command: str) -> Path:
    """The shipped project copied into `folder` and run through `playbook COMMAND...`; returns the project."""
    project = make_project(folder)
    result = playbook(*command, cwd=project)
    assert result.returncode == 0, result.stderr
    return project


def playbook(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "generator", *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@dataclass
class Link:
    href: str
    text: str


@dataclass
class HtmlPage:
    """What the tests look at in a built page: its links with their text, its ids, abbreviations, text."""

    links: list[Link] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    abbreviations: dict[str, str] = field(default_factory=dict)
    text: str = ""
    scripts: int = 0
    edit_url: str | None = None
    tags: list[str] = field(default_factory=list)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = HtmlPage()
        self._open_link: Link | None = None
        self._abbr: str | None = None
        self._in_article = 0
        self._in_tag = False
        self._chunks: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if "id" in values:
            self.page.ids.add(values["id"])
        if tag == "a" and "href" in values:
            self._open_link = Link(values["href"], "")
            if "md-content__button" in values.get("class", "") and "edit" in values.get("title", "").lower():
                self.page.edit_url = values["href"]
            self._in_tag = "md-tag" in values.get("class", "")
        if tag == "span" and "md-tag" in values.get("class", ""):
            self._in_tag = True
        if tag == "abbr":
            self._abbr = values.get("title", "")
        if tag == "script":
            self.page.scripts += 1
        if tag == "article":
            self._in_article += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open_link is not None:
            self.page.links.append(self._open_link)
            self._open_link = None
        if tag == "article":
            self._in_article -= 1
        if tag in ("a", "span"):
            self._in_tag = False

    def handle_data(self, data: str) -> None:
        if self._open_link is not None:
            self._open_link.text += data
        if self._abbr is not None:
            self.page.abbreviations[data] = self._abbr
            self._abbr = None
        if self._in_tag and data.strip():
            self.page.tags.append(data.strip())
        if self._in_article:
            self._chunks.append(data)

    def close(self) -> None:
        super().close()
        self.page.text = " ".join("".join(self._chunks).split())


def read_page(site: Path, url_path: str) -> HtmlPage:
    """The built page at a site-relative URL path such as `tasks/3306/`."""
    reader = _Reader()
    reader.feed((site / url_path / "index.html").read_text(encoding="utf-8"))
    reader.close()
    return reader.page


def resolve(url_path: str, href: str) -> str:
    """A relative link on the page at `url_path`, as a site-relative path without the fragment."""
    target = href.split("#", 1)[0]
    return posixpath.normpath(posixpath.join(url_path, target)) + "/" if target else url_path


def link_targets(page: HtmlPage, url_path: str) -> set[str]:
    return {resolve(url_path, link.href) for link in page.links if "://" not in link.href and ":" not in link.href}


# The shipped project, built once per test run ---------------------------------------------------------------------
# Building the shipped data takes seconds and a bundle more; a dozen test modules read the same output. They share
# one build and one bundle (session fixtures in conftest.py) and must only read them.

#: The path the site is published under, from mkdocs.yml's site_url (`/partner-playbook/`), as GitHub Pages serves it.
SITE_PATH = urlsplit(re.search(r"^site_url:\s*(\S+)", (REPO / "mkdocs.yml").read_text(), re.M).group(1)).path


def unpack(archive_path: Path, target: Path) -> Path:
    """The offline bundle unzipped into `target`, as a reader would; returns its one top folder."""
    with zipfile.ZipFile(archive_path) as archive:
        archive.extractall(target)
        top = {name.split("/", 1)[0] for name in archive.namelist()}
    assert len(top) == 1, top
    return target / top.pop()


class _UnderSitePath(SimpleHTTPRequestHandler):
    """Serves a built site at SITE_PATH only: a link that escapes the path finds nothing, as on GitHub Pages."""

    def translate_path(self, path: str) -> str:
        path = path.split("?", 1)[0].split("#", 1)[0]
        if not path.startswith(SITE_PATH):
            return str(Path(self.directory) / "__not_under_the_site_path__")
        return super().translate_path("/" + path[len(SITE_PATH) :])

    def log_message(self, format: str, *args: object) -> None:  # a test server need not log every request
        pass


@contextmanager
def serve_under_site_path(site: Path) -> Iterator[str]:
    """`site` served on 127.0.0.1 under SITE_PATH; yields the site's address."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_UnderSitePath, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}{SITE_PATH}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# A server a test started (playbook serve) ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:  # a local server started by this test
        return response.read().decode("utf-8")


def wait_for(predicate, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except OSError:
            pass
        time.sleep(0.5)
    return False
