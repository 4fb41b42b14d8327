"""Text every page carries: acronym definitions (expanded on hover, tap and focus), and the footer naming the
source pages."""

from __future__ import annotations

from generator.escape import escape_html, safe_url
from generator.model import Catalogue


def abbreviations(catalogue: Catalogue) -> str:
    """Definitions for Markdown's abbr extension, so every acronym on a page expands on hover."""
    lines = [
        f"*[{entry['term']}]: {' '.join(str(entry['expansion']).split())}"
        for entry in sorted(catalogue.records("glossary"), key=lambda entry: entry["term"])
    ]
    return "\n\n" + "\n".join(lines) + "\n" if lines else ""


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
