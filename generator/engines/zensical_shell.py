"""Building the site with Zensical: the site source `playbook generate` writes, built by `zensical build`.

Zensical reads mkdocs.yml but runs no MkDocs plugin, so our plugin's work cannot happen inside it. The same
pages and files come from the core instead (generate_docs: every page, the SiteExtras, the theme override),
into a scratch folder beside which Zensical builds (it keeps its site folder inside the project it builds).
Raw HTML's links are written as Markdown links are, which Zensical resolves by itself. The plugin's link check
runs on the built site before it replaces the old one, so a broken link fails the build here too.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from generator.errors import DataError, PlaybookError, UsageError
from generator.links.link_origins import page_origins
from generator.links.linkcheck import CheckOptions, check_site
from generator.links.report import render, render_links
from generator.pages.generate import INCLUDED_PAGES, generate_docs
from generator.pages.plain_config import ONLINE_ONLY, read_settings, without_settings
from generator.system.atomic import replaced_directory
from generator.system.confine import refuse_output
from generator.system.processes import die_with_parent

SCRATCH = "playbook-zensical-"
#: Files a server would use and a folder on disk cannot (as the bundle leaves them out).
SERVER_ONLY = ("404.html", "sitemap.xml", "sitemap.xml.gz")
TRACEBACK = "Traceback (most recent call last):"


class ZensicalError(PlaybookError):
    """Zensical failed or warned; its messages were printed."""


def project_paths(config_file: Path) -> dict[str, Any]:
    """The project's folders as mkdocs.yml and its `playbook` plugin entry name them (with the plugin's defaults)."""
    if not config_file.is_file():
        raise UsageError(f"MkDocs configuration not found: {config_file}")
    settings = read_settings(config_file.read_text(encoding="utf-8"))
    root = config_file.resolve().parent
    options: dict[str, Any] = {}
    for entry in settings.get("plugins") or []:
        if isinstance(entry, dict) and "playbook" in entry:
            options = entry["playbook"] or {}
    pages = options.get("pages", {uri: str(path) for uri, path in INCLUDED_PAGES.items()})
    return {
        "root": root,
        "data": root / str(options.get("data_dir", "data")),
        "docs": root / str(settings.get("docs_dir", "docs")),
        "templates": root / str(options.get("templates_dir", "overrides")),
        "pages": {str(uri): root / str(path) for uri, path in pages.items()},
        "site_url": str(settings.get("site_url") or ""),
    }


def build_with_zensical(config_file: Path, site_dir: Path, *, verbose: bool = False, offline: bool = False) -> None:
    """Generates the site source, builds it with Zensical (strict), checks its links, then puts it at `site_dir`
    (replacing it only on success)."""
    paths = project_paths(config_file)
    sources = [config_file, paths["data"], paths["docs"], paths["templates"]]
    refuse_output("--site-dir", site_dir, paths["root"], sources, "a folder of its own, such as site/")
    with tempfile.TemporaryDirectory(prefix=f"{SCRATCH}{os.getpid()}-") as scratch:
        source = Path(scratch) / "source"
        generate_docs(paths["data"], paths["docs"], paths["templates"], source, paths["pages"], config_file)
        if offline:  # opened from disk, a page must fetch nothing (the plugin does the same for MkDocs)
            config = source / "mkdocs.yml"
            config.write_text(without_settings(config.read_text(encoding="utf-8"), ONLINE_ONLY), encoding="utf-8")
        _run_zensical(source, verbose=verbose, offline=offline)
        built = source / "site"
        if offline:
            for name in SERVER_ONLY:
                (built / name).unlink(missing_ok=True)
        root = "/" if offline else (urlsplit(paths["site_url"]).path or "/")
        report = check_site(built, CheckOptions(file_urls=offline, root=root))
        if report.broken:
            origins = page_origins(paths["data"], paths["docs"], paths["templates"])
            raise ZensicalError("broken links in the built site:\n" + render_links(report, "text", origins))
        with replaced_directory(site_dir) as target:
            shutil.copytree(built, target, dirs_exist_ok=True)


def _run_zensical(source: Path, *, verbose: bool, offline: bool) -> None:
    """`zensical build --strict` in the site source; its messages shown if it fails (always, when verbose)."""
    environment = {**os.environ, "OFFLINE": "true" if offline else "false"}
    result = subprocess.run(
        [sys.executable, "-m", "zensical", "build", "--clean", "--strict"],
        cwd=source,
        env=environment,
        capture_output=True,
        text=True,
        preexec_fn=partial(die_with_parent, os.getpid()),
        check=False,
    )
    if verbose or result.returncode != 0:
        # Zensical's own command ends a strict failure with Python's traceback, which says nothing more.
        sys.stderr.write((result.stdout + result.stderr).split(TRACEBACK, 1)[0])
    if result.returncode != 0:
        raise ZensicalError(
            "zensical build failed: see its messages above (their paths are in the docs folder it built: a "
            "hand-written page keeps its path there, a page generated from the data is named by its address)"
        )


# The preview ------------------------------------------------------------------------------------------------------
# Zensical's own server watches the site source it serves and rebuilds what changed there. Ours keeps that source
# current: a save in the project generates the source again beside it, and only the files whose bytes differ are
# put in place (each atomically), so Zensical sees the few files an edit changes and never a folder swapped under
# its watch. Broken data is reported in the terminal and the last good source stays served.

#: What Zensical writes inside the source it serves: never ours to mirror or delete.
ZENSICAL_OWN = ("site", ".cache")
#: Rapid saves (an editor writes a file in several steps) are gathered into one regeneration.
SETTLE_SECONDS = 0.2


def serve_with_zensical(config_file: Path, address: str) -> None:
    """`zensical serve` on the generated site source, generated again whenever the project's sources change."""
    from watchdog.events import FileSystemEventHandler

    from generator.engines.preview import ChangeObserver

    paths = project_paths(config_file)
    watched = [path for path in (config_file, paths["data"], paths["docs"], paths["templates"]) if path.exists()]
    with tempfile.TemporaryDirectory(prefix=f"{SCRATCH}{os.getpid()}-") as scratch:
        served = Path(scratch) / "source"
        regenerate = partial(_regenerate, config_file, paths, Path(scratch) / "next", served)
        if not regenerate():
            raise ZensicalError("the site cannot be previewed until the problems above are fixed")
        changed = threading.Event()
        handler = FileSystemEventHandler()
        handler.on_any_event = lambda event: changed.set()  # type: ignore[method-assign]
        observer = ChangeObserver()
        for path in watched:
            observer.schedule(handler, str(path if path.is_dir() else path.parent), recursive=path.is_dir())
        server = subprocess.Popen(
            [sys.executable, "-m", "zensical", "serve", "--dev-addr", address],
            cwd=served,
            preexec_fn=partial(die_with_parent, os.getpid()),
        )
        observer.start()
        try:
            while server.poll() is None:
                if changed.wait(0.5):
                    time.sleep(SETTLE_SECONDS)
                    changed.clear()
                    regenerate()
        finally:
            observer.stop()
            server.terminate()
            server.wait()
            observer.join()
        if server.returncode not in (0, -signal.SIGTERM):
            raise ZensicalError(f"zensical serve ended with exit code {server.returncode}")


