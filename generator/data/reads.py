"""What a page read of the data while it was rendered: the dependency index of the live preview.

While a recording is on (`recording()`), every read of a record (a `TrackedRecord`), of a collection as a whole
(`Catalogue.records`, `Catalogue.index`) and of a grouping of `Relations` (by key, or whole) is noted. After an
edit, a page needs rendering again only if something it read differs: a record it read (`changed_records`), the
members or order of a collection it read, or a grouping's entry it looked up (`changed_groupings`). Everything
else a page shows comes from its template and its plan, which the preview compares on their own.

A read is a plain tuple, small and picklable, so a forked rendering process can send it back with the page:
`("record", collection, id)`, `("collection", name)`, `("grouping", name, key)` or `("grouping", name, WHOLE)`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any

Read = tuple[Any, ...]
#: The key of a read of a whole grouping (iterated, measured), as against one entry looked up.
WHOLE = "*"

_reads: set[Read] | None = None


def recording() -> AbstractContextManager[set[Read]]:
    """Notes every read of the data made inside the block, into the set it gives."""
    return _noting_into(set())


def paused() -> AbstractContextManager[None]:
    """No read noted inside the block, by any recording."""
    return _noting_into(None)


@contextmanager
def _noting_into(reads: Any) -> Iterator[Any]:
    global _reads
    outer, _reads = _reads, reads
    try:
        yield reads
    finally:
        _reads = outer


def note(read: Read) -> None:
    if _reads is not None:
        _reads.add(read)


class TrackedRecord(dict):  # type: ignore[type-arg]
    """A record that notes each read of itself while a recording is on; a plain dict in every other way."""

    __slots__ = ("plain", "read")

    def __init__(self, collection: str, record: dict[str, Any]) -> None:
        super().__init__(record)
        self.read: Read = ("record", collection, record.get("id"))
        #: The record it was made from, the same keys and values (nothing changes a record once read).
        self.plain = record

    def __getitem__(self, key: Any) -> Any:
        if _reads is not None:
            _reads.add(self.read)
        return dict.__getitem__(self, key)

    def get(self, key: Any, default: Any = None) -> Any:
        if _reads is not None:
            _reads.add(self.read)
        return dict.get(self, key, default)

    def __contains__(self, key: object) -> bool:
        if _reads is not None:
            _reads.add(self.read)
        return dict.__contains__(self, key)

    def __iter__(self) -> Iterator[Any]:
        if _reads is not None:
            _reads.add(self.read)
        return dict.__iter__(self)

    def __len__(self) -> int:
        if _reads is not None:
            _reads.add(self.read)
        return dict.__len__(self)

    def keys(self):  # type: ignore[override]
        note(self.read)
        return dict.keys(self)

    def values(self):  # type: ignore[override]
        note(self.read)
        return dict.values(self)

    def items(self):  # type: ignore[override]
        note(self.read)
        return dict.items(self)

    def __reduce__(self) -> Any:  # a copy sent elsewhere is a plain record
        return (dict, (dict(dict.items(self)),))


def opened(record: dict[str, Any]) -> dict[str, Any]:
    """The record as the plain dict it was made from, its read noted once: for code that reads many fields of many
    records (a runbook of 5,000 tasks reads 50,000), where a tracked read of each field is a Python call."""
    if type(record) is TrackedRecord:
        if _reads is not None:
            _reads.add(record.read)
        return record.plain
    return record


def same_record(one: Any, other: Any) -> bool:
    """Whether two records are one object, a tracked record standing for the one it wraps (the preview parses only
    the edited record again: the others, and their tracked copies, are the ones the last load made)."""
    return getattr(one, "plain", one) is getattr(other, "plain", other)


class TrackedGrouping(Mapping[Any, Any]):
    """A grouping of `Relations` (role → its tasks, task → the tasks that need it) that notes each key looked up,
    or the whole grouping when it is iterated; reads go to the grouping itself (a defaultdict stays one)."""

    __slots__ = ("_groups", "_name")

    def __init__(self, name: str, groups: dict[Any, Any]) -> None:
        self._name, self._groups = name, groups

    def __getitem__(self, key: Any) -> Any:
        note(("grouping", self._name, key))
        return self._groups[key]

    def get(self, key: Any, default: Any = None) -> Any:
        note(("grouping", self._name, key))
        return self._groups.get(key, default)

    def __contains__(self, key: object) -> bool:
        note(("grouping", self._name, key))
        return key in self._groups

    def __iter__(self) -> Iterator[Any]:
        note(("grouping", self._name, WHOLE))
        return iter(self._groups)

    def __len__(self) -> int:
        note(("grouping", self._name, WHOLE))
        return len(self._groups)


#: Values that stand for themselves in a fingerprint.
_SCALARS = frozenset({int, str, float, bool, type(None)})
#: The fields of each dataclass met, by class (asked of `dataclasses` once).
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def fingerprint(value: Any, records: dict[int, Read]) -> Any:
    """A comparable, hashable form of a value made of records, lists, dicts and dataclasses, each record of the
    catalogue (`records`: id() → its read) standing for itself by name: two groupings of the same records in the
    same order have the same fingerprint, whatever the records say (that is each record's own read).

    Every grouping of a preview's pass goes through here (tens of thousands of values at 5,000 tasks): the common
    cases, a list of records and a list of numbers, are each done in one go."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if isinstance(value, dict):
        named = records.get(id(value))
        if named is not None:
            return named
        return ("dict", tuple((key, fingerprint(item, records)) for key, item in dict.items(value)))
    if isinstance(value, (list, tuple)):
        # Each item looked up as a record first (another live object, an int in a list say, never has a record's
        # id); a list of plain values stands for itself.
        named = tuple(map(records.get, map(id, value)))
        if None not in named:
            return named
        if _SCALARS.issuperset(map(type, value)):
            return tuple(value)
        return tuple(read or fingerprint(item, records) for read, item in zip(named, value, strict=True))
    names = _FIELD_NAMES.get(kind)
    if names is None and dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _FIELD_NAMES[kind] = tuple(field.name for field in dataclasses.fields(value))
    if names is not None:
        return (kind.__name__, tuple(fingerprint(getattr(value, name), records) for name in names))
    if isinstance(value, (set, frozenset)):
        return ("set", frozenset(fingerprint(item, records) for item in value))
    return value
