"""Escaping data values for the place they land: Markdown text, table cells, HTML, URLs.

Data comes from pull requests, so a value is text until proven otherwise: a title such as
`<script>alert(1)</script>` or `[x](javascript:alert(1))` must show as those characters, never become markup or a
link. Templates escape by default (see `render`); what they must not escape is wrapped in `Markdown`.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import quote

from markupsafe import Markup

# Characters that make inline markup anywhere in a line: emphasis, code, links (brackets suffice: `](` needs one),
# attribute lists, table cells. Each is one Python-Markdown lets a backslash escape ('|' via its tables
# extension); escaping any other character would leave a visible backslash, so '<', '>' and '&' become entities.
_BACKSLASHED = re.compile(r"([\\`*_{}\[\]|])")
# Characters that make a block only at the start of a line: a heading, a list item, a numbered list item, an
# admonition (`!!! danger`), a setext underline (`===` under a line of text makes it a heading). Every value starts a
# line somewhere (a paragraph, a list item, a heading), so its first character is escaped wherever it lands.
_BLOCK_START = re.compile(r"^([#+!=-]|\d+(?=\.))")
_WHITESPACE = re.compile(r"\s+")
# Most values are plain words; they need no escaping, and a page renders thousands of them.
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9,.;:'()/?!%-]*(?: [A-Za-z0-9,.;:'()/?!%-]+)*")
SAFE_SCHEMES = ("https://", "mailto:")


class Markdown(str):
    """Text that is already Markdown: produced by our own helpers, never straight from data."""

    __slots__ = ()


def escape_markdown(value: object) -> Markdown:
    """Any value as literal Markdown text, on one line (so it is also safe in a table cell or a heading)."""
    if isinstance(value, Markdown):
        return value
    text = str(value)
    if _PLAIN.fullmatch(text):
        return Markdown(text)
    # Python-Markdown drops the two characters it marks its placeholders with; so do we, so that HTML written from
    # the text (pages/inline_html) is the HTML Markdown would make of it.
    text = _WHITESPACE.sub(" ", text.replace("\x02", "").replace("\x03", "")).strip()
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _BACKSLASHED.sub(r"\\\1", text)
    # Hashes that end a heading's line are read as its closing sequence and dropped: `Ends in ##` would lose them.
    # (rstrip, not a `#+$` pattern, which would go back over every run of hashes: quadratic in a long value)
    # They are set apart before the first character is escaped: a value of hashes alone is all closing sequence.
    body = text.rstrip("#")
    return Markdown(_BLOCK_START.sub(_escape_block_start, body) + "\\#" * (len(text) - len(body)))


def _escape_block_start(match: re.Match[str]) -> str:
    marker = match.group(0)
    if marker[0].isdigit():
        return marker + "\\"  # `12\.`: a number, not a numbered list item
    # Python-Markdown has no backslash escape for '=', so it becomes an entity; the others take a backslash.
    return "&#61;" if marker == "=" else "\\" + marker


def escape_html(value: object) -> str:
    """For HTML text and attribute values (the theme does not escape page tags or the footer for us)."""
    return html.escape(str(value), quote=True)


def head_title(title: str) -> str:
    """A page's title as the page's `<title>` must print it: Material writes `page.title | striptags`, and striptags
    turns entities back into characters (a heading's `&lt;/title&gt;&lt;script&gt;` would become live markup); a
    title in the page's meta is printed as it is, so it gets the heading's text, escaped again."""
    return escape_html(Markup(title).striptags())


def missing_head_title(meta: dict[str, Any], title: str | None) -> dict[str, str]:
    """What a page's meta needs added for its `<title>` (`head_title`): the title, where the page has one and its
    meta none."""
    return {"title": head_title(title)} if title and not meta.get("title") else {}


def safe_url(url: str) -> str | None:
    """The URL, percent-encoded where Markdown or HTML would misread it, if its scheme is allowed; else None."""
    if not isinstance(url, str) or not url.startswith(SAFE_SCHEMES) or any(ch.isspace() for ch in url):
        return None
    return quote(url, safe="/:?#[]@!$&'*+,;=%~-._").replace("(", "%28").replace(")", "%29")


def markdown_link(text: object, url: str) -> Markdown:
    """A link to a URL from the data; an unsafe URL leaves the text alone, unlinked."""
    target = safe_url(url)
    label = escape_markdown(text)
    return Markdown(f"[{label}]({target})") if target else label
