"""The data as downloads: one JSON and one CSV file per collection, for people who work in spreadsheets.

Columns follow the schema's field order, so they are stable however the YAML is written; a CSV cell holds a list
of plain values joined by "; ", and anything more structured (links, limits, a task per source) as JSON.

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return before one) as a
formula, so a title from a pull request could fetch a URL or run a command on the reader's machine. Such a text cell
is written with a leading apostrophe, the mark spreadsheets read as "this is text"; so is a cell that starts with an
apostrophe already, so a reader can always drop exactly one (the downloads page says so).
"""

from __future__ import annotations

import csv
import io
import json
import operator
from dataclasses import dataclass
from typing import Any

from generator.data.model import COLLECTIONS, Catalogue, Collection
from generator.data.schema_check import read_schema

FOLDER = "downloads"


def columns(collection: str, file: str) -> list[str]:
    schema = read_schema(f"{file}.schema.json")
    return list(schema["properties"][collection]["items"]["properties"])


def export_files(catalogue: Catalogue) -> dict[str, str]:
    """File name (under the downloads folder) → content, for every collection."""
    return Exporter().files(catalogue)


class Exporter:
    """The downloads of a catalogue, for one build or for one that changes a record at a time (the live
    preview's): each record's JSON (as `json.dumps` of the whole list, indented by 2, writes it) and CSV row is
    kept, and only records that hold something new are written out again.

    After an edit, the data is read again. Where only the edited record was parsed again (data/yamlsplice), the
    others are the very objects exported last time, and nothing reads a record to change it: a record at the same
    place, the same object, is the same record. Any other is known again by its `repr`, which holds every key, in
    order, and every value with its type, all that its JSON and its row are made of (a tenth of a second for
    5,000 tasks: the live preview's passes do without it)."""

    def __init__(self) -> None:
        #: By collection, what the last export wrote: its records (held, so the same object is the same record),
        #: each record's `repr`, its parts, and the two files.
        self._last: dict[str, _Exported] = {}

    def files(self, catalogue: Catalogue) -> dict[str, str]:
        files: dict[str, str] = {}
        last: dict[str, _Exported] = {}
        for collection in COLLECTIONS:
            records = catalogue.records(collection.name)
            exported = last[collection.name] = self._export(collection, records, self._last.get(collection.name))
            files[f"{collection.name}.json"], files[f"{collection.name}.csv"] = exported.files
        self._last = last  # this catalogue's records: no more is kept
        return files

    def _export(self, collection: Collection, records: list[dict[str, Any]], before: _Exported | None) -> _Exported:
        same = [False] * len(records)
        if before is not None and len(before.records) == len(records):
            same = list(map(operator.is_, before.records, records))
            if all(same):
                return before
        fields = columns(collection.name, collection.file)
        by_repr = dict(zip(before.keys, before.parts, strict=True)) if before is not None else {}
        keys, parts = [], []
        for index, record in enumerate(records):
            if same[index]:
                assert before is not None
                key, part = before.keys[index], before.parts[index]
            else:
                key = repr(record)
                part = by_repr.get(key) or _parts(record, fields)
                by_repr[key] = part
            keys.append(key)
            parts.append(part)
        json_items = ",\n  ".join(part[0] for part in parts)
        as_json = (f"[\n  {json_items}\n]" if parts else "[]") + "\n"
        as_csv = _csv_row(fields) + "".join(part[1] for part in parts)
        return _Exported(list(records), keys, parts, (as_json, as_csv))


@dataclass(frozen=True)
class _Exported:
    records: list[dict[str, Any]]
    keys: list[str]
    #: Each record's JSON (indented as an item of its list) and CSV row.
    parts: list[tuple[str, str]]
    files: tuple[str, str]


def _parts(record: dict[str, Any], fields: list[str]) -> tuple[str, str]:
    as_json = json.dumps(record, indent=2, ensure_ascii=False).replace("\n", "\n  ")
    return as_json, _csv_row([_cell(record.get(field)) for field in fields])


def _csv_row(cells: list[str]) -> str:
    buffer = io.StringIO()
    # RFC 4180's CRLF: the csv module quotes a field holding a line terminator's character, so with CRLF a lone
    # carriage return in a value is quoted too; with "\n" it was not, and a spreadsheet started a new row there.
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue()


#: What a spreadsheet takes for the start of a formula (OWASP's list), and the apostrophe that marks text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


def _cell(value: Any) -> str:
    text = _plain_cell(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return text  # a number is a number, even a negative one
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _plain_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list) and all(isinstance(item, (str, int, float)) for item in value):
        return "; ".join(str(item) for item in value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)
