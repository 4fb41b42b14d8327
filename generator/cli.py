"""The `playbook` command: a thin shell that wires the core steps to flags, output and exit codes."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from generator import __version__
from generator.data.validate import validate_data
from generator.errors import DataError, PlaybookError, UsageError
from generator.links.report import FORMATS, render

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

EXIT_CODES_HELP = """\b
Exit codes:
  0  success
  1  the data (or the site) has problems; each is printed as path:line:col
     (or a file could not be written: a full disk, say)
  2  usage error: a bad option or a missing folder
  130  interrupted (Ctrl-C, SIGTERM): the output is left as it was"""


def folder_option(flag: str, dest: str, default: str, help_text: str):
    return click.option(
        flag,
        dest,
        type=click.Path(path_type=Path, file_okay=False),
        default=Path(default),
        show_default=True,
        help=help_text,
    )


DATA_OPTION = folder_option("--data", "data_dir", "data", "Folder that holds the data files.")
DOCS_OPTION = folder_option("--docs", "docs_dir", "content", "Hand-written pages (Markdown), with [[kind:id]] links.")
TEMPLATES_OPTION = folder_option(
    "--templates", "templates_dir", "overrides", "Page templates that replace built-in ones."
)


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
      playbook generate --out md          the site as a source for any engine
    """


@cli.command(epilog=EXIT_CODES_HELP)
@DATA_OPTION
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text for people, json for programs, github for pull-request annotations.",
)
@click.option(
    "--max-age",
    "max_age_days",
    type=click.IntRange(min=0),
    default=None,
    metavar="DAYS",
    help="Warn about facts whose source page was not reviewed within DAYS days.",
)
def validate(data_dir: Path, output_format: str, max_age_days: int | None) -> None:
    """Check every data file against its schema and every reference across files.

    All problems of all files are reported in one run, each as
    path:line:col: message (hint), with paths relative to the current folder.

    \b
    Examples:
      playbook validate
      playbook validate --data path/to/data --format json
      playbook validate --max-age 365
    """
    try:
        validation = validate_data(data_dir, max_age_days=max_age_days)
    except UsageError as err:
        raise click.UsageError(str(err)) from err
    stream = sys.stdout if output_format == "json" or validation.ok else sys.stderr
    stream.write(render(validation.problems, output_format, subject=f"{data_dir}"))
    sys.exit(EXIT_OK if validation.ok else EXIT_INVALID)


VERBOSE_OPTION = click.option(
    "--verbose", "-v", is_flag=True, help="Show MkDocs' own messages, instead of the one-line progress on a terminal."
)
CONFIG_OPTION = click.option(
    "--config-file",
    "-f",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("mkdocs.yml"),
    show_default=True,
    help="The MkDocs configuration; the plugin's data folder is set there.",
)


def _engine_option(command):
    from generator.engines.choice import ENGINES, default_engine

    return click.option(
        "--engine",
        type=click.Choice(ENGINES),
        default=default_engine,
        show_default="the first of them installed",
        help="The engine that builds the site from mkdocs.yml (see the README).",
    )(command)


def _use_engine(name: str) -> str:
    """Loads the engine; returns the line that says which it is and how to switch to another.

    A build or bundle prints it once it has succeeded, so that a failure stays one line of its own.
    """
    from generator.engines.choice import activate, notice

    try:
        activate(name)
    except UsageError as err:
        raise click.UsageError(str(err)) from err
    return notice(name)


def _fail(err: PlaybookError) -> None:
    """Report a failure the way `validate` does, and exit with the documented code."""
    if isinstance(err, UsageError):
        raise click.UsageError(str(err)) from err
    if isinstance(err, DataError):
        sys.stderr.write(render(err.problems, "text", subject=err.subject))
    else:
        click.echo(f"error: {err}", err=True)
    sys.exit(EXIT_INVALID)


