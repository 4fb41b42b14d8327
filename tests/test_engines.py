"""Every installed engine builds the shipped project, and the result has no broken link."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from site_helpers import make_project, playbook

from generator.engines.choice import ENGINES, installed


@pytest.mark.parametrize("engine", [name for name in ENGINES if name in installed()])
def test_each_installed_engine_builds_the_shipped_project_without_a_broken_link(engine: str, tmp_path: Path) -> None:
    project = make_project(tmp_path / "project")

    result = playbook("build", "--engine", engine, cwd=project)

    assert result.returncode == 0, result.stderr
    notice = [line for line in result.stderr.splitlines() if line.startswith("engine: ")]
    assert len(notice) == 1 and notice[0].startswith(f"engine: {engine} "), result.stderr  # said once
    generator = "ProperDocs" if engine == "properdocs" else "mkdocs-1"
    assert generator in (project / "site" / "index.html").read_text(encoding="utf-8")  # that engine built it
    checked = playbook("check-links", "site", cwd=project)
    assert checked.returncode == 0 and " 0 broken" in checked.stdout, checked.stdout + checked.stderr


def test_an_engine_that_is_not_installed_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from generator.engines import choice as engines

    monkeypatch.setattr(engines, "installed", lambda: ["mkdocs"])
    with pytest.raises(engines.UsageError, match=r"properdocs is not installed; install it with pip install"):
        engines.activate("properdocs")


@pytest.mark.parametrize("engine", [name for name in ENGINES if name in installed()])
def test_generate_writes_a_site_source_each_engine_builds_strictly_without_a_broken_link(
    engine: str, tmp_path: Path
) -> None:
    project = make_project(tmp_path / "project")
    generated = playbook("generate", "--out", str(tmp_path / "source"), cwd=project)
    assert generated.returncode == 0, generated.stderr
    source = tmp_path / "source"
    assert (source / "docs" / "downloads" / "tasks.csv").is_file() and (source / "theme" / "main.html").is_file()
    assert "- playbook" not in (source / "mkdocs.yml").read_text(encoding="utf-8")  # the engine alone builds it

    # The engine's own command, without our plugin: strict, so a single warning fails it.
    result = subprocess.run(
        [sys.executable, "-m", engine, "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=source,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
    assert "WARNING -" not in result.stderr, result.stderr
    checked = playbook("check-links", str(tmp_path / "site"), cwd=project)
    assert checked.returncode == 0 and " 0 broken" in checked.stdout, checked.stdout + checked.stderr
    catalogue = (tmp_path / "site" / "catalogue" / "index.html").read_text(encoding="utf-8")
    assert "assets/playbook/catalogue.js" in catalogue  # the filters' script, from the generated mkdocs.yml
