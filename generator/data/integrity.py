"""Rules across records and files that a JSON Schema cannot state.

Two phases, as in any cross-reference resolver: first index every ID, then resolve every reference against the
index; whatever does not resolve becomes a Problem at the place it was written, with the nearest known ID.
Values of the wrong type are left alone here: the schema check already reports them.
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections import Counter
from collections.abc import Hashable, Iterator
from dataclasses import replace
from functools import cached_property
from typing import Any

from generator.data.loader import LoadedData, field_label, show_value
from generator.data.model import COLLECTION_BY_NAME, COLLECTIONS, OWN_PAGES, REFERENCES, Reference, reserved_id
from generator.errors import Place, Problem


def check_integrity(loaded: LoadedData, previous: LoadedData | None = None) -> list[Problem]:
    """Every rule across records, checked over the whole catalogue; or, where `previous` (an earlier load of the
    same folder) broke none and `loaded` differs from it in a few records alone, their IDs the same, only where
    those records can break one: the others break none still. A catalogue of thousands of tasks takes a third of a
    second to check whole, and the live preview checks it again at every save."""
    changed = _changed_records(previous, loaded) if previous is not None else None
    if changed is None:
        problems = _checked_whole(loaded)
    else:
        assert previous is not None
        problems = _checked_where_changed(loaded, _changed_fields(previous, loaded, changed), changed)
    loaded.consistent = not problems
    return problems


def _checked_whole(loaded: LoadedData) -> list[Problem]:
    return [
        *_duplicate_ids(loaded),
        *_duplicate_orders(loaded),
        *_reserved_ids(loaded),
        *_unresolved_references(loaded),
        *_order_checked_whole(loaded),
        *_impossible_dates(loaded),
        *_sources_of_cited_tasks(loaded),
    ]


def _order_checked_whole(loaded: LoadedData) -> list[Problem]:
    """The prerequisites' loops, and the prerequisites of later stages."""
    graph = _prerequisite_graph(loaded)
    knots = _strongly_connected(graph)  # found once: the cycle and the stage-order checks both use them
    return [*_prerequisite_cycles(loaded, graph, knots), *_prerequisites_of_later_stages(loaded, knots)]


def _order_where_changed(loaded: LoadedData, changed: list[int]) -> list[Problem]:
    """`_order_checked_whole` after these tasks changed (their prerequisites or stages) in a catalogue with no loop
    and no prerequisite of a later stage: a new loop goes through one of them (the whole check then finds it), and
    a prerequisite of a later stage is one of theirs, or one of them that another task waits for."""
    tasks, index_of = loaded.catalogue.records("tasks"), _task_indexes(loaded)
    ids = {tasks[index].get("id") for index in changed} & index_of.keys()
    if any(_waits_for_itself(loaded, index_of, task_id) for task_id in ids):
        return _order_checked_whole(loaded)
    waiting = [
        index
        for index, task in enumerate(tasks)
        if isinstance(written := task.get("prerequisites"), list)
        and any(type(prerequisite) is int and prerequisite in ids for prerequisite in written)
    ]
    return list(_prerequisites_of_later_stages(loaded, None, sorted({*changed, *waiting})))


def _waits_for_itself(loaded: LoadedData, index_of: dict[Any, int], start: Any) -> bool:
    """Whether the task waits, directly or through others, for itself: a walk of what it waits for, each task once."""
    seen, to_visit = set(), [start]
    while to_visit:
        for prerequisite in _prerequisites(loaded, index_of[to_visit.pop()]):
            if prerequisite == start:
                return True
            if prerequisite in index_of and prerequisite not in seen:
                seen.add(prerequisite)
                to_visit.append(prerequisite)
    return False


#: Beyond this many changed records, the whole catalogue is checked: the edit is no single save of a record.
CHANGED_RECORDS_LIMIT = 16


def _changed_records(previous: LoadedData, loaded: LoadedData) -> dict[str, list[int]] | None:
    """The indexes of the records of each collection that are not the ones `previous` holds (a data file saved
    again keeps its other records as they were parsed), where no rule was broken before, every collection could be
    read, and each has as many records with the same IDs; None where the whole catalogue must be checked."""
    if not previous.consistent or previous.unavailable or loaded.unavailable:
        return None
    changed: dict[str, list[int]] = {}
    count = 0
    for collection in COLLECTIONS:
        before, after = (
            previous.catalogue.collections.get(collection.name, []),
            loaded.catalogue.collections.get(collection.name, []),
        )
        if len(before) != len(after):
            return None
        indexes = [index for index, (was, now) in enumerate(zip(before, after, strict=True)) if was is not now]
        count += len(indexes)
        if count > CHANGED_RECORDS_LIMIT:
            return None
        if any(not _same_value(before[index].get("id"), after[index].get("id")) for index in indexes):
            return None
        if indexes:
            changed[collection.name] = indexes
    return changed


