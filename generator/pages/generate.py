"""What a site is made of besides its pages (SiteExtras), and `playbook generate`, which writes the whole of it
as a site source that MkDocs, ProperDocs and Zensical build without our plugin.

The output is a complete site source: `docs/` with the generated pages, the hand-written pages with their
`[[kind:id]]` links resolved (every page ends with the definitions of the glossary's acronyms it uses), a home
page where the project has none, and the SiteExtras' files (downloads, our script and stylesheet, the schemas,
the offline search shim); `theme/` with the project's Material overrides and ours; `hooks/raw_links.py`, which
resolves raw HTML's links for MkDocs and ProperDocs as Zensical does by itself; and, from the project's
mkdocs.yml, a `mkdocs.yml` without the plugin that names them all, with the footer and without edit links.
The MkDocs plugin hands MkDocs the same SiteExtras while it builds.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from generator.data.exports import FOLDER as EXPORTS
from generator.data.exports import Exporter
from generator.data.model import Catalogue
from generator.data.schema_check import schema_names
from generator.data.validate import load_valid_catalogue
from generator.errors import DataError, Problem
from generator.pages.escape import escape_markdown
from generator.pages.render import SiteRenderer, write_pages
from generator.pages.shortlinks import resolve_shortlinks
from generator.pages.site_text import Abbreviations, footer_html
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


#: The sections a generated home page lists, by the path of their index page.
SECTIONS = {
    "options/index.md": "Options",
    "lifecycle/index.md": "Lifecycle",
    "fasttrack/index.md": "FastTrack",
    "services/index.md": "Services",
    "roles/index.md": "Roles",
    "sources/index.md": "Migration sources",
    "stages/index.md": "Migration stages",
    "tasks/index.md": "Tasks",
    "catalogue.md": "Task catalogue",
    "runbooks/index.md": "Runbooks",
    "glossary.md": "Glossary",
    "downloads.md": "Downloads",
}


@dataclass(frozen=True)
class SiteExtras:
    """What the site needs besides its pages, the same whichever engine builds it: the MkDocs plugin hands it to
    MkDocs as it builds, `playbook generate` writes it into a site source for any engine."""

    #: Every file of the site besides its pages, by its path in the site: a file of the package, or content.
    files: dict[str, Path | str]
    #: Scripts and stylesheets every page loads, by their path in the site.
    javascript: tuple[str, ...]
    stylesheets: tuple[str, ...]
    #: Scripts the theme loads before its own (Material's `extra.polyfills`): the worker shim for pages opened
    #: from disk, which does nothing on a page served over HTTP.
    polyfills: tuple[str, ...]
    #: Where the logo leads (Material's `extra.homepage`): `index.html` from disk, where a folder opens no page;
    #: None for the theme's default.
    homepage: str | None
    #: The footer line: the project's copyright, then the source pages and their dates, as HTML.
    footer: str
    #: Our Material override (main.html), which a project's own custom_dir overrides.
    theme: Path


def site_extras(
    catalogue: Catalogue, copyright: str | None, *, offline: bool, exporter: Exporter | None = None
) -> SiteExtras:
    """The site's extras; `offline` adds what pages opened from disk need (the worker shim). The downloads are
    written by `exporter` where one is given (the live preview's, which keeps each record's rows for its edits)."""
    files: dict[str, Path | str] = {uri: PACKAGE / "assets" / Path(uri).name for uri in (*SCRIPTS, STYLESHEET)}
    for name in schema_names():  # at the URLs their `$id` and the data files' first lines name
        files[f"schemas/{name}"] = SCHEMAS / name
    for name, content in (exporter or Exporter()).files(catalogue).items():
        files[f"{EXPORTS}/{name}"] = content
    if offline:
        files[IFRAME_WORKER_URI] = PACKAGE / "vendor" / "iframe-worker" / "shim.js"
    return SiteExtras(
        files=files,
        javascript=SCRIPTS,
        stylesheets=(STYLESHEET,),
        polyfills=(IFRAME_WORKER_URI,) if offline else (),
        homepage="index.html" if offline else None,
        footer=footer_html(catalogue, copyright),
        theme=THEME,
    )


def home_page(site_name: str, pages: set[str]) -> str:
    """The home page of a site whose docs folder has none: its name, and a link to each section it has."""
    links = [f"- [{escape_markdown(title)}]({uri})" for uri, title in SECTIONS.items() if uri in pages]
    return f"# {escape_markdown(site_name)}\n\n" + "\n".join(links) + "\n"


#: The MkDocs hook the site source carries: MkDocs and ProperDocs leave raw HTML's links as written, and ours are
#: written as Markdown links are (see raw_links); Zensical resolves them itself and runs no hooks.
RAW_LINKS_HOOK = (
    '"""Written by `playbook generate`: links in raw HTML resolved as Markdown links are (Zensical does it itself).'
    '"""\n\n'
    "from generator.pages.raw_links import resolve_raw_links\n"
    "from generator.pages.site_text import focusable_acronyms\n\n\n"
    "def on_page_content(html, page, config, files):\n"
    "    return focusable_acronyms(resolve_raw_links(html, page.file.src_uri, config.use_directory_urls))\n"
)
HOOKS = "hooks"


