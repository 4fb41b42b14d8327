"""Checks each data file against its JSON Schema and words every failure for a contributor.

The schemas are the contract editors see too (each data file's first line points at one); this module only
translates the validator's findings into `path:line:col` problems with a hint, in words about YAML, not Python.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cache
from importlib.resources import files
from typing import Any

import jsonschema_rs

from generator.data.loader import DataFile, LoadedData, field_label, invisible_characters, show_value, type_name
from generator.data.model import DATA_FILES
from generator.data.yamlsafe import SMART_QUOTE_HINT, SMART_QUOTES
from generator.errors import Problem

SCHEMA_SUFFIX = ".schema.json"
COMMON_SCHEMA = f"common{SCHEMA_SUFFIX}"
#: Our keyword for a number field that must be written as a whole number: JSON Schema's "integer" also
#: accepts 1699.0, which YAML reads as a decimal number, and which Python then takes for the task 1699.
WRITTEN_AS_INTEGER = "x-written-as-integer"


class _WrittenAsInteger:
    """Refuses a decimal number (1699.0) where the schema asks for a whole number written as one."""

    def __init__(self, parent_schema: dict[str, Any], value: Any, schema_path: list[str | int]) -> None:
        self.enabled = value is True

    def validate(self, instance: Any) -> None:
        if self.enabled and isinstance(instance, float) and instance.is_integer():  # 1699.5 fails "integer"
            raise ValueError("a decimal number where a whole number is expected")


def schema_names() -> list[str]:
    return [f"{stem}{SCHEMA_SUFFIX}" for stem in DATA_FILES] + [COMMON_SCHEMA]


@cache
def read_schema(name: str) -> dict[str, Any]:
    return json.loads((files("generator") / "schemas" / name).read_text(encoding="utf-8"))


@cache
def validator_for(stem: str) -> jsonschema_rs.Draft202012Validator:
    """A compiled validator; `common.schema.json` is found by its `$id`, as an editor finds it online."""
    registry = jsonschema_rs.Registry([(read_schema(name)["$id"], read_schema(name)) for name in schema_names()])
    return jsonschema_rs.Draft202012Validator(
        read_schema(f"{stem}{SCHEMA_SUFFIX}"), registry=registry, keywords={WRITTEN_AS_INTEGER: _WrittenAsInteger}
    )


def check_schemas(loaded: LoadedData) -> list[Problem]:
    """Each file's problems; a file the loader kept from the last load (its bytes unchanged) is not checked again."""
    problems: list[Problem] = []
    for data_file in loaded.files.values():
        document = data_file.document
        if document is None or not isinstance(document.data, dict):
            continue
        if data_file.schema_problems is None:
            data_file.schema_problems = _check_file(data_file)
        problems.extend(data_file.schema_problems)
    return problems


def _check_file(data_file: DataFile) -> list[Problem]:
    document = data_file.document
    assert document is not None
    hidden = {(problem.record, problem.field): problem for problem in _fields_in_block_text(data_file)}
    problems = [problem.problem for problem in hidden.values()]
    for error in validator_for(data_file.stem).iter_errors(document.data):
        for problem in _describe(error, data_file):
            swallowed = hidden.get((tuple(error.instance_path), getattr(error.kind, "property", None)))
            problems.append(replace(problem, cause=swallowed.problem.place) if swallowed else problem)
    return problems


@dataclass(frozen=True)
class _HiddenField:
    record: tuple[Any, ...]
    field: str
    problem: Problem


# A field whose value is a `>` or `|` block of text: `summary: >-`, `- note: |`. The indicator is searched for
# first: a pattern that starts at every line's start is ten times slower on a large file.
_BLOCK_INDICATOR = re.compile(r":[ \t]+[|>][-+0-9]*[ \t]*(?:#.*)?$", re.M)
_BLOCK_START = re.compile(r"( *(?:- )?)([A-Za-z_][A-Za-z0-9_]*):[ \t]+[|>][-+0-9]*[ \t]*(?:#.*)?$", re.M)
_FIELD_LINE = re.compile(r"^( *)([A-Za-z_][A-Za-z0-9_]*):(?:[ \t]|$)")


