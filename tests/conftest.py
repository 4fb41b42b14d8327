from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
MINIMAL = TESTS / "fixtures" / "minimal"
CASES = TESTS / "cases" / "validate"


def build_case_data(case: dict, target: Path) -> Path:
    """The minimal fixture with a case's edits applied: `edit` (replace text once), `write`, `delete`."""
    shutil.copytree(MINIMAL, target)
    for name, replacements in case.get("edit", {}).items():
        path = target / name
        text = path.read_text(encoding="utf-8")
        for old, new in replacements:
            assert old in text, f"case edit does not apply to {name}: {old!r}"
            text = text.replace(old, new, 1)
        path.write_text(text, encoding="utf-8")
    for name, content in case.get("write", {}).items():
        (target / name).write_text(content, encoding="utf-8")
    for name in case.get("delete", []):
        (target / name).unlink()
    return target


def load_case(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A valid data folder at ./data of a fresh working folder, so reported paths read 'data/...'."""
    monkeypatch.chdir(tmp_path)
    return build_case_data({}, tmp_path / "data")
