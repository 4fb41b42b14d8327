"""Parsing one edited record again (generator.data.yamlsplice) gives exactly what parsing the whole file gives.

Random edits of a tasks file (a value changed, a line added, removed or re-indented, a comment, a `- ` dropped,
text that runs across records) are each loaded both ways: where the shortcut answers, its data, every position
of every value and key, and its problems must equal the whole parse's; where the whole parse fails, the shortcut
must not answer. The edits contributors make most (a value changed, a field added or removed) must take it.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.data.yamlsafe import Document, load_yaml
from generator.data.yamlsplice import reparse
from generator.errors import YamlLoadError

HEADER = "# yaml-language-server: $schema=../generator/schemas/tasks.schema.json\ntasks:\n"


def record(task: int) -> str:
    return (
        f"  - id: {task}\n"
        f"    title: Task number {task}\n"
        "    owner: partner\n"
        "    stage: prepare\n"
        f"    prerequisites: [{task - 1}]\n"
        "    summary: >-\n"
        "      Text that runs\n"
        "      over two lines.\n"
    )


TEXT = HEADER + "".join(record(task) for task in range(1, 7)) + "roles:\n  - id: partner\n    name: Partner\n"
LINES = TEXT.split("\n")


def loaded(text: str) -> Document | None:
    try:
        return load_yaml(text, "data/tasks.yml", positions=True)
    except YamlLoadError:
        return None


def same(shortcut: Document, whole: Document) -> None:
    assert shortcut.data == whole.data
    assert shortcut.problems == whole.problems
    assert shortcut.positions.values == whole.positions.values
    assert shortcut.positions.keys == whole.positions.keys
    assert shortcut.text == whole.text


BASE = loaded(TEXT)
PIECES = st.sampled_from(
    [
        "    optional: true\n",
        "    title: Another\n",
        "  - id: 99\n",
        "# a comment\n",
        "\n",
        "      more text\n",
        "  title: too far left\n",
        "- id: 3\n",
        "    note: 'open quote\n",
        "    sources: [mail,\n      files]\n",
        "    x: &anchor 1\n",
        "\t title: tab\n",
        "    summary: |\n      block\n",
        "stray: 1\n",
    ]
)


@st.composite
def edits(draw: st.DrawFn) -> str:
    lines = list(LINES)
    kind = draw(st.sampled_from(["insert", "delete", "replace", "characters"]))
    at = draw(st.integers(2, len(lines) - 2))
    if kind == "insert":
        lines.insert(at, draw(PIECES).removesuffix("\n"))
    elif kind == "delete":
        del lines[at : at + draw(st.integers(1, 3))]
    elif kind == "replace":
        lines[at] = draw(PIECES).removesuffix("\n")
    else:
        text = "\n".join(lines)
        start = draw(st.integers(len(HEADER), len(text) - 1))
        end = draw(st.integers(start, min(len(text), start + 12)))
        return text[:start] + draw(st.text(alphabet=" -:#\nab1[]'&", max_size=6)) + text[end:]
    return "\n".join(lines)


@settings(max_examples=400, deadline=None)
@given(text=edits())
def test_a_record_parsed_alone_reads_as_the_whole_file_does(text: str):
    assert BASE is not None
    shortcut = reparse(BASE, text)
    whole = loaded(text)
    if shortcut is None:
        return
    assert whole is not None, "the shortcut loaded a file that does not load"
    same(shortcut, whole)
    # and again, from the shortcut's own result: the preview chains them, save after save
    again = text.replace("Task number 4", "Task number four")
    if again != text and (chained := reparse(shortcut, again)) is not None:
        whole_again = loaded(again)
        assert whole_again is not None
        same(chained, whole_again)


@pytest.mark.parametrize(
    "edit",
    [
        ("    title: Task number 3\n", "    title: Task number three, renamed\n"),
        ("    stage: prepare\n    prerequisites: [3]\n", "    stage: move\n    prerequisites: [3]\n"),
        ("    prerequisites: [3]\n", "    prerequisites: [3]\n    optional: true\n"),  # a field added at the end
        ("    prerequisites: [3]\n", ""),  # a field removed
        ("      over two lines.\n  - id: 5", "      over two lines.\n    sources: [mail]\n  - id: 5"),
    ],
)
def test_the_edits_contributors_make_most_take_the_shortcut(edit: tuple[str, str]):
    assert BASE is not None
    old, new = edit
    assert TEXT.count(old) >= 1
    at = TEXT.index("  - id: 4\n")  # the edit lands in record 4
    text = TEXT[:at] + TEXT[at:].replace(old, new, 1)
    shortcut = reparse(BASE, text)
    assert shortcut is not None
    whole = loaded(text)
    assert whole is not None
    same(shortcut, whole)


@pytest.mark.parametrize(
    "text",
    [
        TEXT.replace("  - id: 4\n    title: Task number 4\n", "  - id: 4\n    title: Task number 4\n  - id: 44\n"),
        TEXT.replace("    title: Task number 4\n", "    title: &a Task number 4\n"),
        TEXT.replace("tasks:\n", "tasks:  # the list\n"),
        TEXT.replace("Task number 4\n", "Task four\n").replace("Task number 5\n", "Task five\n"),
    ],
    ids=["a record added inside another", "an anchor", "outside any record", "two records touched"],
)
def test_what_the_shortcut_cannot_be_sure_of_is_parsed_whole(text: str):
    assert BASE is not None
    assert reparse(BASE, text) is None
