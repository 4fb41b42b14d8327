"""A playbook project of one's own: what `playbook init` writes, and what a project may leave out.

A project needs only its data folder and mkdocs.yml. Everything else has a default: without a home page
(index.md in the docs folder, or no docs folder at all) the site gets one that lists its sections (see
pages.generate.home_page); without a Material override of its own, the site gets ours (THEME); without
CONTRIBUTING.md there is no contributing page.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from generator.errors import UsageError
from generator.pages.generate import THEME as GENERATED_THEME
from generator.system.confine import project_root, refuse_output

PACKAGE = Path(__file__).parent
#: The starter project `playbook init` copies: example records in our own words, to be replaced.
STARTER = PACKAGE / "starter"
#: Templates that join the theme's, after the project's own custom_dir: a project's file of the same name wins.
THEME = GENERATED_THEME


def init_project(target: Path) -> list[Path]:
    """Writes the starter project into `target`, which must not exist or be empty; returns the files written."""
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target} is a file; choose a new folder for the project")
    if target.is_dir() and any(target.iterdir()):
        raise UsageError(f"{target} is not empty; choose a new or empty folder, so nothing in it is overwritten")
    # A new folder is fine anywhere but in the sources of a project around it (its data, its pages, .git).
    around = project_root(target.absolute().parent)
    refuse_output("DIR", target, around, _sources_around(around), "a new folder, such as my-playbook/")
    shutil.copytree(STARTER, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    return sorted(path.relative_to(target) for path in target.rglob("*") if path.is_file())


def _sources_around(folder: Path) -> list[Path]:
    """The usual source folders of a project at `folder`, if it is one."""
    if not (folder / "mkdocs.yml").is_file():
        return []
    return [folder / name for name in ("data", "content", "docs", "overrides") if (folder / name).exists()]
