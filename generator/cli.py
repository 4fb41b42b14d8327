"""The `playbook` command: a thin shell that wires the core steps to flags, output and exit codes."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from generator import __version__
from generator.errors import UsageError
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


def main() -> None:
    cli(prog_name="playbook")
