"""Writes problems for people (text), for programs (json) and for GitHub's pull-request view (github)."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from itertools import groupby
from typing import TYPE_CHECKING

from generator.errors import Problem
from generator.links.linkcheck import Finding, LinkReport

if TYPE_CHECKING:  # only its fields are read; rendering's imports stay out of `playbook validate`
    from generator.pages.render import Origin

FORMATS = ("text", "json", "github")
#: Problems of one kind that a report for people prints; the rest are counted. A generated file with the same
#: mistake in 200,000 records needs a handful of examples, not 200,000 lines.
SHOWN_PER_KIND = 50


def render(problems: Sequence[Problem], output_format: str, *, subject: str) -> str:
    """The whole report; `subject` names what was checked, for the closing summary line.

    JSON, for programs, lists every problem; text and GitHub annotations show `SHOWN_PER_KIND` of each kind.
    """
    if output_format == "json":
        return json.dumps([_as_dict(problem) for problem in problems], indent=2, ensure_ascii=False) + "\n"
    line = _github_line if output_format == "github" else Problem.text
    body = "".join((item if isinstance(item, str) else line(item)) + "\n" for item in _capped(problems))
    return body + _summary(problems, subject) + "\n"


# The field a message starts with (`tasks[3].owner: `), and the values it quotes or counts.
_FIELD = re.compile(r"^[A-Za-z_]+(?:\[\d+\]|\.[^\s:]+)*: ")
_VALUE = re.compile(r"'[^']*'|[0-9][0-9,.]*")
_LOOP = re.compile(r"…(?: → …)+")  # a loop of any length is one kind


def kind_of(problem: Problem) -> tuple[str, str]:
    """What a problem says, with its field and values taken out: ('error', "unknown role …")."""
    shape = _VALUE.sub("…", _FIELD.sub("", problem.message, count=1))
    return problem.severity, _LOOP.sub("…", shape)


def _capped(problems: Sequence[Problem]) -> Iterator[Problem | str]:
    """The problems in their order, each kind cut off after its first few with a line counting the rest."""
    kinds = [kind_of(problem) for problem in problems]
    totals = Counter(kinds)
    shown: Counter[tuple[str, str]] = Counter()
    for problem, kind in zip(problems, kinds, strict=True):
        shown[kind] += 1
        if shown[kind] <= SHOWN_PER_KIND:
            yield problem
        if shown[kind] == SHOWN_PER_KIND and totals[kind] > SHOWN_PER_KIND:
            yield f"... and {totals[kind] - SHOWN_PER_KIND:,} more of this kind: {kind[1]}"


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
        "knock_ons": problem.knock_ons,
    }


def _github_line(problem: Problem) -> str:
    """A workflow command; GitHub shows it as an annotation on that line of the pull request."""
    text = problem.message + (f" ({problem.hint})" if problem.hint else "") + problem.folded()
    properties = f"file={_escape_property(problem.path)},line={problem.line},col={problem.column}"
    return f"::{problem.severity} {properties}::{_escape_data(text)}"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_links(report: LinkReport, output_format: str, origins: dict[str, Origin]) -> str:
    """The link checker's findings, grouped by page, each with the source that made the page.

    Links, ids, file names and servers' addresses come from strangers: control characters and bidi overrides in
    them are shown escaped, never sent raw to a terminal or a CI log (`%1b[2J` in a link cleared the screen).
    """
    if output_format == "json":
        return _json_printable(json.dumps(_links_json(report, origins), indent=2, ensure_ascii=False)) + "\n"
    summary = _links_summary(report)
    if output_format == "github":
        lines = [_github_line(_as_problem(finding, origins)) for finding in report.findings]
        return "".join(line + "\n" for line in lines) + summary + "\n"
    out: list[str] = []
    for page, findings in groupby(report.findings, key=lambda finding: finding.page):
        source = f" (from {origins[page]})" if page in origins else ""
        out.append(printable(f"{page}{source}") + "\n")
        for finding in findings:
            hint = f" ({finding.hint})" if finding.hint else ""
            label = "" if finding.severity == "error" else f"{finding.severity}: "
            line = f"  {finding.line}:{finding.column}  {finding.link}  {label}{finding.reason}{hint}"
            out.append(printable(line) + "\n")
    return "".join(out) + summary + "\n"


#: What a terminal or a log viewer acts on rather than shows: C0 and C1 controls, DEL, bidi embeddings,
#: overrides, isolates and marks (which reorder the text around them), and Unicode's line and paragraph separators.
UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` with each unprintable character written as an escape: `\\x1b`, `\\u202e`."""
    return UNPRINTABLE.sub(_escape_one, text)


def _escape_one(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


#: What json.dumps leaves raw in a string (it escapes the C0 controls itself; those outside strings are its layout).
JSON_UNPRINTABLE = re.compile(r"[\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def _json_printable(text: str) -> str:
    """JSON text with every unprintable character as a \\u escape: the same values, safe to print."""
    return JSON_UNPRINTABLE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def _links_summary(report: LinkReport) -> str:
    warnings = len(report.findings) - report.broken
    extra = f", {warnings} warning{'s' * (warnings != 1)}" if warnings else ""
    return f"{report.pages:,} pages, {report.links:,} links, {report.broken:,} broken{extra}"


def _links_json(report: LinkReport, origins: dict[str, Origin]) -> dict[str, object]:
    return {
        "pages": report.pages,
        "links": report.links,
        "broken": report.broken,
        "findings": [{**asdict(finding), "source": str(origins.get(finding.page, ""))} for finding in report.findings],
    }


def _as_problem(finding: Finding, origins: dict[str, Origin]) -> Problem:
    """A finding as an annotation: on the data or Markdown line that made the page, where it is known."""
    message = printable(f"{finding.page}:{finding.line}:{finding.column}: {finding.link}: {finding.reason}")
    hint = printable(finding.hint)
    origin = origins.get(finding.page)
    if origin is not None:
        return Problem(printable(origin.file), origin.line or 1, 1, message, hint, finding.severity)
    return Problem(printable(finding.page), finding.line, finding.column, message, hint, finding.severity)