def _same_value(one: Any, other: Any) -> bool:
    """Equal, and of the same types all the way down (YAML's 1, 1.0 and true are equal in Python)."""
    if type(one) is not type(other):
        return False
    if isinstance(one, list):
        return len(one) == len(other) and all(_same_value(a, b) for a, b in zip(one, other, strict=True))
    if isinstance(one, dict):
        return one.keys() == other.keys() and all(_same_value(value, other[key]) for key, value in one.items())
    return bool(one == other)


def _changed_fields(previous: LoadedData, loaded: LoadedData, changed: dict[str, list[int]]) -> set[tuple[str, str]]:
    """(collection, field) of every field that differs in a changed record."""
    fields = set()
    for collection, indexes in changed.items():
        before, after = previous.catalogue.collections[collection], loaded.catalogue.collections[collection]
        for index in indexes:
            was, now = before[index], after[index]
            fields.update(
                (collection, name) for name in was.keys() | now.keys() if not _same_value(was.get(name), now.get(name))
            )
    return fields


def _checked_where_changed(
    loaded: LoadedData, fields: set[tuple[str, str]], changed: dict[str, list[int]]
) -> list[Problem]:
    """The rules a catalogue that broke none can break by changing these records (these `fields` of them), their
    IDs the same: no ID can be duplicated, reserved or unknown now but in a changed record's references; the
    prerequisites' order, and the sources of the tasks the responsibilities cite, only where what they are made of
    changed. The rules that are cheap to check whole are checked whole."""
    problems = [*_duplicate_orders(loaded), *_impossible_dates(loaded), *_unresolved_references(loaded, changed)]
    if "migration_stages" in changed:
        problems += _order_checked_whole(loaded)
    elif fields & {("tasks", "prerequisites"), ("tasks", "stage")}:
        problems += _order_where_changed(loaded, changed["tasks"])
    if "responsibilities" in changed or ("tasks", "sources") in fields:
        problems += _sources_of_cited_tasks(loaded)
    return problems


def _id_type(collection: str) -> type:
    return int if COLLECTION_BY_NAME[collection].integer_ids else str


def _ids(loaded: LoadedData, collection: str) -> Iterator[tuple[int, Any]]:
    """(index, id) of every record whose ID has the right type."""
    wanted = _id_type(collection)
    for index, record in enumerate(loaded.catalogue.records(collection)):
        value = record.get("id")
        if type(value) is wanted:
            yield index, value


def _duplicate_ids(loaded: LoadedData) -> Iterator[Problem]:
    for collection in COLLECTIONS:
        first: dict[Any, int] = {}
        for index, value in _ids(loaded, collection.name):
            if value not in first:
                first[value] = index
                continue
            earlier = loaded.locate(collection.name, first[value], ("id",))
            yield _problem(
                loaded.locate(collection.name, index, ("id",)),
                f"{collection.name}[{index}].id: duplicate {collection.label} ID {show_value(value)} "
                f"(first used on line {earlier.line})",
                "give each record its own ID",
                first=True,  # the references to the ID the record had may follow from it
            )


def _duplicate_orders(loaded: LoadedData) -> Iterator[Problem]:
    for collection in COLLECTIONS:
        first: dict[int, Any] = {}
        for index, record in enumerate(loaded.catalogue.records(collection.name)):
            order = record.get("order")
            if type(order) is not int:
                continue
            if order in first:
                yield _problem(
                    loaded.locate(collection.name, index, ("order",)),
                    f"{collection.name}[{index}].order: position {order} is taken by {show_value(first[order])}",
                    "number the records 1, 2, 3, ... without repeats",
                )
            else:
                first[order] = record.get("id")


def _reserved_ids(loaded: LoadedData) -> Iterator[Problem]:
    """A record with a page of its own cannot take an ID whose page the site could not publish."""
    for collection in OWN_PAGES:
        for index, value in _ids(loaded, collection):
            reason = reserved_id(collection, value)
            if reason:
                yield _problem(
                    loaded.locate(collection, index, ("id",)),
                    f"{collection}[{index}].id: {show_value(value)} is reserved: {reason}",
                    "choose another ID",
                )


