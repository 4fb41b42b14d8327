"""The tool stays inside its project: it reads no link out of it, and no output replaces what the site is made of."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from site_helpers import make_project, playbook, tree_digest

SECRET = "root:x:0:0:the-secret-that-must-not-leak:/root:/bin/bash\n" * 40


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The shipped project, with a fake .git, and a secret file beside it (outside the project)."""
    (tmp_path / "secret").write_text(SECRET, encoding="utf-8")
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "key.pem").write_text(SECRET, encoding="utf-8")
    project = make_project(tmp_path / "project")
    (project / ".git").mkdir()
    (project / ".git" / "HEAD").write_text("ref: refs/heads/main\n", encoding="utf-8")
    return project


def test_a_data_file_linked_out_of_the_project_is_refused_and_never_echoed(project: Path):
    (project / "data" / "roles.yml").unlink()
    (project / "data" / "roles.yml").symlink_to(project.parent / "secret")

    result = playbook("validate", cwd=project)

    assert result.returncode == 1
    assert "data/roles.yml:1:1: error: this symbolic link leaves the project; it is not read" in result.stderr
    assert "the-secret" not in result.stdout + result.stderr


def test_a_data_file_that_is_one_long_text_is_quoted_only_in_part(project: Path):
    (project / "data" / "roles.yml").write_text(SECRET, encoding="utf-8")

    result = playbook("validate", "--format", "github", cwd=project)

    line = next(line for line in result.stderr.splitlines() if "must be a mapping" in line)
    assert "root:x:0:0:" in line  # enough to recognise the file
    assert ":/root:/bin/bash" not in line  # the rest of the first line, and every line after it
    assert "\n" not in line and len(line) < 400


@pytest.mark.parametrize("command", [("build", "--site-dir", "site"), ("generate", "--out", "md")])
def test_links_out_of_the_project_in_content_stop_the_build_and_are_not_copied(project: Path, command: tuple):
    (project / "content" / "environ.txt").symlink_to("/proc/self/environ")
    (project / "content" / "certs").symlink_to(project.parent / "secrets")
    (project / "overrides" / "tasks.md.j2").symlink_to(project.parent / "secret")
    (project / "CONTRIBUTING.md").unlink()
    (project / "CONTRIBUTING.md").symlink_to(project.parent / "secret")  # a page of the site too

    result = playbook(*command, cwd=project)

    assert result.returncode == 1, result.stderr
    for link in ("CONTRIBUTING.md", "content/certs", "content/environ.txt", "overrides/tasks.md.j2"):
        assert f"{link}:1:1: error: this symbolic link leaves the project" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (project / command[2]).exists()


def test_a_link_that_stays_inside_the_project_is_followed(project: Path):
    (project / "content" / "roles.yml.txt").symlink_to(project / "data" / "roles.yml")

    result = playbook("generate", "--out", "md", cwd=project)

    assert result.returncode == 0, result.stderr
    copied = (project / "md" / "docs" / "roles.yml.txt").read_text(encoding="utf-8")
    assert copied == (project / "data" / "roles.yml").read_text(encoding="utf-8")


REFUSED_OUTPUTS = [
    ("build", "--site-dir", ".", "would replace the whole project"),
    ("build", "--site-dir", "..", "would replace the whole project"),
    ("build", "--site-dir", "data", "would replace data/"),
    ("build", "--site-dir", "content", "would replace content/"),
    ("build", "--site-dir", "overrides/site", "would write into overrides/"),
    ("build", "--site-dir", ".git", "would replace .git/"),
    ("bundle", "--output", "data/tasks.yml", "would write into data/"),
    ("bundle", "--output", "mkdocs.yml", "would replace mkdocs.yml"),
    ("bundle", "--output", "CONTRIBUTING.md", "would replace CONTRIBUTING.md"),
    ("generate", "--out", "overrides", "would replace overrides/"),
    ("generate", "--out", ".", "would replace the whole project"),
    ("generate", "--out", "content/md", "would write into content/"),
]


@pytest.mark.parametrize(("command", "flag", "output", "message"), [(c, f, o, m) for c, f, o, m in REFUSED_OUTPUTS])
def test_an_output_that_would_destroy_a_source_is_refused(
    project: Path, command: str, flag: str, output: str, message: str
):
    before = tree_digest(project)

    result = playbook(command, flag, output, cwd=project)

    assert result.returncode == 2, result.stderr
    assert f"{flag} {output} {message}" in result.stderr
    assert "such as " in result.stderr
    assert tree_digest(project) == before
    assert not [name for name in os.listdir(project.parent) if name.endswith(".partial")]
