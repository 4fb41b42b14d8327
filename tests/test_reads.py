"""The preview's dependency index (generator/data/reads): a grouping's fingerprint names each record by its read and
keeps every other value as it is, whatever shortcuts make it fast."""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from generator.data.reads import fingerprint

RECORDS = [{"id": number, "title": f"Task {number}"} for number in range(4)]
NAMED = {id(record): ("record", "tasks", record["id"]) for record in RECORDS}


@dataclasses.dataclass
class Cited:
    record: dict[str, Any]
    source: str | None = None


def plainly(value: Any) -> Any:
    """The fingerprint as its definition reads, one value at a time."""
    if isinstance(value, dict):
        return NAMED.get(id(value)) or ("dict", tuple((key, plainly(item)) for key, item in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(NAMED.get(id(item)) or plainly(item) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, tuple(plainly(getattr(value, f.name)) for f in dataclasses.fields(value)))
    if isinstance(value, (set, frozenset)):
        return ("set", frozenset(plainly(item) for item in value))
    return value


SCALARS = st.one_of(st.integers(-3, 3), st.text("ab", max_size=2), st.booleans(), st.none(), st.floats(0, 1))
VALUES = st.recursive(
    st.one_of(SCALARS, st.sampled_from(RECORDS)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(st.text("xy", max_size=1), inner, max_size=3),
        st.builds(Cited, st.sampled_from(RECORDS), st.one_of(st.none(), st.text("s", max_size=1))),
        st.frozensets(SCALARS, max_size=3),
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(VALUES)
def test_a_fingerprint_is_what_its_definition_gives_value_by_value(value):
    assert fingerprint(value, NAMED) == plainly(value)
    assert type(fingerprint(value, NAMED)) is type(plainly(value))


def test_records_stand_for_themselves_by_name_and_plain_lists_as_they_are():
    assert fingerprint(RECORDS[:2], NAMED) == (("record", "tasks", 0), ("record", "tasks", 1))
    assert fingerprint([3, 1, 2], NAMED) == (3, 1, 2)
    assert fingerprint([RECORDS[0], 5], NAMED) == (("record", "tasks", 0), 5)
    assert fingerprint([Cited(RECORDS[1], "mail")], NAMED) == (("Cited", (("record", "tasks", 1), "mail")),)
