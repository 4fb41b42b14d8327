"""The strict YAML loader: plain data only, YAML 1.2 scalars, bounded aliases, positions on demand."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.data.yamlsafe import MAX_ALIAS_EXPANSION, load_yaml, load_yaml_bytes
from generator.errors import YamlLoadError


@pytest.mark.parametrize(
    "written", ["NO", "no", "on", "Off", "yes", "Y", "0123", "1:20", "2019-04-04", "1_000", "0o", "+"]
)
def test_yaml11_lookalikes_stay_exactly_as_written(written: str):
    assert load_yaml(f"value: {written}\n", "t.yml").data == {"value": written}


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("true", True),
        ("False", False),
        ("~", None),
        ("", None),
        ("42", 42),
        ("-7", -7),
        ("0x1F", 31),
        ("0o17", 15),
        ("1.5", 1.5),
        ("1e3", 1000.0),
        ("'42'", "42"),
        ('"true"', "true"),
        ("!!str 42", "42"),
        ("!!int '7'", 7),
    ],
)
def test_core_schema_scalars(written: str, value: object):
    assert load_yaml(f"value: {written}\n", "t.yml").data == {"value": value}


def test_python_tags_are_refused_and_never_run(tmp_path: Path):
    marker = tmp_path / "pwned"
    document = load_yaml(f"a: !!python/object/apply:os.system ['touch {marker}']\n", "t.yml")

    assert not marker.exists()
    assert [problem.message for problem in document.problems] == [
        "the tag '!!python/object/apply:os.system' is not allowed"
    ]


def test_alias_bomb_stops_at_the_bound_without_expanding():
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 10)]  # 10**10 values

    with pytest.raises(YamlLoadError) as caught:
        load_yaml("\n".join(levels) + "\n", "bomb.yml")

    assert f"more than {MAX_ALIAS_EXPANSION:,} values" in caught.value.problem.message


def test_modest_aliases_are_allowed_and_shared():
    document = load_yaml("base: &s [imap, box]\nother: *s\n", "t.yml")

    assert document.data == {"base": ["imap", "box"], "other": ["imap", "box"]}
    assert document.problems == []


def test_positions_are_gathered_on_demand_and_are_one_based():
    document = load_yaml("tasks:\n  - id: 7\n    title: Seven\n", "t.yml")

    assert document.positions.locate(("tasks", 0, "title")) == (3, 12)
    assert document.positions.locate_key(("tasks", 0, "title")) == (3, 5)
    assert document.positions.locate(("tasks", 0, "missing", 4)) == (2, 5)


def test_not_utf8_names_the_line_and_column_of_the_bad_byte():
    with pytest.raises(YamlLoadError) as caught:
        load_yaml_bytes(b"a: 1\nb: caf\xe9\n", "t.yml")

    problem = caught.value.problem
    assert (problem.line, problem.column) == (2, 7)
    assert "not UTF-8" in problem.message


def test_a_byte_order_mark_is_accepted():
    assert load_yaml_bytes("\ufeffa: 1\n".encode(), "t.yml").data == {"a": 1}


def test_nesting_is_bounded():
    with pytest.raises(YamlLoadError, match="nested more than"):
        load_yaml("a: " + "[" * 200 + "]" * 200 + "\n", "t.yml")
