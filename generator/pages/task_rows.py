"""The rows of the pages that show tasks, as raw HTML: a runbook's steps (a stage's steps as one `<ol>`), the task
catalogue's table rows, and the table of twenty tasks on each page of a listing (`TaskTable`).

At 5,000 tasks such a page has thousands of rows. A runbook's steps were a Markdown list, and Markdown's inline
processing of them cost seconds a page; the catalogue's rows were raw HTML already, but Jinja took a second to write
them. Raw HTML costs Markdown nothing (the engines even keep the block out of its parser: engines/raw_blocks), so
the rows are written here, in Python: for a runbook, the HTML Markdown made of its list (the same elements, ids and
text, each value escaped for the place it lands, the glossary's acronyms marked as the abbr extension marks them:
inline_html); for the catalogue, what its template wrote.

Links are written as Markdown links are, to the `.md` page (`Linker.href`): every engine resolves them the same
(pages/raw_links). Each row reads the data as the template did, so the live preview knows what a page shows.
"""

from __future__ import annotations

from itertools import islice
from typing import Any

from markupsafe import escape

from generator.data.reads import opened
from generator.data.relations import Relations
from generator.pages.addresses import Linker, display_name
from generator.pages.escape import Markdown, escape_html, escape_markdown
from generator.pages.inline_html import InlineHtml

Record = dict[str, Any]

#: The text of each step written (after its checkbox, which carries its number), each row of the catalogue and each
#: row of a listing's table (but its number), by everything it shows: the same step on another runbook, or the same
#: step or row after an edit elsewhere, is written once. Kept for the process (the live preview's rebuilds reuse
#: it), and sent back by a forked rendering process (`learned_since`). Bounded: all dropped once this many are kept
#: (5,000 tasks keep 58,000 texts, 14 million characters; the bound holds 10,000 tasks' texts).
_STEP_TEXTS: dict[tuple[Any, ...], str] = {}
STEP_TEXTS_KEPT = 150_000
#: How many times the texts were all dropped (the bound reached): tells `learned_since` whether its mark still holds.
_dropped = 0

StepTexts = list[tuple[tuple[Any, ...], str]]


def learned_mark() -> tuple[int, int]:
    """Where the step texts stand now, for `learned_since`."""
    return _dropped, len(_STEP_TEXTS)


def learned_since(mark: tuple[int, int]) -> StepTexts:
    """The step texts written since the mark (newest last): a forked rendering process sends them back with its
    pages, so that the next process forked starts with them."""
    dropped, count = mark
    if dropped != _dropped:
        return list(_STEP_TEXTS.items())
    return list(islice(reversed(_STEP_TEXTS.items()), len(_STEP_TEXTS) - count))[::-1]


def learn(texts: StepTexts) -> None:
    """Keeps step texts written by another process."""
    for shown, text in texts:
        _keep(shown, text)


def _keep(shown: tuple[Any, ...], text: str) -> str:
    global _dropped
    if len(_STEP_TEXTS) >= STEP_TEXTS_KEPT:
        _STEP_TEXTS.clear()
        _dropped += 1
    _STEP_TEXTS[shown] = text
    return text


