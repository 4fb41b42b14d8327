"""Diagrams drawn at build time as inline SVG: the flow of a migration, and which option helps in which phase.

Plain Python, no MkDocs and no script: the SVG is written into the page as a raw HTML block, so it shows in the
offline bundle and in print as it does on the site. Because MkDocs leaves links in raw HTML alone, every link is
the built page's URL (`Linker.href`), not a Markdown source path.

A diagram stays readable, and small, however large the catalogue: a stage column shows at most `max_per_stage`
tasks and then one box that links to the stage page for the rest; the options grid shows at most `max_options`
rows. Sizes are in the SVG's user units; the SVG scales to the width of the page (`width="100%"`, a viewBox), and
its text scales with it, in the page's own font. The same input always gives the same string.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from generator.data.model import Catalogue
from generator.data.relations import Relations
from generator.pages.addresses import SECTION_INDEXES, Linker
from generator.pages.escape import Markdown, escape_html

Record = dict[str, Any]

SVG_NS = "http://www.w3.org/2000/svg"

#: Owner colours by the role's place in roles.yml: the Okabe-Ito palette, told apart with most colour blindness.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#000000")
INK = "#1b1b1b"  # text on the pale boxes, which keep their colours in the dark scheme too
MUTED = "#4a4a4a"
HEADER_FILL, HEADER_STROKE = "#e3e8eb", "#8a99a1"

# Layout of the flow, in user units.
MARGIN = 12
COL_W = 170
COL_GAP = 40
HEAD_H = 44
HEAD_GAP = 14
BOX_GAP = 12
STRIPE = 6
PAD = 8
TITLE_FONT, TITLE_LINE, TITLE_LINES = 14, 17, 5
OWNER_FONT, OWNER_LINE, OWNER_LINES = 11, 13, 2
HEAD_FONT = 15
MORE_H = 36
MORE_FILL = "#f4f6f7"
MIN_WIDTH = 480
LEGEND_FONT, LEGEND_ROW = 12, 22
LEGEND_NAME_CHARS = 80
#: Average glyph width as a share of the font size, to guess how much text fits (an SVG cannot measure its text).
GLYPH = 0.52

# Layout of the options grid.
GRID_ROW = 30
GRID_HEAD = 40
GRID_NAME_CHARS, GRID_NAME_LINES, GRID_LINE = 30, 2, 16
GRID_PHASE_CHARS = 12
GRID_FONT = 13

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_WHITESPACE = re.compile(r"\s+")


def _text(value: object) -> str:
    """A data value as one line of plain text: no control characters (not allowed in XML), no line breaks
    (a blank line would end the raw HTML block)."""
    return _WHITESPACE.sub(" ", _CONTROL.sub("", str(value))).strip()


def _chars(width: float, font_size: float) -> int:
    """How many characters fit in `width` at `font_size`, by the average glyph width."""
    return max(4, int(width / (font_size * GLYPH)))


def _fit(text: str, limit: int) -> str:
    """`text` on one line of at most `limit` characters, cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _wrap(text: str, limit: int, max_lines: int) -> list[str]:
    """Words into lines of at most `limit` characters; the last line shown ends with an ellipsis if any is left."""
    lines = list(itertools.islice(_lines(text, limit), max_lines + 1))  # the rest is never drawn: never wrapped
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        lines = [*lines[: max_lines - 1], (last if len(last) < limit else last[: limit - 1].rstrip()) + "…"]
    return lines or [""]


def _lines(text: str, limit: int) -> Iterator[str]:
    """Words into lines of at most `limit` characters, one at a time."""
    current = ""
    for word in text.split(" "):
        if len(word) > limit:  # a word longer than a line is cut where the line ends; what is left goes on
            if current:
                yield current
                current = ""
            whole = (len(word) - 1) // limit * limit
            for start in range(0, whole, limit):  # by position: cutting the word down again and again is quadratic
                yield word[start : start + limit]
            word = word[whole:]
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= limit:
            current = candidate
        else:
            yield current
            current = word
    if current:
        yield current


