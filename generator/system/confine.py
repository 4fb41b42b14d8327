"""Keeping the tool inside its project: no symbolic link out of it is read, no output replaces a source.

Data and pages come from pull requests by strangers, and the site and bundle are published: a link to
`/etc/passwd` or `/proc/self/environ` must never be read, let alone copied into an artefact. And an output folder
is replaced whole, so one that is, holds or lies inside a source folder would destroy it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from generator.errors import Problem, UsageError

#: The longest stretch of a file's text a message quotes.
EXCERPT_LENGTH = 40


def excerpt(text: str, limit: int = EXCERPT_LENGTH) -> str:
    """A short, one-line, printable excerpt: control characters escaped, the rest cut off with an ellipsis."""
    escaped = text[: limit + 1].encode("unicode_escape").decode("ascii") if not text.isprintable() else text
    return escaped[:limit] + "…" if len(escaped) > limit else escaped


def project_root(start: Path) -> Path:
    """The nearest folder at or above `start` that holds mkdocs.yml or .git; `start` itself if there is none."""
    start = start.absolute()
    for folder in (start, *start.parents):
        if (folder / "mkdocs.yml").is_file() or (folder / ".git").exists():
            return folder
    return start


def links_leaving(paths: Iterable[Path], root: Path) -> list[Problem]:
    """A problem at every symbolic link at or under `paths` whose target is outside `root`.

    Folders are walked without following links (a link out is reported, never entered); a link that stays inside
    the project is fine, as its target is checked where it lies.
    """
    root = root.resolve()
    problems = []
    for path in paths:
        for candidate in _walk(path):
            if not _is_link(candidate):
                continue
            try:
                inside = candidate.resolve().is_relative_to(root)
            except (OSError, RuntimeError):  # a loop of links: nothing to read either
                inside = False
            if not inside:
                problems.append(
                    Problem(
                        os.path.relpath(candidate),
                        1,
                        1,
                        "this symbolic link leaves the project; it is not read",
                        "put the file itself here, or remove the link",
                    )
                )
    return sorted(problems)


def _is_link(path: Path) -> bool:
    """Whether `path` is a symbolic link; not where it cannot even be looked at (a folder on the way the user may
    not search): nothing can read it through the link either, and its reader says why."""
    try:
        return path.is_symlink()
    except OSError:
        return False


def _walk(path: Path) -> Iterable[Path]:
    yield path
    try:
        folder = path.is_dir() and not path.is_symlink()
    except OSError:  # as for `_is_link`: nothing under it can be read
        folder = False
    if folder:
        for folder, dirs, files in os.walk(path):
            yield from (Path(folder) / name for name in sorted([*dirs, *files]))


def refuse_output(flag: str, output: Path, root: Path, sources: Iterable[Path], instead: str) -> None:
    """A UsageError if writing `output` (replaced whole) would destroy the project, a source folder or file.

    Refused: the project folder or one that holds it; .git; a source (folder or file), a folder that holds one,
    or anything inside a source folder. `instead` says what to choose: "a folder of its own, such as site/".
    """
    target = output.resolve()
    root = root.resolve()
    if root.is_relative_to(target):
        raise UsageError(f"{flag} {output} would replace the whole project ({root}); choose {instead}")
    for source in (root / ".git", *sources):
        folder = source.resolve()
        name = os.path.relpath(folder) + ("/" if folder.is_dir() else "")
        if target == folder:
            harm = f"would replace {name}"
        elif folder.is_relative_to(target):
            harm = f"would replace a folder that holds {name}"
        elif target.is_relative_to(folder):
            harm = f"would write into {name}"
        else:
            continue
        what = "the repository's history" if folder == root / ".git" else "which the site is made from"
        raise UsageError(f"{flag} {output} {harm}, {what}; choose {instead}")