def generate_docs(
    data_dir: Path,
    docs_dir: Path,
    templates_dir: Path,
    out: Path,
    included: dict[str, Path] | None = None,
    config_file: Path | None = None,
) -> int:
    """Writes the site source to `out` (replacing it whole); returns the number of pages. The configuration is
    `config_file`, by default the mkdocs.yml of the project the data folder is in."""
    from generator.pages.plain_config import plain_config, read_settings

    extra = INCLUDED_PAGES if included is None else included
    root = project_root(data_dir.absolute().parent)
    config_file = config_file or root / "mkdocs.yml"
    settings = read_settings(config_file.read_text(encoding="utf-8")) if config_file.is_file() else {}
    custom_dir = _custom_dir(config_file.absolute().parent, settings)
    sources = [data_dir, docs_dir, templates_dir, config_file, *(docs_dir.parent / p for p in extra.values())]
    refuse_output(
        "--out",
        out,
        root,
        [*sources, *([custom_dir] if custom_dir else [])],
        "a folder of its own, such as build/docs/",
    )
    checked = [docs_dir, templates_dir, *(docs_dir.parent / path for path in extra.values())]
    checked += [custom_dir] if custom_dir else []
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
    # Pages opened from disk need the worker shim: the source may be built for that (OFFLINE=true).
    extras = site_extras(catalogue, settings.get("copyright"), offline=True)
    with replaced_directory(out) as site_source:
        scratch = site_source / DOCS
        write_pages(pages, scratch, acronyms.for_page)
        _write_files(scratch, extras.files)
        _write_theme(site_source / "theme", custom_dir, extras.theme)
        _write_files(site_source, {f"{HOOKS}/raw_links.py": RAW_LINKS_HOOK})
        if config_file.is_file():
            hooks = [f"{HOOKS}/raw_links.py"]
            plain = plain_config(config_file.read_text(encoding="utf-8"), extras, docs=DOCS, theme="theme", hooks=hooks)
            (site_source / "mkdocs.yml").write_text(plain, encoding="utf-8")
        _copy_hand_written(docs_dir, included, scratch, generated, renderer, acronyms)
        if "index.md" not in hand_written:  # the project has no home page: the one the plugin would add
            home = home_page(str(settings.get("site_name") or ""), generated)
            (scratch / "index.md").write_text(home, encoding="utf-8")
    return len(pages)


def _write_files(folder: Path, files: dict[str, Path | str]) -> None:
    """Each file at its path in `folder`: a copy of a file, or the text given."""
    for uri, source in files.items():
        (folder / uri).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, Path):
            shutil.copyfile(source, folder / uri)
        else:
            (folder / uri).write_text(source, encoding="utf-8")


def _custom_dir(root: Path, settings: dict) -> Path | None:
    """The project's own Material overrides (the theme's custom_dir), if it names one that exists."""
    theme = settings.get("theme")
    named = theme.get("custom_dir") if isinstance(theme, dict) else None
    return root / str(named) if named and (root / str(named)).is_dir() else None


def _write_theme(target: Path, custom_dir: Path | None, ours: Path) -> None:
    """The project's own overrides (not its page templates), with ours where it has no file of the same name."""
    if custom_dir is not None:
        shutil.copytree(custom_dir, target, ignore=shutil.ignore_patterns("*.md.j2", "README.md", "__pycache__"))
    shutil.copytree(ours, target, dirs_exist_ok=True, copy_function=_copy_unless_there)


def _copy_unless_there(source: str, target: str) -> None:
    if not Path(target).exists():
        shutil.copyfile(source, target)


def _copy_hand_written(
    docs_dir: Path,
    included: dict[str, Path],
    scratch: Path,
    generated: set[str],
    renderer: SiteRenderer,
    acronyms: Abbreviations,
) -> None:
    """The docs folder's files and the included pages, `[[kind:id]]` links resolved; a page whose path a
    generated page takes, or an unknown ID, is a problem."""
    problems: list[Problem] = []
    sources = (
        [(s.relative_to(docs_dir).as_posix(), s) for s in sorted(docs_dir.rglob("*"))] if docs_dir.is_dir() else []
    )
    sources += list(included.items())
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
