"""Data built to hurt (issue #11): IDs that validate and then break the build, and inputs that make validation's
work or report explode. Speed and memory are measured in benchmarks/hostile_inputs.py; these tests pin the
behaviour that keeps them bounded: how many problems, how long a message, how much comparing."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest
from site_helpers import make_project, playbook

from generator.data import integrity, loader
from generator.data.loader import load_data
from generator.data.validate import validate_data
from generator.errors import Problem
from generator.links.report import SHOWN_PER_KIND, render

TASK = (
    "  - id: {id}\n    title: Task {id}\n    owner: partner\n    stage: prepare\n{extra}"
    "    source_pages: [roles-page]\n"
)


def write_tasks(data_dir: Path, prerequisites: dict[int, list[int]]) -> None:
    """tasks.yml of the fixture, replaced by tasks numbered as the keys, each waiting on its list."""
    modeline = (data_dir / "tasks.yml").read_text(encoding="utf-8").splitlines()[0]
    records = "".join(
        TASK.format(id=task, extra=f"    prerequisites: {json.dumps(needs)}\n" if needs else "")
        for task, needs in prerequisites.items()
    )
    (data_dir / "tasks.yml").write_text(f"{modeline}\ntasks:\n{records}", encoding="utf-8")
    (data_dir / "responsibilities.yml").write_text(
        "# yaml-language-server: $schema=../generator/schemas/responsibilities.schema.json\nresponsibilities: []\n",
        encoding="utf-8",
    )


def cycle_problems(data_dir: Path) -> list[Problem]:
    return [problem for problem in validate_data(data_dir).problems if "dependency cycle" in problem.message]


def test_a_knot_of_many_loops_is_one_problem_with_a_short_message(data_dir: Path):
    # 400 tasks in a ring, each also waiting on the one 7 places on: thousands of loops, one knot.
    ring = {task: [1 + task % 400, 1 + (task + 6) % 400] for task in range(1, 401)}
    write_tasks(data_dir, ring)

    problems = cycle_problems(data_dir)

    assert len(problems) == 1
    message = problems[0].message
    assert message.startswith("tasks[0].prerequisites: a dependency cycle: 1 → ")
    assert message.endswith("; 400 tasks wait on each other through loops like it")
    assert len(message) < 300, message


def test_a_long_loop_is_shown_by_its_ends(data_dir: Path):
    write_tasks(data_dir, {task: [task % 5000 + 1] for task in range(1, 5001)})

    (problem,) = cycle_problems(data_dir)

    assert "a dependency cycle: 1 → 2 → 3 → 4 → 5 → … (4,991 more) → 4997 → 4998 → 4999 → 5000 → 1" in problem.message


def test_separate_knots_are_reported_once_each(data_dir: Path):
    pairs = {}
    for first in range(1, 200, 2):  # 100 pairs of tasks waiting on each other, and one task waiting on itself
        pairs[first], pairs[first + 1] = [first + 1], [first]
    pairs[500] = [500]
    write_tasks(data_dir, pairs)

    problems = cycle_problems(data_dir)

    assert len(problems) == 101
    assert problems[0].message == "tasks[0].prerequisites: a dependency cycle: 1 → 2 → 1"
    assert problems[-1].message == "tasks[200].prerequisites: a dependency cycle: 500 → 500"


class CountingRecord(dict):
    """A task record that counts how often its prerequisites are read."""

    reads = 0

    def get(self, key, default=None):
        if key == "prerequisites":
            CountingRecord.reads += 1
        return super().get(key, default)


def test_later_stage_prerequisites_are_checked_without_a_search_per_prerequisite(data_dir: Path):
    # 300 tasks of 'prepare' each wait for the head of a 300-task chain in 'move', a later stage. Whether a
    # prerequisite waits back for its task is one question per prerequisite; a graph search for each would read
    # the whole chain every time (90,000 reads), one pass over the graph reads each task a few times.
    write_tasks(data_dir, {**{task: [1000] for task in range(1, 301)}, **{t: [t + 1] for t in range(1000, 1299)}})
    tasks = data_dir / "tasks.yml"
    text = tasks.read_text(encoding="utf-8").split("  - id: 1000\n", 1)
    tasks.write_text(text[0] + "  - id: 1000\n" + text[1].replace("stage: prepare", "stage: move"), "utf-8")
    loaded = load_data(data_dir)
    loaded.catalogue.collections["tasks"] = [CountingRecord(task) for task in loaded.catalogue.records("tasks")]
    CountingRecord.reads = 0

    problems = [problem for problem in integrity.check_integrity(loaded) if "of the later stage" in problem.message]

    assert len(problems) == 300
    assert "task 1 (stage 'prepare') waits for task 1000 of the later stage 'move'" in problems[0].message
    assert CountingRecord.reads < 5 * 600


def test_did_you_mean_compares_a_miss_with_a_few_ids_not_all(data_dir: Path, monkeypatch: pytest.MonkeyPatch):
    tasks = {task: [] for task in range(1000, 4000)}
    for number, task in enumerate(range(1000, 1200)):
        tasks[task] = [50_000 + number * 10]  # misses, far from every task
    tasks[3999] = [39999]  # a near miss, one digit too many
    write_tasks(data_dir, tasks)
    compared = 0
    real_ratio = difflib.SequenceMatcher.ratio

    def counting_ratio(self: difflib.SequenceMatcher) -> float:
        nonlocal compared
        compared += 1
        return real_ratio(self)

    monkeypatch.setattr(difflib.SequenceMatcher, "ratio", counting_ratio)

    problems = [p for p in validate_data(data_dir).problems if "unknown playbook task" in p.message]

    assert len(problems) == 201
    assert problems[-1].hint == "did you mean 3999?"
    assert problems[0].hint == "see data/tasks.yml for the known IDs"
    assert compared <= 201 * integrity.CANDIDATES


def test_unknown_ids_beyond_the_searched_ones_get_the_plain_hint(data_dir: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(integrity, "SEARCHED_MISSES", 3)
    write_tasks(data_dir, {task: [task * 10] for task in range(10, 16)})  # 100 is one slip from 10, and so on

    hints = [p.hint for p in validate_data(data_dir).problems if "unknown playbook task" in p.message]

    assert len(hints) == 6
    assert all(hint.startswith("did you mean") for hint in hints[:3]), hints
    assert hints[3:] == ["known: 10, 11, 12, 13, 14, 15"] * 3


def test_the_text_report_shows_a_few_of_each_kind_and_counts_the_rest():
    many = [Problem("data/tasks.yml", line, 5, f"tasks[{line}].owner: unknown role 'r{line}'") for line in range(120)]
    other = [Problem("data/tasks.yml", 500, 1, "tasks[9].title: must not be empty", "write the text")]

    report = render([*many, *other], "text", subject="data")

    lines = report.splitlines()
    assert lines[:SHOWN_PER_KIND] == [problem.text() for problem in many[:SHOWN_PER_KIND]]
    assert lines[SHOWN_PER_KIND] == "... and 70 more of this kind: unknown role …"
    assert lines[SHOWN_PER_KIND + 1 :] == [other[0].text(), "data: 121 errors in 1 file"]


def test_github_annotations_are_capped_too_and_json_keeps_every_problem():
    many = [Problem("data/roles.yml", line, 1, f"roles[{line}].id: duplicate role ID 'x'") for line in range(60)]

    annotations = render(many, "github", subject="data").splitlines()
    listed = json.loads(render(many, "json", subject="data"))

    assert len([line for line in annotations if line.startswith("::error ")]) == SHOWN_PER_KIND
    assert "... and 10 more of this kind: duplicate role ID …" in annotations
    assert len(listed) == 60


def test_a_long_value_is_quoted_by_its_start_and_length(data_dir: Path):
    tasks = (data_dir / "tasks.yml").read_text(encoding="utf-8")
    owner = "x" * 100_000
    (data_dir / "tasks.yml").write_text(tasks.replace("    owner: partner\n", f"    owner: {owner}\n", 1), "utf-8")

    messages = [problem.message for problem in validate_data(data_dir).problems]

    assert messages[0] == "tasks[0].owner: is 100,000 characters long; at most 64 are allowed"
    assert all(len(message) < 200 for message in messages), messages


@pytest.mark.parametrize("name", ["Index", "Page 3", "CON"])
def test_playbook_new_does_not_write_a_reserved_id(tmp_path: Path, name: str):
    project = make_project(tmp_path / "p")
    before = (project / "data" / "options.yml").read_bytes()

    result = playbook(
        "new",
        "option",
        "--name",
        name,
        "--summary",
        "S.",
        "--executed-by",
        "partner",
        "--phase",
        "migrate",
        cwd=project,
    )

    assert result.returncode in (1, 2)  # refused as bad data, or up front as a bad --id
    assert "is reserved" in result.stderr and "Traceback" not in result.stderr
    assert (project / "data" / "options.yml").read_bytes() == before


def test_a_data_file_over_the_size_cap_is_refused_unread(data_dir: Path):
    tasks = data_dir / "tasks.yml"
    padding = "# " + "x" * loader.MAX_DATA_FILE_BYTES + "\n"
    tasks.write_text(tasks.read_text(encoding="utf-8") + padding, encoding="utf-8")

    problems = validate_data(data_dir).problems

    assert [(problem.path, problem.line, problem.column) for problem in problems] == [("data/tasks.yml", 1, 1)]
    assert "the file is larger than 8 MB, the most a data file may hold" in problems[0].message


def test_a_data_file_at_the_size_cap_is_read(data_dir: Path):
    tasks = data_dir / "tasks.yml"
    text = tasks.read_text(encoding="utf-8")
    tasks.write_text(text + "#" * (loader.MAX_DATA_FILE_BYTES - len(text.encode()) - 1) + "\n", encoding="utf-8")

    assert validate_data(data_dir).ok
