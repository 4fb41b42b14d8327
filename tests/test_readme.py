"""The README's Quickstart stays true: two commands, the second of which CI runs."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import REPO


def quickstart_commands() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```(?:sh|bash)\n(.*?)```", section, re.S)
    assert block, "the Quickstart has no shell block"
    return [line for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")]


def test_quickstart_is_exactly_two_commands_and_ci_runs_the_second():
    commands = quickstart_commands()

    assert len(commands) == 2
    assert "playbook" in commands[0]
    assert "pytest" in commands[1]
    ci_script = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert commands[1] in ci_script


def test_the_code_is_lint_clean():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_every_error_in_the_golden_corpus_is_documented_in_contributing():
    """CONTRIBUTING.md lists every message a contributor can see; `…` marks the parts that name their value."""
    import yaml

    contributing = (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")
    section = contributing.split("## Every error message", 1)[1].split("\n## ", 1)[0]
    documented = [row.split("`")[1] for row in section.splitlines() if row.startswith("| `")]
    for case in sorted((REPO / "tests" / "cases" / "validate").glob("*.yml")):
        for line in yaml.safe_load(case.read_text(encoding="utf-8"))["expect"]:
            message = line.split(": error: ", 1)[1]
            assert any(_matches(pattern, message) for pattern in documented), f"{case.name}: {message}"


def _matches(pattern: str, message: str) -> bool:
    position = 0
    for part in pattern.split("…"):
        found = message.find(part, position)
        if found < 0:
            return False
        position = found + len(part)
    return True


def test_contributing_documents_every_field_of_every_collection():
    from generator.data.model import COLLECTIONS
    from generator.data.schema_check import read_schema

    contributing = (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")
    section = contributing.split("### Every field", 1)[1].split("\n## ", 1)[0]
    tables = {
        heading: {row.split("`")[1] for row in rows.splitlines() if row.startswith("| `")}
        for heading, rows in re.findall(r"\*\*`(\w+)`\*\* in `\w+\.yml`\n(.*?)(?=\n\*\*|\Z)", section, re.S)
    }
    for collection in COLLECTIONS:
        items = read_schema(f"{collection.file}.schema.json")["properties"][collection.name]["items"]
        assert tables.get(collection.name) == set(items["properties"]), collection.name


def test_the_documented_check_jsonschema_command_validates_a_data_file_offline(tmp_path):
    """The schemas' `$ref`s resolve on disk with the `--base-uri` CONTRIBUTING.md gives; no network is used."""
    import shlex
    import shutil

    contributing = (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")
    command = next(line for line in contributing.splitlines() if line.startswith("check-jsonschema "))
    argv = shlex.split(command.replace("$PWD", str(REPO)))
    checker = str(REPO / ".venv" / "bin" / "check-jsonschema")
    if not (REPO / ".venv" / "bin" / "check-jsonschema").exists():
        checker = shutil.which("check-jsonschema") or checker
    broken = tmp_path / "tasks.yml"
    broken.write_text((REPO / "data" / "tasks.yml").read_text(encoding="utf-8").replace("owner: mst", "owner: 5", 1))
    offline = {"PATH": "/usr/bin:/bin", "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}

    good = subprocess.run([checker, *argv[1:]], cwd=REPO, capture_output=True, text=True, env=offline)
    bad = subprocess.run([checker, *argv[1:-1], str(broken)], cwd=REPO, capture_output=True, text=True, env=offline)

    assert good.returncode == 0, good.stdout + good.stderr
    assert bad.returncode == 1 and "5 is not of type 'string'" in bad.stdout
