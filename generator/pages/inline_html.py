"""Escaped text as the HTML Python-Markdown makes of it, acronyms marked: for rows a template writes as raw HTML.

A runbook lists up to thousands of steps, and Python-Markdown's inline processing of each step (its links, its
spans, the abbr extension's search for acronyms) was most of what a runbook cost. So the steps are written as raw
HTML, which Markdown passes through as written; their text must still come out as it did through Markdown.

Text escaped by `escape.escape_markdown` holds three kinds of thing, and Markdown makes of each what this does:
a backslash escape (`\\*`) becomes its character; an entity (`&amp;`, `&lt;`, `&gt;`, `&#61;`) stays as written;
anything else stays as it is, no character of it being markup once the others are escaped. The abbr extension then
marks each glossary term found between tags, escapes and entities (which it sees as placeholders, not words) as
`<abbr title="expansion">TERM</abbr>`; so does this, with the extension's own pattern and Markdown's own serializer.
"""

from __future__ import annotations

import html
import os
import re
import xml.etree.ElementTree as etree
from collections.abc import Iterable
from functools import lru_cache
from itertools import count
from typing import Any

from markdown.serializers import to_html_string

from generator.pages.site_text import abbreviation_title

#: What escape_markdown writes besides plain text: a backslash escape, or an entity.
_ESCAPED = re.compile(r"\\(.)|&(?:amp|lt|gt|#61);", re.S)
# Runs of letters and digits, as site_text compares a page with a term.
_WORDS = re.compile(r"[^\W_]+")
_SERIALS = count(1)
#: Distinct texts whose HTML is kept: a runbook's steps repeat their roles' names and their separators.
CACHE_LIMIT = 50_000


class InlineHtml:
    """Converts escaped text into HTML, marking the acronyms of a glossary (`term` → `expansion` entries)."""

    def __init__(self, glossary: Iterable[dict[str, Any]]) -> None:
        titles = {entry["term"]: abbreviation_title(entry["term"], entry["expansion"]) for entry in glossary}
        self._abbr = {term: _abbr_element(term, title) for term, title in titles.items()}
        # The abbr extension's pattern: the longest term first, each between word boundaries.
        terms = sorted(titles, key=len, reverse=True)
        self._pattern = re.compile(r"\b(?:" + "|".join(re.escape(term) for term in terms) + r")\b") if terms else None
        # A term can match only where the text has the term's first run of letters and digits as a run of its own:
        # most texts have none, and are spared the pattern.
        self._first_words = {_WORDS.search(term)[0] for term in terms}  # type: ignore[index]
        self._cache: dict[str, str] = {}
        #: Names this converter (and its glossary) in a key that a process forked from this one reads alike, and
        #: that no converter made elsewhere shares.
        self.serial = (os.getpid(), next(_SERIALS))

    @classmethod
    def of(cls, glossary: Iterable[dict[str, Any]]) -> InlineHtml:
        """The converter for a glossary: the same one while the glossary is the same (its conversions are kept)."""
        return _converter(tuple((entry["term"], entry["expansion"]) for entry in glossary))

    def __call__(self, escaped: str) -> str:
        """The HTML of escaped Markdown text (no links, no emphasis: those are the caller's tags)."""
        converted = self._cache.get(escaped)
        if converted is None:
            if len(self._cache) >= CACHE_LIMIT:
                self._cache.clear()
            converted = self._cache[escaped] = self._convert(escaped)
        return converted

    def _convert(self, escaped: str) -> str:
        parts, position = [], 0
        for match in _ESCAPED.finditer(escaped):
            parts.append(self._plain(escaped[position : match.start()]))
            parts.append(html.escape(match[1], quote=False) if match[1] is not None else match[0])
            position = match.end()
        parts.append(self._plain(escaped[position:]))
        return "".join(parts)

    def _plain(self, text: str) -> str:
        """Text with no escape in it: acronyms marked, the rest escaped for HTML (a no-op for escaped data)."""
        if self._pattern is None or self._first_words.isdisjoint(_WORDS.findall(text)):
            return html.escape(text, quote=False)
        parts, position = [], 0
        for match in self._pattern.finditer(text):
            parts.append(html.escape(text[position : match.start()], quote=False))
            parts.append(self._abbr[match[0]])
            position = match.end()
        parts.append(html.escape(text[position:], quote=False))
        return "".join(parts)


def _abbr_element(term: str, title: str) -> str:
    """`<abbr title="…">TERM</abbr>`, written by Python-Markdown's serializer as the abbr extension's are."""
    element = etree.Element("abbr", {"title": title})
    element.text = term
    return to_html_string(element)


@lru_cache(maxsize=4)
def _converter(glossary: tuple[tuple[str, Any], ...]) -> InlineHtml:
    return InlineHtml({"term": term, "expansion": expansion} for term, expansion in glossary)