class RunbookSteps:
    """The steps of one runbook page; a template calls it once per stage."""

    def __init__(self, relations: Relations, linker: Linker, text: InlineHtml, stand_in: Any) -> None:
        self.relations, self.linker, self.text, self.stand_in = relations, linker, text, stand_in
        #: Links already written on this page, by (collection, id): a role is named on most steps.
        self._links: dict[tuple[str, Any], str] = {}
        self._stand_ins: dict[tuple[str, str], tuple[tuple[bool, str], ...]] = {}
        #: Links are relative: pages in one folder write them alike.
        self.folder = linker.from_uri.rpartition("/")[0]

    def __call__(
        self,
        tasks: list[Record],
        first: int,
        *,
        subject_role: str | None = None,
        subject_source: str | None = None,
        included: set[Any] | frozenset[Any] = frozenset(),
    ) -> Markdown:
        """The stage's steps, numbered from `first` (the numbers run on across a runbook's stages), as an `<ol>`
        block: a blank line must come before and after it in the page."""
        start = f' start="{first}"' if first != 1 else ""
        rows = [
            self._step(number, task, subject_role, subject_source, included)
            for number, task in enumerate(tasks, start=first)
        ]
        return Markdown(f'<ol class="runbook-steps"{start}>\n' + "\n".join(rows) + "\n</ol>")

    def _step(
        self, number: int, task: Record, subject_role: str | None, subject_source: str | None, included: Any
    ) -> str:
        """One step: a checkbox named by the step's text (so no value from the data goes into an attribute but
        the task's number), then the step's text (`_text`)."""
        task = opened(task)
        step, check = f"runbook-step-{number}", f"runbook-check-{number}"
        opening = (
            f'<li><input type="checkbox" class="runbook-check" data-task="{escape_html(task["id"])}" id="{check}"'
            f' aria-label="Step {number} done:" aria-labelledby="{check} {step}"> <span id="{step}">'
        )
        owner = task["owner"]
        # Everything the step's text shows, read from the data as the template read it (so the preview knows
        # what the page shows), links already written: a step written before, on any page, is written alike.
        shown = (
            self.text.serial,  # not the converter itself: the key goes to other processes, and back
            self.folder,
            task["id"],
            task["title"],
            bool(task.get("optional")),
            bool(task.get("if_applicable")),
            None if subject_role else self.link("roles", owner),
            self.stand_in_links(owner, subject_source) if subject_source else (),
            tuple(
                (prerequisite, self.link("roles", self.relations.tasks[prerequisite]["owner"]))
                for prerequisite in task.get("prerequisites", [])
                if prerequisite not in included
            ),
        )
        text = _STEP_TEXTS.get(shown)
        if text is None:
            text = _keep(shown, self._text(task, *shown[4:]))
        return opening + text

    def _text(
        self,
        task: Record,
        optional: bool,
        if_applicable: bool,
        owner_link: str | None,
        stand_in: tuple[tuple[bool, str], ...],
        waits_for: tuple[tuple[Any, str], ...],
    ) -> str:
        """The step's text: the task and its title, its flags, its owner (on a source's runbook), who stands in
        for a retired owner, and the tasks it waits for that this runbook leaves out, with their owners."""
        row = _Row(self.text)
        row.tag(self.link("tasks", task))
        row.text(": " + escape_markdown(task["title"]))
        row.flags(optional, if_applicable)
        row.tag("</span>")
        if owner_link is not None:
            row.text(" · ")
            row.tag(owner_link)
        row.stand_in(stand_in)
        separator = " · waits for "
        for prerequisite, prerequisite_owner in waits_for:
            row.text(separator)
            row.tag(self.link("tasks", prerequisite))
            row.text(" (")
            row.tag(prerequisite_owner)
            row.text(")")
            separator = ", "
        row.tag("</li>")
        return row.html()

    def stand_in_links(self, owner: str, source: str) -> tuple[tuple[bool, str], ...]:
        """Who stands in for a retired owner: text and links (whether each piece is a link, and the piece)."""
        key = (owner, source)
        if key not in self._stand_ins:
            self._stand_ins[key] = tuple(
                (False, piece) if isinstance(piece, str) else (True, self.link(*piece))
                for piece in self.stand_in(owner, source)
            )
        return self._stand_ins[key]

    def link(self, collection: str, record_or_id: Any) -> str:
        key = (collection, record_or_id["id"] if isinstance(record_or_id, dict) else record_or_id)
        written = self._links.get(key)
        if written is None:
            record = record_or_id if isinstance(record_or_id, dict) else self.linker.record(collection, key[1])
            label = self.text(escape_markdown(display_name(collection, record)))
            written = self._links[key] = f'<a href="{escape_html(self.linker.href(collection, record))}">{label}</a>'
        return written


