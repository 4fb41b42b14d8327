"""`playbook generate`: the site's source for MkDocs without the plugin, or another engine.

The output is a complete site source: `docs/` with the generated pages, the hand-written pages with their
`[[kind:id]]` links resolved (every page ends with the definitions of the glossary's acronyms it uses) and the
files the plugin would add (downloads, our script and stylesheet, the schemas, the offline search shim);
`theme/` with our Material override; and, from the project's mkdocs.yml, a `mkdocs.yml` without the plugin that
points at them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from generator.data.exports import FOLDER as EXPORTS
from generator.data.exports import export_files
from generator.data.model import Catalogue
from generator.data.schema_check import schema_names
from generator.data.validate import load_valid_catalogue
from generator.errors import DataError, Problem
from generator.pages.render import SiteRenderer, write_pages
from generator.pages.shortlinks import resolve_shortlinks
from generator.pages.site_text import Abbreviations
from generator.system.atomic import replaced_directory
from generator.system.confine import links_leaving, project_root, refuse_output

#: Files beside the docs folder that are pages of the site too (as the plugin's `pages` option says).
INCLUDED_PAGES = {"contributing.md": Path("CONTRIBUTING.md")}
PACKAGE = Path(__file__).parent
#: The schemas stay at the package's root: contributors' editors and check-jsonschema know them there.
SCHEMAS = PACKAGE.parent / "schemas"
#: The Material template override a project gets when it has none of its own.
THEME = PACKAGE / "theme"
#: Our own scripts and stylesheet: the catalogue's filters, the runbooks' ticks and the task jump box, the print
#: layout.
SCRIPTS = ("assets/playbook/catalogue.js", "assets/playbook/reader.js")
STYLESHEET = "assets/playbook/playbook.css"
#: Where the offline bundle carries the worker shim; the name must contain "iframe-worker", which is how
#: Material's offline plugin sees that a shim is there already and does not add its unpkg.com copy.
IFRAME_WORKER_URI = "assets/vendor/iframe-worker/shim.js"
#: The folder of the site source that `generate` writes the pages into, beside its mkdocs.yml.
DOCS = "docs"


def hand_written_pages(docs_dir: Path, included: dict[str, Path]) -> frozenset[str]:
    """The Markdown pages of the docs folder and the included pages that exist, by their path in the site."""
    pages = {path.relative_to(docs_dir).as_posix() for path in docs_dir.rglob("*.md")} if docs_dir.is_dir() else set()
    return frozenset(pages | {uri for uri, path in included.items() if path.is_file()})


def static_files(catalogue: Catalogue, *, offline: bool) -> dict[str, Path | str]:
    """Every file of the site besides its pages, by its path in the site: a file of the package, or content."""
    files: dict[str, Path | str] = {uri: PACKAGE / "assets" / Path(uri).name for uri in (*SCRIPTS, STYLESHEET)}
    for name in schema_names():  # at the URLs their `$id` and the data files' first lines name
        files[f"schemas/{name}"] = SCHEMAS / name
    for name, content in export_files(catalogue).items():
        files[f"{EXPORTS}/{name}"] = content
    if offline:
        files[IFRAME_WORKER_URI] = PACKAGE / "vendor" / "iframe-worker" / "shim.js"
    return files


def generate_docs(
    data_dir: Path, docs_dir: Path, templates_dir: Path, out: Path, included: dict[str, Path] | None = None
) -> int:
    """Writes the site source to `out` (replacing it whole); returns the number of pages."""
    extra = INCLUDED_PAGES if included is None else included
    root = project_root(data_dir.absolute().parent)
    sources = [data_dir, docs_dir, templates_dir, root / "mkdocs.yml", *(docs_dir.parent / p for p in extra.values())]
    refuse_output("--out", out, root, sources, "a folder of its own, such as build/docs/")
    checked = [docs_dir, templates_dir, *(docs_dir.parent / path for path in extra.values())]
    leaving = links_leaving([path for path in checked if path.exists() or path.is_symlink()], root)
    if leaving:  # a link out of the project is never read, nor copied into the output
        raise DataError(leaving, "content")
    catalogue = load_valid_catalogue(data_dir)
    included = {uri: docs_dir.parent / path for uri, path in extra.items()}
    hand_written = hand_written_pages(docs_dir, included)
    renderer = SiteRenderer(catalogue, override_dirs=[templates_dir], hand_written=hand_written)
    pages = renderer.pages(processes=os.cpu_count() or 1)
    generated = {page.src_uri for page in pages}
    acronyms = Abbreviations(catalogue)
    problems: list[Problem] = []
    with replaced_directory(out) as site_source:
        scratch = site_source / DOCS
        write_pages(pages, scratch, acronyms.for_page)
        for uri, source in static_files(catalogue, offline=True).items():
            (scratch / uri).parent.mkdir(parents=True, exist_ok=True)
            if isinstance(source, Path):
                shutil.copyfile(source, scratch / uri)
            else:
                (scratch / uri).write_text(source, encoding="utf-8")
        shutil.copytree(THEME, site_source / "theme")
        if (root / "mkdocs.yml").is_file():
            plain = plain_config((root / "mkdocs.yml").read_text(encoding="utf-8"))
            (site_source / "mkdocs.yml").write_text(plain, encoding="utf-8")
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


def plain_config(text: str) -> str:
    """The project's mkdocs.yml for the generated source: the `- playbook:` plugin entry (and its options) left
    out, `docs_dir: docs`, our Material override as the theme's custom_dir, and our scripts and stylesheet.

    Edited line by line, so its comments and `!ENV` tags stay as they are (and no YAML library need know them).
    """
    out: list[str] = []
    plugin_indent: int | None = None
    for line in text.splitlines(keepends=True):
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if plugin_indent is not None:
            if stripped.strip() and indent <= plugin_indent:
                plugin_indent = None
            else:
                continue  # an option of the playbook plugin, such as `data_dir: data`
        if stripped.rstrip() in ("- playbook:", "- playbook"):
            plugin_indent = indent
            continue
        if (indent == 0 and stripped.startswith("docs_dir:")) or stripped.startswith("custom_dir:"):
            continue
        out.append(line)
        if indent == 0 and stripped.rstrip() == "theme:":
            out.append("  custom_dir: theme  # the Material override the plugin adds\n")
    scripts = "".join(f"  - {uri}\n" for uri in SCRIPTS)
    return "".join(out) + f"docs_dir: {DOCS}\nextra_javascript:\n{scripts}extra_css:\n  - {STYLESHEET}\n"
