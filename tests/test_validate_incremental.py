"""A re-validation that reuses the last one (the live preview's, after a save) reports exactly what a clean
validation of the same folder reports: every problem, at the same path:line:col, in the same order.

Each case of the golden corpus (tests/cases/validate/) is one edit of the valid fixture that breaks a rule; it is
saved over the valid folder and validated again with the last load kept, then the valid files are saved back.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import CASES, MINIMAL, build_case_data, load_case
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from generator.data import integrity
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


#: One change a contributor may save: a task's field (a value that breaks a rule among them), the stages' order
#: swapped, or the task a responsibility cites for a source.
TASK_FIELDS = {
    "title": st.sampled_from(["Assess the tenant again", "Mail workshop"]),
    "owner": st.sampled_from(["partner", "support", "nobody", 5]),
    "stage": st.sampled_from(["prepare", "move", "later", None]),
    "prerequisites": st.lists(st.sampled_from([100, 200, 300, 999, "200"]), max_size=3),
    "sources": st.lists(st.sampled_from(["mail", "files", "fax"]), max_size=2),
}
CHANGES = st.one_of(
    st.tuples(st.just("tasks"), st.integers(0, 2), st.sampled_from(sorted(TASK_FIELDS))).flatmap(
        lambda change: st.tuples(st.just(change), TASK_FIELDS[change[2]])
    ),
    st.tuples(st.just(("stages swapped", 0, "")), st.none()),
    st.tuples(st.just(("cited", 0, "mail")), st.sampled_from([100, 200, 300, 999])),
)


#: The tasks file's first line, which names its schema for editors (validation asks for it).
MODELINE = (MINIMAL / "tasks.yml").read_text(encoding="utf-8").split("\n", 1)[0] + "\n"


def changed_texts(base: dict[str, str], changes: list[tuple[tuple[str, int, str], Any]]) -> dict[str, str]:
    """The data files' texts with the changes made: each task written as YAML writes it, the others by hand."""
    tasks = yaml.safe_load(base["tasks.yml"])
    texts = dict(base)
    for (kind, index, name), value in changes:
        if kind == "tasks":
            if value is None:
                tasks["tasks"][index].pop(name, None)
            else:
                tasks["tasks"][index][name] = value
        elif kind == "stages swapped":
            swapped = texts["migration.yml"].replace("order: 1", "order: x").replace("order: 2", "order: 1")
            texts["migration.yml"] = swapped.replace("order: x", "order: 2")
        else:
            texts["responsibilities.yml"] = texts["responsibilities.yml"].replace("mail: 200", f"mail: {value}")
    texts["tasks.yml"] = MODELINE + yaml.safe_dump(tasks, sort_keys=False)
    return texts


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.lists(CHANGES, min_size=1, max_size=3))
@example(changes=[(("tasks", 0, "stage"), "move")])  # task 200, unchanged, now waits for a task of a later stage
@example(changes=[(("tasks", 0, "prerequisites"), [300])])  # a loop through the two others, unchanged
def test_the_rules_across_records_checked_where_an_edit_changed_records_report_what_a_whole_check_reports(
    data_dir: Path, changes
):
    """After a valid load, a save that changes a few records has the rules across records checked only where
    those records can break them: the report is the whole check's, problem for problem."""
    base = {name: (MINIMAL / name).read_text(encoding="utf-8") for name in ("migration.yml", "responsibilities.yml")}
    base["tasks.yml"] = MODELINE + yaml.safe_dump(
        yaml.safe_load((MINIMAL / "tasks.yml").read_text(encoding="utf-8")), sort_keys=False
    )
    for name, text in base.items():
        (data_dir / name).write_text(text, encoding="utf-8")
    last = validate_data(data_dir, positions=True)  # as the preview loads it: a save then parses one record
    assert last.ok and last.loaded.consistent
    for name, text in changed_texts(base, changes).items():
        (data_dir / name).write_text(text, encoding="utf-8")

    again = validate_data(data_dir, previous=last.loaded)

    clean = validate_data(data_dir)
    assert texts(again) == texts(clean)
    assert again.loaded.consistent == clean.loaded.consistent


def test_a_save_of_one_record_is_checked_across_records_only_where_that_record_can_break_a_rule(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
):
    last = validate_data(data_dir)
    tasks = data_dir / "tasks.yml"
    tasks.write_text(tasks.read_text(encoding="utf-8").replace("owner: support", "owner: nobody", 1), "utf-8")
    whole = []
    monkeypatch.setattr(integrity, "_checked_whole", lambda loaded: whole.append(loaded) or [])
    monkeypatch.setattr(integrity, "_prerequisite_graph", lambda loaded: pytest.fail("the graph is not concerned"))

    again = validate_data(data_dir, previous=last.loaded)

    assert not whole and not again.loaded.consistent
    assert [problem.message for problem in again.problems] == ["tasks[1].owner: unknown role 'nobody'"]
    again_again = validate_data(data_dir, previous=again.loaded)  # it broke a rule: checked whole
    assert len(whole) == 1 and again_again.problems == []  # (the stand-in for the whole check reports nothing)
