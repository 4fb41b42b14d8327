"""Reads the data folder: one strict YAML document per known file, gathered into a catalogue.

Nothing here stops at the first mistake: every file is read, and what is wrong with each becomes a Problem.
"""

from __future__ import annotations

import difflib
import json
import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.confine import excerpt, links_leaving
from generator.errors import Problem, UsageError, YamlLoadError
from generator.model import COLLECTION_BY_NAME, DATA_FILES, SCHEMA_URL, Catalogue, collections_in
from generator.yamlsafe import Document, load_yaml_bytes

MODELINE_PREFIX = "# yaml-language-server: $schema="


@dataclass
class DataFile:
    stem: str
    path: Path
    display: str
    document: Document | None = None


@dataclass
class LoadedData:
    """The catalogue, the files it came from, and what went wrong while reading them."""

    files: dict[str, DataFile]
    catalogue: Catalogue
    problems: list[Problem] = field(default_factory=list)
    #: Collections whose file could not be read: references into them cannot be judged.
    unavailable: set[str] = field(default_factory=set)

    def locate(self, collection: str, index: int, subpath: tuple[Any, ...] = (), *, key: bool = False) -> Problem:
        """A Problem skeleton (path, line, column) for a field of the index-th record of a collection."""
        data_file = self.files[_file_of(collection)]
        positions = data_file.document.positions if data_file.document else None
        path = (collection, index, *subpath)
        if positions is None:
            line, column = 1, 1
        elif key:
            line, column = positions.locate_key(path)
        else:
            line, column = positions.locate(path)
        return Problem(data_file.display, line, column, "")


def _file_of(collection: str) -> str:
    return COLLECTION_BY_NAME[collection].file


def display_path(path: Path) -> str:
    """A path as a contributor would type it: relative to the current folder, unless it was given as an absolute
    path outside it (`/srv/data` should not come back as `../../../srv/data`)."""
    relative = os.path.relpath(path)
    if path.is_absolute() and relative.split(os.sep, 1)[0] == os.pardir:
        return str(path)
    return relative


def load_data(data_dir: Path) -> LoadedData:
    if not data_dir.is_dir():
        raise UsageError(f"data folder not found: {display_path(data_dir)}")
    files = {
        stem: DataFile(stem, data_dir / f"{stem}.yml", display_path(data_dir / f"{stem}.yml")) for stem in DATA_FILES
    }
    loaded = LoadedData(files, Catalogue())
    # A data file that links out of the project (to /etc/passwd, say) is never read: its text would be echoed.
    leaving = links_leaving([data_dir], data_dir.absolute().parent)
    loaded.problems.extend(leaving)
    refused = {problem.path for problem in leaving}
    if display_path(data_dir) in refused:
        loaded.unavailable.update(collection.name for stem in DATA_FILES for collection in collections_in(stem))
        return loaded
    loaded.problems.extend(_unknown_files(data_dir))
    for data_file in files.values():
        if data_file.display in refused:
            loaded.unavailable.update(collection.name for collection in collections_in(data_file.stem))
            continue
        _read(data_file, loaded)
    return loaded


