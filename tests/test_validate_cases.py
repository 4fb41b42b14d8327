"""The golden corpus: each file in tests/cases/validate/ breaks one rule and lists the exact report it must get."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CASES, build_case_data, load_case

from generator.data.validate import validate_data

CASE_FILES = sorted(CASES.glob("*.yml"))


@pytest.mark.parametrize("case_file", CASE_FILES, ids=[path.stem for path in CASE_FILES])
def test_case_reports_exactly_the_expected_problems(case_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    case = load_case(case_file)
    monkeypatch.chdir(tmp_path)
    build_case_data(case, tmp_path / "data")

    validation = validate_data(Path("data"))

    assert [problem.text() for problem in validation.problems] == case["expect"], case["rule"]
    assert not validation.ok


def test_every_case_expects_at_least_one_problem():
    assert CASE_FILES, "the corpus is missing"
    for case_file in CASE_FILES:
        assert load_case(case_file)["expect"], f"{case_file.name} expects nothing, so it cannot fail"


def test_the_unedited_fixture_is_valid(data_dir: Path):
    validation = validate_data(data_dir)

    assert validation.problems == []
    assert [task["id"] for task in validation.loaded.catalogue.records("tasks")] == [100, 200, 300]