def _unresolved_references(loaded: LoadedData, only: dict[str, list[int]] | None = None) -> Iterator[Problem]:
    """The references that name no record; with `only`, those of these records alone, by collection."""
    suggestions: dict[str, _Suggestions] = {}
    causes: dict[str, _Causes] = {}
    for reference in REFERENCES:
        if reference.target in loaded.unavailable or reference.collection in loaded.unavailable:
            continue  # the file that would settle it did not load; its own problem is reported
        if only is not None and reference.collection not in only:
            continue
        if reference.target not in suggestions:
            known = {value for _, value in _ids(loaded, reference.target)}
            suggestions[reference.target] = _Suggestions(reference.target, known)
            causes[reference.target] = _Causes(loaded, reference.target)
        indexes = only[reference.collection] if only is not None else None
        yield from _resolve(loaded, reference, suggestions[reference.target], causes[reference.target], indexes)


class _Causes:
    """Why a reference into a collection may fail through no fault of its own: the collection is not a list of
    records, or the record it means has its ID written wrongly (`id: "3306"`). The reference's problem then
    names that place as its cause, and validation folds it under the problem reported there."""

    def __init__(self, loaded: LoadedData, collection: str) -> None:
        self.collection_broken: Place | None = None
        self.misspelt_ids: dict[Any, Place] = {}
        document = loaded.files[COLLECTION_BY_NAME[collection].file].document
        records = document.data.get(collection) if document and isinstance(document.data, dict) else None
        if document is not None and not (isinstance(records, list) and records):
            path = (collection,) if isinstance(document.data, dict) and collection in document.data else ()
            line, column = document.positions.locate(path)
            self.collection_broken = (document.display_path, line, column)
            return
        wanted = _id_type(collection)
        for index, record in enumerate(loaded.catalogue.records(collection)):
            meant = _meant_id(record.get("id"), wanted)
            if meant is not None:
                self.misspelt_ids.setdefault(meant, loaded.locate(collection, index, ("id",)).place)

    def of(self, value: Any) -> Place | None:
        return self.collection_broken or self.misspelt_ids.get(value)


def _meant_id(value: Any, wanted: type) -> Any:
    """The ID a record of the wrong ID type was probably meant to have: "3306" or 3306.0 for 3306."""
    if type(value) is wanted or value is None or isinstance(value, (bool, list, dict)):
        return None
    if wanted is str:
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _resolve(
    loaded: LoadedData,
    reference: Reference,
    suggestions: _Suggestions,
    causes: _Causes,
    indexes: list[int] | None = None,
) -> Iterator[Problem]:
    wanted = _id_type(reference.target)
    label = COLLECTION_BY_NAME[reference.target].label
    records = loaded.catalogue.records(reference.collection)
    for index in reference.suspects(records, suggestions.known, wanted) if indexes is None else indexes:
        for subpath, value, is_key in reference.values(records[index]):
            if type(value) is not wanted or value in suggestions.known:
                continue
            where = field_label((reference.collection, index, *subpath))
            yield replace(
                _problem(
                    loaded.locate(reference.collection, index, subpath, key=is_key),
                    f"{where}: unknown {label} {show_value(value)}",
                    suggestions.hint(value),
                ),
                cause=causes.of(value),
            )


#: Collections up to this size are searched whole for a "did you mean"; in larger ones only IDs one typing
#: slip away are found (difflib compares a miss with every ID, which thousands of misses cannot afford).
WHOLE_SEARCH_LIMIT = 300
#: Names of those one slip away that difflib weighs for a miss.
CANDIDATES = 10
#: Misses of one collection that get a "did you mean" at all, and of those, how many a whole search. A report
#: shows a few dozen problems of a kind: the rest get the plain hint, and the work stays bounded.
SEARCHED_MISSES = 2_000
WHOLE_SEARCHES = 200


class _Suggestions:
    """The known IDs of one collection, indexed once, and the nearest of them to an unknown one."""

    def __init__(self, target: str, known: set[Any]) -> None:
        self.target = target
        self.known = known
        self.searches = self.whole_searches = 0
        self.hints: dict[str, str] = {}

    @cached_property
    def names(self) -> list[str]:
        return sorted(str(item) for item in self.known)

    @cached_property
    def slips(self) -> dict[str, list[str]]:
        """Each name under itself and each of its one-character deletions: two names share a key when one typing
        slip (a wrong, missing, extra or swapped character) turns one into the other. Built at the first miss."""
        slips: dict[str, list[str]] = {}
        for name in self.names:
            for key in _deletions(name):
                slips.setdefault(key, []).append(name)
        return slips

    def hint(self, value: Any) -> str:
        text = str(value)
        if text in self.hints:
            return self.hints[text]
        if self.searches >= SEARCHED_MISSES:
            return self._plain()
        self.searches += 1
        self.hints[text] = self._nearest(text) or self._plain()
        return self.hints[text]

    def _nearest(self, text: str) -> str:
        shared = Counter(name for key in _deletions(text) for name in self.slips.get(key, ()))
        # Among thousands of task numbers a key is shared by dozens: difflib weighs only those sharing the most.
        candidates = sorted(shared, key=lambda name: (-shared[name], name))[:CANDIDATES]
        if not candidates and len(self.names) <= WHOLE_SEARCH_LIMIT and self.whole_searches < WHOLE_SEARCHES:
            self.whole_searches += 1
            candidates = self.names
        close = difflib.get_close_matches(text, candidates, n=1, cutoff=0.6) if candidates else []
        return f"did you mean {show_value(_id_type(self.target)(close[0]))}?" if close else ""

    def _plain(self) -> str:
        if len(self.names) <= 12:
            return f"known: {', '.join(self.names)}" if self.names else f"no {self.target} are defined yet"
        return f"see data/{COLLECTION_BY_NAME[self.target].file}.yml for the known IDs"