def _unknown_files(data_dir: Path) -> list[Problem]:
    known = {f"{stem}.yml" for stem in DATA_FILES}
    problems = []
    for path in sorted([*data_dir.glob("*.yml"), *data_dir.glob("*.yaml")]):
        if path.name in known:
            continue
        close = difflib.get_close_matches(path.name, sorted(known), n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"data files are: {', '.join(sorted(known))}"
        problems.append(
            Problem(display_path(path), 1, 1, f"'{path.name}' is not a data file this playbook knows", hint)
        )
    return problems


def _read(data_file: DataFile, loaded: LoadedData) -> None:
    names = [collection.name for collection in collections_in(data_file.stem)]
    if not data_file.path.is_file():
        loaded.unavailable.update(names)
        loaded.problems.append(
            Problem(
                data_file.display,
                1,
                1,
                "the data file is missing",
                f"create it with the collections {', '.join(names)}",
            )
        )
        return
    raw = data_file.path.read_bytes()
    try:
        document = load_yaml_bytes(raw, data_file.display)
    except YamlLoadError as err:
        loaded.unavailable.update(names)
        loaded.problems.append(err.problem)
        return
    data_file.document = document
    loaded.problems.extend(document.problems)
    loaded.problems.extend(_modeline_problems(raw, data_file))
    if not isinstance(document.data, dict):
        loaded.unavailable.update(names)
        loaded.problems.append(
            Problem(
                data_file.display,
                1,
                1,
                f"the file must be a mapping of collections, not {type_name(document.data)}",
                f"start the file with '{names[0]}:' and list the records under it",
            )
        )
        return
    for name in names:
        records = document.data.get(name)
        if isinstance(records, list):
            loaded.catalogue.collections[name] = [record for record in records if isinstance(record, dict)]


def _modeline_problems(raw: bytes, data_file: DataFile) -> list[Problem]:
    first_line = raw.split(b"\n", 1)[0].decode("utf-8", "replace").removeprefix("\ufeff").rstrip()
    expected = f"{data_file.stem}.schema.json"
    if first_line.startswith(MODELINE_PREFIX) and first_line.endswith(expected):
        return []
    return [
        Problem(
            data_file.display,
            1,
            1,
            f"the first line must point editors at {expected}",
            f"make line 1: {MODELINE_PREFIX}{SCHEMA_URL}{expected}",
        )
    ]


def type_name(value: Any) -> str:
    """How a value's type reads to someone who wrote YAML, not Python."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return f"true/false ({str(value).lower()})"
    if isinstance(value, int):
        return f"a number ({excerpt(str(value))})"
    if isinstance(value, float):
        return f"a decimal number ({value})"
    if isinstance(value, str):
        return f"text ('{excerpt(value)}')"  # a whole file may be one string: quote only its start
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def field_label(path: tuple[Any, ...]) -> str:
    """`tasks[3].owner`: a path into a file, as a contributor would look for it."""
    if not path:
        return ""
    text = str(path[0])
    for step in path[1:]:
        text += f"[{step}]" if isinstance(step, int) else f".{step}"
    return text


def show_value(value: Any) -> str:
    """A value as it would be written in YAML: text in quotes, numbers and lists as they are.

    Characters a reader cannot see (a non-breaking space, a line break) are shown escaped and named, so
    `'frp\\xa0' (with a non-breaking space)` does not read as `'frp '` next to "did you mean 'frp'?".
    """
    if not isinstance(value, str):
        return excerpt(json.dumps(value, ensure_ascii=False, default=str))
    hidden = invisible_characters(value)
    if not hidden:
        return f"'{excerpt(value)}'"
    shown = "".join(_escaped(char) if char in hidden else char for char in value)  # printable: excerpt only cuts
    return f"'{excerpt(shown)}' (with {_and(sorted({_name(char) for char in hidden}))})"


#: Names a contributor knows; the rest are named by Unicode.
_INVISIBLE_NAMES = {
    "\n": "a line break",
    "\r": "a carriage return",
    "\t": "a tab",
    "\xa0": "a non-breaking space",
    "\u200b": "a zero-width space",
    "\u200c": "a zero-width non-joiner",
    "\u200d": "a zero-width joiner",
    "\u2060": "a word joiner",
    "\ufeff": "a byte-order mark",
    "\xad": "a soft hyphen",
    "\u202f": "a narrow non-breaking space",
    "\u2028": "a line separator",
    "\u2029": "a paragraph separator",
}


def invisible_characters(text: str) -> set[str]:
    """The characters of `text` that do not show as what they are: controls, format marks, spaces other than
    the plain one, separators, unassigned code points."""
    if text.isprintable():
        return set()  # the common case, decided in one call
    return {char for char in text if not char.isprintable()}


def _escaped(char: str) -> str:
    return char.encode("unicode_escape").decode("ascii")


def _name(char: str) -> str:
    if char in _INVISIBLE_NAMES:
        return _INVISIBLE_NAMES[char]
    name = unicodedata.name(char, "")
    return f"a {name.lower()}" if name else f"the character U+{ord(char):04X}"


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
