"""What contributors touch: the GitHub workflow, pre-commit hooks, `playbook new` and `playbook diff`."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import REPO
from site_helpers import make_project, playbook

NODE = shutil.which("node") or "node"


def lint_workflows(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NODE, str(REPO / "tests" / "lint_workflows.cjs"), *map(str, paths)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_github_workflows_pass_actionlint():
    workflows = sorted((REPO / ".github" / "workflows").glob("*.yml"))

    result = lint_workflows(*workflows)

    assert workflows and result.returncode == 0, result.stdout


def test_actionlint_is_a_real_linter(tmp_path: Path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n"
    )

    result = lint_workflows(broken)

    assert result.returncode == 1
    assert f"{broken}:6:" in result.stdout and 'property "nope" is not defined' in result.stdout


@pytest.mark.parametrize(
    ("command", "file"),
    [("validate-manifest", ".pre-commit-hooks.yaml"), ("validate-config", ".pre-commit-config.yaml")],
)
def test_pre_commit_files_are_valid(command: str, file: str):
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", command, file], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_pre_commit_hook_runs_playbook_validate(tmp_path: Path):
    import yaml

    hook = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())[0]
    project = make_project(tmp_path / "p")
    tasks = project / "data" / "tasks.yml"
    tasks.write_text(tasks.read_text().replace("owner: mst", "owner: mts", 1))

    result = subprocess.run(
        [sys.executable, "-m", "generator", *hook["entry"].split()[1:]], cwd=project, capture_output=True, text=True
    )

    assert hook["entry"] == "playbook validate" and not hook["pass_filenames"]
    assert result.returncode == 1 and "unknown role 'mts'" in result.stderr


def pre_commit_hooks() -> dict[str, dict]:
    import yaml

    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    return {hook["id"]: {**hook, "repo": repo["repo"]} for repo in config["repos"] for hook in repo["hooks"]}


def test_every_pre_commit_hook_installs_from_the_package_index_alone():
    """No hook is fetched from a git host, and each pins what it installs, so a fresh clone can run them."""
    hooks = pre_commit_hooks()

    assert {hook["repo"] for hook in hooks.values()} == {"local"}
    assert {hook["language"] for hook in hooks.values()} == {"python"}
    assert all(hook["additional_dependencies"] for hook in hooks.values())
    assert "." not in hooks["playbook-validate"]["additional_dependencies"]  # that installs a placeholder


def test_the_validate_hook_installs_what_playbook_validate_imports():
    """The hook runs the checkout's code with only its listed packages: they must be every one it imports,
    at the versions the project allows."""
    from importlib.metadata import packages_distributions

    from packaging.requirements import Requirement

    project_requirements = {
        Requirement(text).name.lower(): text
        for text in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    }
    listed = {
        Requirement(text).name.lower(): text
        for text in pre_commit_hooks()["playbook-validate"]["additional_dependencies"]
    }
    imported = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, runpy; sys.argv = ['playbook', 'validate']\n"
            "try: runpy.run_module('generator', run_name='__main__')\n"
            "except SystemExit: pass\n"
            "print(' '.join(sorted({name.split('.')[0] for name in sys.modules})))",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    distributions = packages_distributions()
    needed = {
        dist.lower()
        for module in imported
        for dist in distributions.get(module, ())
        if dist.lower() in project_requirements
    }

    assert needed and needed <= listed.keys(), f"the hook misses {needed - listed.keys()}"
    assert all(listed[name] == project_requirements[name] for name in listed)


def test_the_ruff_hooks_use_a_ruff_the_project_allows():
    from packaging.requirements import Requirement

    allowed = next(
        Requirement(text)
        for text in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["test"]
        if text.startswith("ruff")
    )
    for hook_id in ("ruff", "ruff-format"):
        (pinned,) = pre_commit_hooks()[hook_id]["additional_dependencies"]
        version = pinned.removeprefix("ruff==")
        assert allowed.specifier.contains(version), f"{hook_id} pins {pinned}, the project allows {allowed}"


def test_pre_commit_passes_in_a_fresh_clone_and_fails_at_the_line_of_a_broken_data_file(tmp_path: Path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True, capture_output=True)
    edited = subprocess.run(
        ["git", "ls-files", "-m", "-o", "--exclude-standard"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    for path in edited:  # the working tree's edits too: the test checks what is about to be committed
        if (REPO / path).is_file():
            (clone / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(REPO / path, clone / path)
    # The hooks' environments install from the package index into pre-commit's own cache (~/.cache/pre-commit),
    # as on a contributor's machine: nothing is written into the checkout.
    env = dict(os.environ)

    def run_hooks() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "run", "--all-files", "--color", "never"],
            cwd=clone,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    passing = run_hooks()
    tasks = clone / "data" / "tasks.yml"
    tasks.write_text(tasks.read_text(encoding="utf-8").replace("owner: mst", "owner: mts", 1), encoding="utf-8")
    failing = run_hooks()

    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert failing.returncode == 1
    line = next(n for n, text in enumerate(tasks.read_text().splitlines(), 1) if "owner: mts" in text)
    assert f"data/tasks.yml:{line}:12: error: tasks[1].owner: unknown role 'mts'" in failing.stdout


# -- playbook new ---------------------------------------------------------------------------------------------


def test_new_task_appends_a_valid_record_and_keeps_the_rest_of_the_file(tmp_path: Path):
    project = make_project(tmp_path / "p")
    tasks = project / "data" / "tasks.yml"
    before = tasks.read_text()

    result = playbook(
        "new",
        "task",
        "--title",
        "Check the mail flow: DNS",
        "--owner",
        "frp",
        "--stage",
        "close",
        "--source",
        "imap",
        "--prerequisite",
        "1370",
        cwd=project,
    )

    after = tasks.read_text()
    assert result.returncode == 0, result.stderr
    assert after.startswith(before)  # every comment and line above is untouched
    assert after[len(before) :] == (
        "  - id: 4120\n"
        "    title: 'Check the mail flow: DNS'\n"
        "    owner: frp\n"
        "    stage: close\n"
        "    sources: [imap]\n"
        "    prerequisites: [1370]\n"
        "    source_pages: [frp-migration-roles]\n"
    )
    assert result.stdout.strip().endswith("added task 4120")
    assert playbook("validate", cwd=project).returncode == 0


def test_new_option_goes_into_its_own_block_of_a_file_with_two_collections(tmp_path: Path):
    project = make_project(tmp_path / "p")

    result = playbook(
        "new",
        "option",
        "--name",
        "Migration factory",
        "--summary",
        "A partner runs repeated migrations.",
        "--executed-by",
        "partner",
        "--phase",
        "migrate",
        cwd=project,
    )

    text = (project / "data" / "options.yml").read_text()
    assert result.returncode == 0, result.stderr
    assert text.index("  - id: migration-factory") < text.index("\npartner_types:")
    assert playbook("validate", cwd=project).returncode == 0


def test_new_role_with_an_acronym(tmp_path: Path):
    project = make_project(tmp_path / "p")

    result = playbook(
        "new", "role", "--name", "Cut-over coordinator", "--acronym", "CC", "--summary", "Plans it.", cwd=project
    )

    assert result.returncode == 0, result.stderr
    assert (
        "  - id: cc\n    name: Cut-over coordinator\n    acronym: CC\n" in (project / "data" / "roles.yml").read_text()
    )


def test_new_refuses_an_invalid_record_and_leaves_the_file_alone(tmp_path: Path):
    project = make_project(tmp_path / "p")
    before = (project / "data" / "tasks.yml").read_bytes()

    result = playbook("new", "task", "--title", "x", "--owner", "frpp", "--stage", "close", cwd=project)

    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == "error: --owner: unknown role 'frpp' (did you mean 'frp'?)"
    assert "data/tasks.yml" not in result.stderr  # the rejected line was never written there
    assert (project / "data" / "tasks.yml").read_bytes() == before
    assert sorted(p.name for p in (project / "data").iterdir()) == sorted(p.name for p in (REPO / "data").iterdir())


def test_new_refuses_each_bad_option_by_name_even_a_falsy_one(tmp_path: Path):
    project = make_project(tmp_path / "p")
    before = (project / "data" / "tasks.yml").read_bytes()

    result = playbook(
        "new", "task", "--title", "x", "--owner", "frp", "--stage", "close", "--id", "0", "--source", "imapp",
        cwd=project,
    )  # fmt: skip

    assert result.returncode == 2
    errors = result.stderr.removeprefix("error: ").splitlines()
    assert errors[0].startswith("--id: 0 is below the minimum of 1")
    assert errors[1] == "--source: unknown migration source 'imapp' (did you mean 'imap'?)"
    assert (project / "data" / "tasks.yml").read_bytes() == before


def test_new_keeps_the_line_endings_of_a_crlf_file(tmp_path: Path):
    project = make_project(tmp_path / "p")
    roles = project / "data" / "roles.yml"
    roles.write_bytes(roles.read_bytes().replace(b"\n", b"\r\n"))

    result = playbook("new", "role", "--name", "Cut-over lead", "--summary", "Plans the switch.", cwd=project)

    assert result.returncode == 0, result.stderr
    written = roles.read_bytes()
    assert b"name: Cut-over lead\r\n" in written and written.count(b"\n") == written.count(b"\r\n")


def test_new_task_help_lists_the_known_values():
    result = playbook("new", "task", "--help", cwd=REPO)

    assert "roles             frp, mst, mvm, customer, ftvm, sme" in result.stdout
    assert "stages            assess, prepare, onboard, migrate, close" in result.stdout


# -- playbook diff ----------------------------------------------------------------------------------------------


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    project = make_project(tmp_path / "repo")
    git("init", "-q", "-b", "main", cwd=project)
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "add", ".", cwd=project)
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "base", cwd=project)
    return project


def commit_all(project: Path, message: str) -> None:
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-am", message, cwd=project)


def test_diff_lists_added_removed_and_changed_entities_and_pages(repository: Path):
    assert (
        playbook("new", "task", "--title", "Check DNS", "--owner", "frp", "--stage", "close", cwd=repository).returncode
        == 0
    )
    roles = repository / "data" / "roles.yml"
    roles.write_text(roles.read_text().replace("name: Customer", "name: The customer"))
    commit_all(repository, "change")

    result = playbook("diff", "HEAD~1", "HEAD", cwd=repository)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "role customer: changed (name)" in lines
    assert lines[lines.index("role customer: changed (name)") + 1] == "  name: 'Customer' → 'The customer'"
    assert "playbook task 4120: added" in lines
    assert "page roles/customer.md: changed" in lines and "page tasks/4120.md: added" in lines
    assert lines[-1].startswith("HEAD~1 → HEAD: 1 added, 0 removed, 1 changed;")


def test_diff_in_markdown_for_a_pull_request_comment(repository: Path):
    tasks = repository / "data" / "tasks.yml"
    tasks.write_text(tasks.read_text().replace("title: Finish the technical assessment", "title: Do the assessment"))

    result = playbook("diff", "main", "--format", "markdown", cwd=repository)  # against the working tree

    assert result.returncode == 0, result.stderr
    assert (
        "| changed | playbook task | 1699 | title: 'Finish the technical assessment' → 'Do the assessment' |"
        in result.stdout
    )
    assert "- `tasks/1699.md` (changed)" in result.stdout
    assert "- `roles/frp.md` (changed)" in result.stdout  # the owner's page lists the title too


def test_diff_of_an_unknown_revision_is_a_usage_error(repository: Path):
    result = playbook("diff", "no-such-branch", cwd=repository)

    assert result.returncode == 2
    assert "git cannot read data/ at 'no-such-branch'" in result.stderr


def vscode_matchers() -> dict[str, re.Pattern[str]]:
    tasks = json.loads((REPO / ".vscode" / "tasks.json").read_text(encoding="utf-8"))["tasks"]
    return {task["args"][0]: re.compile(task["problemMatcher"]["pattern"]["regexp"]) for task in tasks}


def matched(pattern: re.Pattern[str], output: str) -> list[tuple[str, int, int, str]]:
    """What VS Code's Problems panel would list: (file, line, column, severity) per matching line."""
    found = []
    for line in output.splitlines():
        match = pattern.match(line)
        if match:
            found.append((match.group(1), int(match.group(2)), int(match.group(3)), match.group(4)))
    return found