def _deletions(text: str) -> set[str]:
    return {text, *(text[:position] + text[position + 1 :] for position in range(len(text)))}


#: Tasks of a loop that a message names; a longer loop is shown by its ends.
SHOWN_LOOP = 10


def _prerequisite_cycles(loaded: LoadedData, graph: dict[Any, list[Any]], knots: list[list[Any]]) -> Iterator[Problem]:
    """One problem per knot of tasks that wait on each other, showing the shortest loop from its first task."""
    index_of = _task_indexes(loaded)
    for component in knots:
        start = min(component, key=index_of.__getitem__)
        if len(component) == 1 and start not in graph[start]:
            continue  # a task on its own, waiting on no loop
        loop = _shortest_loop(graph, start, set(component))
        position = graph[start].index(loop[1])
        knot = ""
        if len(component) > len(loop) - 1:
            knot = f"; {len(component):,} tasks wait on each other through loops like it"
        yield _problem(
            loaded.locate("tasks", index_of[start], ("prerequisites", position)),
            f"tasks[{index_of[start]}].prerequisites: a dependency cycle: {_show_loop(loop)}{knot}",
            "a task cannot wait, directly or through others, for itself: remove one of these prerequisites",
        )


def _task_indexes(loaded: LoadedData) -> dict[Any, int]:
    return {task_id: index for index, task_id in _ids(loaded, "tasks")}


def _prerequisite_graph(loaded: LoadedData) -> dict[Any, list[Any]]:
    """Each task's ID to the IDs it waits for (a duplicated ID: its last record, as the catalogue's index)."""
    return {task_id: _prerequisites(loaded, index) for task_id, index in _task_indexes(loaded).items()}


def _prerequisites(loaded: LoadedData, index: int) -> list[Any]:
    values = loaded.catalogue.records("tasks")[index].get("prerequisites")
    return [value for value in values if type(value) is int] if isinstance(values, list) else []


def _strongly_connected(graph: dict[Any, list[Any]]) -> list[list[Any]]:
    """Tarjan's algorithm, without recursion (catalogues run to thousands of tasks): the sets of tasks that each
    reach all the others of their set. Every task is in exactly one set; a loop lies within one set."""
    order: dict[Any, int] = {}
    low: dict[Any, int] = {}
    stack: list[Any] = []
    on_stack: set[Any] = set()
    components: list[list[Any]] = []

    def visit(node: Any) -> None:
        order[node] = low[node] = len(order)
        stack.append(node)
        on_stack.add(node)
        work.append((node, iter(graph[node])))

    for root in graph:
        if root in order:
            continue
        work: list[tuple[Any, Iterator[Any]]] = []
        visit(root)
        while work:
            node, successors = work[-1]
            for nxt in successors:
                if nxt not in graph:
                    continue  # an unknown task: reported as such
                if nxt not in order:
                    visit(nxt)
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], order[nxt])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == order[node]:
                    component = [stack.pop()]
                    while component[-1] != node:
                        component.append(stack.pop())
                    on_stack.difference_update(component)
                    components.append(component)
    return components


def _shortest_loop(graph: dict[Any, list[Any]], start: Any, within: set[Any]) -> list[Any]:
    """The fewest steps from `start` back to itself, by breadth-first search inside its component."""
    came_from: dict[Any, Any] = {}
    frontier = [start]
    while frontier:
        following: list[Any] = []
        for node in frontier:
            for nxt in graph[node]:
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [*reversed(path), start]
                if nxt in within and nxt not in came_from:
                    came_from[nxt] = node
                    following.append(nxt)
        frontier = following
    raise AssertionError("a strongly connected component has a loop through each of its tasks")


