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
from typing import Any

from generator.data.model import COLLECTIONS, Catalogue
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
    kept, by what the record holds, and only records that hold something new are written out again.

    The data is read afresh after each edit, every record a new object: a record is known again by its `repr`,
    which holds every key, in order, and every value with its type, all that its JSON and its row are made of."""

    def __init__(self) -> None:
        self._written: dict[tuple[str, str], tuple[str, str]] = {}

    def files(self, catalogue: Catalogue, only: set[str] | None = None) -> dict[str, str]:
        files: dict[str, str] = {}
        written: dict[tuple[str, str], tuple[str, str]] = {}
        for collection in COLLECTIONS:
            if only is not None and collection.name not in only:
                continue
            fields = columns(collection.name, collection.file)
            records = catalogue.records(collection.name)
            parts = [self._parts(collection.name, record, fields, written) for record in records]
            json_items = ",\n  ".join(part[0] for part in parts)
            files[f"{collection.name}.json"] = (f"[\n  {json_items}\n]" if parts else "[]") + "\n"
            files[f"{collection.name}.csv"] = _csv_row(fields) + "".join(part[1] for part in parts)
        self._written = written  # the records of the collections written this time: no more is kept
        return files

    def _parts(
        self,
        collection: str,
        record: dict[str, Any],
        fields: list[str],
        written: dict[tuple[str, str], tuple[str, str]],
    ) -> tuple[str, str]:
        key = (collection, repr(record))
        parts = self._written.get(key) or written.get(key)
        if parts is None:
            as_json = json.dumps(record, indent=2, ensure_ascii=False).replace("\n", "\n  ")
            parts = (as_json, _csv_row([_cell(record.get(field)) for field in fields]))
        written[key] = parts
        return parts


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
