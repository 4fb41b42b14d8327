"""Strict YAML: plain data only, nothing silently changed, every value's position available.

PyYAML's safe loader is loose in ways that hurt a contributor: a duplicated key silently keeps the last value,
YAML 1.1 turns `NO`, `on`, `0123` and `1:20` into booleans and numbers, and aliases can expand without bound
(the "billion laughs" file). Here libyaml (C) parses; a small builder of our own turns its events straight into
dicts, lists and scalars, resolving scalars by the YAML 1.2 core schema, refusing tags that are not plain data,
and bounding what aliases may expand to. Positions cost time on a 10,000-task file, and are only needed to report
a problem, so they are gathered by a second pass the first time anyone asks for one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml._yaml import CParser  # libyaml's parser; PyYAML's wheels ship it compiled

from generator.errors import Problem, YamlLoadError, clip

Path = tuple[Any, ...]

#: Values that aliases may add to a document beyond what is written out: plenty for sharing a list or two, far
#: too few for an alias bomb, which is stopped before it costs memory or time.
MAX_ALIAS_EXPANSION = 100_000
#: Nesting deeper than this is not data a playbook needs.
MAX_DEPTH = 64

_TAG = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = (_TAG + name for name in ("str", "int", "float", "bool", "null"))
SEQ, MAP = _TAG + "seq", _TAG + "map"

# The YAML 1.2 core schema, except that digits with a leading zero (`0123`) stay text: in a playbook they are
# codes far more often than numbers. Keyed by first character, as PyYAML's resolver does, to test few patterns.
_CORE_SCHEMA: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
for _tag, _pattern, _first in (
    (BOOL, r"(?:true|True|TRUE|false|False|FALSE)", "tTfF"),
    (NULL, r"(?:~|null|Null|NULL)", "~nN"),
    (INT, r"(?:[-+]?(?:0|[1-9][0-9]*)|0o[0-7]+|0x[0-9a-fA-F]+)", "-+0123456789"),
    (
        FLOAT,
        r"(?:[-+]?(?:(?:\.[0-9]+|[0-9]+\.[0-9]*)(?:[eE][-+]?[0-9]+)?|[0-9]+[eE][-+]?[0-9]+)"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))",
        "-+.0123456789",
    ),
):
    for _char in _first:
        _CORE_SCHEMA.setdefault(_char, []).append((_tag, re.compile(_pattern)))


def resolve_plain(text: str) -> str:
    """The tag of an untagged plain scalar under the core schema."""
    if not text:
        return NULL
    for tag, pattern in _CORE_SCHEMA.get(text[0], ()):
        if pattern.fullmatch(text):
            return tag
    return STR


@dataclass
class SourceMap:
    """Where each value of a document was written, by its path of keys and list indexes (1-based line, column)."""

    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: Path) -> tuple[int, int]:
        """The position of the value at `path`, or of its nearest recorded ancestor (an alias, say)."""
        for end in range(len(path), -1, -1):
            found = self.values.get(path[:end])
            if found is not None:
                return found
        return (1, 1)

    def locate_key(self, path: Path) -> tuple[int, int]:
        """Where the key that leads to `path` was written; falls back to the value's own position."""
        return self.keys.get(path) or self.locate(path)


@dataclass
class Document:
    """A YAML file turned into plain data, with the problems that did not stop the loading."""

    data: Any
    problems: list[Problem]
    text: str = field(repr=False, default="")
    display_path: str = ""
    _positions: SourceMap | None = field(default=None, repr=False)
    #: Whether the text names an anchor or an alias anywhere: one part of it may then stand for another.
    anchored: bool = False

    @property
    def positions(self) -> SourceMap:
        if self._positions is None:
            self._positions = _Builder(self.text, self.display_path, record_positions=True).run().positions
        return self._positions


