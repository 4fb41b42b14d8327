from __future__ import annotations

import shutil
from collections.abc import Iterator
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


# The shipped project, built and bundled once per run (see site_helpers.py): read these, never write into them.


@pytest.fixture(scope="session")
def shipped_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`playbook build` of a copy of the shipped project: the site folder."""
    from site_helpers import built

    return built(tmp_path_factory.mktemp("shipped"), "build", "--site-dir", "site") / "site"


@pytest.fixture(scope="session")
def shipped_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`playbook bundle` of a copy of the shipped project: the zip."""
    from site_helpers import built

    project = built(tmp_path_factory.mktemp("bundled"), "bundle", "-o", "dist/playbook-offline.zip")
    return project / "dist" / "playbook-offline.zip"


@pytest.fixture(scope="session")
def shipped_unpacked(shipped_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped bundle unzipped, as a reader opens it from disk."""
    from site_helpers import unpack

    return unpack(shipped_bundle, tmp_path_factory.mktemp("unpacked"))


@pytest.fixture(scope="session")
def shipped_served(shipped_site: Path) -> Iterator[str]:
    """The shipped site served on 127.0.0.1 under its published path; the site's address."""
    from site_helpers import serve_under_site_path

    with serve_under_site_path(shipped_site) as address:
        yield address
