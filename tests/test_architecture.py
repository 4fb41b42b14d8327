"""The layout's promise: generator/ reads as the pipeline (data, pages, links, engines, cli), every import points
down it, and only the engines' shells know MkDocs."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

PACKAGE = REPO / "generator"
#: The stages, lowest first: a module may import its own stage and those before it, never one after it.
STAGES = ["errors", "system", "data", "pages", "links", "engines", "cli", "__main__"]
#: Everything below the engines: the part that must work whatever builds the site.
CORE_STAGES = {"errors", "system", "data", "pages", "links"}


def stage_of(module: str) -> str:
    """`generator.data.loader` → `data`; the package's face (`generator`, its version) sits at the bottom."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "errors"


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imported_modules(path: Path) -> set[str]:
    """Every `generator...` module a file imports, at its top or inside a function (lazy imports count too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    known = modules()
    return {name for name in names if name in known}


CORE = sorted(name for name in modules() if stage_of(name) in CORE_STAGES)


def test_the_package_is_grouped_by_stage():
    flat = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert flat == ["__init__.py", "__main__.py", "cli.py", "errors.py"]
    for stage in ("system", "data", "pages", "links", "engines"):
        assert (PACKAGE / stage / "__init__.py").is_file(), stage
    assert {stage_of(name) for name in modules()} <= set(STAGES)


@pytest.mark.parametrize("module", sorted(modules()))
def test_imports_point_down_the_pipeline(module: str):
    path = modules()[module]
    own = STAGES.index(stage_of(module))
    upward = sorted(name for name in imported_modules(path) if STAGES.index(stage_of(name)) > own)

    assert not upward, f"{module} imports from a later stage: {upward}"


def test_no_core_module_imports_an_engine():
    offenders = {
        module: sorted(name for name in imported_modules(modules()[module]) if stage_of(name) == "engines")
        for module in CORE
    }
    assert not {module: names for module, names in offenders.items() if names}
    assert len(CORE) > 25


#: Runs the rest of the script in an interpreter where `import mkdocs` (and `material`) fails.
WITHOUT_MKDOCS = "import sys\nsys.modules['mkdocs'] = None\nsys.modules['material'] = None\n"


def run_without_mkdocs(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_MKDOCS + script], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_every_core_module_imports_without_mkdocs(tmp_path: Path):
    imports = "".join(f"import {name}\n" for name in CORE)

    result = run_without_mkdocs(imports, tmp_path)

    assert result.returncode == 0, result.stderr
    assert {"generator.pages.render", "generator.data.validate", "generator.links.linkcheck"} <= set(CORE)


def test_the_shells_really_need_mkdocs(tmp_path: Path):
    result = run_without_mkdocs("import generator.engines.mkdocs_plugin\n", tmp_path)

    assert result.returncode != 0 and "mkdocs" in result.stderr


def test_validate_and_generate_run_without_mkdocs(tmp_path: Path):
    def command(*args: str) -> str:
        return f"from generator.cli import cli\ncli({list(args)!r}, prog_name='playbook')\n"

    generated = run_without_mkdocs(command("generate", "--out", str(tmp_path / "out")), REPO)
    validated = run_without_mkdocs(command("validate"), REPO)

    assert generated.returncode == 0, generated.stderr
    assert (tmp_path / "out" / "docs" / "tasks" / "3306.md").is_file()
    assert validated.returncode == 0, validated.stderr