class _Row:
    """A step's HTML as it is written: tags as they are, and the text between two tags as Markdown text, made
    into HTML at once (the abbr extension looks for acronyms in each such run of text as a whole)."""

    def __init__(self, convert: InlineHtml) -> None:
        self._convert = convert
        self._parts: list[str] = []
        self._text: list[str] = []

    def text(self, escaped: str) -> None:
        self._text.append(escaped)

    def tag(self, html: str) -> None:
        if self._text:
            self._parts.append(self._convert("".join(self._text)))
            self._text.clear()
        self._parts.append(html)

    def flags(self, optional: Any, if_applicable: Any) -> None:
        """` *(optional)*` and ` *(if applicable)*`, as Markdown made them, where the task is so."""
        for flag, words in ((optional, "(optional)"), (if_applicable, "(if applicable)")):
            if flag:
                self.text(" ")
                self.tag("<em>")
                self.text(words)
                self.tag("</em>")

    def stand_in(self, pieces: tuple[tuple[bool, str], ...]) -> None:
        """` (who stands in for a retired owner)`, its links as they are; nothing where no one does."""
        if pieces:
            self.text(" (")
            for is_link, piece in pieces:
                self.tag(piece) if is_link else self.text(piece)
            self.text(")")

    def html(self) -> str:
        self.tag("")
        return "".join(self._parts)


class CatalogueRows:
    """The task catalogue's table rows, with the data its filters read (generator/pages/assets/catalogue.js);
    values escaped for HTML as Jinja's `escape` filter escapes them."""

    def __init__(self, linker: Linker) -> None:
        self.linker = linker
        self._cells: dict[tuple[str, Any], str] = {}

    def __call__(self, tasks: list[Record]) -> Markdown:
        return Markdown("".join(self._row(task) for task in tasks))

    def _row(self, task: Record) -> str:
        task = opened(task)
        sources = task.get("sources", [])
        # Everything the row shows: a row written before (the catalogue after an edit of another task) is the same.
        shown = (
            CatalogueRows,
            self.linker.from_uri,
            task["id"],
            task["title"],
            bool(task.get("optional")),
            bool(task.get("if_applicable")),
            task["owner"],
            task["stage"],
            tuple(sources),
            self._cell("roles", task["owner"]),
            self._cell("migration_stages", task["stage"]),
            ", ".join(self._cell("migration_sources", source) for source in sources) or "all",
        )
        row = _STEP_TEXTS.get(shown)
        return row if row is not None else _keep(shown, self._written(task, *shown[4:]))

    def _written(
        self,
        task: Record,
        optional: bool,
        if_applicable: bool,
        owner: Any,
        stage: Any,
        sources: tuple[Any, ...],
        owner_cell: str,
        stage_cell: str,
        where: str,
    ) -> str:
        flags = (" data-optional" if optional else "") + (" data-if-applicable" if if_applicable else "")
        title = str(escape(task["title"]))
        if optional:
            title += ' <span class="playbook-catalogue__flag">optional</span>'
        if if_applicable:
            title += ' <span class="playbook-catalogue__flag">if applicable</span>'
        return (
            f'<tr data-role="{escape(owner)}" data-stage="{escape(stage)}"'
            f' data-sources="{escape(" ".join(sources) or "all")}"{flags}>\n'
            f'<td><a href="{escape(self.linker.href("tasks", task))}">{escape(task["id"])}</a></td>\n'
            f"<td>{title}</td>\n"
            f"<td>{owner_cell}</td>\n"
            f"<td>{stage_cell}</td>\n"
            f"<td>{where}</td>\n"
            "</tr>\n"
        )

    def _cell(self, collection: str, record_id: Any) -> str:
        """A link to a role, a stage or a source, by its name: written once a page."""
        key = (collection, record_id)
        written = self._cells.get(key)
        if written is None:
            record = self.linker.record(collection, record_id)
            href = escape(self.linker.href(collection, record))
            written = self._cells[key] = f'<a href="{href}">{escape(record["name"])}</a>'
        return written


#: What a column of a listing's table shows of each task (`TaskTable`).
COLUMNS = frozenset({"number", "task", "title", "title_flags", "owner", "owner_for_source", "stage", "sources"})