def load_yaml_bytes(raw: bytes, display_path: str, *, positions: bool = False) -> Document:
    """Decode a file's bytes as UTF-8 and load it strictly; raises YamlLoadError on the first fatal problem.
    With `positions`, they are gathered in the same pass (a third slower than without, half the time of two)."""
    text = decode(raw, display_path)
    if all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()):
        raise YamlLoadError(
            Problem(display_path, 1, 1, "the file is empty", "write the collections this file holds, or delete it")
        )
    return load_yaml(text, display_path, positions=positions)


def load_yaml(text: str, display_path: str, *, positions: bool = False) -> Document:
    built = _Builder(text, display_path, record_positions=positions).run()
    return Document(
        built.data, built.problems, text, display_path, built.positions if positions else None, built.anchored
    )


def decode(raw: bytes, display_path: str) -> str:
    """A file's bytes as text (UTF-8, a byte-order mark dropped); raises YamlLoadError where they are not UTF-8."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        column = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        raise YamlLoadError(
            Problem(
                display_path,
                line,
                column,
                f"the file is not UTF-8 text (byte 0x{raw[err.start]:02x} cannot be decoded)",
                "save the file as UTF-8 in your editor",
            )
        ) from err
    return text.removeprefix("\ufeff")


_TAB_HINT = "indent with spaces; YAML does not allow tabs for indentation"
_SYNTAX_HINTS = (
    ("mapping values are not allowed", "quote a value that contains ': ', or fix the indentation above"),
    ("could not find expected ':'", "each field needs 'name: value'; quote text that spans lines oddly"),
    ("found undefined alias", "define the anchor (&name) before the alias (*name) that uses it"),
    ("found character '@'", "quote values that start with '@' or '`'"),
    ("found character '`'", "quote values that start with '@' or '`'"),
    ("did not find expected '-' indicator", "start each record of the list with '- ', indented like the others"),
)
_QUOTE_HINT = "close the quote at the end of the value; a value with ': ' in it needs quotes around all of it"
_BRACKET_HINT = "close the list with '{close}' on this line; quote items that contain ',', ':' or brackets"
_APOSTROPHE_HINT = (
    "the quote closes before the value ends: inside '…' write an apostrophe as '' (two single quotes), "
    'inside "…" write \\" for a double quote, or quote the value with the other kind'
)
SMART_QUOTES = "\u201c\u201d\u2018\u2019"
SMART_QUOTE_HINT = (
    f"{' '.join(SMART_QUOTES)} are typographic quotes, which YAML reads as text: "
    "put the value in straight quotes, \" or '"
)
# A line whose value opens a quote: `key: "…`, `- '…`. Whether the quote closes on the line is checked apart.
_OPENS_QUOTE = re.compile(r"""^\s*(?:-\s+)?(?:[^\s#'"\[{][^#]*?:\s+)?(["'])(.*)$""")
_OPENS_LIST = re.compile(r"^\s*(?:-\s+)?(?:[^\s#'\"\[{][^#]*?:\s+)?([\[{])")


def _syntax_problem(err: yaml.MarkedYAMLError, text: str, display_path: str) -> Problem:
    mark = err.problem_mark or err.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    what = " ".join(part for part in (err.context, err.problem) if part)
    if mark and _char_at(text, mark.line, mark.column) == "\t":  # libyaml does not name the character
        return Problem(display_path, line, column, "YAML syntax error: a tab character", _TAB_HINT)
    opened = _unclosed_opening(err, text, display_path)
    if opened is not None:
        return opened
    hint = next((hint for needle, hint in _SYNTAX_HINTS if needle in what), "")
    if mark and any(quote in _line_at(text, mark.line) for quote in SMART_QUOTES):
        hint = SMART_QUOTE_HINT
    elif mark and _closed_early(_line_at(text, mark.line), mark.column):
        what, hint = f"the value goes on after its closing quote ({what})", _APOSTROPHE_HINT
    return Problem(display_path, line, column, f"YAML syntax error: {what}", hint)


def _unclosed_opening(err: yaml.MarkedYAMLError, text: str, display_path: str) -> Problem | None:
    """A quote or bracket left open, reported where it was opened: the parser only notices lines later.

    libyaml names the opening when the scanner is still inside it ("while scanning a quoted scalar"); when a
    later quote closed it by accident, the nearest line above the failure whose quote or bracket stays open is
    the likeliest culprit.
    """
    gave_up = err.problem_mark
    if gave_up is None:
        return None
    where = f"the parser gave up at line {gave_up.line + 1}, column {gave_up.column + 1}: {err.problem}"
    context, opening = err.context or "", err.context_mark
    if opening is not None and context == "while scanning a quoted scalar":
        char = _char_at(text, opening.line, opening.column)
        message = f"YAML syntax error: the quote {char} opened here is never closed ({where})"
        return Problem(display_path, opening.line + 1, opening.column + 1, message, _QUOTE_HINT)
    if opening is not None and context.startswith("while parsing a flow"):
        char = _char_at(text, opening.line, opening.column)
        if char in "[{":
            message = f"YAML syntax error: the '{char}' opened here is never closed ({where})"
            hint = _BRACKET_HINT.format(close="]" if char == "[" else "}")
            return Problem(display_path, opening.line + 1, opening.column + 1, message, hint)
    lines = text.split("\n")
    for number in range(min(gave_up.line, len(lines) - 1), -1, -1):
        found = _open_on_line(lines[number])
        if found is not None:
            column, char = found
            is_quote = char in "'\""
            what_opened = "quote" if is_quote else f"'{char}'"
            message = f"YAML syntax error: the {what_opened} opened here is not closed on its line ({where})"
            hint = _QUOTE_HINT if is_quote else _BRACKET_HINT.format(close="]" if char == "[" else "}")
            return Problem(display_path, number + 1, column + 1, message, hint)
    return None


def _closed_early(line: str, column: int) -> bool:
    """Whether text follows a quoted value on its line, where the parser stopped: `title: 'it's here'`."""
    quoted = _OPENS_QUOTE.match(line)
    return (
        bool(quoted)
        and 0 < column <= len(line)
        and line[column - 1] == quoted.group(1)
        and column > quoted.start(1) + 1
    )


def _open_on_line(line: str) -> tuple[int, str] | None:
    """(column, character) of a quote or bracket that opens a value on this line and is not closed on it."""
    quoted = _OPENS_QUOTE.match(line)
    if quoted:
        quote, rest = quoted.group(1), quoted.group(2)
        closed = re.match(r'(?:[^"\\]|\\.)*"', rest) if quote == '"' else "'" in rest.replace("''", "")
        return None if closed else (quoted.start(1), quote)
    listed = _OPENS_LIST.match(line)
    if listed and line.count(listed.group(1)) > line.count("]" if listed.group(1) == "[" else "}"):
        return (listed.start(1), listed.group(1))
    return None


def _char_at(text: str, line: int, column: int) -> str:
    return _line_at(text, line)[column : column + 1]


def _line_at(text: str, line: int) -> str:
    lines = text.split("\n")
    return lines[line] if line < len(lines) else ""


@dataclass
class _Frame:
    """A list or mapping being filled, with what the builder needs to know about it."""

    value: Any
    path: Path
    anchor: str | None
    size: int = 1
    key: Any = None
    key_mark: Any = None
    key_lines: dict[str, int] = field(default_factory=dict)
    #: A mapping that is an item of a list: a record, which a missing '- ' can run into the next one.
    in_list: bool = False


_NO_KEY = object()


class _Built:
    def __init__(self, data: Any, problems: list[Problem], positions: SourceMap, anchored: bool) -> None:
        self.data, self.problems, self.positions, self.anchored = data, problems, positions, anchored


class _Builder:
    """Turns libyaml's event stream into plain data without recursion, so depth is ours to bound."""

    def __init__(self, text: str, display_path: str, *, record_positions: bool) -> None:
        self.text = text
        self.display_path = display_path
        self.record = record_positions
        self.positions = SourceMap()
        self.problems: list[Problem] = []
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.open_anchors: set[str] = set()
        self.alias_expansion = 0
        self.stack: list[_Frame] = []
        self.root: Any = None

    def run(self) -> _Built:
        parser = CParser(self.text)
        try:
            self._consume(parser)
        except yaml.MarkedYAMLError as err:
            raise YamlLoadError(_syntax_problem(err, self.text, self.display_path)) from err
        except yaml.YAMLError as err:
            raise YamlLoadError(Problem(self.display_path, 1, 1, f"not valid YAML: {err}")) from err
        finally:
            parser.dispose()
        return _Built(self.root, self.problems, self.positions, bool(self.anchors or self.open_anchors))

    def _consume(self, parser: CParser) -> None:
        documents = 0
        while True:
            event = parser.get_event()
            kind = type(event)
            if kind is yaml.ScalarEvent:
                self._add(self._scalar(event), 1, event)
                self._register(event.anchor, self._last_value, 1)
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                self._open(event, {} if kind is yaml.MappingStartEvent else [])
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                self._close()
            elif kind is yaml.AliasEvent:
                self._alias(event)
            elif kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise self._fatal(event, "the file holds more than one YAML document", _MULTI_DOC_HINT)
            elif kind is yaml.StreamEndEvent:
                return

    # -- containers

    def _open(self, event: Any, value: Any) -> None:
        if len(self.stack) >= MAX_DEPTH:
            raise self._fatal(event, f"the data is nested more than {MAX_DEPTH} levels deep")
        expected = MAP if isinstance(value, dict) else SEQ
        if event.tag not in (None, "!", expected):
            self._problem(event, f"the tag '{_short_tag(event.tag)}' is not allowed", _TAG_HINT)
        path = self._add(value, 0, event)
        if event.anchor is not None:
            self.open_anchors.add(event.anchor)
        in_list = bool(self.stack) and type(self.stack[-1].value) is list and type(value) is dict
        self.stack.append(_Frame(value, path, event.anchor, in_list=in_list))

    def _close(self) -> None:
        frame = self.stack.pop()
        if self.stack:
            self.stack[-1].size += frame.size
        if frame.anchor is not None:
            self.open_anchors.discard(frame.anchor)
            self.anchors[frame.anchor] = (frame.value, frame.size)

    def _alias(self, event: Any) -> None:
        if event.anchor in self.open_anchors:
            raise self._fatal(event, "an alias refers to a value that contains it (a recursive alias)")
        if event.anchor not in self.anchors:
            raise self._fatal(
                event,
                f"the alias *{event.anchor} has no anchor &{event.anchor} before it",
                "define the anchor (&name) before the alias (*name) that uses it",
            )
        value, size = self.anchors[event.anchor]
        self.alias_expansion += size
        if self.alias_expansion > MAX_ALIAS_EXPANSION:
            raise self._fatal(
                event,
                f"aliases expand to more than {MAX_ALIAS_EXPANSION:,} values; this looks like an alias bomb",
                "write the values out, or use far fewer aliases",
            )
        self._add(value, size, event)

    def _register(self, anchor: str | None, value: Any, size: int) -> None:
        if anchor is not None:
            self.anchors[anchor] = (value, size)

    def _add(self, value: Any, size: int, event: Any) -> Path:
        """Places a value in the open container (as a key, if a mapping waits for one); returns its path."""
        self._last_value = value
        if not self.stack:
            self.root = value
            if self.record:
                self.positions.values[()] = (event.start_mark.line + 1, event.start_mark.column + 1)
            return ()
        frame = self.stack[-1]
        frame.size += size
        container = frame.value
        if type(container) is list:
            path = (*frame.path, len(container)) if self.record else frame.path
            container.append(value)
        elif frame.key_mark is None:
            key = self._key(value, event, frame)
            frame = self.stack[-1]  # a record missing its '- ' has just been started as a new one
            frame.key, frame.key_mark = key, event.start_mark
            return frame.path
        else:
            key, frame.key_mark = frame.key, None
            path = (*frame.path, key) if self.record else frame.path
            if key is not _NO_KEY:
                container[key] = value
        if self.record:
            self.positions.values[path] = (event.start_mark.line + 1, event.start_mark.column + 1)
        return path

    def _key(self, key: Any, event: Any, frame: _Frame) -> Any:
        if type(event) is not yaml.ScalarEvent:
            self._problem(event, "a key must be plain text, not a list, a mapping or an alias")
            return _NO_KEY
        text = event.value
        if text == "<<" and event.style in ("", None):
            self._problem(event, "merge keys ('<<') are not supported", _MERGE_HINT)
            return _NO_KEY
        if text in frame.key_lines and frame.in_list and text == next(iter(frame.key_lines)):
            # The record's first key again: the next record, written without its '- '. Reading it as one keeps
            # its fields (and what refers to it) instead of reporting each as a duplicate to delete.
            self._problem(
                event,
                f"'{text}:' starts another record, but without '- ' it reads as more fields of the record "
                f"on line {frame.key_lines[text]}",
                f"write '- {text}:' here, with the '- ' where the records above have theirs",
            )
            frame = self._next_record(event)
        elif text in frame.key_lines:
            self._problem(
                event,
                f"duplicate key '{clip(text)}' (first written on line {frame.key_lines[text]})",
                "YAML keeps only one value per key: merge the two lines into one that says what both mean",
            )
            return _NO_KEY
        frame.key_lines[text] = event.start_mark.line + 1
        if self.record:
            mark = event.start_mark
            self.positions.keys[(*frame.path, text)] = (mark.line + 1, mark.column + 1)
        return text

    def _next_record(self, event: Any) -> _Frame:
        """Closes the record on top of the stack and opens the next one in the same list."""
        records = self.stack[-2]
        self._close()
        records.value.append(record := {})
        path = (*records.path, len(records.value) - 1) if self.record else records.path
        if self.record:
            self.positions.values[path] = (event.start_mark.line + 1, event.start_mark.column + 1)
        self.stack.append(frame := _Frame(record, path, None, in_list=True))
        return frame

    # -- scalars

    def _scalar(self, event: Any) -> Any:
        text, tag = event.value, event.tag
        if tag is None or tag == "!":
            tag = resolve_plain(text) if event.implicit[0] else STR
        try:
            if tag == STR:
                return text
            if tag == INT:
                return int(text, 0)
            if tag == FLOAT:
                return _float(text)
            if tag == BOOL:
                return _bool(text)
            if tag == NULL and text in ("", "~", "null", "Null", "NULL"):
                return None
        except ValueError:
            message = f"'{clip(text)}' cannot be read as {_short_tag(tag)}"
            self._problem(event, message, "remove the tag or fix the value")
            return text
        self._problem(event, f"the tag '{_short_tag(tag)}' is not allowed", _TAG_HINT)
        return None

    # -- problems

    def _fatal(self, event: Any, message: str, hint: str = "") -> YamlLoadError:
        mark = event.start_mark
        return YamlLoadError(Problem(self.display_path, mark.line + 1, mark.column + 1, message, hint))

    def _problem(self, event: Any, message: str, hint: str = "") -> None:
        mark = event.start_mark
        self.problems.append(Problem(self.display_path, mark.line + 1, mark.column + 1, message, hint))


_MULTI_DOC_HINT = "a data file holds one document: remove the extra '---' line"
_MERGE_HINT = "write the fields out; merge keys belong to YAML 1.1 and hide where a value comes from"


_TAG_HINT = "data files hold plain text, numbers, true/false, lists and mappings only"


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag


def _float(text: str) -> float:
    lowered = text.lower()
    if lowered.endswith(".inf"):
        return float("-inf") if lowered.startswith("-") else float("inf")
    if lowered == ".nan":
        return float("nan")
    return float(text)


def _bool(text: str) -> bool:
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    raise ValueError(text)
