"""Text pages carry besides their own: acronym definitions (expanded on hover, tap and focus), and the footer naming
the source pages."""

from __future__ import annotations

import html
import re
from functools import cache

from generator.data.model import Catalogue
from generator.data.schema_check import read_schema
from generator.pages.escape import escape_html, safe_url

# Runs of letters and digits: how a page's Markdown and a term are compared. Underscores and every other
# character separate them, so a term written `A_B` is still found in a page where escaping made it `A\_B`.
_WORDS = re.compile(r"[^\W_]+")


class Abbreviations:
    """The glossary as definitions for Markdown's abbr extension (`*[term]: expansion`), so every acronym on a
    page expands on hover.

    A page gets the definitions of the terms it may use, not the whole glossary: every definition costs Markdown
    work on every page, and the extension marks only the terms a page shows anyway, so the HTML is the same.
    """

    def __init__(self, catalogue: Catalogue) -> None:
        entries = sorted(catalogue.records("glossary"), key=lambda entry: entry["term"])
        self._definitions = [
            (frozenset(_WORDS.findall(entry["term"])), abbreviation_line(entry["term"], entry["expansion"]))
            for entry in entries
        ]

    def for_page(self, markdown: str) -> str:
        """The definitions to append to `markdown`: those of each term all of whose words the page has. Linear in
        the page and the glossary; a term may be kept that the page only seems to use, never one it does use."""
        words = set(_WORDS.findall(markdown))
        lines = [line for needed, line in self._definitions if needed <= words]
        # A blank line between definitions: the extension reads one definition of a block and hands the rest back
        # as a new block, which every block processor then searches again, quadratic in a block of thousands.
        return "".join(f"\n\n{line}" for line in lines) + "\n" if lines else ""


def abbreviation_line(term: str, expansion: object) -> str:
    """`*[term]: expansion`, which the abbr extension reads as a definition, the expansion becoming the `title`
    of each `<abbr>`.

    A line it would not read as one (a term with a backslash, say) would be rendered as Markdown on every page,
    raw HTML included; validation refuses such a term, and this refuses to write one whatever the data says.
    """
    return f"*[{term}]: {abbreviation_title(term, expansion)}"


def abbreviation_title(term: str, expansion: object) -> str:
    """The `title` the abbr extension gives each `<abbr>` of the term, as its definition line writes it."""
    title = " ".join(str(expansion).split())
    if not _term_rule().fullmatch(term) or not title or title in ("''", '""'):
        raise ValueError(f"{term!r}: {expansion!r} cannot be written as an abbreviation definition")
    return _tooltip_text(title)


def _tooltip_text(text: str) -> str:
    """The expansion as the `title` must hold it: Material's tooltips (`content.tooltips`) insert a title as HTML,
    so its value must be HTML-escaped text, `&lt;img&gt;`. Python-Markdown writes the attribute escaping `<`, `>`
    and `"` but leaves anything that looks like an entity alone, so each `&` of that text is written `&amp;`.
    (Without JavaScript the browser's own tooltip shows the entities; only an expansion with `&`, `<` or `>` has
    any.)"""
    return html.escape(text, quote=False).replace("&", "&amp;")


@cache
def _term_rule() -> re.Pattern[str]:
    """What a term may be: the glossary schema's rule, the one validation applies."""
    schema = read_schema("glossary.schema.json")
    return re.compile(schema["properties"]["glossary"]["items"]["properties"]["term"]["pattern"])


def focusable_acronyms(html: str) -> str:
    """A page's HTML with every acronym able to take focus: the theme shows an element's tooltip on hover and on
    keyboard focus, and a tap focuses what is focusable; an `<abbr>` on its own is neither."""
    return html.replace("<abbr title=", '<abbr tabindex="0" title=')


def footer_html(catalogue: Catalogue, existing: str | None) -> str:
    """The footer line: the source pages, each linking to its original where it has an address, and their dates;
    escaped (the theme prints it as HTML)."""
    pages = [_footer_entry(page) for page in catalogue.records("source_pages")]
    facts = "Facts from: " + "; ".join(pages) + ". Wording our own." if pages else ""
    return " ".join(part for part in (existing or "", facts) if part)


def _footer_entry(page: dict) -> str:
    title = escape_html(page["title"])
    url = safe_url(page["url"]) if "url" in page else None
    named = f'<a href="{escape_html(url)}">{title}</a>' if url else title
    return f"{named} ({escape_html(page.get('date', 'undated'))})"
