"""The `playbook` command: a thin shell that wires the core steps to flags, output and exit codes."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from generator import __version__
from generator.errors import DataError, PlaybookError, UsageError
from generator.report import FORMATS, render
from generator.validate import validate_data

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2

EXIT_CODES_HELP = """\b
Exit codes:
  0  success
  1  the data (or the site) has problems; each is printed as path:line:col
  2  usage error: a bad option or a missing folder"""


@click.group(epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="playbook")
def cli() -> None:
    """Partner Playbook: validate the playbook's YAML data and turn it into a site.

    \b
    Examples:
      playbook validate                   check data/ and report every problem
      playbook validate --format github   annotations for a GitHub pull request
      playbook build --site-dir site      the site, in strict mode
      playbook serve                      a live preview that reloads on data edits
      playbook generate --out md          the pages as plain Markdown
    """


@cli.command(epilog=EXIT_CODES_HELP)
@click.option(
    "--data",
    "data_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("data"),
    show_default=True,
    help="Folder that holds the data files.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text for people, json for programs, github for pull-request annotations.",
)
def validate(data_dir: Path, output_format: str) -> None:
    """Check every data file against its schema and every reference across files.

    All problems of all files are reported in one run, each as
    path:line:col: message (hint), with paths relative to the current folder.

    \b
    Examples:
      playbook validate
      playbook validate --data path/to/data --format json
    """
    try:
        validation = validate_data(data_dir)
    except UsageError as err:
        raise click.UsageError(str(err)) from err
    stream = sys.stdout if output_format == "json" or validation.ok else sys.stderr
    stream.write(render(validation.problems, output_format, subject=f"{data_dir}"))
    sys.exit(EXIT_OK if validation.ok else EXIT_INVALID)


CONFIG_OPTION = click.option(
    "--config-file",
    "-f",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("mkdocs.yml"),
    show_default=True,
    help="The MkDocs configuration; the plugin's data folder is set there.",
)


def _fail(err: PlaybookError) -> None:
    """Report a failure the way `validate` does, and exit with the documented code."""
    if isinstance(err, UsageError):
        raise click.UsageError(str(err)) from err
    if isinstance(err, DataError):
        sys.stderr.write(render(err.problems, "text", subject="build"))
    else:
        click.echo(f"error: {err}", err=True)
    sys.exit(EXIT_INVALID)


@cli.command(epilog=EXIT_CODES_HELP)
@CONFIG_OPTION
@click.option(
    "--site-dir",
    "-d",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("site"),
    show_default=True,
    help="Where the site goes; replaced only when the build succeeds.",
)
@click.option("--verbose", "-v", is_flag=True, help="Show MkDocs' progress messages too.")
def build(config_file: Path, site_dir: Path, verbose: bool) -> None:
    """Validate the data and build the site with MkDocs in strict mode.

    Any warning (a broken link, a missing anchor) fails the build, and a
    failed build leaves an existing site folder as it was.

    \b
    Examples:
      playbook build
      playbook build --site-dir /tmp/site -f path/to/mkdocs.yml
    """
    from generator.site import build_site

    try:
        build_site(config_file, site_dir, verbose=verbose)
    except PlaybookError as err:
        _fail(err)
    click.echo(f"site built in {site_dir}")


@cli.command(epilog=EXIT_CODES_HELP)
@CONFIG_OPTION
@click.option("--dev-addr", "-a", default="127.0.0.1:8000", show_default=True, help="Address to serve on.")
def serve(config_file: Path, dev_addr: str) -> None:
    """Preview the site; editing a data file, a template or a page reloads the browser.

    \b
    Examples:
      playbook serve
      playbook serve --dev-addr 0.0.0.0:8080
    """
    from generator.site import serve_site

    try:
        serve_site(config_file, dev_addr)
    except PlaybookError as err:
        _fail(err)


@cli.command(epilog=EXIT_CODES_HELP)
@click.option("--out", "-o", type=click.Path(path_type=Path, file_okay=False), required=True, help="Folder to write.")
@click.option(
    "--data", "data_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("data"), show_default=True
)
@click.option(
    "--docs",
    "docs_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("content"),
    show_default=True,
    help="Hand-written pages to copy, with their [[kind:id]] links resolved.",
)
@click.option(
    "--templates",
    "templates_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("overrides"),
    show_default=True,
    help="Page templates that replace the built-in ones of the same name.",
)
def generate(out: Path, data_dir: Path, docs_dir: Path, templates_dir: Path) -> None:
    """Write every page as plain Markdown: a docs folder any engine can build.

    The output folder is replaced whole, and may not be the data or docs folder.

    \b
    Examples:
      playbook generate --out build/docs
    """
    from generator.generate import generate_docs

    try:
        count = generate_docs(data_dir, docs_dir, templates_dir, out)
    except PlaybookError as err:
        _fail(err)
    click.echo(f"{count} generated pages written to {out}")


def main() -> None:
    cli(prog_name="playbook")
