"""The layout's promise: the generator's core is plain Python; only the shells know MkDocs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import REPO

#: The thin shells around MkDocs; every other module of the package must work without it.
MKDOCS_SHELLS = {"mkdocs_plugin", "site", "bundle", "preview"}
CORE = sorted(path.stem for path in (REPO / "generator").glob("*.py") if path.stem not in MKDOCS_SHELLS | {"__main__"})

#: Runs the rest of the script in an interpreter where `import mkdocs` (and `material`) fails.
WITHOUT_MKDOCS = "import sys\nsys.modules['mkdocs'] = None\nsys.modules['material'] = None\n"


def run_without_mkdocs(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_MKDOCS + script], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_every_core_module_imports_without_mkdocs(tmp_path: Path):
    imports = "".join(f"import generator.{name}\n" for name in CORE)

    result = run_without_mkdocs(imports, tmp_path)

    assert result.returncode == 0, result.stderr
    assert {"render", "validate", "linkcheck", "generate", "cli"} <= set(CORE)


def test_the_shells_really_need_mkdocs(tmp_path: Path):
    result = run_without_mkdocs("import generator.mkdocs_plugin\n", tmp_path)

    assert result.returncode != 0 and "mkdocs" in result.stderr


def test_validate_and_generate_run_without_mkdocs(tmp_path: Path):
    def command(*args: str) -> str:
        return f"from generator.cli import cli\ncli({list(args)!r}, prog_name='playbook')\n"

    generated = run_without_mkdocs(command("generate", "--out", str(tmp_path / "out")), REPO)
    validated = run_without_mkdocs(command("validate"), REPO)

    assert generated.returncode == 0, generated.stderr
    assert (tmp_path / "out" / "docs" / "tasks" / "3306.md").is_file()
    assert validated.returncode == 0, validated.stderr