def _regenerate(config_file: Path, paths: dict[str, Any], staging: Path, served: Path) -> bool:
    """The site source generated at `staging`, then mirrored into `served`; False (and the problems printed) when
    the project cannot be generated, in which case `served` stays as it was."""
    try:
        generate_docs(paths["data"], paths["docs"], paths["templates"], staging, paths["pages"], config_file)
    except DataError as err:
        sys.stderr.write(render(err.problems, "text", subject=err.subject))
        return False
    changed = mirror(staging, served)
    print(f"pages generated again: {changed} file{'s' * (changed != 1)} changed", file=sys.stderr, flush=True)
    return True


def mirror(source: Path, target: Path) -> int:
    """Makes `target` hold exactly `source`'s files (bar Zensical's own): each file that differs is replaced
    atomically, each file that is gone is removed. Returns how many files changed."""
    target.mkdir(parents=True, exist_ok=True)
    wanted = {path.relative_to(source) for path in source.rglob("*") if path.is_file()}
    changed = 0
    for relative in sorted(wanted):
        new, old = source / relative, target / relative
        if old.is_file() and old.read_bytes() == new.read_bytes():
            continue
        old.parent.mkdir(parents=True, exist_ok=True)
        partial_copy = old.with_name(f".{old.name}.playbook-new")
        shutil.copyfile(new, partial_copy)
        os.replace(partial_copy, old)
        changed += 1
    for path in sorted(target.rglob("*"), reverse=True):  # files before the folders that hold them
        relative = path.relative_to(target)
        if relative.parts[0] in ZENSICAL_OWN:
            continue
        if path.is_file() and relative not in wanted:
            path.unlink()
            changed += 1
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return changed
