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

from generator.errors import Problem, YamlLoadError

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

    @property
    def positions(self) -> SourceMap:
        if self._positions is None:
            self._positions = _Builder(self.text, self.display_path, record_positions=True).run().positions
        return self._positions


def load_yaml_bytes(raw: bytes, display_path: str) -> Document:
    """Decode a file's bytes as UTF-8 and load it strictly; raises YamlLoadError on the first fatal problem."""
    text = _decode(raw, display_path)
    if all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()):
        raise YamlLoadError(
            Problem(display_path, 1, 1, "the file is empty", "write the collections this file holds, or delete it")
        )
    return load_yaml(text, display_path)


def load_yaml(text: str, display_path: str) -> Document:
    built = _Builder(text, display_path, record_positions=False).run()
    return Document(built.data, built.problems, text, display_path)


def _decode(raw: bytes, display_path: str) -> str:
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
)


def _syntax_problem(err: yaml.MarkedYAMLError, text: str, display_path: str) -> Problem:
    mark = err.problem_mark or err.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    what = " ".join(part for part in (err.context, err.problem) if part)
    if mark and _char_at(text, mark.line, mark.column) == "\t":  # libyaml does not name the character
        return Problem(display_path, line, column, "YAML syntax error: a tab character", _TAB_HINT)
    hint = next((hint for needle, hint in _SYNTAX_HINTS if needle in what), "")
    return Problem(display_path, line, column, f"YAML syntax error: {what}", hint)


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.split("\n")
    return lines[line][column : column + 1] if line < len(lines) else ""


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


_NO_KEY = object()


class _Built:
    def __init__(self, data: Any, problems: list[Problem], positions: SourceMap) -> None:
        self.data, self.problems, self.positions = data, problems, positions


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
        return _Built(self.root, self.problems, self.positions)

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
        self.stack.append(_Frame(value, path, event.anchor))

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
            frame.key, frame.key_mark = self._key(value, event, frame), event.start_mark
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
        if text in frame.key_lines:
            self._problem(
                event,
                f"duplicate key '{text}' (first written on line {frame.key_lines[text]})",
                "remove one of the two; YAML would silently keep only the last one",
            )
            return _NO_KEY
        frame.key_lines[text] = event.start_mark.line + 1
        if self.record:
            mark = event.start_mark
            self.positions.keys[(*frame.path, text)] = (mark.line + 1, mark.column + 1)
        return text

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
            self._problem(event, f"'{text}' cannot be read as {_short_tag(tag)}", "remove the tag or fix the value")
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
