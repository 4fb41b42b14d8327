"""Links in raw HTML, written as Markdown links are, made into the links of the built site.

Engines disagree about raw HTML (the catalogue's table, the SVG diagrams, the runbooks' forms). MkDocs and
ProperDocs leave its links exactly as written, so they would have to be relative to the built page's URL;
Zensical rewrites every relative link in it as it does a Markdown link: relative to the page's source file,
`.md` made into the page's URL. No one way of writing a link means the same to both, but for index pages.

So our pages write raw HTML links the Markdown way (`../tasks/3306.md#x`), which Zensical resolves by itself,
and `resolve_raw_links` does the same on a page's HTML for MkDocs and ProperDocs (the plugin calls it, and so
does the hook that `playbook generate` writes beside its mkdocs.yml). A link Markdown already resolved no longer
ends in `.md`, and is left alone.
"""

from __future__ import annotations

import posixpath
import re

from generator.pages.addresses import built_href

#: An href or src attribute whose value is a relative path to a Markdown file, with or without a fragment. It
#: starts with the attribute's name; what comes before the name (a space or a quote, not `xlink:` or `data-`, which
#: Zensical leaves alone too) is checked on each match. Names and `.md` are matched in any case: in the page
#: lowered (a case-sensitive search starts with the plain `href`/`src`, found fast in a long page), or, where
#: lowering would change the page's length (a few letters outside ASCII), in the page with the pattern ignoring case.
_PATTERN = r"""((?:href|src)\s*=\s*)(["'])(?![a-zA-Z][a-zA-Z0-9+.-]*:|/)([^"'#?<>\s]+\.md)(#[^"'<>\s]*)?\2"""
_MARKDOWN_LINK = re.compile(_PATTERN)
_MARKDOWN_LINK_ANY_CASE = re.compile(_PATTERN, re.IGNORECASE)


def resolve_raw_links(html: str, src_uri: str, directory_urls: bool) -> str:
    """The page's HTML with each relative link to a `.md` file replaced by the link to that page as built."""
    lowered = html.lower()
    if ".md" not in lowered:  # most pages: every link they have was Markdown's, and is resolved already
        return html
    style = "directory" if directory_urls else "file"
    folder = posixpath.dirname(src_uri)
    # A page links the same few pages many times over (a runbook names a role on every step): each link once.
    done: dict[tuple[str, str | None], str | None] = {}
    aligned = len(lowered) == len(html)  # each character lowered to one: the offsets are the page's
    matches = _MARKDOWN_LINK.finditer(lowered) if aligned else _MARKDOWN_LINK_ANY_CASE.finditer(html)
    parts, position = [], 0
    for match in matches:
        attribute, quote, path, fragment = (
            html[match.start(group) : match.end(group)] if match.start(group) >= 0 else None for group in (1, 2, 3, 4)
        )
        before = html[match.start() - 1] if match.start() else ""
        if not (before.isspace() or before in "\"'"):
            continue  # another attribute's name ends so
        key = (path, fragment)
        if key not in done:
            done[key] = _built_href(src_uri, folder, path, fragment, style)  # type: ignore[arg-type]
        if done[key] is not None:
            parts += [html[position : match.start()], f"{attribute}{quote}{done[key]}{quote}"]
            position = match.end()
    return "".join(parts) + html[position:]


def _built_href(src_uri: str, folder: str, path: str, fragment: str | None, style: str) -> str | None:
    """The link to `path` (from the page's folder) as built; None for a link out of the docs folder (broken anyway)."""
    target = posixpath.normpath(posixpath.join(folder, path))
    if target == ".." or target.startswith("../"):
        return None
    return built_href(src_uri, target, fragment[1:] if fragment else None, style)