def test_the_editor_tasks_put_each_problem_at_its_file_and_line(tmp_path: Path):
    matchers = vscode_matchers()
    project = make_project(tmp_path / "p")
    tasks = project / "data" / "tasks.yml"
    tasks.write_text(tasks.read_text(encoding="utf-8").replace("owner: mst", "owner: msst", 1), encoding="utf-8")
    line = tasks.read_text(encoding="utf-8").splitlines().index("    owner: msst") + 1
    home = project / "content" / "index.md"
    home.write_text(home.read_text(encoding="utf-8") + "\nSee [[task:99999]].\n", encoding="utf-8")
    home_line = len(home.read_text(encoding="utf-8").splitlines())

    validate = playbook("validate", cwd=project)
    assert matched(matchers["validate"], validate.stdout + validate.stderr) == [("data/tasks.yml", line, 12, "error")]

    tasks.write_text((REPO / "data" / "tasks.yml").read_text(encoding="utf-8"), encoding="utf-8")
    build = playbook("build", cwd=project)
    assert build.returncode == 1
    assert matched(matchers["build"], build.stderr) == [("content/index.md", home_line, 5, "error")]


def test_the_editor_tasks_run_the_command_the_readme_installs():
    tasks = json.loads((REPO / ".vscode" / "tasks.json").read_text(encoding="utf-8"))["tasks"]
    readme = (REPO / "README.md").read_text(encoding="utf-8")

    assert {task["command"] for task in tasks} == {"${workspaceFolder}/.venv/bin/playbook"}
    assert "python3 -m venv .venv && .venv/bin/pip install -q -e ." in readme
