"""Validation as one step: read the data, check it against the schemas, then across records."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from generator.errors import DataError, Problem
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


def validate_data(data_dir: Path) -> Validation:
    """Every problem of every file, sorted by where it is; never raises for bad data."""
    loaded = load_data(data_dir)
    # A value the loader refused (a forbidden tag, say) also fails the schema; the loader's words say why.
    refused = {(problem.path, problem.line, problem.column) for problem in loaded.problems}
    later = [*check_schemas(loaded), *check_integrity(loaded)]
    problems = [*loaded.problems, *(p for p in later if (p.path, p.line, p.column) not in refused)]
    return Validation(loaded, sorted(set(problems)))


def load_valid_catalogue(data_dir: Path) -> Catalogue:
    """The catalogue of a data folder that validates; raises DataError with every problem otherwise."""
    validation = validate_data(data_dir)
    if not validation.ok:
        raise DataError(validation.problems)
    return validation.loaded.catalogue
