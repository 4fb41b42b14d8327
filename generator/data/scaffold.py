"""`playbook new`: append a valid record to a data file without disturbing anything else in it.

The record is written as text at the end of its collection's block, indented like the records above it, so the
file's comments, blank lines and formatting stay exactly as they were (a YAML round trip would reflow them).
The whole data folder is validated with the new text before the file is replaced, in one rename.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from generator.data.loader import display_path
from generator.data.model import COLLECTION_BY_NAME, Catalogue
from generator.data.validate import load_valid_catalogue, validate_data
from generator.errors import DataError, Problem, UsageError, one_line

#: What `playbook new KIND` adds to.
KINDS = {"task": "tasks", "option": "options", "role": "roles"}
_TOP_LEVEL_KEY = re.compile(r"^[^\s#-][^:]*:")


def next_task_id(catalogue: Catalogue) -> int:
    return max((task["id"] for task in catalogue.records("tasks")), default=0) + 1


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:64].strip("-")


def usual_source_page(catalogue: Catalogue, collection: str) -> str:
    """The source page most records of the collection cite: the likeliest for a new one."""
    cited = Counter(page for record in catalogue.records(collection) for page in record.get("source_pages", []))
    if cited:
        return cited.most_common(1)[0][0]
    return catalogue.records("source_pages")[0]["id"]


def insert_record(text: str, collection: str, record: dict[str, Any]) -> tuple[str, int]:
    """`text` with `record` appended to the block of `collection`; and the line the record starts on.

    The record's lines end as the file's lines do (CRLF or LF)."""
    newline = "\r\n" if "\r\n" in text.split("\n", 1)[0] + "\n" else "\n"
    lines = text.splitlines(keepends=True)
    start = next((n for n, line in enumerate(lines) if re.match(rf"^{re.escape(collection)}:", line)), None)
    if start is None:
        raise UsageError(f"the file has no top-level '{collection}:'")
    end = next((n for n in range(start + 1, len(lines)) if _TOP_LEVEL_KEY.match(lines[n])), len(lines))
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1  # keep the blank lines that separate this block from the next
    items = [re.match(r"^(\s*)- ", line) for line in lines[start + 1 : end]]
    indent = next((match.group(1) for match in items if match), "  ")
    if lines[start].split(":", 1)[1].strip() == "[]":
        lines[start] = f"{collection}:{newline}"  # an empty flow list becomes a block that can take items
    if end == len(lines) and lines and not lines[-1].endswith("\n"):
        lines[-1] += newline
    dumped = yaml.safe_dump([record], sort_keys=False, allow_unicode=True, default_flow_style=None, width=116)
    block = "".join(indent + line + newline if line.strip() else newline for line in dumped.splitlines())
    return "".join([*lines[:end], block, *lines[end:]]), end + 1


def add_record(data_dir: Path, kind: str, record: dict[str, Any]) -> tuple[Path, int]:
    """Append `record` to its data file if the data stays valid; returns the file and the record's line."""
    collection = KINDS[kind]
    path = data_dir / f"{COLLECTION_BY_NAME[collection].file}.yml"
    text, line = insert_record(path.read_bytes().decode("utf-8"), collection, record)
    with tempfile.TemporaryDirectory() as scratch:
        trial = Path(scratch) / data_dir.name
        shutil.copytree(data_dir, trial)
        (trial / path.name).write_bytes(text.encode("utf-8"))
        validation = validate_data(trial)
        if not validation.ok:  # reported against the real file, where the contributor will look
            shown, real = display_path(trial), display_path(data_dir)
            problems = [replace(p, path=real + p.path[len(shown) :]) for p in validation.problems]
            _refuse_flags(problems, display_path(path), _field_lines(text, line), kind)
            raise DataError(problems)
    handle, partial = tempfile.mkstemp(prefix=f".{path.name}.", dir=data_dir)
    with os.fdopen(handle, "wb") as out:
        out.write(text.encode("utf-8"))
    shutil.copymode(path, partial)
    os.replace(partial, path)
    return path, line


#: The option of `playbook new` that sets each field, where it is not the field's name.
_FLAGS = {"sources": "--source", "prerequisites": "--prerequisite", "source_pages": "--source-page"}
_FLAGS_OF_OPTIONS = {"lifecycle_phases": "--phase"}
_FIELD_LABEL = re.compile(r"^[a-z_]+\[\d+\][^:\s]*: ")  # `tasks[29].owner: ` before what is wrong with it
_FIELD_START = re.compile(r"^\s*(?:- )?([a-z_]+):")


def _field_lines(text: str, first_line: int) -> dict[int, str]:
    """Line number -> the field of the new record written on it (continuation lines included)."""
    lines, fields, current = text.splitlines(), {}, ""
    for number in range(first_line, len(lines) + 1):
        line = lines[number - 1]
        if number > first_line and (not line.strip() or re.match(r"^\s*- ", line) or not line.startswith(" ")):
            break  # the next record, or the end of the block
        match = _FIELD_START.match(line)
        current = match.group(1) if match else current
        fields[number] = current
    return fields


def _refuse_flags(problems: list[Problem], shown_path: str, field_lines: dict[int, str], kind: str) -> None:
    """A problem in the new record is the value of an option, not a line of a file the user never saw written:
    raise a UsageError naming each option and its value."""
    flags = {**_FLAGS, **(_FLAGS_OF_OPTIONS if kind == "option" else {})}
    refused = [
        (flags.get(field_lines[p.line], "--" + field_lines[p.line].replace("_", "-")), p)
        for p in problems
        if p.path == shown_path and p.line in field_lines
    ]
    if refused:
        raise UsageError(
            "\n".join(f"{flag}: {one_line(_FIELD_LABEL.sub('', p.message))}{_hint(p)}" for flag, p in refused)
        )


def _hint(problem: Problem) -> str:
    return f" ({problem.hint})" if problem.hint else ""


def known_values(data_dir: Path) -> dict[str, list[str]]:
    """What a new record may refer to, for `--help`; empty when the data cannot be read."""
    try:
        catalogue = load_valid_catalogue(data_dir)
    except (DataError, UsageError):
        return {}
    return {
        name: [str(record["id"]) for record in catalogue.records(collection)]
        for name, collection in (
            ("roles", "roles"),
            ("stages", "migration_stages"),
            ("sources", "migration_sources"),
            ("lifecycle phases", "lifecycle_phases"),
            ("source pages", "source_pages"),
        )
    }
