"""What the playbook's data is made of: its collections, the files that hold them, and how they refer to each other.

This module is declarations only. The schemas in `generator/schemas/` say what one record looks like; this says
what a schema cannot: which field names a record of another collection.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from generator.data.reads import TrackedRecord, note

#: Where the site publishes the JSON Schemas; each schema's `$id`, and each data file's first line, point here.
SCHEMA_URL = "https://partner-playbook.github.io/partner-playbook/schemas/"


@dataclass(frozen=True)
class Collection:
    name: str
    file: str
    label: str
    #: What a hand-written page writes to link to one: `[[task:3306]]`.
    kind: str
    integer_ids: bool = False


COLLECTIONS: tuple[Collection, ...] = (
    Collection("source_pages", "provenance", "source page", "source-page"),
    Collection("lifecycle_phases", "lifecycle", "lifecycle phase", "phase"),
    Collection("alignment_steps", "lifecycle", "alignment step", "step"),
    Collection("options", "options", "option", "option"),
    Collection("partner_types", "options", "partner type", "partner-type"),
    Collection("services_offerings", "offerings", "services offering", "offering"),
    Collection("self_service_resources", "offerings", "self-service resource", "resource"),
    Collection("fasttrack_phases", "fasttrack", "FastTrack phase", "fasttrack-phase"),
    Collection("focus_area_groups", "fasttrack", "focus area group", "focus-group"),
    Collection("focus_areas", "fasttrack", "focus area", "focus-area"),
    Collection("roles", "roles", "role", "role"),
    Collection("migration_sources", "migration", "migration source", "source"),
    Collection("migration_stages", "migration", "migration stage", "stage"),
    Collection("tasks", "tasks", "playbook task", "task", integer_ids=True),
    Collection("responsibilities", "responsibilities", "responsibility", "responsibility"),
    Collection("glossary", "glossary", "glossary entry", "term"),
)
COLLECTION_BY_NAME = {collection.name: collection for collection in COLLECTIONS}
COLLECTION_BY_KIND = {collection.kind: collection for collection in COLLECTIONS}
DATA_FILES: tuple[str, ...] = tuple(dict.fromkeys(collection.file for collection in COLLECTIONS))


def collections_in(file: str) -> list[Collection]:
    return [collection for collection in COLLECTIONS if collection.file == file]


@dataclass(frozen=True)
class Reference:
    """A field of `collection` whose values are IDs in `target`.

    `field` is a dotted path: `*` steps into every list item, `{key}` names every key of a mapping and
    `{value}` every value of one.
    """

    collection: str
    field: str
    target: str

    def values(self, record: dict[str, Any]) -> Iterator[tuple[tuple[Any, ...], Any, bool]]:
        """Every (path within the record, referenced ID, written as a mapping key?) in `record`."""
        yield from _walk(record, tuple(self.field.split(".")), ())

    def suspects(self, records: list[dict[str, Any]], known: set[Any], wanted: type) -> list[int]:
        """The indexes of the records whose `values` may hold an ID of the `wanted` type that is not `known`: the
        others need no walk. Found in one pass for the two shapes most references take (`owner`,
        `prerequisites.*`), where a large catalogue has thousands of records and nearly every one resolves."""
        name, *rest = self.field.split(".")
        if not rest:
            return [i for i, record in enumerate(records) if type(v := record.get(name)) is wanted and v not in known]
        if rest == ["*"]:
            return [
                i
                for i, record in enumerate(records)
                if name in record
                and (type(v := record[name]) is not list or any(type(x) is wanted and x not in known for x in v))
            ]
        return list(range(len(records)))


def _walk(value: Any, steps: tuple[str, ...], path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], Any, bool]]:
    if not steps:
        yield path, value, False
        return
    step, rest = steps[0], steps[1:]
    if step == "*" and isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, rest, (*path, index))
    elif step == "{key}" and isinstance(value, dict):
        for key in value:
            yield (*path, key), key, True
    elif step == "{value}" and isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, rest, (*path, key))
    elif isinstance(value, dict) and step in value:
        yield from _walk(value[step], rest, (*path, step))


REFERENCES: tuple[Reference, ...] = (
    Reference("alignment_steps", "lifecycle_phase", "lifecycle_phases"),
    Reference("options", "lifecycle_phases.*", "lifecycle_phases"),
    Reference("options", "partner_types.*", "partner_types"),
    Reference("options", "uses_options.*", "options"),
    Reference("partner_types", "option", "options"),
    Reference("services_offerings", "lifecycle_phases.*", "lifecycle_phases"),
    Reference("self_service_resources", "option", "options"),
    Reference("focus_areas", "group", "focus_area_groups"),
    Reference("roles", "limits.*.except_sources.*", "migration_sources"),
    Reference("roles", "limits.*.replaced_by.questions_to", "roles"),
    Reference("tasks", "owner", "roles"),
    Reference("tasks", "stage", "migration_stages"),
    Reference("tasks", "sources.*", "migration_sources"),
    Reference("tasks", "prerequisites.*", "tasks"),
    Reference("responsibilities", "role", "roles"),
    Reference("responsibilities", "stage", "migration_stages"),
    Reference("responsibilities", "tasks.*", "tasks"),
    Reference("responsibilities", "tasks_by_source.{key}", "migration_sources"),
    Reference("responsibilities", "tasks_by_source.{value}", "tasks"),
    Reference("responsibilities", "involves.*", "roles"),
    *(Reference(c.name, "source_pages.*", "source_pages") for c in COLLECTIONS if c.name != "source_pages"),
)


@dataclass
class Catalogue:
    """Every collection's records, in file order, with an index by ID.

    Filled once by the loader and only read afterwards, which is what lets the indexes be kept.
    """

    collections: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _indexes: dict[str, dict[Any, dict[str, Any]]] = field(default_factory=dict, repr=False, compare=False)

    def records(self, name: str) -> list[dict[str, Any]]:
        note(("collection", name))
        return self.collections.get(name, [])

    def index(self, name: str) -> dict[Any, dict[str, Any]]:
        note(("collection", name))
        if name not in self._indexes:
            self._indexes[name] = {record.get("id"): record for record in self.records(name)}
        return self._indexes[name]

    def tracked(self, earlier: Catalogue | None = None) -> Catalogue:
        """A copy whose records note each read of them (generator.data.reads): the live preview's dependency index.

        `earlier`: the tracked copy of an earlier load, whose copies of the records this load shares (the preview
        parses only an edited record again) are taken as they are. Copying the thousands of others took 70 ms of
        an edit at 5,000 tasks, and comparing a grouping of two loads then compared each record field by field,
        where one copy is found equal at once."""
        copies = {
            id(copy.plain): copy
            for records in (earlier.collections.values() if earlier is not None else ())
            for copy in records
            if type(copy) is TrackedRecord
        }

        def copy_of(name: str, record: dict[str, Any]) -> TrackedRecord:
            copy = copies.get(id(record))  # the earlier load holds its records: an id is no other record's
            if copy is not None and copy.plain is record and copy.read[1] == name:
                return copy
            return TrackedRecord(name, record)

        return Catalogue(
            {name: [copy_of(name, record) for record in records] for name, records in self.collections.items()}
        )


# Where records get pages of their own. Validation refuses an ID the build could not publish there, so the
# rule lives with the data; generator.pages.addresses places every other record.
#: Collections with a page of their own.
OWN_PAGES = {
    "options": "options/{id}.md",
    "lifecycle_phases": "lifecycle/{id}.md",
    "fasttrack_phases": "fasttrack/phases/{id}.md",
    "focus_area_groups": "fasttrack/focus-areas/{id}.md",
    "services_offerings": "services/{id}.md",
    "roles": "roles/{id}.md",
    "migration_sources": "sources/{id}.md",
    "migration_stages": "stages/{id}.md",
    "tasks": "tasks/{id}.md",
}
#: Names the site gives pages of its own in the folders where entities get theirs: each section's `index.md`,
#: and `page-2.md` onwards, where a long listing continues (see `continuation_uri`).
_SECTION_INDEX = "index"
_CONTINUATION = re.compile(r"page-[0-9]+")
#: Names Windows keeps for its devices: no file or folder may take one, so the unzipped offline bundle would
#: lose the page there.
_WINDOWS_DEVICE = re.compile(r"con|prn|aux|nul|com[1-9]|lpt[1-9]")


def reserved_id(collection: str, record_id: object) -> str | None:
    """Why a record with a page of its own (`OWN_PAGES`) cannot have this ID, or None when it can."""
    if not isinstance(record_id, str):
        return None
    page = OWN_PAGES[collection].format(id=record_id)
    if record_id == _SECTION_INDEX:
        return f"{page} is the section's own index page"
    if _CONTINUATION.fullmatch(record_id):
        return f"{page} is where the site continues a long list of the section"
    if _WINDOWS_DEVICE.fullmatch(record_id):
        return f"Windows cannot hold a file or folder named '{record_id}', so the offline bundle would lose {page}"
    return None
