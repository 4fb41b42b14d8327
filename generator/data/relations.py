"""What the data implies but does not write down: reverse links, groupings, and a dependency order of tasks.

Pages link both ways because every forward reference (a task's owner, a prerequisite, a citation) is indexed here
in reverse (the role's tasks, the tasks that need this one, the responsibilities that cite it).
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from generator.data import reads
from generator.data.model import Catalogue
from generator.data.reads import WHOLE, Read, TrackedGrouping, TrackedRecord, fingerprint

Record = dict[str, Any]


@dataclass(frozen=True)
class Citation:
    """A responsibility citing a task, for one migration source when the citation is per source."""

    responsibility: Record
    source: str | None = None


def group_by(records: list[Record], field: str) -> dict[Any, list[Record]]:
    """Records by the value (or each value, for a list field) of `field`, keeping record order."""
    groups: dict[Any, list[Record]] = defaultdict(list)
    for record in records:
        value = record.get(field)
        for key in value if isinstance(value, list) else [value]:
            if key is not None:
                groups[key].append(record)
    return groups


class Relations:
    """Indexes over a valid catalogue. Every list keeps a stable, meaningful order."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self._record_names: dict[int, Read] | None = None

    def record_names(self) -> dict[int, Read]:
        """Each record of the catalogue (by id()) → how a page's read of it is named (`record_reads`), made once:
        the preview compares each edit's relations with the last one's, whose names it made the edit before."""
        if self._record_names is None:
            self._record_names = record_reads(self.catalogue)
        return self._record_names

    def records(self, collection: str) -> list[Record]:
        return self.catalogue.records(collection)

    @cached_property
    def tasks(self) -> dict[int, Record]:
        return self.catalogue.index("tasks")

    @cached_property
    def task_order(self) -> list[Record]:
        """Every task after its prerequisites; among tasks free to go, earlier stage first, then file order."""
        stage_rank = {stage["id"]: stage["order"] for stage in self.records("migration_stages")}
        position = {task["id"]: index for index, task in enumerate(self.records("tasks"))}
        waiting = {task_id: len(task.get("prerequisites", [])) for task_id, task in self.tasks.items()}
        ready = [(stage_rank.get(self.tasks[t]["stage"], 0), position[t], t) for t, n in waiting.items() if n == 0]
        heapq.heapify(ready)
        ordered: list[Record] = []
        while ready:
            *_, task_id = heapq.heappop(ready)
            ordered.append(self.tasks[task_id])
            for follower in self.needed_by.get(task_id, []):
                waiting[follower] -= 1
                if waiting[follower] == 0:
                    rank = stage_rank.get(self.tasks[follower]["stage"], 0)
                    heapq.heappush(ready, (rank, position[follower], follower))
        return ordered

    def runbook(self, tasks: list[Record], *, ordered: bool = False) -> list[tuple[Record, list[Record]]]:
        """The tasks as runbook steps: in dependency order, cut into runs of one stage each.

        Where the data lets a later stage's task come before an earlier stage's one (a prerequisite that points
        forward), the stage appears again rather than a step moving before a task it waits for.

        `ordered`: the tasks are in dependency order already (a grouping of this class that keeps it, such as
        `tasks_by_source`), and are not sorted again. Sorting reads each task's place in the whole order, which
        a stage edit shifts for thousands of tasks: the live preview would render every runbook again, where the
        grouping's own order (which the page read) says whether this runbook's steps moved.
        """
        stages = self.catalogue.index("migration_stages")
        groups: list[tuple[Record, list[Record]]] = []
        steps = list({task["id"]: task for task in tasks}.values()) if ordered else self.in_task_order(tasks)
        for task in steps:
            if not groups or groups[-1][0]["id"] != task["stage"]:
                groups.append((stages[task["stage"]], []))
            groups[-1][1].append(task)
        return groups

    def in_task_order(self, tasks: list[Record]) -> list[Record]:
        """The tasks as `task_order` has them (each once): only these tasks are read, not the whole order, so a
        role's runbook does not depend on every other task."""
        rank = self.task_rank
        ordered = [task for task in {task["id"]: task for task in tasks}.values() if task["id"] in rank]
        return sorted(ordered, key=lambda task: rank[task["id"]])

    @cached_property
    def task_rank(self) -> dict[int, int]:
        """Task → its place in `task_order`, from 1."""
        return {task["id"]: number for number, task in enumerate(self.task_order, start=1)}

    @cached_property
    def needed_by(self) -> dict[int, list[int]]:
        """Task → the tasks that list it as a prerequisite."""
        followers: dict[int, list[int]] = defaultdict(list)
        for task in self.records("tasks"):
            for prerequisite in task.get("prerequisites", []):
                followers[prerequisite].append(task["id"])
        return followers

    @cached_property
    def citations(self) -> dict[int, list[Citation]]:
        """Task → every responsibility that cites it, in the order the responsibilities are written."""
        cited: dict[int, list[Citation]] = defaultdict(list)
        for responsibility in self.records("responsibilities"):
            for task_id in responsibility.get("tasks", []):
                cited[task_id].append(Citation(responsibility))
            for source, task_id in responsibility.get("tasks_by_source", {}).items():
                cited[task_id].append(Citation(responsibility, source))
        return cited

    def cited_tasks(self, responsibility: Record) -> list[tuple[Record, str | None]]:
        """The tasks a responsibility cites, each with its migration source when cited per source."""
        plain = [(self.tasks[task_id], None) for task_id in responsibility.get("tasks", [])]
        per_source = [(self.tasks[t], source) for source, t in responsibility.get("tasks_by_source", {}).items()]
        return plain + per_source

    @cached_property
    def tasks_by_owner(self) -> dict[str, list[Record]]:
        return {role: self.in_task_order(tasks) for role, tasks in group_by(self.records("tasks"), "owner").items()}

    @cached_property
    def tasks_by_stage(self) -> dict[str, list[Record]]:
        return {stage: self.in_task_order(tasks) for stage, tasks in group_by(self.records("tasks"), "stage").items()}

    def tasks_for_source(self, source: str) -> list[Record]:
        """Tasks that apply to a source (those naming it, and those naming no source), in dependency order."""
        found = self.tasks_by_source.get(source)
        if found is None:  # a source no task names, and not in the data: the tasks that name none apply
            return [task for task in self.task_order if "sources" not in task]
        return found

    @cached_property
    def tasks_by_source(self) -> dict[str, list[Record]]:
        """`tasks_for_source` of each source the data has or a task names: a page that counts a source's tasks
        depends on which tasks apply and in what order, not on what each says."""
        known = [source["id"] for source in self.records("migration_sources")]
        groups: dict[str, list[Record]] = {source: [] for source in known}
        for task in self.task_order:
            for source in task.get("sources", known):
                groups.setdefault(source, []).append(task)
        return groups

    @cached_property
    def responsibilities_by_role(self) -> dict[str, list[Record]]:
        return group_by(self.records("responsibilities"), "role")

    @cached_property
    def responsibilities_involving(self) -> dict[str, list[Record]]:
        return group_by(self.records("responsibilities"), "involves")

    def roles_on_task(self, task: Record) -> list[str]:
        """The owner, then every role a citing responsibility involves: whose limits the task page must show."""
        roles = [task["owner"]]
        for citation in self.citations.get(task["id"], []):
            roles += [r for r in [citation.responsibility["role"], *citation.responsibility.get("involves", [])]]
        return list(dict.fromkeys(roles))

    def retirement(self, role_id: str) -> Record | None:
        """The role's "retired" limit, if it has one."""
        role = self.catalogue.index("roles").get(role_id, {})
        return next((limit for limit in role.get("limits", []) if limit["kind"] == "retired"), None)

    def role_applies(self, role_id: str, source_id: str) -> bool:
        """Whether the role still takes part in a migration from this source: a retired role only where its
        limit makes an exception."""
        limit = self.retirement(role_id)
        return limit is None or source_id in limit.get("except_sources", [])

    @cached_property
    def options_by_phase(self) -> dict[str, list[Record]]:
        return group_by(self.records("options"), "lifecycle_phases")

    @cached_property
    def offerings_by_phase(self) -> dict[str, list[Record]]:
        return group_by(self.records("services_offerings"), "lifecycle_phases")

    @cached_property
    def focus_areas_by_group(self) -> dict[str, list[Record]]:
        return group_by(self.records("focus_areas"), "group")

    @cached_property
    def partner_types_by_option(self) -> dict[str, list[Record]]:
        return group_by(self.records("partner_types"), "option")

    @cached_property
    def resources_by_option(self) -> dict[str, list[Record]]:
        return group_by(self.records("self_service_resources"), "option")

    @cached_property
    def options_using(self) -> dict[str, list[Record]]:
        return group_by(self.records("options"), "uses_options")

    @cached_property
    def steps_by_phase(self) -> dict[str, list[Record]]:
        return group_by(self.records("alignment_steps"), "lifecycle_phase")