def _tint(colour: str, share: float = 0.82) -> str:
    """`colour` mixed with white: the pale fill of a box whose stripe is `colour`."""
    channels = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c + (255 - c) * share):02x}" for c in channels)


def _attrs(**values: object) -> str:
    """Attributes, escaped; a trailing underscore in a name is dropped and other underscores become dashes."""
    return "".join(
        f' {name.rstrip("_").replace("_", "-")}="{escape_html(value)}"'
        for name, value in values.items()
        if value is not None
    )


def _title(text: str) -> str:
    return f"<title>{escape_html(text)}</title>"


def _figure(width: int, height: int, title: str, label: str, body: list[str], kind: str) -> Markdown:
    """The SVG in a `playbook-diagram` div, set apart by blank lines so Markdown keeps it as a raw HTML block."""
    svg = (
        f'<svg xmlns="{SVG_NS}"'
        + _attrs(
            viewBox=f"0 0 {width} {height}",
            width="100%",
            role="group",  # not "img": that would hide the links in the boxes from screen readers
            aria_label=label,
            class_=f"playbook-diagram-{kind}",
            font_family="inherit",
            font_size=TITLE_FONT,
        )
        + ">"
    )
    # Too wide for a narrow column, the picture scrolls sideways rather than shrink its text out of reach: the
    # box is a labelled region that takes the keyboard focus (so arrow keys scroll it), with a visible hint
    # that the stylesheet shows only where the column is narrower than the picture.
    region = _attrs(class_="playbook-diagram", role="region", aria_label=f"{label} (scrolls sideways)", tabindex="0")
    hint = '<p class="playbook-diagram__hint" aria-hidden="true">Scroll sideways to see the whole picture.</p>'
    lines = [f"<div{region}>", hint, svg, _title(title), *body, "</svg>", "</div>"]
    return Markdown("\n\n" + "\n".join(lines) + "\n\n")


@dataclass(frozen=True)
class _Box:
    column: int
    x: int
    y: int
    height: int

    @property
    def middle(self) -> int:
        return self.y + self.height // 2