def _show_loop(loop: list[Any]) -> str:
    if len(loop) <= SHOWN_LOOP:
        return " → ".join(str(task) for task in loop)
    head, tail = loop[: SHOWN_LOOP // 2], loop[-(SHOWN_LOOP // 2) :]
    hidden = len(loop) - len(head) - len(tail)
    return " → ".join([*map(str, head), f"… ({hidden:,} more)", *map(str, tail)])


def _prerequisites_of_later_stages(
    loaded: LoadedData, knots: list[list[Any]] | None, only: list[int] | None = None
) -> Iterator[Problem]:
    """A runbook lists stages in order, each task under its stage: a task cannot wait for one further down. With
    `only`, the prerequisites of these tasks alone, by index; with no `knots`, no task waits for itself."""
    stage_order = {
        stage.get("id"): stage.get("order")
        for stage in loaded.catalogue.records("migration_stages")
        if type(stage.get("order")) is int
    }
    tasks = loaded.catalogue.records("tasks")
    rank = {task.get("id"): stage_order.get(task.get("stage")) for task in tasks if type(task.get("id")) is int}
    # A prerequisite waits, directly or through others, for the task that lists it exactly when both are in one
    # knot; that case is reported as a cycle.
    knot = {task: number for number, members in enumerate(knots) for task in members} if knots is not None else None
    for index in range(len(tasks)) if only is None else only:
        task = tasks[index]
        written, own = task.get("prerequisites"), rank.get(task.get("id"))
        if own is None or not isinstance(written, list):
            continue
        for position, prerequisite in enumerate(written):
            later = rank.get(prerequisite) if type(prerequisite) is int else None
            if later is not None and later > own and not _one_knot(knot, prerequisite, task["id"]):
                yield _problem(  # a prerequisite that also waits for the task closes a cycle, reported as such
                    loaded.locate("tasks", index, ("prerequisites", position)),
                    f"tasks[{index}].prerequisites[{position}]: task {task['id']} (stage '{task['stage']}') "
                    f"waits for task {prerequisite} of the later stage '{_stage_of(loaded, prerequisite)}'",
                    f"move task {prerequisite} to stage '{task['stage']}' or earlier, or task {task['id']} to "
                    f"'{_stage_of(loaded, prerequisite)}' or later, or remove this prerequisite",
                )


def _one_knot(knot: dict[Any, int] | None, task: Any, other: Any) -> bool:
    """Whether two tasks wait, directly or through others, for each other (without knots: are one task)."""
    return knot[task] == knot[other] if knot is not None else task == other


def _stage_of(loaded: LoadedData, task_id: int) -> Any:
    return loaded.catalogue.index("tasks")[task_id].get("stage")


def _impossible_dates(loaded: LoadedData) -> Iterator[Problem]:
    """Dates in the right form that no calendar has (2020-02-31); the schema checks the form only."""
    for index, page in enumerate(loaded.catalogue.records("source_pages")):
        for name in ("date", "reviewed"):
            value = page.get(name)
            if isinstance(value, str) and _DATE_FORM.fullmatch(value) and not _is_calendar_date(value):
                yield _problem(
                    loaded.locate("source_pages", index, (name,)),
                    f"source_pages[{index}].{name}: {show_value(value)} is not a date in the calendar",
                    "check the day and the month; dates are written YYYY-MM-DD",
                )


_DATE_FORM = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _is_calendar_date(value: str) -> bool:
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _sources_of_cited_tasks(loaded: LoadedData) -> Iterator[Problem]:
    """A task cited for one migration source must apply to that source."""
    tasks = {task_id: loaded.catalogue.records("tasks")[index] for index, task_id in _ids(loaded, "tasks")}
    for index, record in enumerate(loaded.catalogue.records("responsibilities")):
        by_source = record.get("tasks_by_source")
        if not isinstance(by_source, dict):
            continue
        for source, task_id in by_source.items():
            task = tasks.get(task_id) if isinstance(task_id, Hashable) else None
            sources = task.get("sources") if task else None
            if isinstance(sources, list) and sources and source not in sources:
                yield _problem(
                    loaded.locate("responsibilities", index, ("tasks_by_source", source)),
                    f"responsibilities[{index}].tasks_by_source.{source}: task {task_id} is cited for '{source}', "
                    f"but its sources are {', '.join(str(s) for s in sources)}",
                    f"add '{source}' to the sources of task {task_id}, or cite the task meant for '{source}'",
                )


def _problem(at: Problem, message: str, hint: str, *, first: bool = False) -> Problem:
    return Problem(at.path, at.line, at.column, message, hint, first=first)
