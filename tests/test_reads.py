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


# The preview compares two catalogues' groupings (generator.data.relations.changed_reads) entry by entry, equal
# entries at C speed and only the others by fingerprint: it must find what fingerprinting every entry finds.
ROLE_IDS, STAGE_IDS, SOURCE_IDS = ["partner", "support"], ["prepare", "move"], ["mail", "files"]
TASK_FIELDS = st.fixed_dictionaries(
    {"title": st.sampled_from(["A", "B"]), "owner": st.sampled_from(ROLE_IDS), "stage": st.sampled_from(STAGE_IDS)},
    optional={"sources": st.lists(st.sampled_from(SOURCE_IDS), min_size=1, unique=True)},
)


def catalogue_of(tasks: list[dict[str, Any]]) -> Any:
    from generator.data.model import Catalogue

    stages = [{"id": stage, "name": stage, "order": order} for order, stage in enumerate(STAGE_IDS, start=1)]
    return Catalogue(
        {
            "tasks": tasks,
            "roles": [{"id": role, "name": role} for role in ROLE_IDS],
            "migration_stages": stages,
            "migration_sources": [{"id": source, "name": source} for source in SOURCE_IDS],
        }
    )


@st.composite
def edited_catalogues(draw: st.DrawFn) -> tuple[Any, Any]:
    count = draw(st.integers(2, 6))
    tasks = []
    for number in range(1, count + 1):
        task = {"id": number, **draw(TASK_FIELDS)}
        earlier = draw(st.lists(st.integers(1, number - 1), unique=True, max_size=2)) if number > 1 else []
        if earlier:
            task["prerequisites"] = earlier
        tasks.append(task)
    edited = list(tasks)  # the others the same objects, as the preview's load leaves them
    index = draw(st.integers(0, count - 1))
    edited[index] = {**tasks[index], **draw(TASK_FIELDS)}
    return catalogue_of(tasks), catalogue_of(edited)


def fingerprinted_changes(old: Any, new: Any) -> set[Any]:
    """The changed grouping entries as fingerprints of every entry of both say."""
    from generator.data.relations import GROUPINGS, ORDERS, WHOLE, record_reads

    found = set()
    for name in GROUPINGS | ORDERS:
        prints = []
        for relations in (old, new):
            named, groups = record_reads(relations.catalogue), object.__getattribute__(relations, name)
            if name in ORDERS:
                groups = {WHOLE: groups}
            prints.append({key: fingerprint(value, named) for key, value in groups.items() if value})
        keys = {key for key in prints[0].keys() | prints[1].keys() if prints[0].get(key) != prints[1].get(key)}
        found |= {("grouping", name, key) for key in keys} | ({("grouping", name, WHOLE)} if keys else set())
    return found


@settings(max_examples=150, deadline=None)
@given(catalogues=edited_catalogues(), shared=st.booleans())
def test_changed_groupings_are_those_whose_fingerprints_differ(catalogues: tuple[Any, Any], shared: bool):
    """`shared`: the later load's tracked records those of the earlier where they are the same records, as the
    preview makes them; else copies of their own, compared field by field."""
    from generator.data.relations import TrackedRelations, changed_reads

    earlier = catalogues[0].tracked()
    old, new = TrackedRelations(earlier), TrackedRelations(catalogues[1].tracked(earlier if shared else None))
    found = {read for read in changed_reads(old, new) if read[0] == "grouping"}

    assert found == fingerprinted_changes(old, new)


def test_an_edit_that_moves_nothing_changes_no_grouping_and_one_that_moves_a_task_does():
    from generator.data.relations import TrackedRelations, changed_reads

    tasks = [
        {"id": 1, "title": "A", "owner": "partner", "stage": "move"},
        {"id": 2, "title": "B", "owner": "support", "stage": "prepare"},
    ]
    retitled = [{**tasks[0], "title": "C"}, tasks[1]]
    moved = [{**tasks[0], "stage": "prepare"}, tasks[1]]
    relations = [TrackedRelations(catalogue_of(version).tracked()) for version in (tasks, retitled, moved)]

    assert changed_reads(relations[0], relations[1]) == {("record", "tasks", 1)}
    assert {("grouping", "task_rank", 1), ("grouping", "tasks_by_stage", "prepare")} <= changed_reads(
        relations[0], relations[2]
    )


def test_a_later_loads_tracked_copy_shares_the_earlier_ones_copies_of_the_same_records_and_only_those():
    tasks = [
        {"id": 1, "title": "A", "owner": "partner", "stage": "move"},
        {"id": 2, "title": "B", "owner": "support", "stage": "prepare"},
    ]
    earlier = catalogue_of(tasks).tracked()
    later = catalogue_of([tasks[0], {**tasks[1], "title": "C"}]).tracked(earlier)

    assert later.records("tasks")[0] is earlier.records("tasks")[0]
    assert later.records("tasks")[1] is not earlier.records("tasks")[1]
    assert later.records("tasks")[1]["title"] == "C"
    assert later.records("roles")[0] is not earlier.records("roles")[0]  # equal, but another load's record
