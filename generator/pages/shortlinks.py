"""`[[task:3306]]` in a hand-written page: a link to a generated page by ID, resolved at build time.

Two phases, as with the data's own references: the catalogue is the index; the resolver rewrites what it can
and returns what it could not, each with its line and column, for the caller to report. Code spans and fenced
blocks are left alone, so the syntax can be documented.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from generator.data.model import COLLECTION_BY_KIND, Catalogue
from generator.errors import Problem
from generator.pages.addresses import Linker, SiteMap

SHORTLINK = re.compile(r"\[\[(?P<kind>[a-z-]+):(?P<id>[^\]|\s]+)(?:\|(?P<text>[^\]]+))?\]\]")
_FENCE = re.compile(r"^\s*(```|~~~)")
_CODE_SPAN = re.compile(r"(`+).+?\1")


@dataclass
class Resolved:
    markdown: str
    problems: list[Problem]


def resolve_shortlinks(markdown: str, page_uri: str, display_path: str, site_map: SiteMap) -> Resolved:
    catalogue = site_map.catalogue
    linker = Linker(page_uri, site_map)
    problems: list[Problem] = []
    lines = markdown.split("\n")
    in_fence = False
    for number, line in enumerate(lines):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence or "[[" not in line:
            continue
        code = [span.span() for span in _CODE_SPAN.finditer(line)]

        def replace(match: re.Match[str], number: int = number, code: list[tuple[int, int]] = code) -> str:
            if any(start <= match.start() < end for start, end in code):
                return match.group(0)
            link = _link(match, linker, catalogue)
            if isinstance(link, str):
                return link
            problems.append(Problem(display_path, number + 1, match.start() + 1, link[0], link[1]))
            return match.group(0)

        lines[number] = SHORTLINK.sub(replace, line)
    return Resolved("\n".join(lines), problems)


def _link(match: re.Match[str], linker: Linker, catalogue: Catalogue) -> str | tuple[str, str]:
    """The Markdown link, or (message, hint) when the kind or the ID is unknown."""
    kind, raw_id, text = match.group("kind"), match.group("id"), match.group("text")
    collection = COLLECTION_BY_KIND.get(kind)
    if collection is None:
        return f"unknown link kind '{kind}' in {match.group(0)}", _closest(kind, list(COLLECTION_BY_KIND), "kinds")
    record_id: object = int(raw_id) if collection.integer_ids and raw_id.isdigit() else raw_id
    known = catalogue.index(collection.name)
    if record_id not in known:
        names = [str(key) for key in known]
        return f"unknown {collection.label} '{raw_id}' in {match.group(0)}", _closest(raw_id, names, "IDs")
    return linker.to(collection.name, record_id, text)


def _closest(value: str, choices: list[str], what: str) -> str:
    close = difflib.get_close_matches(value, choices, n=1)
    if close:
        return f"did you mean '{close[0]}'?"
    return f"known {what}: {', '.join(sorted(choices)[:12])}{', ...' if len(choices) > 12 else ''}"