@contextmanager
def _reported() -> Iterator[None]:
    """Runs a step that writes files: each way it can fail is one line and its exit code, never a traceback."""
    from generator.system.processes import signals_unwind

    try:
        with signals_unwind():
            yield
    except PlaybookError as err:
        _fail(err)
    except OSError as err:  # a full disk, an output that cannot be written
        path = err.filename2 or err.filename  # a copy names its source first, and the target second
        where = f"{path}: " if path else ""
        click.echo(f"error: {where}{err.strerror or err}", err=True)
        sys.exit(EXIT_INVALID)
    except KeyboardInterrupt:
        click.echo("error: interrupted; the output is left as it was", err=True)
        sys.exit(EXIT_INTERRUPTED)


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
@VERBOSE_OPTION
@_engine_option
def build(config_file: Path, site_dir: Path, verbose: bool, engine: str) -> None:
    """Validate the data and build the site with MkDocs in strict mode.

    Any warning (a broken link, a missing anchor) fails the build, and a
    failed build leaves an existing site folder as it was.

    \b
    Examples:
      playbook build
      playbook build --site-dir /tmp/site -f path/to/mkdocs.yml
    """
    engine_notice = _use_engine(engine)
    from generator.engines.site import build_site

    with _reported():
        build_site(config_file, site_dir, verbose=verbose)
    click.echo(f"site built in {site_dir}")
    click.echo(engine_notice, err=True)


@cli.command(epilog=EXIT_CODES_HELP)
@CONFIG_OPTION
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The zip to write  [default: dist/partner-playbook-VERSION-offline.zip]",
)
@VERBOSE_OPTION
@_engine_option
def bundle(config_file: Path, output: Path | None, verbose: bool, engine: str) -> None:
    """Build the offline bundle: one zip that opens from disk, search included.

    The site is built in offline mode, its links are checked as pages opened
    from disk, and only then is the zip written; a failure leaves no partial
    zip and an existing one untouched. Two bundles of the same commit are
    byte-identical (SOURCE_DATE_EPOCH is honoured).

    \b
    Examples:
      playbook bundle
      playbook bundle -o /tmp/playbook.zip
    """
    engine_notice = _use_engine(engine)
    from generator.engines.bundle import build_bundle, default_bundle_path

    target = output or default_bundle_path(__version__)
    with _reported():
        build_bundle(config_file, target, verbose=verbose)
    click.echo(f"offline bundle written to {target}")
    click.echo(engine_notice, err=True)


@cli.command(epilog=EXIT_CODES_HELP)
@CONFIG_OPTION
@click.option("--dev-addr", "-a", default="127.0.0.1:8000", show_default=True, help="Address to serve on.")
@_engine_option
def serve(config_file: Path, dev_addr: str, engine: str) -> None:
    """Preview the site; editing a data file, a template or a page reloads the browser.

    \b
    Examples:
      playbook serve
      playbook serve --dev-addr 0.0.0.0:8080
    """
    engine_notice = _use_engine(engine)
    from generator.engines.site import serve_site

    with _reported():
        click.echo(engine_notice, err=True)
        serve_site(config_file, dev_addr)


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("folder", type=click.Path(path_type=Path))
def init(folder: Path) -> None:
    """Start a new playbook project in FOLDER (new, or empty).

    Writes mkdocs.yml, a data folder with one example record of each kind
    (in the starter's own words: replace them with yours) and a home page,
    ready for `playbook build` and `playbook bundle`.

    \b
    Examples:
      playbook init my-playbook && cd my-playbook && playbook build
    """
    from generator.engines.project import init_project

    with _reported():
        written = init_project(folder)
    step = "playbook build" if folder.resolve() == Path.cwd().resolve() else f"cd {folder} && playbook build"
    click.echo(f"{len(written)} files written to {folder}; next: {step}")


@cli.command(epilog=EXIT_CODES_HELP)
@click.option("--out", "-o", type=click.Path(path_type=Path, file_okay=False), required=True, help="Folder to write.")
@DATA_OPTION
@DOCS_OPTION
@TEMPLATES_OPTION
def generate(out: Path, data_dir: Path, docs_dir: Path, templates_dir: Path) -> None:
    """Write the whole site as a source that MkDocs, ProperDocs and Zensical build without the plugin.

    OUT gets docs/ (every page as Markdown, and every file the site needs), theme/, hooks/ and mkdocs.yml; run
    the engine's own build command in it. The output folder is replaced whole, and may not be the data or docs
    folder.

    \b
    Examples:
      playbook generate --out build/docs
    """
    from generator.pages.generate import generate_docs

    with _reported():
        count = generate_docs(data_dir, docs_dir, templates_dir, out)
    click.echo(f"{count} generated pages written to {out}")


