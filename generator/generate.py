"""`playbook generate`: the site's pages as plain Markdown, for MkDocs without the plugin or another engine.

The output is a complete docs folder: the generated pages, and the hand-written pages with their `[[kind:id]]`
links resolved. Every page ends with the definitions of the glossary's acronyms it uses.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from generator.atomic import replaced_directory
from generator.confine import links_leaving, project_root, refuse_output
from generator.errors import DataError, Problem
from generator.render import SiteRenderer, write_pages
from generator.shortlinks import resolve_shortlinks
from generator.site_text import Abbreviations
from generator.validate import load_valid_catalogue

#: Files beside the docs folder that are pages of the site too (as the plugin's `pages` option says).
INCLUDED_PAGES = {"contributing.md": Path("CONTRIBUTING.md")}


def generate_docs(
    data_dir: Path, docs_dir: Path, templates_dir: Path, out: Path, included: dict[str, Path] | None = None
) -> int:
    """Writes the docs folder to `out` (replacing it whole); returns the number of pages."""
    extra = INCLUDED_PAGES if included is None else included
    root = project_root(data_dir.absolute().parent)
    sources = [data_dir, docs_dir, templates_dir, root / "mkdocs.yml", *(docs_dir.parent / p for p in extra.values())]
    refuse_output("--out", out, root, sources, "a folder of its own, such as build/docs/")
    checked = [docs_dir, templates_dir, *(docs_dir.parent / path for path in extra.values())]
    leaving = links_leaving([path for path in checked if path.exists() or path.is_symlink()], root)
    if leaving:  # a link out of the project is never read, nor copied into the output
        raise DataError(leaving, "content")
    catalogue = load_valid_catalogue(data_dir)
    renderer = SiteRenderer(catalogue, override_dirs=[templates_dir])
    pages = renderer.pages(processes=os.cpu_count() or 1)
    generated = {page.src_uri for page in pages}
    acronyms = Abbreviations(catalogue)
    problems: list[Problem] = []
    with replaced_directory(out) as scratch:
        write_pages(pages, scratch, acronyms.for_page)
        sources = (
            [(s.relative_to(docs_dir).as_posix(), s) for s in sorted(docs_dir.rglob("*"))] if docs_dir.is_dir() else []
        )
        sources += [(uri, docs_dir.parent / path) for uri, path in extra.items()]
        for src_uri, source in sources:
            target = scratch / src_uri
            if source.is_dir() or not source.exists() or (target.exists() and src_uri not in generated):
                continue
            if src_uri in generated:
                problems.append(Problem(os.path.relpath(source), 1, 1, "this page's path is taken by a generated page"))
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.suffix != ".md":
                shutil.copyfile(source, target)
                continue
            resolved = resolve_shortlinks(
                source.read_text(encoding="utf-8"), src_uri, os.path.relpath(source), renderer.site_map
            )
            problems.extend(resolved.problems)
            target.write_text(resolved.markdown + acronyms.for_page(resolved.markdown), encoding="utf-8")
        if problems:
            raise DataError(problems, "content")
    return len(pages)
