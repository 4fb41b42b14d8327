"""A re-validation that reuses the last one (the live preview's, after a save) reports exactly what a clean
validation of the same folder reports: every problem, at the same path:line:col, in the same order.

Each case of the golden corpus (tests/cases/validate/) is one edit of the valid fixture that breaks a rule; it is
saved over the valid folder and validated again with the last load kept, then the valid files are saved back.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import CASES, MINIMAL, build_case_data, load_case

from generator.data.validate import validate_data

CASE_FILES = sorted(CASES.glob("*.yml"))


def texts(validation) -> list[str]:
    return [problem.text() for problem in validation.problems]


def save_folder(source: Path, target: Path) -> None:
    """`target` made to hold what `source` holds, file by file, as an editor's saves would leave it."""
    for path in target.iterdir():
        if not (source / path.name).exists():
            path.unlink()
    for path in source.iterdir():
        shutil.copyfile(path, target / path.name)


@pytest.mark.parametrize("case_file", CASE_FILES, ids=[path.stem for path in CASE_FILES])
def test_a_revalidation_after_an_edit_reports_what_a_clean_validation_reports(
    case_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    data = build_case_data({}, tmp_path / "data")
    last = validate_data(Path("data"))
    assert last.ok
    broken = build_case_data(load_case(case_file), tmp_path / "broken")

    save_folder(broken, data)
    again = validate_data(Path("data"), previous=last.loaded)

    assert texts(again) == texts(validate_data(Path("data")))
    assert texts(again) == load_case(case_file)["expect"]
    save_folder(MINIMAL, data)
    mended = validate_data(Path("data"), previous=again.loaded)
    assert mended.problems == []
    assert mended.loaded.catalogue.collections == validate_data(Path("data")).loaded.catalogue.collections


def test_a_file_saved_unchanged_is_not_parsed_again_and_an_edited_one_is(data_dir: Path):
    last = validate_data(data_dir)
    tasks = data_dir / "tasks.yml"
    tasks.write_text(tasks.read_text(encoding="utf-8").replace("id: 300", "id: 301", 1), encoding="utf-8")

    again = validate_data(data_dir, previous=last.loaded)

    assert again.loaded.files["roles"].document is last.loaded.files["roles"].document
    assert again.loaded.files["tasks"].document is not last.loaded.files["tasks"].document
    assert 301 in [task["id"] for task in again.loaded.catalogue.records("tasks")]
    clean = validate_data(data_dir)
    assert texts(again) == texts(clean)
    # The edited file's positions, gathered while it was parsed, are those a clean load finds when asked.
    assert again.loaded.files["tasks"].document.positions == clean.loaded.files["tasks"].document.positions


def test_a_problem_in_an_unchanged_file_is_still_reported_after_an_edit_elsewhere(data_dir: Path):
    roles = data_dir / "roles.yml"
    roles.write_text(roles.read_text(encoding="utf-8").replace("id: partner", "id: Partner!", 1), encoding="utf-8")
    last = validate_data(data_dir)
    assert not last.ok
    tasks = data_dir / "tasks.yml"
    tasks.write_text(tasks.read_text(encoding="utf-8") + "\n", encoding="utf-8")

    again = validate_data(data_dir, previous=last.loaded)

    assert texts(again) == texts(last) == texts(validate_data(data_dir))
