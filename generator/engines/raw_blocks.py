"""Large raw HTML blocks kept out of Python-Markdown's way, and put back into the HTML it makes.

The task catalogue is one `<div>` of HTML with a row per task. Python-Markdown (md_in_html) passes such a block
through as written, but only after parsing every tag of it with its HTML parser: 2 s at 5,000 tasks, the most
costly page of the site. A block it would pass through unchanged can as well wait outside: the Markdown gets a
comment in its place (a raw block of its own, also passed through as written) and the block replaces the comment
in the HTML, which comes out byte for byte as before.

Only a block Markdown surely leaves alone is set aside: it starts a line after a blank line (or the page's start)
with a known opening tag, ends with the tag's match followed by a blank line (or the page's end), and no tag of it
asks for Markdown inside (`markdown` attribute). Data values in it are escaped, so they hold no tags.
"""

from __future__ import annotations

import re

#: Opening lines of the blocks worth setting aside: the catalogue's table and filters.
OPENINGS = ('<div class="playbook-catalogue">',)
PLACEHOLDER = "<!-- playbook set-aside block {} -->"
_DIV = re.compile(r"<div\b|</div>")
_ASKS_FOR_MARKDOWN = re.compile(r"<[^>]*\smarkdown\b[^>]*>")


def set_aside(markdown: str) -> tuple[str, list[str]]:
    """The Markdown with each known raw block replaced by a placeholder, and the blocks in order."""
    blocks: list[str] = []
    for opening in OPENINGS:
        start = _block_start(markdown, opening)
        end = _block_end(markdown, start) if start is not None else None
        if start is None or end is None or _ASKS_FOR_MARKDOWN.search(markdown, start, end):
            continue
        placeholder = PLACEHOLDER.format(len(blocks))
        blocks.append(markdown[start:end])
        markdown = markdown[:start] + placeholder + markdown[end:]
    return markdown, blocks


def put_back(html: str, blocks: list[str]) -> str:
    """The HTML with each placeholder replaced by its block; a placeholder Markdown did not keep is an error."""
    for number, block in enumerate(blocks):
        placeholder = PLACEHOLDER.format(number)
        if html.count(placeholder) != 1:
            raise ValueError(f"a set-aside HTML block's placeholder did not come through Markdown: {placeholder}")
        html = html.replace(placeholder, block, 1)
    return html


def _block_start(markdown: str, opening: str) -> int | None:
    if markdown.startswith(opening + "\n"):
        return 0
    found = markdown.find(f"\n\n{opening}\n")
    return None if found < 0 else found + 2


def _block_end(markdown: str, start: int) -> int | None:
    """Just after the `</div>` that closes the block's opening `<div>`, if a blank line or the end follows."""
    depth = 0
    for tag in _DIV.finditer(markdown, start):
        depth += 1 if tag[0] == "<div" else -1
        if depth == 0:
            end = tag.end()
            rest = markdown[end : end + 2]
            return end if rest in ("", "\n", "\n\n") else None
    return None