@cli.command("check-links", epilog=EXIT_CODES_HELP)
@click.argument("site_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option("--external", is_flag=True, help="Also check links to other sites (concurrently, with a cache).")
@click.option("--file-urls", is_flag=True, help="Also report links that would not open from disk (offline bundle).")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--exclude", multiple=True, metavar="PATTERN", help="Skip links matching this regular expression.")
@DATA_OPTION
@DOCS_OPTION
@click.option(
    "--cache",
    "cache_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path(".cache/playbook-links.json"),
    show_default=True,
    help="Cache of good outside links.",
)
@click.option("--cache-max-age", type=float, default=24.0, show_default=True, help="Hours a cached answer is kept.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    metavar="SECONDS",
    show_default=True,
    help="Seconds one try at an outside link may take (the whole answer); all tries at one link get 3 times this.",
)
@click.option(
    "--budget",
    type=click.FloatRange(min=0, min_open=True),
    default=300.0,
    metavar="SECONDS",
    show_default=True,
    help="Seconds all outside links may take; those not checked by then are warnings, not errors.",
)
@click.option(
    "--root",
    "root_path",
    default=None,
    metavar="PATH",
    help="URL path the site is served at, for root-relative links; default: site_url's path in mkdocs.yml.",
)
def check_links(
    site_dir: Path,
    external: bool,
    file_urls: bool,
    output_format: str,
    exclude: tuple[str, ...],
    data_dir: Path,
    docs_dir: Path,
    cache_file: Path,
    cache_max_age: float,
    timeout: float,
    budget: float,
    root_path: str | None,
) -> None:
    """Check every link and fragment of a built site (exit 1 if one is broken).

    Internal links must lead to a file of the site and fragments to an id on
    the target page. Findings are grouped by page with line:column, and name
    the data record or Markdown file that made the page.

    \b
    Examples:
      playbook check-links site
      playbook check-links site --external --exclude '^https://example\\.com/'
      playbook check-links site --external --timeout 5 --budget 120
      playbook check-links bundle --file-urls --format github
    """
    import re

    from generator.links.external import ExternalOptions, check_urls
    from generator.links.link_origins import page_origins
    from generator.links.linkcheck import CheckOptions, add_external_findings, check_site
    from generator.links.report import printable, render_links
    from generator.system.progress import TerminalProgress

    if not site_dir.is_dir():
        raise click.UsageError(f"site folder not found: {site_dir}")
    for pattern in exclude:
        try:
            re.compile(pattern)
        except re.error as err:
            raise click.UsageError(f"--exclude {pattern!r} is not a regular expression: {err}") from err
    root = root_path if root_path is not None else _served_path(Path("mkdocs.yml"))
    progress = TerminalProgress(sys.stderr)
    warnings: list[str] = []
    with _reported():  # an unreadable site or cache is one line, never a traceback
        try:
            options = CheckOptions(file_urls=file_urls, excludes=exclude, root=root)
            report = check_site(site_dir, options, progress=progress)
            if external and report.external:
                outside = ExternalOptions(
                    timeout=timeout, budget=budget, cache_file=cache_file, cache_max_age=cache_max_age * 3600
                )
                checked = check_urls([url for _, _, url in report.external], outside, progress, warnings.append)
                add_external_findings(site_dir, report, checked)
        finally:
            progress.clear()
    for warning in warnings:
        click.echo(f"warning: {printable(warning)}", err=True)
    origins = page_origins(data_dir, docs_dir, Path("overrides")) if report.findings else {}
    stream = sys.stdout if output_format == "json" or not report.broken else sys.stderr
    stream.write(render_links(report, output_format, origins))
    sys.exit(EXIT_INVALID if report.broken else EXIT_OK)


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("base")
@click.argument("head", required=False)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
    help="markdown is ready for a pull-request comment.",
)
@click.option("--data", "data_path", default="data", show_default=True, help="The data folder, within the repository.")
def diff(base: str, head: str | None, output_format: str, data_path: str) -> None:
    """What the data change from BASE to HEAD does to the playbook.

    Lists the entities added, removed and changed (with the fields that
    changed), and the pages whose content changes. HEAD defaults to the
    working tree.

    \b
    Examples:
      playbook diff main
      playbook diff origin/main HEAD --format markdown > comment.md
    """
    from generator.pages.changes import catalogue_at, compare, render_changes

    repository = Path.cwd()
    try:
        changes = compare(catalogue_at(repository, base, data_path), catalogue_at(repository, head, data_path))
    except PlaybookError as err:
        _fail(err)
    click.echo(render_changes(changes, output_format, base=base, head=head or "working tree"), nl=False)


