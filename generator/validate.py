"""Validation as one step: read the data, check it against the schemas, then across records."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from generator.errors import DataError, Problem
from generator.freshness import stale_sources
from generator.integrity import check_integrity
from generator.loader import LoadedData, load_data
from generator.model import Catalogue
from generator.schema_check import check_schemas


@dataclass
class Validation:
    loaded: LoadedData
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not any(problem.severity == "error" for problem in self.problems)


def validate_data(data_dir: Path, *, max_age_days: int | None = None, today: datetime.date | None = None) -> Validation:
    """Every problem of every file, sorted by where it is; never raises for bad data.

    With `max_age_days`, source pages not reviewed within that many days (before `today`) give warnings.
    """
    loaded = load_data(data_dir)
    # A value the loader refused (a forbidden tag, say) also fails the schema; the loader's words say why.
    refused = {(problem.path, problem.line, problem.column) for problem in loaded.problems}
    later = [*check_schemas(loaded), *check_integrity(loaded)]
    problems = [*loaded.problems, *(p for p in later if (p.path, p.line, p.column) not in refused)]
    if max_age_days is not None and "source_pages" not in loaded.unavailable:
        problems += stale_sources(loaded, max_age_days, today or datetime.date.today())
    return Validation(loaded, sorted(set(problems)))


def load_valid_catalogue(data_dir: Path) -> Catalogue:
    """The catalogue of a data folder that validates; raises DataError with every problem otherwise."""
    validation = validate_data(data_dir)
    if not validation.ok:
        raise DataError(validation.problems)
    return validation.loaded.catalogue
