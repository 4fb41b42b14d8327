"""Validation as one step: read the data, check it against the schemas, then across records."""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from generator.data.freshness import stale_sources
from generator.data.integrity import check_integrity
from generator.data.loader import LoadedData, load_data
from generator.data.model import Catalogue
from generator.data.schema_check import check_schemas
from generator.errors import DataError, Place, Problem


@dataclass
class Validation:
    loaded: LoadedData
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not any(problem.severity == "error" for problem in self.problems)


def validate_data(
    data_dir: Path,
    *,
    max_age_days: int | None = None,
    today: datetime.date | None = None,
    previous: LoadedData | None = None,
    positions: bool = False,
) -> Validation:
    """Every problem of every file, sorted by where it is (a duplicated ID first: others may follow from it); never
    raises for bad data, an unreadable file included.

    With `max_age_days`, source pages not reviewed within that many days (before `today`) give warnings. With
    `previous` (the last load of the same folder, as the live preview keeps it), the files whose bytes did not
    change are neither parsed nor checked against their schema again, and where the last load broke no rule
    across records, those rules are checked only where the changed records can break them. With `positions`,
    each file's positions are found as it is parsed (the preview's next edit needs them).
    """
    loaded = load_data(data_dir, previous, positions=positions)
    problems = _one_per_place([loaded.problems, check_schemas(loaded), check_integrity(loaded, previous)])
    if max_age_days is not None and "source_pages" not in loaded.unavailable:
        problems += stale_sources(loaded, max_age_days, today or datetime.date.today())
    # By place, but a problem others may follow from before all of them: the cause is what a contributor reads first.
    return Validation(loaded, sorted(_fold_knock_ons(problems), key=lambda problem: (not problem.first, problem)))


def _one_per_place(stages: list[list[Problem]]) -> list[Problem]:
    """The first stage's word on each place: a value the loader refused (a forbidden tag, say) also fails the
    schema, and a malformed reference also fails to resolve, but the contributor has one thing to change there."""
    taken: set[Place] = set()
    kept: list[Problem] = []
    for stage in stages:
        fresh = [problem for problem in stage if problem.place not in taken]
        taken.update(problem.place for problem in fresh)
        kept.extend(fresh)
    return list(dict.fromkeys(kept))


def _fold_knock_ons(problems: list[Problem]) -> list[Problem]:
    """Problems that follow from another one reported elsewhere, counted under it instead of listed before it."""
    causes = {problem.place: problem for problem in reversed(problems) if problem.cause is None}
    counts = Counter(problem.cause for problem in problems if problem.cause in causes)
    return [
        replace(problem, knock_ons=counts[problem.place])
        if counts[problem.place] and causes.get(problem.place) is problem
        else problem
        for problem in problems
        if problem.cause not in causes
    ]


def load_valid_catalogue(data_dir: Path) -> Catalogue:
    """The catalogue of a data folder that validates; raises DataError with every problem otherwise."""
    validation = validate_data(data_dir)
    if not validation.ok:
        raise DataError(validation.problems)
    return validation.loaded.catalogue