#: The groupings of `Relations` (dicts computed once), and its orders (lists), as a page may read them.
GROUPINGS = frozenset(
    name for name, value in vars(Relations).items() if isinstance(value, cached_property) and name != "task_order"
)
ORDERS = frozenset({"task_order"})
TRACKED = GROUPINGS | ORDERS


class TrackedRelations(Relations):
    """Relations whose groupings and orders note each read while a recording is on (generator.data.reads)."""

    def __getattribute__(self, name: str) -> Any:
        if reads._reads is None:
            return object.__getattribute__(self, name)
        if name in TRACKED and name not in object.__getattribute__(self, "__dict__"):
            # Computed now, for the first time: that reads every record, which is not what the page reads (it
            # reads the grouping, below). Noted, it tied the first role's, source's and stage's pages to every task.
            with reads.paused():
                value = object.__getattribute__(self, name)
        else:
            value = object.__getattribute__(self, name)
        if name in GROUPINGS:
            return TrackedGrouping(name, value)
        if name in ORDERS:
            reads.note(("grouping", name, WHOLE))
        return value


def record_reads(catalogue: Catalogue) -> dict[int, Read]:
    """Each record of the catalogue (by id()) → how a page's read of it is named."""
    return {
        id(record): ("record", name, dict.get(record, "id"))
        for name, records in catalogue.collections.items()
        for record in records
    }


