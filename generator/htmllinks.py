"""The links and targets of one HTML page: what the link checker reads, and where in the file each link is.

Reading uses lexbor (through selectolax), a fast HTML5 parser, because a site has thousands of pages. It does not
report source positions, so those are found only for the links that turn out to be broken, by a second read of
that one page with the standard library's parser, which does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from selectolax.lexbor import LexborHTMLParser


@dataclass(frozen=True, slots=True)
class Link:
    attribute: str
    value: str
    #: How many links with the same attribute and value came before this one on the page (to find it again).
    occurrence: int


@dataclass
class PageLinks:
    links: list[Link] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    base: str | None = None


def read_links(html: bytes) -> PageLinks:
    """Every URL a page refers to (href, src, each srcset candidate), its anchor targets and its base URL."""
    tree = LexborHTMLParser(html)
    page = PageLinks()
    seen: dict[tuple[str, str], int] = {}

    def add(attribute: str, value: str) -> None:
        key = (attribute, value)
        seen[key] = seen.get(key, 0) + 1
        page.links.append(Link(attribute, value, seen[key] - 1))

    for node in tree.css("[href]"):
        if node.tag == "base":
            page.base = page.base if page.base is not None else node.attributes.get("href") or ""
        else:
            add("href", node.attributes.get("href") or "")
    for node in tree.css("[src]"):
        add("src", node.attributes.get("src") or "")
    for node in tree.css("[srcset]"):
        for candidate in srcset_urls(node.attributes.get("srcset") or ""):
            add("srcset", candidate)
    page.ids = {node.attributes.get("id") or "" for node in tree.css("[id]")}
    page.ids |= {node.attributes.get("name") or "" for node in tree.css("a[name]")}
    page.ids.discard("")
    return page


def srcset_urls(srcset: str) -> list[str]:
    """The URLs of a srcset attribute, split as the HTML standard says: a URL runs to whitespace, and a comma
    ends a candidate only where it follows the URL's descriptors (a URL may itself contain commas)."""
    urls = []
    position, length = 0, len(srcset)
    while position < length:
        while position < length and (srcset[position].isspace() or srcset[position] == ","):
            position += 1
        start = position
        while position < length and not srcset[position].isspace():
            position += 1
        url = srcset[start:position]
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            while position < length and srcset[position] != ",":
                position += 1  # skip the descriptors (1x, 300w)
        if url:
            urls.append(url)
    return urls


class _Locator(HTMLParser):
    """Finds where each (attribute, value) occurs, in document order, as 1-based line and column."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: dict[tuple[str, str], list[tuple[int, int]]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line, column = self.getpos()
        raw = self.get_starttag_text() or ""
        for name, value in attrs:
            if name not in ("href", "src", "srcset") or value is None or (tag == "base" and name == "href"):
                continue
            values = srcset_urls(value) if name == "srcset" else [value]
            for item in values:
                self.found.setdefault((name, item), []).append(_attribute_position(raw, name, item, line, column))

    handle_startendtag = handle_starttag


_ATTRIBUTE_START = {name: re.compile(rf"\s{name}\s*=\s*['\"]?", re.IGNORECASE) for name in ("href", "src", "srcset")}


def _attribute_position(raw_tag: str, name: str, value: str, line: int, column: int) -> tuple[int, int]:
    """Where `value` of attribute `name` is written, in a start tag that begins at (line, 0-based column)."""
    match = _ATTRIBUTE_START[name].search(raw_tag)
    if not match:
        return line, column + 1
    found = raw_tag.find(value, match.end()) if name == "srcset" else -1  # a srcset candidate within the value
    before = raw_tag[: found if found >= 0 else match.end()]
    newlines = before.count("\n")
    if newlines:
        return line + newlines, len(before) - before.rfind("\n")
    return line, column + len(before) + 1


def locate(html: str, links: list[Link]) -> dict[Link, tuple[int, int]]:
    """Line and column of each given link in the page's source."""
    locator = _Locator()
    locator.feed(html)
    locator.close()
    positions = {}
    for link in links:
        occurrences = locator.found.get((link.attribute, link.value), [])
        positions[link] = occurrences[link.occurrence] if link.occurrence < len(occurrences) else (1, 1)
    return positions
