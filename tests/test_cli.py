"""`playbook validate` as a contributor runs it: output formats, exit codes, and never a traceback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import REPO

EDIT = ("    owner: support\n", "    owner: suport\n")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "generator", *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def break_owner(data_dir: Path) -> None:
    path = data_dir / "tasks.yml"
    path.write_text(path.read_text().replace(*EDIT, 1))


def test_shipped_data_is_valid():
    result = run("validate", cwd=REPO)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "data: no problems found\n"


def test_invalid_data_exits_1_with_path_line_col_and_no_traceback(data_dir: Path):
    break_owner(data_dir)

    result = run("validate", cwd=data_dir.parent)

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "data/tasks.yml:10:12: error: tasks[1].owner: unknown role 'suport' (did you mean 'support'?)",
        "data: 1 error in 1 file",
    ]
    assert "Traceback" not in result.stderr + result.stdout


def test_github_format_prints_workflow_annotations(data_dir: Path):
    break_owner(data_dir)

    result = run("validate", "--format", "github", cwd=data_dir.parent)

    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == (
        "::error file=data/tasks.yml,line=10,col=12::tasks[1].owner: unknown role 'suport' (did you mean 'support'?)"
    )


def test_json_format_is_a_list_of_objects(data_dir: Path):
    break_owner(data_dir)

    result = run("validate", "--format", "json", cwd=data_dir.parent)

    assert result.returncode == 1
    assert json.loads(result.stdout) == [
        {
            "file": "data/tasks.yml",
            "line": 10,
            "column": 12,
            "severity": "error",
            "message": "tasks[1].owner: unknown role 'suport'",
            "hint": "did you mean 'support'?",
            "knock_ons": 0,
        }
    ]


def test_json_format_of_valid_data_is_an_empty_list(data_dir: Path):
    result = run("validate", "--format", "json", cwd=data_dir.parent)

    assert (result.returncode, json.loads(result.stdout)) == (0, [])


def test_data_option_and_relative_paths(data_dir: Path):
    break_owner(data_dir)

    elsewhere = data_dir.parent / "elsewhere"
    elsewhere.mkdir()

    result = run("validate", "--data", "../data", cwd=elsewhere)

    assert result.stderr.startswith("../data/tasks.yml:10:12: error:")


def test_usage_errors_exit_2(tmp_path: Path):
    missing = run("validate", "--data", "nowhere", cwd=tmp_path)
    bad_format = run("validate", "--format", "xml", cwd=tmp_path)

    assert missing.returncode == 2 and "data folder not found: nowhere" in missing.stderr
    assert bad_format.returncode == 2 and "'xml' is not one of" in bad_format.stderr
    assert "Traceback" not in missing.stderr + bad_format.stderr


def test_a_usage_error_prints_its_cause_first_then_where_to_read_more(tmp_path: Path):
    typo = run("build", "--site-dri", "out", cwd=tmp_path)
    refused = run("build", "--site-dir", ".", cwd=tmp_path)
    bare = run(cwd=tmp_path)

    assert typo.returncode == 2
    assert typo.stderr.splitlines() == [
        "error: No such option '--site-dri'. Did you mean '--site-dir'?",
        "Try 'playbook build -h' for help.",
    ]
    assert refused.returncode == 2 and refused.stderr.startswith("error: ")
    assert "Usage:" not in typo.stderr + refused.stderr
    assert bare.returncode in (0, 2) and "Commands:" in bare.stdout + bare.stderr  # `playbook` alone: its help


def test_a_data_folder_given_by_absolute_path_outside_the_working_folder_is_named_as_given(tmp_path: Path):
    here = tmp_path / "a" / "b"
    here.mkdir(parents=True)

    result = run("validate", "--data", str(tmp_path / "nonexistent"), cwd=here)

    assert result.returncode == 2
    assert f"data folder not found: {tmp_path / 'nonexistent'}\n" in result.stderr
    assert "../" not in result.stderr


def test_help_shows_examples_and_exit_codes(tmp_path: Path):
    result = run("validate", "--help", cwd=tmp_path)

    assert result.returncode == 0
    assert "playbook validate --data path/to/data --format json" in result.stdout
    assert "2  usage error" in result.stdout


def test_a_broken_file_does_not_hide_problems_in_others(data_dir: Path):
    (data_dir / "glossary.yml").write_bytes(b"\xff\xfe")
    break_owner(data_dir)

    result = run("validate", cwd=data_dir.parent)

    assert "data/glossary.yml:1:1: error: the file is not UTF-8 text" in result.stderr
    assert "data/tasks.yml:10:12: error: tasks[1].owner: unknown role 'suport'" in result.stderr
    assert result.stderr.splitlines()[-1] == "data: 2 errors in 2 files"


def test_a_record_given_another_records_id_is_reported_before_the_references_it_breaks(tmp_path: Path):
    """Task 4027 renumbered as 1635 (a task that exists): the references to 4027, in another file that sorts
    first, follow from it; the first line says what to change."""
    data = tmp_path / "data"
    shutil.copytree(REPO / "data", data)
    tasks = data / "tasks.yml"
    text = tasks.read_text(encoding="utf-8")
    tasks.write_text(text.replace("\n  - id: 4027\n", "\n  - id: 1635\n", 1), encoding="utf-8")
    line = text[: text.index("\n  - id: 4027\n")].count("\n") + 2

    result = run("validate", cwd=tmp_path)

    assert result.returncode == 1 and "Traceback" not in result.stderr
    first, *rest = result.stderr.splitlines()
    assert first.startswith(f"data/tasks.yml:{line}:9: error: tasks[")
    assert "duplicate playbook task ID 1635" in first and "give each record its own ID" in first
    assert any(text.startswith("data/responsibilities.yml:") and "unknown playbook task 4027" in text for text in rest)


@pytest.mark.parametrize("kind", ["folder", "link to nothing", "fifo"])
def test_a_data_file_that_is_not_a_file_is_named_at_its_path(data_dir: Path, kind: str):
    roles = data_dir / "roles.yml"
    roles.unlink()
    if kind == "folder":
        roles.mkdir()
    elif kind == "link to nothing":
        roles.symlink_to("nowhere.yml")
    else:
        os.mkfifo(roles)  # opened, it would wait for a writer forever: never opened

    result = subprocess.run(
        [sys.executable, "-m", "generator", "validate"],
        cwd=data_dir.parent,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert result.returncode == 1 and "Traceback" not in result.stderr
    first = result.stderr.splitlines()[0]
    expected = {"folder": "is a folder", "link to nothing": "is a link to nothing", "fifo": "is not a regular file"}
    assert first.startswith(f"data/roles.yml:1:1: error: the data file {expected[kind]} ("), first


def validate_without_permission(path: str, mode: int) -> subprocess.CompletedProcess[str]:
    """`playbook validate` of a copy of the shipped data with `path` (relative to the copy) at `mode`, as a
    contributor without permission runs it: root reads any file, so the command runs as `nobody` then (through
    util-linux's setpriv: Python's own `user=` could not run the virtual environment's interpreter here)."""
    folder = Path(tempfile.mkdtemp(dir="/tmp", prefix="playbook-permission-"))
    try:
        shutil.copytree(REPO / "data", folder / "data")
        for each in [folder, *folder.rglob("*")]:
            each.chmod(0o755 if each.is_dir() else 0o644)
        (folder / path).chmod(mode)
        as_nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] if os.geteuid() == 0 else []
        return subprocess.run(
            [*as_nobody, sys.executable, "-m", "generator", "validate"],
            cwd=folder,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "HOME": str(folder)},
        )
    finally:
        (folder / "data").chmod(0o755)
        shutil.rmtree(folder)


def test_a_data_file_the_user_cannot_read_is_named_with_what_to_do():
    result = validate_without_permission("data/tasks.yml", 0)

    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.splitlines()[0] == (
        "data/tasks.yml:1:1: error: the data file cannot be read: Permission denied "
        "(let your user read it (chmod u+r), or restore it with git)"
    )


def test_a_data_folder_the_user_cannot_search_is_named_at_each_file_without_a_traceback():
    """The folder readable but not searchable (chmod 644): its files cannot even be looked at."""
    result = validate_without_permission("data", 0o644)

    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.splitlines()[0] == (
        "data/fasttrack.yml:1:1: error: the data file cannot be read: Permission denied "
        "(let your user open data (chmod u+rx))"
    )