class _ShowsKnownValues(click.Command):
    """A command whose help ends with the IDs its options may name, read from the data folder."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from generator.data.scaffold import known_values

        data_dir = ctx.params.get("data_dir") or Path("data")
        values = known_values(Path(data_dir))
        if values:
            with formatter.section(f"Known values (from {data_dir})"):
                formatter.write_dl([(name, ", ".join(ids)) for name, ids in values.items()])
        super().format_epilog(ctx, formatter)


@cli.group()
def new() -> None:
    """Append a new task, option or role to its data file (comments and formatting kept).

    The record is added only if the whole data folder still validates;
    `playbook new task --help` lists the roles, stages and sources it may name.
    """


def _add(data_dir: Path, kind: str, record: dict[str, object]) -> None:
    from generator.data.scaffold import add_record

    try:
        path, line = add_record(data_dir, kind, record)
    except PlaybookError as err:
        _fail(err)
    click.echo(f"{path}:{line}: added {kind} {record['id']}")


SOURCE_PAGE_OPTION = click.option(
    "--source-page", "source_pages", multiple=True, help="Source page(s) of the facts  [default: the usual one]"
)


@new.command("task", cls=_ShowsKnownValues, epilog=EXIT_CODES_HELP)
@click.option("--title", required=True, help="What the task is, in a few words.")
@click.option("--owner", required=True, help="The role that carries it out (see the known roles below).")
@click.option("--stage", required=True, help="The migration stage it belongs to.")
@click.option("--source", "sources", multiple=True, help="A migration source it applies to; repeat; none = all.")
@click.option("--prerequisite", "prerequisites", multiple=True, type=int, help="A task that must come first; repeat.")
@click.option("--summary", help="A sentence or two about the task.")
@click.option("--optional", is_flag=True, help="The playbook marks it optional.")
@click.option("--if-applicable", is_flag=True, help="Only where it applies.")
@click.option("--id", "task_id", type=int, help="The playbook task number  [default: the next free one]")
@SOURCE_PAGE_OPTION
@DATA_OPTION
def new_task(data_dir: Path, task_id: int | None, source_pages: tuple[str, ...], **fields: object) -> None:
    """Add a playbook task to data/tasks.yml.

    \b
    Examples:
      playbook new task --title "Check the mail flow" --owner frp --stage close --source imap
      playbook new task --title "Plan the cut-over" --owner mst --stage migrate --prerequisite 2474
    """
    from generator.data.scaffold import next_task_id, usual_source_page

    catalogue = _catalogue(data_dir)
    record: dict[str, object] = {
        "id": next_task_id(catalogue) if task_id is None else task_id,
        "title": fields["title"],
    }
    if fields["summary"]:
        record["summary"] = fields["summary"]
    record |= {"owner": fields["owner"], "stage": fields["stage"]}
    for name in ("sources", "prerequisites"):
        if fields[name]:
            record[name] = list(fields[name])  # type: ignore[call-overload]
    for flag in ("optional", "if_applicable"):
        if fields[flag]:
            record[flag] = True
    record["source_pages"] = list(source_pages) or [usual_source_page(catalogue, "tasks")]
    _add(data_dir, "task", record)


@new.command("option", cls=_ShowsKnownValues, epilog=EXIT_CODES_HELP)
@click.option("--name", required=True, help="The option's name.")
@click.option("--summary", required=True, help="What the option is.")
@click.option(
    "--executed-by",
    multiple=True,
    required=True,
    type=click.Choice(["customer-team", "microsoft", "partner"]),
    help="Who carries out the work; repeat.",
)
@click.option("--phase", "phases", multiple=True, required=True, help="A lifecycle phase it helps with; repeat.")
@click.option("--id", "option_id", help="A URL-safe ID  [default: made from the name]")
@SOURCE_PAGE_OPTION
@DATA_OPTION
def new_option(
    data_dir: Path,
    name: str,
    summary: str,
    executed_by: tuple[str, ...],
    phases: tuple[str, ...],
    option_id: str | None,
    source_pages: tuple[str, ...],
) -> None:
    """Add a partnership or support option to data/options.yml.

    \b
    Examples:
      playbook new option --name "Migration factory" --summary "A partner runs repeated migrations." \\
        --executed-by partner --phase migrate
    """
    from generator.data.scaffold import slug, usual_source_page

    catalogue = _catalogue(data_dir)
    record = {
        "id": slug(name) if option_id is None else option_id,
        "name": name,
        "summary": summary,
        "executed_by": list(executed_by),
        "lifecycle_phases": list(phases),
        "source_pages": list(source_pages) or [usual_source_page(catalogue, "options")],
    }
    _add(data_dir, "option", record)


@new.command("role", cls=_ShowsKnownValues, epilog=EXIT_CODES_HELP)
@click.option("--name", required=True, help="The role's name.")
@click.option("--summary", required=True, help="What the role does.")
@click.option("--acronym", help="Its acronym, if it has one.")
@click.option("--id", "role_id", help="A URL-safe ID  [default: the acronym, or made from the name]")
@SOURCE_PAGE_OPTION
@DATA_OPTION
def new_role(
    data_dir: Path, name: str, summary: str, acronym: str | None, role_id: str | None, source_pages: tuple[str, ...]
) -> None:
    """Add a role to data/roles.yml.

    \b
    Examples:
      playbook new role --name "Cut-over coordinator" --acronym CC --summary "Plans the final switch."
    """
    from generator.data.scaffold import slug, usual_source_page

    catalogue = _catalogue(data_dir)
    record: dict[str, object] = {"id": slug(acronym or name) if role_id is None else role_id, "name": name}
    if acronym:
        record["acronym"] = acronym
    record |= {"summary": summary, "source_pages": list(source_pages) or [usual_source_page(catalogue, "roles")]}
    _add(data_dir, "role", record)


def _catalogue(data_dir: Path):
    from generator.data.validate import load_valid_catalogue

    try:
        return load_valid_catalogue(data_dir)
    except PlaybookError as err:
        _fail(err)


def _served_path(config_file: Path) -> str:
    """The path of site_url in an MkDocs configuration (`/partner-playbook/`), or `/`."""
    from urllib.parse import urlsplit

    import yaml

    if not config_file.is_file():
        return "/"
    for line in config_file.read_text(encoding="utf-8").splitlines():
        if line.startswith("site_url:"):
            value = yaml.safe_load(line.partition(":")[2]) or ""
            return urlsplit(str(value)).path or "/"
    return "/"


#: click ≥ 8.2 raises this for a group run with no command; older versions print the help themselves.
NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


def main() -> None:
    """The `playbook` command. A usage mistake prints its cause on the first line, then where to read more:
    click's own order puts the usage synopsis first, which pushes the cause down past what a reader looks at."""
    try:
        result = cli.main(prog_name="playbook", standalone_mode=False)
    except NO_ARGS_IS_HELP as err:  # `playbook` alone: the help is what was asked for
        err.show()
        sys.exit(err.exit_code)
    except click.UsageError as err:
        click.echo(f"error: {err.format_message()}", err=True)
        if err.ctx is not None:
            click.echo(f"Try '{err.ctx.command_path} -h' for help.", err=True)
        sys.exit(err.exit_code)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except click.Abort:  # Ctrl-C while click itself waited (a prompt)
        click.echo("error: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(result if isinstance(result, int) else EXIT_OK)
