"""Writes problems for people (text), for programs (json) and for GitHub's pull-request view (github)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from generator.errors import Problem

FORMATS = ("text", "json", "github")


def render(problems: Sequence[Problem], output_format: str, *, subject: str) -> str:
    """The whole report; `subject` names what was checked, for the closing summary line."""
    if output_format == "json":
        return json.dumps([_as_dict(problem) for problem in problems], indent=2, ensure_ascii=False) + "\n"
    if output_format == "github":
        return "".join(_github_line(problem) + "\n" for problem in problems) + _summary(problems, subject) + "\n"
    return "".join(problem.text() + "\n" for problem in problems) + _summary(problems, subject) + "\n"


def _summary(problems: Sequence[Problem], subject: str) -> str:
    errors = sum(problem.severity == "error" for problem in problems)
    warnings = len(problems) - errors
    if not problems:
        return f"{subject}: no problems found"
    files = len({problem.path for problem in problems})
    parts = [f"{errors} error{'s' * (errors != 1)}"]
    if warnings:
        parts.append(f"{warnings} warning{'s' * (warnings != 1)}")
    return f"{subject}: {', '.join(parts)} in {files} file{'s' * (files != 1)}"


def _as_dict(problem: Problem) -> dict[str, object]:
    return {
        "file": problem.path,
        "line": problem.line,
        "column": problem.column,
        "severity": problem.severity,
        "message": problem.message,
        "hint": problem.hint,
    }


def _github_line(problem: Problem) -> str:
    """A workflow command; GitHub shows it as an annotation on that line of the pull request."""
    text = problem.message + (f" ({problem.hint})" if problem.hint else "")
    properties = f"file={_escape_property(problem.path)},line={problem.line},col={problem.column}"
    return f"::{problem.severity} {properties}::{_escape_data(text)}"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
