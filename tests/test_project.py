"""A project of one's own: `playbook init` from an installed wheel, and what a project may leave out."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

import pytest
from conftest import REPO
from site_helpers import playbook

from generator.engines.project import STARTER

#: What a checkout holds besides its sources: tools, caches, outputs.
NOT_SOURCES = (".git", ".venv", "node_modules", "build", "dist", "site", "*.egg-info", "__pycache__", ".*_cache")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `playbook` command of a wheel built from this checkout, installed into a venv of its own."""
    root = tmp_path_factory.mktemp("wheel")
    # Built from a copy: setuptools writes build/ and *.egg-info beside the sources, and would reuse a stale build/.
    source = root / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(*NOT_SOURCES))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(root / "dist"), str(source)], check=True)
    (wheel,) = (root / "dist").glob("partner_playbook-*.whl")
    venv.create(root / "venv", with_pip=True)  # no system site-packages: only what the wheel asks for
    python = root / "venv" / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "-q", "--disable-pip-version-check", "install", str(wheel)], check=True)
    return root / "venv" / "bin" / "playbook"


def run(command: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(command), *args], cwd=cwd, capture_output=True, text=True, env=environment)


def test_init_then_build_and_bundle_from_the_installed_wheel(installed: Path, tmp_path: Path) -> None:
    result = run(installed, "init", "site-src", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    project = tmp_path / "site-src"
    assert {"mkdocs.yml", "data/tasks.yml", "content/index.md"} <= {
        path.relative_to(project).as_posix() for path in project.rglob("*")
    }

    built = run(installed, "build", cwd=project)
    assert built.returncode == 0, built.stderr
    assert "engine: mkdocs" in built.stderr and "--engine properdocs" in built.stderr
    home = (project / "site" / "index.html").read_text(encoding="utf-8")
    assert "<title>My playbook</title>" in home  # the package's Material override titles the home page
    assert (project / "site" / "tasks" / "1" / "index.html").is_file()
    checked = run(installed, "check-links", "site", cwd=project)
    assert checked.returncode == 0 and " 0 broken" in checked.stdout, checked.stdout + checked.stderr

    bundled = run(installed, "bundle", "-o", "dist/starter.zip", cwd=project)
    assert bundled.returncode == 0, bundled.stderr
    assert (project / "dist" / "starter.zip").stat().st_size > 0
    assert (project / "site" / "index.html").read_text(encoding="utf-8") == home  # the bundle left site/ alone


def test_a_project_of_data_and_mkdocs_yml_alone_gets_a_home_page(installed: Path, tmp_path: Path) -> None:
    assert run(installed, "init", "bare", cwd=tmp_path).returncode == 0
    project = tmp_path / "bare"
    shutil.rmtree(project / "content")  # the docs folder mkdocs.yml names is gone: the command lends one

    result = run(installed, "build", cwd=project)

    assert result.returncode == 0, result.stderr
    home = (project / "site" / "index.html").read_text(encoding="utf-8")
    assert '<a href="tasks/">Tasks</a>' in home and '<a href="options/">Options</a>' in home
    assert not list(Path(tempfile.gettempdir()).glob("playbook-no-pages-*"))  # the lent folder is gone


@pytest.mark.parametrize("existing", ["file", "folder"])
def test_init_refuses_a_folder_that_is_not_empty(tmp_path: Path, existing: str) -> None:
    target = tmp_path / "taken"
    if existing == "file":
        target.write_text("mine\n", encoding="utf-8")
    else:
        target.mkdir()
        (target / "notes.md").write_text("mine\n", encoding="utf-8")

    result = playbook("init", "taken", cwd=tmp_path)

    assert result.returncode == 2, result.stderr
    assert "taken" in result.stderr and "Traceback" not in result.stderr
    kept = target.read_text(encoding="utf-8") if existing == "file" else (target / "notes.md").read_text("utf-8")
    assert kept == "mine\n"


def test_init_refuses_a_folder_inside_a_projects_sources(tmp_path: Path) -> None:
    assert playbook("init", "outer", cwd=tmp_path).returncode == 0

    result = playbook("init", "data/inner", cwd=tmp_path / "outer")

    assert result.returncode == 2
    assert "would write into data/" in result.stderr, result.stderr
    assert not (tmp_path / "outer" / "data" / "inner").exists()


def test_the_starter_data_says_it_is_an_example() -> None:
    for path in (STARTER / "data").glob("*.yml"):
        text = path.read_text(encoding="utf-8")
        assert "example" in text.lower(), path.name
    assert playbook("validate", "--data", str(STARTER / "data"), cwd=REPO).returncode == 0