def _fields_in_block_text(data_file: DataFile) -> list[_HiddenField]:
    """Lines of a `>` or `|` block that read as a field of the record: indented like the text, they became part
    of it, and the field silently vanished from the record (`summary: >-` then `if_applicable: true`).

    The text is searched, not the data (blocks are few; records run to thousands), and the positions are
    computed only when such a line turns up."""
    document = data_file.document
    assert document is not None and isinstance(document.data, dict)
    text = document.text
    fields = {name: _record_fields(data_file.stem, name) for name in document.data}
    known = set().union(*fields.values())
    found: list[_HiddenField] = []
    line, counted = 1, 0
    for indicator in _BLOCK_INDICATOR.finditer(text):
        block = _BLOCK_START.match(text, text.rfind("\n", 0, indicator.start()) + 1)
        if block is None or block.end() != indicator.end():
            continue  # a colon inside a value, not a field's
        line += text.count("\n", counted, block.start())
        counted = block.start()
        key_indent = len(block.group(1))
        for number, row in _lines_after(text, block.end(), line + 1):
            if row.strip() and len(row) - len(row.lstrip(" ")) <= key_indent:
                break  # the block ended
            match = _FIELD_LINE.match(row)
            if match and match.group(2) in known:
                hidden = _hidden_field(data_file, fields, (line, key_indent + 1), (number, match))
                found.extend([hidden] if hidden else [])
    return found


def _lines_after(text: str, position: int, number: int) -> Iterator[tuple[int, str]]:
    """(line number, line) of each line after the one that ends at `position`."""
    while position < len(text):
        end = text.find("\n", position + 1)
        end = len(text) if end < 0 else end
        yield number, text[position + 1 : end]
        position, number = end, number + 1


def _hidden_field(
    data_file: DataFile, fields: dict[str, set[str]], key_at: tuple[int, int], row: tuple[int, re.Match[str]]
) -> _HiddenField | None:
    document = data_file.document
    assert document is not None
    path = next((path for path, place in document.positions.keys.items() if place == key_at), None)
    number, match = row
    name = match.group(2)
    if path is None or len(path) != 3 or name not in fields.get(path[0], ()):
        return None  # not a field of a record, or not one of that record's fields
    record, key = path[:2], path[2]
    message = (
        f"{field_label(path)}: '{name}:' is indented into the block of text above, so it is text, not the field "
        f"'{name}'"
    )
    hint = f"dedent '{name}:' to line up with '{key}:' (column {key_at[1]})"
    return _HiddenField(record, name, Problem(data_file.display, number, len(match.group(1)) + 1, message, hint))


def _record_fields(stem: str, collection: str) -> set[str]:
    items = read_schema(f"{stem}{SCHEMA_SUFFIX}").get("properties", {}).get(collection, {}).get("items", {})
    return set(items.get("properties", {})) if isinstance(items, dict) else set()


def _describe(error: jsonschema_rs.ValidationError, data_file: DataFile) -> list[Problem]:
    """One or more problems for a validator error (an unexpected-fields error names each field)."""
    path = tuple(error.instance_path)
    kind = error.kind.name
    schema = _subschema(data_file.stem, list(error.schema_path)[:-1])
    if kind == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(schema.get("properties", {}))
        return [_unknown_field(data_file, path, key, allowed) for key in error.instance if key not in allowed]
    message, hint = _wording(kind, error, schema)
    return [_at(data_file, path, f"{_where(path)}{message}", hint, key=kind == "required")]


def _subschema(stem: str, schema_path: list[str | int]) -> dict[str, Any]:
    """The schema object holding the failed keyword. Paths that start at `$defs` are in the shared schema,
    since every `$ref` of ours points there."""
    node: Any = read_schema(COMMON_SCHEMA if schema_path[:1] == ["$defs"] else f"{stem}{SCHEMA_SUFFIX}")
    for step in schema_path:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return {}
    return node if isinstance(node, dict) else {}


def _at(data_file: DataFile, path: tuple[Any, ...], message: str, hint: str, *, key: bool = False) -> Problem:
    positions = data_file.document.positions  # type: ignore[union-attr]
    line, column = positions.locate_key(path) if key and path else positions.locate(path)
    return Problem(data_file.display, line, column, message, hint)


