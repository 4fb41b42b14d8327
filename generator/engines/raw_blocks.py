"""Large raw HTML blocks kept out of Python-Markdown's way, and put back into the HTML it makes.

The task catalogue is one `<div>` of HTML with a row per task, a runbook an `<ol>` of steps per stage, a listing
page a `<table>` of twenty tasks, and a diagram one `<div>` holding an SVG picture of hundreds of elements.
Python-Markdown (md_in_html) passes such a block through as written, but only after parsing every tag of it with its
HTML parser: 2 s at 5,000 tasks for the catalogue, the most costly page of the site. A block it would pass through
unchanged can as well wait outside: the Markdown gets a comment in its place (a raw block of its own, also passed
through as written) and the block replaces the comment in the HTML, which comes out byte for byte as before.

Only a block Markdown surely leaves alone is set aside: it starts a line after a blank line (or the page's start)
with a known opening tag, ends with the tag's match followed by a blank line (or the page's end), and no tag of it
asks for Markdown inside (`markdown` attribute). Data values in it are escaped, so they hold no tags.
"""

from __future__ import annotations

import re

#: Opening lines of the blocks worth setting aside: the catalogue's table and filters, a runbook stage's steps, a
#: diagram (pages/diagrams: its label escaped, so it holds no quote).
OPENINGS = (
    r'<div class="playbook-catalogue">',
    r'<ol class="runbook-steps"(?: start="\d+")?>',
    r'<div class="playbook-diagram" role="region" aria-label="[^"\n]*" tabindex="0">',
    r"<table>",  # a listing's table of tasks (pages/task_rows.TaskTable)
)
PLACEHOLDER = "<!-- playbook set-aside block {} -->"
_PLACEHOLDERS = re.compile(r"<!-- playbook set-aside block (\d+) -->(\n?)")
_TABLE = "<table>\n"
#: An opening line after a blank line (the page is searched with one before it); the tag's name is the group.
#: It starts with plain characters, which Python's regular expressions find fast in a long page.
_OPENING = re.compile(r"\n\n(?=<(\w+))(?:" + "|".join(OPENINGS) + r")\n")
_ASKS_FOR_MARKDOWN = re.compile(r"<[^>]*\smarkdown\b[^>]*>")


def set_aside(markdown: str) -> tuple[str, list[str]]:
    """The Markdown with each known raw block replaced by a placeholder, and the blocks in order."""
    blocks: list[str] = []
    kept: list[str] = []
    position = 0
    for opening in _OPENING.finditer("\n\n" + markdown):
        start = opening.start()  # in the page: the two newlines put before it make up for the blank line matched
        if start < position:
            continue  # inside a block set aside already
        end = _block_end(markdown, start, opening[1])
        if end is None or _asks_for_markdown(markdown, start, end):
            continue
        kept += [markdown[position:start], PLACEHOLDER.format(len(blocks))]
        blocks.append(markdown[start:end])
        position = end
    return "".join(kept) + markdown[position:], blocks


def put_back(html: str, blocks: list[str]) -> str:
    """The HTML with each placeholder replaced by its block; a placeholder Markdown did not keep is an error."""
    if not blocks:
        return html
    found = [int(match[1]) for match in _PLACEHOLDERS.finditer(html)]
    for number in range(len(blocks)):
        if found.count(number) != 1:
            placeholder = PLACEHOLDER.format(number)
            raise ValueError(f"a set-aside HTML block's placeholder did not come through Markdown: {placeholder}")
    return _PLACEHOLDERS.sub(lambda match: _block(match, blocks), html)


def _block(placeholder: re.Match[str], blocks: list[str]) -> str:
    number = int(placeholder[1])
    if number >= len(blocks):
        return placeholder[0]
    block = blocks[number]
    # Markdown ends a raw block with a line break of its own, where it ends a table it made (the Markdown table a
    # listing's raw `<table>` replaces) with none: the table's page comes out as it did.
    return block if block.startswith(_TABLE) else block + placeholder[2]


def _asks_for_markdown(markdown: str, start: int, end: int) -> bool:
    return markdown.find("markdown", start, end) >= 0 and _ASKS_FOR_MARKDOWN.search(markdown, start, end) is not None


def _block_end(markdown: str, start: int, tag: str) -> int | None:
    """Just after the closing tag that matches the block's opening tag, if a blank line or the end follows."""
    depth = 0
    for found in re.compile(rf"<{tag}\b|</{tag}>").finditer(markdown, start):
        depth += 1 if found[0][1] != "/" else -1
        if depth == 0:
            end = found.end()
            rest = markdown[end : end + 2]
            return end if rest in ("", "\n", "\n\n") else None
    return None
