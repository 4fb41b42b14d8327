"""The links and targets of one HTML page: what the link checker reads, and where in the file each link is.

Reading uses lexbor (through selectolax), a fast HTML5 parser, because a site has thousands of pages. It does not
report source positions, so those are found only for the links that turn out to be broken, by a second read of
that one page with a small tokenizer of our own, which does.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape
from typing import NamedTuple

from selectolax.lexbor import LexborHTMLParser


class Link(NamedTuple):
    """A link of a page (a tuple: a whole catalogue page has tens of thousands, made fast)."""

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
    page.ids = _ids(tree)
    return page


def read_ids(html: bytes) -> set[str]:
    """A page's anchor targets alone: what a fragment into it may name (cheaper than all its links)."""
    return _ids(LexborHTMLParser(html))


def _ids(tree: LexborHTMLParser) -> set[str]:
    ids = {node.attributes.get("id") or "" for node in tree.css("[id]")}
    ids |= {node.attributes.get("name") or "" for node in tree.css("a[name]")}
    ids.discard("")
    return ids


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


# -- where links are written: a small tokenizer in one pass --------------------------------------------------
#
# The standard library's HTMLParser looks for the end of each unfinished construct from where it starts, so a page
# of `</` or `<!` without a `>` took minutes to place one broken link in. This tokenizer moves forward only: each
# search either finds its end or ends the page. It follows HTML's tokenizer as far as links go: comments, bogus
# comments and raw-text elements (script, style, title, textarea...) hold no tags; an attribute written twice
# counts once; a tag the file ends inside counts not at all.

_RAW_TEXT = frozenset({"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes"})
_MARKUP = re.compile(r"<[a-zA-Z!?/]")  # any other `<` is text
_TAG_NAME = re.compile(r"[a-zA-Z][^\t\n\f\r />]*")
_ATTRIBUTE = re.compile(
    r"""[\t\n\f\r /]* ([^\t\n\f\r />][^\t\n\f\r /=>]*)
    (?: [\t\n\f\r ]*=[\t\n\f\r ]* (?: "([^"]*)("?) | '([^']*)('?) | ([^\t\n\f\r >]*) ) )?""",
    re.VERBOSE,
)
_TAG_END = re.compile(r"[\t\n\f\r /]*>")
_COMMENT_END = re.compile(r"--!?>")


def _start_tags(html: str) -> Iterator[tuple[str, list[tuple[str, str, int]]]]:
    """Each start tag's name and attributes (name, raw value, offset of the value), in document order."""
    position = 0
    while found := _MARKUP.search(html, position):
        start = found.start()
        if html.startswith(("<!-->", "<!--->"), start):
            position = html.index(">", start) + 1  # an empty comment
        elif html.startswith("<!--", start):
            end = _COMMENT_END.search(html, start + 4)
            position = end.end() if end else -1
        elif html.startswith(("<!", "<?"), start) or (
            html.startswith("</", start) and not _TAG_NAME.match(html, start + 2)
        ):
            end = html.find(">", start + 2)  # a doctype, a bogus comment, or `</>`
            position = end + 1 if end >= 0 else -1
        elif name := _TAG_NAME.match(html, start + 1):
            attributes, position = _attributes(html, name.end())
            tag = name.group().lower()
            if position >= 0:
                yield tag, attributes
                if tag == "plaintext":
                    return
                if tag in _RAW_TEXT:
                    end = re.compile(rf"</{tag}[\t\n\f\r />]", re.IGNORECASE).search(html, position)
                    position = end.start() if end else -1
        else:  # an end tag: only where it ends matters
            _, position = _attributes(html, _TAG_NAME.match(html, start + 2).end())  # type: ignore[union-attr]
        if position < 0:
            return  # the file ends inside a comment, a tag or a raw-text element


def _attributes(html: str, position: int) -> tuple[list[tuple[str, str, int]], int]:
    """The attributes of a tag whose name ends at `position`, and where the tag ends (-1: it never does)."""
    attributes: list[tuple[str, str, int]] = []
    seen: set[str] = set()
    while True:
        end = _TAG_END.match(html, position)
        if end is not None:
            return attributes, end.end()
        attribute = _ATTRIBUTE.match(html, position)
        if attribute is None or attribute.group(3) == "" or attribute.group(5) == "":
            return attributes, -1  # nothing more, or a quoted value never closed
        name = attribute.group(1).lower()
        group = next((index for index in (2, 4, 6) if attribute.group(index) is not None), None)
        if name not in seen:
            seen.add(name)
            if group is not None:
                attributes.append((name, attribute.group(group), attribute.start(group)))
        position = attribute.end()


def _link_positions(html: str) -> dict[tuple[str, str], list[int]]:
    """Where each (attribute, value) is written, as offsets in `html`, in document order."""
    found: dict[tuple[str, str], list[int]] = {}
    for tag, attributes in _start_tags(html):
        for name, raw, offset in attributes:
            if name not in ("href", "src", "srcset") or (tag == "base" and name == "href"):
                continue
            value = unescape(raw)
            if name == "srcset":
                for candidate in srcset_urls(value):
                    at = raw.find(candidate)
                    found.setdefault((name, candidate), []).append(offset + max(at, 0))
            else:
                found.setdefault((name, value), []).append(offset)
    return found


def locate(html: str, links: list[Link]) -> dict[Link, tuple[int, int]]:
    """Line and column of each given link in the page's source."""
    found = _link_positions(html) if links else {}
    line_starts = [0, *(match.end() for match in re.finditer("\n", html))]
    positions = {}
    for link in links:
        occurrences = found.get((link.attribute, link.value), [])
        if link.occurrence < len(occurrences):
            offset = occurrences[link.occurrence]
            line = bisect.bisect_right(line_starts, offset)
            positions[link] = (line, offset - line_starts[line - 1] + 1)
        else:
            positions[link] = (1, 1)
    return positions
