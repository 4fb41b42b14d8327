"""Building and serving the site with MkDocs (or ProperDocs, see engines): the shell around the plugin.

The site is built into a scratch folder and swapped in only when MkDocs finished without a single warning
(strict mode, with MkDocs' own link and anchor validation on).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from generator.engines.choice import active_engine, logger_names
from generator.errors import PlaybookError, UsageError
from generator.system.atomic import replaced_directory
from generator.system.confine import refuse_output
from generator.system.progress import TerminalProgress

#: A date for files whose content does not say one (the sitemap), used when SOURCE_DATE_EPOCH is not set
#: and the folder is not a git checkout: builds of the same input must be byte-identical.
FALLBACK_EPOCH = 315_532_800  # 1980-01-01, the earliest date a zip file can hold


class BuildError(PlaybookError):
    """MkDocs failed or warned; the messages were already printed."""


def reproducible_epoch(folder: Path) -> str:
    """SOURCE_DATE_EPOCH if set, else the time of the last commit, else a fixed date."""
    if os.environ.get("SOURCE_DATE_EPOCH"):
        return os.environ["SOURCE_DATE_EPOCH"]
    try:
        result = subprocess.run(
            ["git", "log", "-1", "--format=%ct"], cwd=folder, capture_output=True, text=True, check=True
        )
        return result.stdout.strip() or str(FALLBACK_EPOCH)
    except (OSError, subprocess.CalledProcessError):
        return str(FALLBACK_EPOCH)


class _MessagesOverProgress(logging.StreamHandler):
    """Prints a log line after clearing the progress line, which is drawn again with the next page."""

    def __init__(self, progress: TerminalProgress) -> None:
        super().__init__(progress.stream)
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        self.progress.clear()
        super().emit(record)


@contextmanager
def mkdocs_messages(verbose: bool, progress: TerminalProgress | None = None) -> Iterator[None]:
    """The engine's log lines on stderr, shaped as MkDocs prints them; INFO only when asked for."""
    loggers = [logging.getLogger(name) for name in logger_names(active_engine())]
    handler = _MessagesOverProgress(progress) if progress else logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)-7s -  %(message)s"))
    handler.setLevel(logging.INFO if verbose else logging.WARNING)
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO if verbose else logging.WARNING)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


def _expect_config(config_file: Path) -> dict[str, str]:
    """The settings the command lends the configuration: a docs folder, where the project has none."""
    if not config_file.is_file():
        raise UsageError(f"MkDocs configuration not found: {config_file}")
    return {"docs_dir": _empty_folder()} if not _docs_dir(config_file).is_dir() else {}


def _docs_dir(config_file: Path) -> Path:
    """The docs folder the configuration names (MkDocs' default: docs), before MkDocs checks that it exists."""
    from mkdocs.utils.yaml import yaml_load

    try:
        with open(config_file, "rb") as stream:
            named = (yaml_load(stream) or {}).get("docs_dir", "docs")
    except Exception:  # a broken file: MkDocs' own loading says what is wrong with it
        return config_file.parent
    return config_file.resolve().parent / str(named)


_NO_PAGES: list[tempfile.TemporaryDirectory] = []


def _empty_folder() -> str:
    """An empty docs folder, removed when the command ends: MkDocs insists on one, a project may have none."""
    if not _NO_PAGES:
        _NO_PAGES.append(tempfile.TemporaryDirectory(prefix="playbook-no-pages-"))
    return _NO_PAGES[0].name


def load_mkdocs_config(config_file: Path, **overrides: object):
    from mkdocs.config import load_config
    from mkdocs.exceptions import ConfigurationError

    lent = _expect_config(config_file)
    try:
        return load_config(str(config_file), **lent, **overrides)
    except ConfigurationError as err:
        raise BuildError(f"{config_file}: {err}") from err


def offline_enabled(config) -> bool:
    """Whether Material's offline plugin is on: pages for opening from disk."""
    plugin = config.plugins.get("material/offline") or config.plugins.get("offline")
    return bool(plugin and plugin.config.enabled)


def build_site(config_file: Path, site_dir: Path, *, verbose: bool = False) -> Path:
    """Build with MkDocs in strict mode (the plugin checks every link) into `site_dir`, replacing it on success."""
    refuse_output(
        "--site-dir",
        site_dir,
        config_file.resolve().parent,
        site_sources(config_file),
        "a folder of its own, such as site/",
    )
    os.environ["SOURCE_DATE_EPOCH"] = reproducible_epoch(config_file.resolve().parent)
    with replaced_directory(site_dir) as scratch:
        run_build(config_file, scratch, verbose=verbose)
    return site_dir


def site_sources(config_file: Path) -> list[Path]:
    """The folders and files the site is made from, which no output may replace."""
    config = load_mkdocs_config(config_file)
    plugin = config.plugins.get("playbook")
    return plugin.sources(config) if plugin is not None else [config_file, Path(config.docs_dir)]


def run_build(config_file: Path, site_dir: Path, *, verbose: bool = False, offline: bool = False) -> None:
    """MkDocs' strict build into `site_dir`, with its messages on stderr and, on a terminal, a progress line.

    With `offline`, the configuration must have turned Material's offline plugin on (the bundle's build).
    Zensical, which runs no plugin, builds the site source `playbook generate` writes instead (zensical_shell).
    """
    if active_engine() == "zensical":
        from generator.engines.zensical_shell import build_with_zensical

        build_with_zensical(config_file, site_dir, verbose=verbose, offline=offline)
        return
    from mkdocs.commands.build import build
    from mkdocs.exceptions import Abort, MkDocsException

    # MkDocs' own INFO lines are the progress report when asked for; the line would only get in their way.
    progress = None if verbose else TerminalProgress(sys.stderr)
    with mkdocs_messages(verbose, progress):
        config = load_mkdocs_config(config_file, strict=True, site_dir=str(site_dir))
        if offline and not offline_enabled(config):
            raise BuildError(f"{config_file}: the offline plugin is not enabled by OFFLINE=true; see the README")
        plugin = config.plugins.get("playbook")
        if plugin is not None:  # no calls per page for nothing
            plugin.progress = progress if progress is not None and progress.enabled else None
        try:
            build(config)
        except (Abort, MkDocsException) as err:
            # MkDocs has logged what went wrong; its closing "Aborted with ..." adds nothing for a reader.
            raise BuildError("the build stopped: see the messages above") from err
        except BaseException:  # interrupted: MkDocs tells plugins of its own errors only
            if plugin is not None:
                plugin.stop()
            raise
        finally:
            if progress is not None:
                progress.clear()


def serve_site(config_file: Path, address: str) -> None:
    """`mkdocs serve` with the plugin watching data/ and the templates, so edits reload the browser; with
    Zensical, its own server on the site source, which is generated again on every save (zensical_shell)."""
    if active_engine() == "zensical":
        from generator.engines.zensical_shell import serve_with_zensical

        serve_with_zensical(config_file, address)
        return
    from mkdocs.commands.serve import serve

    from generator.engines.preview import event_driven_serve

    lent = _expect_config(config_file)
    with mkdocs_messages(verbose=True), event_driven_serve():
        serve(config_file=str(config_file), dev_addr=address, livereload=True, **lent)
