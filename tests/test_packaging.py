"""The package's metadata tells the truth: its licence, the Pythons it supports, what its sdist carries."""

from __future__ import annotations

import re
import tomllib

from conftest import REPO

PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_licence_is_an_spdx_string_that_matches_the_licence_file() -> None:
    assert PROJECT["license"] == "MIT"  # PEP 639's string form, not the deprecated {text = ...} table
    assert PROJECT["license-files"] == ["LICENSE"]
    assert (REPO / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n")


def test_python_classifiers_name_exactly_the_supported_versions() -> None:
    lowest = re.fullmatch(r">=3\.(\d+)", PROJECT["requires-python"])
    assert lowest, PROJECT["requires-python"]
    listed = sorted(
        int(c.rsplit(".", 1)[1])
        for c in PROJECT["classifiers"]
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    )
    assert listed[0] == int(lowest.group(1))
    assert listed == list(range(listed[0], listed[-1] + 1))


def test_sdist_manifest_carries_what_the_tests_need() -> None:
    manifest = (REPO / "MANIFEST.in").read_text(encoding="utf-8").split()
    for folder in ("tests", "data", "content", "overrides"):
        assert folder in manifest, folder
    for name in ("mkdocs.yml", "CONTRIBUTING.md", "package.json", "package-lock.json", "LICENSE"):
        assert name in manifest, name
