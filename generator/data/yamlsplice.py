"""A data file parsed again after an edit inside one record: that record alone is parsed, and put in its place.

The live preview parses an edited file with positions on every save, and at five thousand tasks a whole parse is
half a second, most of the wait. A save nearly always changes one record, so `reparse` finds the lines the edit
touched, and where they lie inside one record of a list (from its `- ` line to the next record's, or to the next
top-level key), parses those lines alone: written at the same columns, they read the same on their own as in the
file. The record takes the old one's place in a copy of the data, and the positions of everything below it move by
the lines the edit added or removed.

Whatever it cannot be sure of returns None, and the caller parses the whole file: an edit across records or
outside them, a file with anchors or aliases (one record could stand for another), a file or a record with
problems (their messages may name other lines), a record that is no longer one mapping.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from typing import Any

from generator.data.yamlsafe import Document, SourceMap, YamlLoadError, load_yaml

#: Line breaks of YAML besides "\n" (and "\r\n").
_OTHER_BREAKS = ("\r", "\x85", "\u2028", "\u2029")
#: The start of a record's first line, up to its first key: `  - `.
_ITEM_LEAD = re.compile(r" *- +")


def reparse(previous: Document, text: str) -> Document | None:
    """`text`, an edit of `previous.text`, as `load_yaml(text, positions=True)` would load it; None where the edit
    is not inside one record, or anything else makes the shortcut unsure (the caller then parses it whole)."""
    old = previous.text
    if previous._positions is None or previous.problems or previous.anchored or not isinstance(previous.data, dict):
        return None
    if text == old:
        return previous
    if any(brk in text or brk in old for brk in _OTHER_BREAKS):
        return None  # YAML counts lines at these too: the line arithmetic here counts "\n" only
    span = _record_span(previous, old, text)
    if span is None:
        return None
    (collection, index), first_line, start, end = span
    delta = len(text) - len(old)
    snippet = text[start : end + delta]
    if not snippet.endswith("\n") or not _indented_under(snippet, old.index("-", start) - start):
        return None  # the record now runs into the next line, or a line left it
    try:
        part = load_yaml(snippet, previous.display_path, positions=True)
    except YamlLoadError:
        return None  # a whole parse reports it, at its place in the file
    if part.problems or part.anchored or not (isinstance(part.data, list) and len(part.data) == 1):
        return None
    record = part.data[0]
    if not isinstance(record, dict):
        return None
    old_paths = set(_paths(previous.data[collection][index], (collection, index)))
    data = dict(previous.data)
    data[collection] = records = list(previous.data[collection])
    records[index] = record
    lines_added = snippet.count("\n") - old.count("\n", start, end)
    last_line = first_line + old.count("\n", start, end) - 1
    assert part._positions is not None and previous._positions is not None
    positions = SourceMap(
        *(
            _moved(old_places, new_places, (collection, index), old_paths, (first_line, last_line, lines_added))
            for old_places, new_places in (
                (previous._positions.values, part._positions.values),
                (previous._positions.keys, part._positions.keys),
            )
        )
    )
    return Document(data, [], text, previous.display_path, positions, anchored=False)


def _record_span(previous: Document, old: str, new: str) -> tuple[tuple[str, int], int, int, int] | None:
    """The record the edit lies in: its path, its first line, and where its lines start and end in the old text."""
    first, old_lines, offset = _changed_lines(old, new)
    # A line inserted between two records is the end of the first: a record cannot start without its `- `.
    line = first if old_lines else first - 1
    found = _record_around(previous, line)
    if found is None:
        return None
    path, first_line, following = found
    if following is not None and first + old_lines - 1 >= following:
        return None  # the edit reaches the next record, or the next key
    start = _line_start(old, offset, first - first_line, backwards=True)
    end = _line_start(old, offset, following - first) if following is not None else len(old)
    assert previous._positions is not None
    if not _ITEM_LEAD.fullmatch(old[start : start + previous._positions.values[path][1] - 1]):
        return None  # `-` alone on its line, or a flow mapping: not the shape this relies on
    return path, first_line, start, end


def _changed_lines(old: str, new: str) -> tuple[int, int, int]:
    """The edit as whole lines: the 1-based number of the first old line it changes (or before which it inserts),
    how many old lines it replaces, and where that line starts. Lines the two texts share at either end of the
    change are not counted, so a line added at a record's end is an insertion, not a change of the next record's
    first line."""
    changed_from, changed_to, _ = changed_span(old, new)
    changed_from = old.rfind("\n", 0, changed_from) + 1
    if changed_to and old[changed_to - 1] != "\n":
        after = old.find("\n", changed_to)
        changed_to = len(old) if after < 0 else after + 1
    delta = len(new) - len(old)
    was, now = _lines(old[changed_from:changed_to]), _lines(new[changed_from : changed_to + delta])
    while was and now and was[-1] == now[-1]:
        was.pop(), now.pop()
    leading = 0
    while leading < min(len(was), len(now)) and was[leading] == now[leading]:
        leading += 1
    offset = changed_from + sum(len(line) for line in was[:leading])
    return old.count("\n", 0, changed_from) + 1 + leading, len(was) - leading, offset


def _lines(text: str) -> list[str]:
    """The lines of `text`, each with its "\n" (YAML's other line breaks are refused before this is used)."""
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _record_around(previous: Document, line: int) -> tuple[tuple[str, int], int, int | None] | None:
    """The record of a top-level list whose lines hold `line`: its path, its first line, and the first line of
    whatever follows it (the next record, or the next top-level key; None at the end of the file). None where
    `line` is not in a record, or the record is not written as `- key: value` lines."""
    assert previous._positions is not None and isinstance(previous.data, dict)
    values, keys = previous._positions.values, previous._positions.keys
    before: tuple[int, tuple[str, int] | None] = (0, None)
    after: int | None = None
    for name, value in previous.data.items():
        key = keys.get((name,))
        if key is None:
            return None
        candidates = [(key[0], None)]
        if isinstance(value, list) and value:

            def first_line_of(index: int, name: str = name) -> int:
                return values[(name, index)][0]

            at = bisect.bisect_right(range(len(value)), line, key=first_line_of)
            candidates += [(first_line_of(at - 1), (name, at - 1))] if at else []
            candidates += [(first_line_of(at), None)] if at < len(value) else []  # a start, never the one wanted
        for start, path in candidates:
            if start <= line and start >= before[0]:
                before = (start, path)
            elif start > line and (after is None or start < after):
                after = start
    first_line, path = before
    if path is None or not isinstance(previous.data[path[0]][path[1]], dict):
        return None  # above the first record, on a top-level key's line, or not a record
    return path, first_line, after


def _line_start(text: str, offset: int, lines: int, *, backwards: bool = False) -> int:
    """Where the line `lines` lines after (or before) the one starting at `offset` starts."""
    for _ in range(lines):
        offset = text.rfind("\n", 0, offset - 1) + 1 if backwards else text.index("\n", offset) + 1
    return offset


def _indented_under(snippet: str, dash_column: int) -> bool:
    """Whether the record still starts with its `- ` where it was, and every other line of it (blank lines and
    comments aside) is indented further: then it reads the same alone as in the file, where a line further left
    would end it, or the list, or be an error that the snippet alone would not have."""
    first, *rest = snippet.split("\n")
    lead = _ITEM_LEAD.match(first)
    if lead is None or first.index("-") != dash_column:
        return False
    for line in rest:
        stripped = line.lstrip(" ")
        if stripped and not stripped.startswith("#") and len(line) - len(stripped) <= dash_column:
            return False
    return True


def _moved(
    before: dict[Any, tuple[int, int]],
    part: dict[Any, tuple[int, int]],
    record: tuple[str, int],
    old_paths: set[Any],
    lines: tuple[int, int, int],
) -> dict[Any, tuple[int, int]]:
    """The positions of the whole file: the record's own from the parse of its lines, everything below it moved
    by the lines added (`lines`: the record's first and last line before the edit, and the lines added)."""
    first_line, last_line, lines_added = lines
    if lines_added:
        moved = {
            path: (line + lines_added, column) if line > last_line else (line, column)
            for path, (line, column) in before.items()
            if path[:2] != record
        }
    else:  # nothing moves: a copy, less the record's old places
        moved = dict(before)
        for path in old_paths:
            moved.pop(path, None)
    shift = first_line - 1
    for path, (line, column) in part.items():
        if path and path[0] == 0:  # the snippet's one record: item 0 of its list
            moved[(*record, *path[1:])] = (line + shift, column)
    return moved


def _paths(value: Any, path: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    """The path of `value` and of everything in it: where a parse notes positions (and keys) within a record."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


def changed_span(old: str, new: str) -> tuple[int, int, int]:
    """Where two texts differ: `old[start:old_end]` became `new[start:new_end]`, all else is shared."""
    start = _common_prefix(old, new)
    end = _common_prefix(old[start:][::-1], new[start:][::-1])
    return start, len(old) - end, len(new) - end


def _common_prefix(a: str, b: str, step: int = 4096) -> int:
    """How many characters `a` and `b` share at their start; compared a block at a time."""
    length, limit = 0, min(len(a), len(b))
    while length < limit and a[length : length + step] == b[length : length + step]:
        length += step
    length = min(length, limit)
    while length > 0 and a[:length] != b[:length]:
        length -= 1  # never more than a block back
    while length < limit and a[length] == b[length]:
        length += 1
    return length