def changed_reads(old: Relations, new: Relations) -> set[Read]:
    """The reads (generator.data.reads) whose answer differs between the relations of two catalogues: a page that
    made none of them renders the same from either."""
    changed: set[Read] = set()
    before_catalogue, after_catalogue = old.catalogue, new.catalogue
    for name in before_catalogue.collections.keys() | after_catalogue.collections.keys():
        before, after = before_catalogue.collections.get(name, []), after_catalogue.collections.get(name, [])
        if before == after:  # the same records (one object each, mostly: `Catalogue.tracked`), in the same order
            continue
        ids_before = [dict.get(record, "id") for record in before]
        ids_after = [dict.get(record, "id") for record in after]
        if ids_before != ids_after:
            changed.add(("collection", name))
        if None in ids_before or None in ids_after:  # records without an ID: the collection stands for them
            if before != after:
                changed.update({("collection", name), ("record", name, None)})
            continue
        old_index, new_index = dict(zip(ids_before, before, strict=True)), dict(zip(ids_after, after, strict=True))
        for key in old_index.keys() | new_index.keys():
            was, now = old_index.get(key), new_index.get(key)
            if not reads.same_record(was, now) and was != now:
                changed.add(("record", name, key))
    changed.update(_changed_groupings(old, new))
    return changed


def _all_tracked(records: list[Any]) -> bool:
    return all(type(record) is TrackedRecord for record in records)


#: Values a fingerprint keeps as they are (a task's place in the order, say): two unequal ones differ.
_PLAIN = frozenset({int, str, float, bool, type(None)})


def _changed_groupings(old: Relations, new: Relations) -> Iterator[Read]:
    """The entries of every grouping and order whose records, or their order, differ: what each says of its
    records is each record's own read.

    Groupings, then entries, equal in both (which Python finds at C speed, each record compared by its fields)
    hold the same records in the same order. Only an unequal entry is compared by fingerprint, records by name:
    it may hold an edited record (its fields differ, it is the same record) where the edit moved nothing.
    Fingerprinting every entry of both, 0.15 s at 5,000 tasks, is what a stage edit's preview waited for before."""

    names: list[dict[int, Read]] = []

    def same(was: Any, now: Any) -> bool:
        if was == now:
            return True
        if type(was) in _PLAIN or type(now) in _PLAIN:  # a fingerprint keeps a plain value as it is: unequal
            return False
        if type(was) is TrackedRecord and type(now) is TrackedRecord:  # a record (by ID, say): the same one?
            return was.read == now.read
        if type(was) is list and type(now) is list and _all_tracked(was) and _all_tracked(now):
            # The common case, a list of records, each named by its tracked copy (`TrackedRecord.read`): the
            # names of all the records are not made, 10 to 20 ms a catalogue.
            return [record.read for record in was] == [record.read for record in now]
        if not names:
            names.extend((old.record_names(), new.record_names()))
        return fingerprint(was, names[0]) == fingerprint(now, names[1])

    with reads.paused():  # a grouping not computed yet is computed now, from all records: no page's read
        for name in GROUPINGS:
            before, after = object.__getattribute__(old, name), object.__getattribute__(new, name)
            if before == after:
                continue
            unequal = [key for key in before.keys() | after.keys() if before.get(key) != after.get(key)]
            # An entry a page looked up and found missing may have been added empty (a defaultdict): the same thing.
            keys = [key for key in unequal if not same(before.get(key) or None, after.get(key) or None)]
            yield from (("grouping", name, key) for key in keys)
            if keys:
                yield ("grouping", name, WHOLE)
        for name in ORDERS:
            before, after = object.__getattribute__(old, name), object.__getattribute__(new, name)
            if before != after and not same(before, after):
                yield ("grouping", name, WHOLE)