def _where(path: tuple[Any, ...]) -> str:
    return f"{field_label(path)}: " if path else ""


def _unknown_field(data_file: DataFile, path: tuple[Any, ...], key: str, allowed: list[str]) -> Problem:
    what = "collection" if not path else "field"
    close = difflib.get_close_matches(key, allowed, n=1)
    if key == "<<":
        hint = "merge keys are not supported; write the fields out"
    elif close:
        hint = f"did you mean '{close[0]}'?"
    else:
        hint = f"allowed: {', '.join(allowed)}"
    return _at(data_file, (*path, key), f"{_where(path)}unknown {what} {show_value(key)}", hint, key=True)


_TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "empty",
}


def _wording(kind: str, error: jsonschema_rs.ValidationError, schema: dict[str, Any]) -> tuple[str, str]:
    """The message and hint for one failed keyword."""
    value, hint = error.instance, str(schema.get("x-hint", ""))
    if kind == "required":
        name = error.kind.property
        return f"the required field '{name}' is missing", f"add '{name}:' to this record"
    if kind == "type":
        return _type_wording(schema.get("type"), value, hint)
    if kind == "enum":
        options = [str(option) for option in schema.get("enum", [])]
        close = difflib.get_close_matches(str(value), options, n=1)
        suggestion = f"did you mean '{close[0]}'?" if close else ""
        return f"{show_value(value)} is not one of: {', '.join(options)}", suggestion
    if kind in ("pattern", "minLength") and isinstance(value, str) and not value.strip():
        return "must not be empty", "write the text, or remove the field if it is optional"
    if kind == "pattern":
        return f"{show_value(value)} is not in the expected form", _pattern_hint(value, hint)
    if kind == "maxLength":
        return f"is {len(value):,} characters long; at most {schema.get('maxLength'):,} are allowed", hint
    if kind == "maximum":
        return f"{show_value(value)} is above the maximum of {schema.get('maximum'):,}", hint
    if kind == WRITTEN_AS_INTEGER:
        return (
            f"must be a whole number, not a decimal number ({value})",
            f"write {value:.0f} without the decimal point; YAML reads {value} as a different kind of number",
        )
    if kind == "minItems":
        return "must not be an empty list", hint or "add an item, or remove the field"
    if kind == "minProperties":
        return "must not be empty", "add an entry, or remove the field"
    if kind == "uniqueItems":
        return _duplicate_items(value)
    if kind == "minimum":
        return f"{show_value(value)} is below the minimum of {schema.get('minimum')}", hint
    if kind == "propertyNames":
        return f"{show_value(value)} has a key that is not allowed", hint
    return error.message, hint


def _pattern_hint(value: Any, hint: str) -> str:
    if isinstance(value, str) and any(quote in value for quote in SMART_QUOTES):
        return SMART_QUOTE_HINT
    if isinstance(value, str) and invisible_characters(value):
        return "delete the characters shown escaped; they are invisible in most editors"
    return hint


def _type_wording(expected: Any, value: Any, hint: str) -> tuple[str, str]:
    wanted = " or ".join(
        _TYPE_WORDS.get(name, name) for name in ([expected] if isinstance(expected, str) else expected)
    )
    message = f"must be {wanted}, not {type_name(value)}"
    if (expected == "string" and isinstance(value, (bool, int, float))) or (expected == "string" and value is None):
        return message, "put the value in quotes to keep it as text"
    if expected == "array" and value is None:
        return message, "list the records under it, each starting with '- '"
    if expected == "array" and isinstance(value, (str, int)):
        return message, f"write it as a list, even of one item: [{value}]"
    if expected == "boolean" and isinstance(value, str):
        return message, "write true or false; yes, no, on and off are plain text in YAML 1.2"
    if expected == "integer" and isinstance(value, str) and value.isdigit():
        return message, "write the number without quotes or leading zeros"
    return message, hint


def _duplicate_items(value: Any) -> tuple[str, str]:
    seen: list[Any] = []
    for item in value:
        if item in seen:
            return f"lists {show_value(item)} more than once", "remove the repeated item"
        seen.append(item)
    return "lists the same item more than once", "remove the repeated item"