def _owner_colours(catalogue: Catalogue) -> dict[str, str]:
    return {role["id"]: PALETTE[i % len(PALETTE)] for i, role in enumerate(catalogue.records("roles"))}


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def migration_flow(
    relations: Relations, linker: Linker, tasks: list[Record], *, title: str, max_per_stage: int = 8
) -> Markdown:
    """The migration as columns of stages, each with its tasks coloured by owner and arrows from each task to the
    tasks that wait on it; a column with more than `max_per_stage` tasks shows that many and a box for the rest.

    `tasks` are drawn in the order given (a dependency order, such as `Relations.task_order` or
    `Relations.tasks_for_source`); only prerequisites between two tasks that are drawn get an arrow.
    """
    if max_per_stage < 1:
        raise ValueError("max_per_stage must be at least 1")
    catalogue = relations.catalogue
    stages = sorted(relations.records("migration_stages"), key=lambda stage: stage["order"])
    roles = catalogue.index("roles")
    colours = _owner_colours(catalogue)
    columns: dict[str, list[Record]] = {stage["id"]: [] for stage in stages}
    for task in tasks:
        if task.get("stage") in columns:
            columns[task["stage"]].append(task)

    top = MARGIN + HEAD_H + HEAD_GAP
    boxes: dict[Any, _Box] = {}
    heads: list[str] = []
    cells: list[str] = []
    owners_shown: set[str] = set()
    bottom = top
    for column, stage in enumerate(stages):
        x = MARGIN + column * (COL_W + COL_GAP)
        stage_tasks = columns[stage["id"]]
        heads.append(_stage_head(stage, len(stage_tasks), linker, x))
        y = top
        if not stage_tasks:
            attributes = _attrs(x=x + COL_W // 2, y=y + 20, text_anchor="middle", fill="currentColor", opacity="0.7")
            cells.append(f"<text{attributes}>No tasks</text>")
            y += 30 + BOX_GAP
        for task in stage_tasks[:max_per_stage]:
            owners_shown.add(task["owner"])
            colour = colours.get(task["owner"], PALETTE[-1])
            box, svg = _task_box(task, roles.get(task["owner"], {}), colour, linker, x, y)
            boxes[task["id"]] = _Box(column, x, y, box)
            cells.append(svg)
            y += box + BOX_GAP
        hidden = len(stage_tasks) - max_per_stage
        if hidden > 0:
            cells.append(_more_box(stage, hidden, linker, x, y))
            y += MORE_H + BOX_GAP
        bottom = max(bottom, y)

    width = max(2 * MARGIN + len(stages) * COL_W + max(0, len(stages) - 1) * COL_GAP, MIN_WIDTH)
    arrows = _arrows(tasks, boxes)
    legend, legend_height = _legend(catalogue, linker, colours, owners_shown, bottom + 6, width, bool(arrows))
    height = bottom + 6 + legend_height + MARGIN
    label = (
        f"{_text(title)}: {_plural(len(stages), 'stage')} in order, {len(boxes)} of {_plural(len(tasks), 'task')}"
        " shown, coloured by owner" + ("; arrows run from a task to the tasks that wait on it" if arrows else "")
    )
    arrow_style = _attrs(fill="none", stroke="currentColor", stroke_opacity="0.55", stroke_width="1.5")
    body = [
        f"<g{_attrs(class_='dependencies')}{arrow_style}>",
        *arrows,
        "</g>",
        f"<g{_attrs(class_='stages', fill=INK)}>",
        *heads,
        "</g>",
        f"<g{_attrs(class_='tasks', fill=INK)}>",
        *cells,
        "</g>",
        *legend,
    ]
    return _figure(width, height, _text(title), label, body, "flow")


def _stage_head(stage: Record, count: int, linker: Linker, x: int) -> str:
    name = _text(stage["name"])
    middle = x + COL_W // 2
    return (
        f"<a{_attrs(href=linker.href('migration_stages', stage), class_='stage', data_stage=stage['id'])}>"
        + _title(f"Stage {stage['order']}: {name} ({_plural(count, 'task')} here)")
        + f"<rect{_attrs(x=x, y=MARGIN, width=COL_W, height=HEAD_H, rx=4, fill=HEADER_FILL)}"
        + f"{_attrs(stroke=HEADER_STROKE)}/>"
        + f"<text{_attrs(x=middle, y=MARGIN + 20, text_anchor='middle', font_weight='bold', font_size=HEAD_FONT)}>"
        + f"{escape_html(_fit(name, _chars(COL_W - 2 * PAD, HEAD_FONT)))}</text>"
        + f"<text{_attrs(x=middle, y=MARGIN + 36, text_anchor='middle', font_size=OWNER_FONT)}>"
        + f"{escape_html(_plural(count, 'task'))}</text></a>"
    )


def _task_box(task: Record, owner: Record, colour: str, linker: Linker, x: int, y: int) -> tuple[int, str]:
    """A task's box at (x, y): its height, and its SVG."""
    inner = COL_W - STRIPE - 2 * PAD
    task_title = _text(task.get("title", ""))
    owner_name = _text(owner.get("name", task["owner"]))
    lines = _wrap(f"{task['id']} · {task_title}", _chars(inner, TITLE_FONT), TITLE_LINES)
    # A name is never cut where it can wrap: "Migration Velocity Manager" takes two lines in a narrow box.
    owner_lines = _wrap(owner_name, _chars(inner, OWNER_FONT), OWNER_LINES)
    owner_top = PAD + len(lines) * TITLE_LINE
    height = owner_top + len(owner_lines) * OWNER_LINE + PAD
    svg = (
        f"<a{_attrs(href=linker.href('tasks', task), class_='task', data_task=task['id'])}>"
        + _title(_task_tooltip(task, task_title, owner_name))
        + f"<rect{_attrs(x=x, y=y, width=COL_W, height=height, rx=4, fill=_tint(colour), stroke=colour)}/>"
        + f"<rect{_attrs(x=x, y=y, width=STRIPE, height=height, rx=2, fill=colour)}/>"
        # A nested viewport clips what the estimate of the text's width gets wrong, so text never leaves its box.
        + f"<svg{_attrs(x=x + STRIPE + PAD, y=y, width=inner, height=height)}>"
        + "".join(
            f"<text{_attrs(x=0, y=PAD + TITLE_LINE * (n + 1) - 4)}>{escape_html(line)}</text>"
            for n, line in enumerate(lines)
        )
        + "".join(
            f"<text{_attrs(x=0, y=owner_top + OWNER_LINE * (n + 1) - 2, font_size=OWNER_FONT, fill=MUTED)}>"
            + f"{escape_html(line)}</text>"
            for n, line in enumerate(owner_lines)
        )
        + "</svg></a>"
    )
    return height, svg


def _more_box(stage: Record, hidden: int, linker: Linker, x: int, y: int) -> str:
    more = _plural(hidden, "more task")
    return (
        f"<a{_attrs(href=linker.href('migration_stages', stage), class_='more', data_stage=stage['id'])}"
        + f"{_attrs(data_hidden=hidden)}>"
        + _title(f"{more} in {_text(stage['name'])}: see the stage page")
        + f"<rect{_attrs(x=x, y=y, width=COL_W, height=MORE_H, rx=4, fill=MORE_FILL, stroke=HEADER_STROKE)}"
        + f"{_attrs(stroke_dasharray='5 3')}/>"
        + f"<text{_attrs(x=x + COL_W // 2, y=y + 23, text_anchor='middle')}>+ {escape_html(more)}</text></a>"
    )


def _task_tooltip(task: Record, task_title: str, owner_name: str) -> str:
    words = [f"Task {task['id']}: {task_title}", f"Owner: {owner_name}"]
    if task.get("optional"):
        words.append("Optional")
    if task.get("if_applicable"):
        words.append("If applicable")
    prerequisites = [str(p) for p in task.get("prerequisites", [])]
    if prerequisites:
        listed = ", ".join(prerequisites[:8]) + (
            f" and {len(prerequisites) - 8} more" if len(prerequisites) > 8 else ""
        )
        words.append(f"Waits on {listed}")
    return ". ".join(words)


def _arrows(tasks: list[Record], boxes: dict[Any, _Box]) -> list[str]:
    """A path from each drawn prerequisite's right edge to its dependent's left edge (or, in one column, a curve
    on the right side between their right edges), ending in an open arrowhead."""
    arrows: list[str] = []
    for task in tasks:
        end = boxes.get(task["id"])
        if end is None:
            continue
        for prerequisite in dict.fromkeys(task.get("prerequisites", [])):
            start = boxes.get(prerequisite)
            if start is None:
                continue
            x1, y1, y2 = start.x + COL_W, start.middle, end.middle
            if start.column == end.column:
                bulge = min(COL_GAP - 6, 12 + abs(y2 - y1) // 10)
                curve = f"M{x1} {y1}C{x1 + bulge} {y1} {x1 + bulge} {y2} {x1} {y2}"
                path = curve + _head(x1, y2, pointing=-1)
            else:
                x2 = end.x
                reach = max(COL_GAP // 2, (x2 - x1) // 2)
                curve = f"M{x1} {y1}C{x1 + reach} {y1} {x2 - reach} {y2} {x2} {y2}"
                path = curve + _head(x2, y2, pointing=1)
            arrows.append(
                f"<path{_attrs(class_='dependency', data_from=prerequisite, data_to=task['id'], d=path)}>"
                + _title(f"Task {task['id']} waits on task {prerequisite}")
                + "</path>"
            )
    return arrows


def _head(x: int, y: int, pointing: int) -> str:
    """An open arrowhead with its tip at (x, y), pointing right (1) or left (-1)."""
    back = x - 6 * pointing
    return f"M{back} {y - 4}L{x} {y}L{back} {y + 4}"


def _legend(
    catalogue: Catalogue,
    linker: Linker,
    colours: dict[str, str],
    owners: set[str],
    y: int,
    width: int,
    arrows: bool = True,
) -> tuple[list[str], int]:
    """The owners drawn, in roles.yml order, each linking to its role page, then what an arrow means if any is
    drawn; wrapped to the diagram's width. Returns the SVG lines and the height they take."""
    entries: list[tuple[int, Callable[[int, int], str]]] = []
    for role in catalogue.records("roles"):
        if role["id"] in owners:
            entries.append(_role_entry(role, colours[role["id"]], linker.href("roles", role)))
    key = "the task an arrow points to waits on the one it starts from"
    if arrows:
        entries.append((34 + int(len(key) * LEGEND_FONT * GLYPH), lambda x, top: _arrow_key(x, top, key)))

    lines = [f"<g{_attrs(class_='legend', font_size=LEGEND_FONT, fill='currentColor')}>"]
    lines.append(f"<text{_attrs(x=MARGIN, y=y + 15, font_weight='bold')}>Owner:</text>")
    start = MARGIN + 56
    x, row = start, 0
    for entry_width, draw in entries:
        if x + entry_width > width - MARGIN and x > start:
            row += 1
            x = start
        lines.append(draw(x, y + row * LEGEND_ROW + 3))
        x += entry_width
    lines.append("</g>")
    return lines, (row + 1) * LEGEND_ROW


def _role_entry(role: Record, colour: str, href: str) -> tuple[int, Callable[[int, int], str]]:
    name = _text(role["name"])[:LEGEND_NAME_CHARS]  # a bound on hostile data; no role name comes near it

    def draw(x: int, top: int) -> str:
        return (
            f"<a{_attrs(href=href, class_='role', data_role=role['id'])}>"
            + _title(f"Role: {_text(role['name'])}")
            + f"<rect{_attrs(x=x, y=top, width=14, height=14, rx=2, fill=_tint(colour), stroke=colour)}/>"
            + f"<rect{_attrs(x=x, y=top, width=4, height=14, fill=colour)}/>"
            + f"<text{_attrs(x=x + 20, y=top + 12)}>{escape_html(name)}</text></a>"
        )

    return 20 + int(len(name) * LEGEND_FONT * GLYPH) + 16, draw


def _arrow_key(x: int, top: int, key: str) -> str:
    mid = top + 7
    arrow = f"M{x} {mid}L{x + 24} {mid}M{x + 18} {mid - 4}L{x + 24} {mid}L{x + 18} {mid + 4}"
    return (
        f"<path{_attrs(d=arrow, fill='none', stroke='currentColor', stroke_opacity='0.55', stroke_width='1.5')}/>"
        + f"<text{_attrs(x=x + 30, y=top + 12)}>{escape_html(key)}</text>"
    )


def options_lifecycle(
    catalogue: Catalogue,
    linker: Linker,
    *,
    title: str = "Partnership options across the lifecycle phases",
    max_options: int = 30,
) -> Markdown:
    """A grid of options (rows, in file order) by lifecycle phases (columns, in order), with a filled mark where
    the option helps in the phase. Beyond `max_options` rows, a last row links to the options index."""
    if max_options < 1:
        raise ValueError("max_options must be at least 1")
    phases = sorted(catalogue.records("lifecycle_phases"), key=lambda phase: phase["order"])
    options = catalogue.records("options")
    shown = options[:max_options]
    name_w = 2 * PAD + int(min(GRID_NAME_CHARS, max([len(_text(o["name"])) for o in shown] or [8])) * GRID_FONT * GLYPH)
    phase_chars = min(GRID_PHASE_CHARS, max([len(_text(p["name"])) for p in phases] or [6]))
    cell_w = max(72, 2 * PAD + int(phase_chars * GRID_FONT * GLYPH))
    left = MARGIN + name_w + 6
    body: list[str] = [f"<g{_attrs(class_='phases', fill=INK, font_size=GRID_FONT)}>"]
    for column, phase in enumerate(phases):
        x = left + column * cell_w
        name = _text(phase["name"])
        body.append(
            f"<a{_attrs(href=linker.href('lifecycle_phases', phase), class_='phase', data_phase=phase['id'])}>"
            + _title(f"Lifecycle phase {phase['order']}: {name}")
            + f"<rect{_attrs(x=x + 2, y=MARGIN, width=cell_w - 4, height=GRID_HEAD - 6, rx=4, fill=HEADER_FILL)}"
            + f"{_attrs(stroke=HEADER_STROKE)}/>"
            + f"<text{_attrs(x=x + cell_w // 2, y=MARGIN + 22, text_anchor='middle', font_weight='bold')}>"
            + f"{escape_html(_fit(name, phase_chars))}</text></a>"
        )
    body.append("</g>")
    body.append(f"<g{_attrs(class_='options', font_size=GRID_FONT)}>")
    y = MARGIN + GRID_HEAD
    for option in shown:
        name = _text(option["name"])
        href = linker.href("options", option)
        helps = set(option.get("lifecycle_phases", []))
        # A long name wraps onto a second line (and its row grows) rather than being cut.
        lines = _wrap(name, GRID_NAME_CHARS, GRID_NAME_LINES)
        row = GRID_ROW + (len(lines) - 1) * GRID_LINE
        body.append(
            f"<rect{_attrs(x=MARGIN, y=y, width=left - MARGIN + len(phases) * cell_w, height=row)}"
            + f"{_attrs(fill='currentColor', fill_opacity='0.04')}/>"
        )
        body.append(
            f"<a{_attrs(href=href, class_='option', data_option=option['id'])}>"
            + _title(f"Option: {name}")
            + f"<rect{_attrs(x=MARGIN, y=y + 3, width=name_w, height=row - 6, rx=4, fill=HEADER_FILL)}/>"
            + f"<svg{_attrs(x=MARGIN, y=y, width=name_w, height=row)}>"
            + "".join(
                f"<text{_attrs(x=PAD, y=20 + n * GRID_LINE, fill=INK)}>{escape_html(line)}</text>"
                for n, line in enumerate(lines)
            )
            + "</svg></a>"
        )
        for column, phase in enumerate(phases):
            cx, cy = left + column * cell_w + cell_w // 2, y + row // 2
            if phase["id"] in helps:
                body.append(
                    f"<a{_attrs(href=href, class_='mark', data_option=option['id'], data_phase=phase['id'])}>"
                    + _title(f"{name} helps in {_text(phase['name'])}")
                    + f"<circle{_attrs(cx=cx, cy=cy, r=9, fill=PALETTE[0])}/></a>"
                )
            else:
                body.append(
                    f"<circle{_attrs(cx=cx, cy=cy, r=3, fill='none', stroke='currentColor', stroke_opacity='0.35')}/>"
                )
        y += row
    hidden = len(options) - len(shown)
    if hidden > 0:
        more = _plural(hidden, "more option")
        body.append(
            f"<a{_attrs(href=linker.page_href(SECTION_INDEXES['options']), class_='more', data_hidden=hidden)}>"
            + _title(f"{more}: see the list of options")
            + f"<rect{_attrs(x=MARGIN, y=y + 3, width=name_w, height=GRID_ROW - 6, rx=4, fill='#f4f6f7')}"
            + f"{_attrs(stroke=HEADER_STROKE, stroke_dasharray='5 3')}/>"
            + f"<text{_attrs(x=MARGIN + PAD, y=y + 20, fill=INK)}>+ {escape_html(more)}</text></a>"
        )
        y += GRID_ROW
    body.append("</g>")
    width = left + len(phases) * cell_w + MARGIN
    height = y + MARGIN
    label = (
        f"{_text(title)}: {_plural(len(shown), 'option')} by {_plural(len(phases), 'lifecycle phase')}; "
        "a filled mark where the option helps in the phase"
    )
    return _figure(width, height, _text(title), label, body, "options")