class TaskTable:
    """A listing page's table of tasks (20 to a page: a stage's, a role's, a source's, the task index's), as the
    HTML Python-Markdown's tables extension made of the Markdown table it replaces: the same elements, the same line
    breaks, the text of each cell as Markdown made it (`_Row`, acronyms marked). Markdown's inline processing of
    the table's links was most of what a listing page cost: a stage edit shifts two hundred such pages."""

    def __init__(self, steps: RunbookSteps, only: Any) -> None:
        """`steps` writes the links (the page's runbook steps share them), `only` is `RoleScope.only`."""
        self.text, self.only, self._steps = steps.text, only, steps

    def __call__(
        self, headers: list[str], columns: list[str], tasks: list[Record], first: int = 1, source: str | None = None
    ) -> Markdown:
        """The table, its rows numbered from `first` (a `number` column), `source` the page's migration source
        (an `owner_for_source` column); a blank line must come before and after it in the page."""
        unknown = set(columns) - COLUMNS
        if unknown or len(columns) != len(headers):
            raise ValueError(f"a task table's columns must be {len(headers)} of {sorted(COLUMNS)}: {columns}")
        head = "".join(f"<th>{self.text(escape_markdown(header))}</th>\n" for header in headers)
        rows = [self._row(columns, opened(task), number, source) for number, task in enumerate(tasks, start=first)]
        return Markdown(f"<table>\n<thead>\n<tr>\n{head}</tr>\n</thead>\n<tbody>\n{''.join(rows)}</tbody>\n</table>")

    def _row(self, columns: list[str], task: Record, number: int, source: str | None) -> str:
        """A row: the cells before and after its number (a stage edit moves a task's row to other pages of its
        listings, and every row after it one page on, renumbered), each run kept by everything it shows."""
        if "number" in columns:
            at = columns.index("number")
            before, after = columns[:at], columns[at + 1 :]
            cells = [
                self._cells(before, task, number, source),
                f"<td>{self._written('number', task, number)}</td>\n",
                self._cells(after, task, number, source),
            ]
            return "<tr>\n" + "".join(cells) + "</tr>\n"
        return f"<tr>\n{self._cells(columns, task, number, source)}</tr>\n"

    def _cells(self, columns: list[str], task: Record, number: int, source: str | None) -> str:
        """These cells of a row, kept by everything they show (the links as written, the page's folder), as runbook
        steps and catalogue rows are."""
        if not columns:
            return ""
        shown = tuple(self._shown(column, task, number, source) for column in columns)
        key = (TaskTable, self.text.serial, self._steps.folder, tuple(columns), task["id"], shown)
        written = _STEP_TEXTS.get(key)
        if written is None:
            cells = zip(columns, shown, strict=True)
            written = _keep(key, "".join(f"<td>{self._written(column, task, value)}</td>\n" for column, value in cells))
        return written

    def _shown(self, column: str, task: Record, number: int, source: str | None) -> Any:
        """What a cell shows, read from the data as the template read it, links written."""
        link = self._steps.link
        if column == "number":
            return number
        if column == "task":
            return task["id"]
        if column == "title":
            return task["title"]
        if column == "title_flags":
            return (task["title"], bool(task.get("optional")), bool(task.get("if_applicable")))
        if column == "owner":
            return (link("roles", task["owner"]), self.only(task["owner"]))
        if column == "owner_for_source":
            stand_in = self._steps.stand_in_links(task["owner"], source) if source is not None else ()
            return (link("roles", task["owner"]), stand_in)
        if column == "stage":
            return link("migration_stages", task["stage"])
        return tuple(link("migration_sources", source_id) for source_id in task.get("sources") or [])  # sources

    def _written(self, column: str, task: Record, shown: Any) -> str:
        row = _Row(self.text)
        if column == "number":
            row.text(str(shown))
        elif column == "task":
            row.tag(self._task_link(task))
        elif column == "title":
            row.text(escape_markdown(shown))
        elif column == "title_flags":
            row.text(escape_markdown(shown[0]))
            row.flags(shown[1], shown[2])
        elif column == "owner":
            row.tag(shown[0])
            row.text(shown[1])
        elif column == "owner_for_source":
            row.tag(shown[0])
            row.stand_in(shown[1])
        elif column == "stage":
            row.tag(shown)
        else:  # sources
            for position, source_link in enumerate(shown):
                if position:
                    row.text(", ")
                row.tag(source_link)
            if not shown:
                row.text("all")
        return row.html()

    def _task_link(self, task: Record) -> str:
        """A task linked by its number (the steps' links name it "Task 17")."""
        href = escape_html(self._steps.linker.href("tasks", task))
        return f'<a href="{href}">{self.text(escape_markdown(task["id"]))}</a>'
