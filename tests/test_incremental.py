"""The live preview's partial rebuild after a data edit leaves the site folder exactly as a full build of the same
data makes it: every file, byte for byte, the search index, the tags export and the downloads included.

One preview session is built as `playbook serve` builds it; each example saves one random edit of data/tasks.yml
(a title, an owner, a stage, prerequisites, sources, source pages, a task removed or added), lets the session
rebuild what the edit changes (or build the whole site, where it says it cannot), and compares the session's site
folder with a clean build, in plugins of its own, of the edited data. Then the data goes back, the same way.
"""

from __future__ import annotations

import gc
import hashlib
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import MINIMAL
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from mkdocs.commands.build import build
from mkdocs.config.defaults import MkDocsConfig

from generator.data.validate import validate_data
from generator.engines import incremental, mkdocs_plugin
from generator.engines.incremental import (
    PENDING,
    KeptBuild,
    PageBuilder,
    Superseded,
    check_rebuilt_links,
    edit_link_offset,
    rebuild,
    rebuild_edited,
)
from generator.engines.mkdocs_plugin import PlaybookPlugin
from generator.engines.project import STARTER
from generator.engines.site import load_mkdocs_config
from generator.links.htmllinks import read_ids
from generator.pages.render import SiteRenderer

SERVE_URL = "http://127.0.0.1:8000/partner-playbook/"
TASKS = [100, 200, 300]
ROLES = ["partner", "support"]
STAGES = ["prepare", "move"]
SOURCES = ["mail", "files"]
SOURCE_PAGES = ["roles-page", "other-page"]
#: Text a title may hold: Markdown and HTML that must come out escaped, and words other pages repeat.
TITLES = st.text(alphabet="ab <>&*_[]`\"'Mail", min_size=1, max_size=12).map(str.strip).filter(bool)
EDIT_LINKS = "repo_url: https://git.example.com/playbook\nedit_uri: edit/main/content/\n"
#: The edit the hand-made tests save: task 300's title.
RENAMED = ("title", 300, "Files workshop, renamed")
HOME = "# Home\n\nStart with [[task:100]], ask the [[role:support]], then [[task:300]].\n"


@contextmanager
def own_plugins() -> Iterator[None]:
    """MkDocs keeps one instance of each plugin per process (the rebuilds of `serve` share them): a clean build
    beside the session gets instances of its own, and the session's stay as they were."""
    option = MkDocsConfig.__dict__["plugins"]
    kept, option.plugin_cache = option.plugin_cache, {}
    try:
        yield
    finally:
        option.plugin_cache = kept


def serve_build(project: Path, site: Path) -> PlaybookPlugin:
    """A full build as `playbook serve` makes it (MkDocs' serve: a scratch folder, the local address)."""
    config = load_mkdocs_config(project / "mkdocs.yml", site_dir=str(site))
    config.plugins.on_startup(command="serve", dirty=False)
    config.site_url = SERVE_URL
    build(config, serve_url=SERVE_URL)
    return config.plugins["playbook"]


def noted_plans(monkeypatch: pytest.MonkeyPatch, method: str) -> list[str]:
    """The pages whose plans `SiteRenderer.<method>` (render, signature) is called with from now on, in order, until
    `monkeypatch` undoes it (in this process: a forked renderer's calls are not seen)."""
    noted: list[str] = []
    original = getattr(SiteRenderer, method)

    def noting(self: SiteRenderer, plan: Any) -> Any:
        noted.append(plan.src_uri)
        return original(self, plan)

    monkeypatch.setattr(SiteRenderer, method, noting)
    return noted


def digest(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@dataclass
class SavedFiles:
    """As much of `serve`'s server as the plugin's builder asks: which files changed."""

    changes: set[str]
    reloads: int = 0
    builds_asked: int = 0
    stopped: bool = False
    #: Whether Python's cycle collector was on at each reload.
    collector_at_reloads: list[bool] = field(default_factory=list)

    def take_changes(self) -> set[str]:
        return self.changes

    def reload_browsers(self) -> None:
        self.reloads += 1
        self.collector_at_reloads.append(gc.isenabled())

    def changes_waiting(self) -> bool:
        return False

    def stopping(self) -> bool:
        return self.stopped

    def request_build(self) -> None:
        self.builds_asked += 1


@dataclass
class Session:
    project: Path
    site: Path
    scratch: Path
    plugin: PlaybookPlugin
    base: dict[str, Any]
    base_digest: dict[str, str] = field(default_factory=dict)

    def save(self, tasks: dict[str, Any]) -> None:
        text = "# yaml-language-server: $schema=../generator/schemas/tasks.schema.json\n"
        text += yaml.safe_dump(tasks, sort_keys=False, allow_unicode=True)
        (self.project / "data" / "tasks.yml").write_text(text, encoding="utf-8")

    def update(self) -> str:
        """What `serve` does after a data save (the plugin's own builder, told that data/tasks.yml changed): the
        partial rebuild, or the full build it falls back to; the line it logged."""
        saved = SavedFiles({str(self.project / "data" / "tasks.yml")})
        # What serve leaves for after the browsers' first reload is done here at once, before the comparison.
        self.plugin.later = lambda work: work()  # type: ignore[method-assign]
        line = self.plugin._preview_build(saved, partial(serve_build, self.project, self.site))  # type: ignore[arg-type]
        assert saved.builds_asked == 0, "the rest of the edit failed"
        return line

    @contextmanager
    def edit_saved(self, edit: tuple[str, int, Any]) -> Iterator[KeptBuild]:
        """The edit saved, and the kept build given, to rebuild by hand; afterwards the base data saved again and
        the site brought back to it."""
        self.save(edited(self.base, edit))
        try:
            assert self.plugin.kept is not None
            yield self.plugin.kept
        finally:
            self.save(self.base)
            self.update()

    def clean_digest(self) -> dict[str, str]:
        clean = self.scratch / "clean"
        shutil.rmtree(clean, ignore_errors=True)
        with own_plugins():
            serve_build(self.project, clean)
        return digest(clean)


@contextmanager
def served_project(
    scratch: Path, config_extra: str = "", data_edits: tuple[tuple[str, str, str], ...] = (), home: str = HOME
) -> Iterator[Session]:
    """The minimal data served (a serve build kept), with edit links and `home` as the home page; `config_extra`
    added to mkdocs.yml and each (file, old, new) of `data_edits` made to the data first."""
    project = scratch / "project"
    shutil.copytree(MINIMAL, project / "data")
    for name, old, new in data_edits:
        path = project / "data" / name
        assert old in path.read_text(encoding="utf-8")
        path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    # The starter's configuration, with edit links: each names its record's line, which edits move.
    config = (
        (STARTER / "mkdocs.yml")
        .read_text(encoding="utf-8")
        .replace("    - content.tooltips\n", "    - content.tooltips\n    - content.action.edit\n")
    )
    (project / "mkdocs.yml").write_text(config + EDIT_LINKS + config_extra, encoding="utf-8")
    (project / "content").mkdir()
    (project / "content" / "index.md").write_text(home, encoding="utf-8")
    provenance = project / "data" / "provenance.yml"
    provenance.write_text(
        provenance.read_text(encoding="utf-8")
        + "  - id: other-page\n    title: Other page\n    publisher: Example\n    section: Playbook\n"
        "    date: 2021-03-04\n",
        encoding="utf-8",
    )
    base = yaml.safe_load((project / "data" / "tasks.yml").read_text(encoding="utf-8"))
    saved_epoch, saved_folder = os.environ.get("SOURCE_DATE_EPOCH"), Path.cwd()
    os.environ["SOURCE_DATE_EPOCH"] = "1700000000"
    os.chdir(project)
    try:
        state = Session(project, scratch / "site", scratch, serve_build(project, scratch / "site"), base)
        state.save(base)  # the file as the examples write it, so that only the edit differs
        assert state.update().startswith("rebuilt")
        state.base_digest = state.clean_digest()
        assert digest(state.site) == state.base_digest
        yield state
    finally:
        os.chdir(saved_folder)
        if saved_epoch is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = saved_epoch


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    # Every page that is no record's own counts as long: each edit's first pass begins rendering those that show
    # an edited record in a process of its own, which the second takes them from (`head_start`), as it does the
    # runbooks of a large catalogue.
    with pytest.MonkeyPatch.context() as patch, served_project(tmp_path_factory.mktemp("incremental")) as state:
        patch.setattr(incremental, "HEAD_START_CHARACTERS", 0)
        yield state


EDITS = st.one_of(
    st.tuples(st.just("title"), st.sampled_from(TASKS), TITLES),
    st.tuples(st.just("owner"), st.sampled_from(TASKS), st.sampled_from(ROLES)),
    st.tuples(st.just("stage"), st.sampled_from(TASKS), st.sampled_from(STAGES)),
    st.tuples(st.just("prerequisites"), st.sampled_from(TASKS), st.lists(st.sampled_from(TASKS), unique=True)),
    st.tuples(st.just("sources"), st.sampled_from(TASKS), st.lists(st.sampled_from(SOURCES), unique=True)),
    st.tuples(st.just("source_pages"), st.sampled_from(TASKS), st.lists(st.sampled_from(SOURCE_PAGES), min_size=1)),
    st.tuples(st.just("removal"), st.sampled_from(TASKS), st.none()),
    st.tuples(st.just("addition"), st.just(400), TITLES),
)


def edited(base: dict[str, Any], edit: tuple[str, int, Any]) -> dict[str, Any]:
    kind, task_id, value = edit
    if kind == "source_pages":
        value = list(dict.fromkeys(value))
    tasks = [dict(task) for task in base["tasks"]]
    if kind == "removal":
        return {"tasks": [task for task in tasks if task["id"] != task_id]}
    if kind == "addition":
        added = {"id": task_id, "title": value, "owner": "partner", "stage": "move", "source_pages": ["roles-page"]}
        return {"tasks": [*tasks, added]}
    task = next(task for task in tasks if task["id"] == task_id)
    if value == []:
        task.pop(kind, None)
    else:
        task[kind] = value
    return {"tasks": tasks}


# No shrinking: each example builds a site twice, and the failing edit, as drawn, is small already.
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(edit=EDITS)
# The partner's one task goes: its runbook loses its steps (the set-aside blocks) and its heading, and gets them
# back when the edit is undone; the page as served must not be taken for the one its Markdown last made.
@example(edit=("owner", 100, "support"))
# A quoted title: the tags export names the page as the clean build does (before the page's head title, escaped).
@example(edit=("title", 300, 'The "files" workshop'))
def test_a_data_edit_rebuilt_in_part_gives_the_site_a_clean_build_gives(session: Session, edit):
    session.save(edited(session.base, edit))
    valid = validate_data(session.project / "data").ok
    outcome = session.update()
    if not valid:  # the problems are served (the clean build's page), and the last good site waits aside
        assert outcome == "problems shown"
    elif edit[0] in ("removal", "addition"):
        assert outcome == "full rebuild: pages were added or removed"
    else:
        assert outcome.startswith("rebuilt ")
    assert digest(session.site) == session.clean_digest(), outcome
    session.save(session.base)
    assert session.update().startswith("rebuilt ") or edit[0] in ("removal", "addition")
    assert digest(session.site) == session.base_digest


def test_a_title_edit_rebuilds_the_pages_that_show_it_and_no_other(session: Session):
    with session.edit_saved(RENAMED) as kept:
        rebuilt = rebuild(session.plugin, kept)
        assert "tasks/300.md" in rebuilt.pages and "catalogue.md" in rebuilt.pages
        assert "tasks/200.md" in rebuilt.pages  # task 300 needs it, and it says so with the title
        assert "index.md" not in rebuilt.pages  # the home page names the task by its number only
        assert "tasks/100.md" not in rebuilt.pages  # task 100 shows neither the task nor anything it reads
        assert "Files workshop, renamed" in (session.site / "tasks" / "300" / "index.html").read_text(encoding="utf-8")
        assert digest(session.site) == session.clean_digest()


def test_a_page_whose_markdown_changed_but_not_what_frames_it_has_its_content_replaced(
    session: Session, monkeypatch: pytest.MonkeyPatch
):
    """Task 200's page names task 300 by its title: after 300's title edit its Markdown differs, but not its title,
    table of contents or meta; its new content replaces the old in the page served, the theme's template is not
    rendered again. Task 300's own page changes its title: the theme renders it again."""
    built: list[str] = []
    build_page = incremental._build_page
    monkeypatch.setattr(
        incremental, "_build_page", lambda page, *args: (built.append(page.file.src_uri), build_page(page, *args))[1]
    )
    with session.edit_saved(RENAMED) as kept:
        first = rebuild_edited(session.plugin, kept)
        second = rebuild(session.plugin, kept)
        assert first.pages == ["tasks/300.md"] and "tasks/200.md" in second.pages
        assert "tasks/300.md" in built and "tasks/200.md" not in built
        assert digest(session.site) == session.clean_digest()


def test_the_first_pass_begins_rendering_the_long_pages_that_show_the_edit_and_the_second_takes_them(
    session: Session, monkeypatch: pytest.MonkeyPatch
):
    """After task 300's title edit, the first pass hands the second the catalogue and task 300's runbooks, begun in
    a process of their own; the second renders none of them itself, and the site is a clean build's."""
    with session.edit_saved(RENAMED) as kept:
        rebuild_edited(session.plugin, kept)
        assert kept.head_start is not None
        begun = {plan.src_uri for plan in kept.head_start.plans}
        assert {"catalogue.md", "runbooks/sources/files.md", "runbooks/roles/support.md"} <= begun
        assert "runbooks/sources/mail.md" not in begun  # task 300 is not on it
        monkeypatch.setattr(incremental, "RENDERED_APART", 10**9)  # the rest rendered here, where they are counted
        rendered = noted_plans(monkeypatch, "render")
        rebuilt = rebuild(session.plugin, kept)
        monkeypatch.undo()
        assert kept.head_start is None
        assert "catalogue.md" in rebuilt.pages and begun.isdisjoint(rendered)
        assert digest(session.site) == session.clean_digest()


def test_a_head_start_that_cannot_fork_leaves_the_pages_to_the_second_pass(
    session: Session, monkeypatch: pytest.MonkeyPatch
):
    def no_process(*args: Any, **kwargs: Any) -> Any:
        raise BlockingIOError(11, "Resource temporarily unavailable")  # what fork says at the process limit

    with session.edit_saved(RENAMED) as kept:
        monkeypatch.setattr(incremental, "Rendering", no_process)
        first = rebuild_edited(session.plugin, kept)
        monkeypatch.undo()
        assert first.pages == ["tasks/300.md"] and kept.head_start is None
        rebuild(session.plugin, kept)
        assert digest(session.site) == session.clean_digest()


def test_pages_begun_for_data_saved_over_are_not_taken(session: Session):
    """The first pass of one title edit begins the long pages; another title is saved before the second pass, which
    validates the data again: the pages begun show the first title, and the site must show the second."""
    with session.edit_saved(RENAMED) as kept:
        rebuild_edited(session.plugin, kept)
        early = kept.head_start
        assert early is not None
        session.save(edited(session.base, ("title", 300, "Files workshop, renamed again")))
        rebuild(session.plugin, kept)
        assert kept.head_start is None
        catalogue = (session.site / "catalogue" / "index.html").read_text(encoding="utf-8")
        assert "renamed again" in catalogue
        assert digest(session.site) == session.clean_digest()


def test_the_first_pass_builds_the_edited_records_page_alone_and_the_second_the_rest(session: Session):
    """What the contributor waits for is the edited record's own page: the first pass builds that page and no
    other; the pages that show the record elsewhere wait for the second, which leaves the site as a clean build."""
    with session.edit_saved(RENAMED) as kept:
        first = rebuild_edited(session.plugin, kept)
        assert first.pages == ["tasks/300.md"]
        assert "Files workshop, renamed" in (session.site / "tasks" / "300" / "index.html").read_text(encoding="utf-8")
        assert "Files workshop, renamed" not in (session.site / "catalogue" / "index.html").read_text(encoding="utf-8")
        second = rebuild(session.plugin, kept)
        assert "tasks/300.md" not in second.pages and "catalogue.md" in second.pages
        assert digest(session.site) == session.clean_digest()


def test_a_save_during_the_second_pass_stops_it_before_it_writes_and_its_own_passes_do_both(session: Session):
    """A contributor who saves again while the background pass renders is not kept waiting for it: it stops
    before writing anything, and the next save's passes bring the site up to both edits."""
    with session.edit_saved(RENAMED) as kept:
        rebuild_edited(session.plugin, kept)
        before = digest(session.site)
        with pytest.raises(Superseded):
            rebuild(session.plugin, kept, superseded=lambda: True)
        assert digest(session.site) == before
        renamed = edited(session.base, RENAMED)
        session.save(edited(renamed, ("title", 100, "Assess the tenant again")))
        assert session.update().startswith("rebuilt ")
        assert digest(session.site) == session.clean_digest()


@pytest.mark.parametrize("pages_before_the_save", [0, 1, 3])
def test_a_save_while_the_second_pass_builds_pages_leaves_nothing_half_done_even_when_it_undoes_the_edit(
    session: Session, pages_before_the_save: int, monkeypatch: pytest.MonkeyPatch
):
    """The second pass builds each page as it is rendered; a newer save stops it between two pages. Nothing served
    changes, no page written aside stays, and the next save's passes build the pages it had begun again, even
    where that save puts the data back as it was (nothing changed since the last full pass, yet the first pass
    had shown the edit and the stopped one had begun to)."""
    with session.edit_saved(RENAMED) as kept:
        rebuild_edited(session.plugin, kept)
        before = digest(session.site)
        built: list[str] = []
        build = PageBuilder.build
        monkeypatch.setattr(PageBuilder, "build", lambda self, uri, page: (built.append(uri), build(self, uri, page)))
        with pytest.raises(Superseded):  # the newer save comes once that many pages are built
            rebuild(session.plugin, kept, superseded=lambda: len(built) >= pages_before_the_save)
        monkeypatch.undo()
        assert digest(session.site) == before
        assert len(kept.dirty) == pages_before_the_save  # begun, and not finished
        session.save(session.base)
        assert session.update().startswith("rebuilt ")
        assert digest(session.site) == session.base_digest
        assert not kept.dirty and not kept.ahead


def test_a_title_edit_plans_again_only_the_pages_of_the_records_that_read_it(session: Session):
    """The second pass plans again the pages that are no record's own, and the pages of the records whose plan or
    page read the edited task; the other records' plans are taken as they were."""
    with session.edit_saved(RENAMED) as kept:
        rebuild(session.plugin, kept)
        renderer = kept.renderer
        assert renderer._plans is None  # the whole site was not planned again
        assert "tasks/300.md" in renderer.plan_reads and "tasks/200.md" in renderer.plan_reads
        assert "tasks/100.md" not in renderer.plan_reads  # it shows nothing of task 300
        assert not any(uri.startswith("options/") for uri in renderer.plan_reads)
        # The first role, source and stage, whose planning first computed the groupings (reading every task), are
        # not tied to task 300: it is the support team's, for files, in the move stage.
        assert {"roles/partner.md", "sources/mail.md", "stages/prepare.md"}.isdisjoint(renderer.plan_reads)
        assert {"roles/support.md", "sources/files.md", "stages/move.md"} <= renderer.plan_reads.keys()
        assert digest(session.site) == session.clean_digest()


def test_a_record_page_planned_again_only_to_be_rendered_keeps_its_signature(
    session: Session, monkeypatch: pytest.MonkeyPatch
):
    """The support team's, the files source's and the move stage's pages show task 300, so they are planned again
    to be rendered again after its title changes; but their planning read nothing of it, so their plans are what
    they were, and only the pages that are no record's own and task 300's page have their signatures computed."""
    with session.edit_saved(RENAMED) as kept:
        signed = noted_plans(monkeypatch, "signature")
        rebuild(session.plugin, kept)
        monkeypatch.undo()
        assert {"roles/support.md", "sources/files.md", "stages/move.md"} <= kept.renderer.plan_reads.keys()
        record_pages = {uri for uri in signed if kept.signatures[uri][3] is not None}
        assert record_pages == {"tasks/300.md"}
        assert digest(session.site) == session.clean_digest()


#: A fourth task, with no prerequisite and no source (so on both sources' runbooks), the partner's, in the later stage.
FOURTH_TASK = (
    "tasks.yml",
    "    prerequisites: [200]\n    source_pages: [roles-page]\n",
    "    prerequisites: [200]\n    source_pages: [roles-page]\n"
    "  - id: 400\n    title: Report the result\n    owner: partner\n    stage: move\n    source_pages: [roles-page]\n",
)


def test_a_stage_edit_renders_again_only_the_runbooks_whose_steps_it_can_move(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Task 400 moved to the first stage comes before task 300 in the whole order: task 300's place in it shifts.
    The support team's runbook (tasks 200 and 300) keeps its steps in their order, which is all it shows of that
    order; it is not rendered again. The partner's (tasks 100 and 400) and both sources' are."""
    with own_plugins(), served_project(tmp_path, data_edits=(FOURTH_TASK,)) as session:  # the module's stay
        assert session.plugin.kept is not None
        before = session.plugin.kept.renderer.relations.task_rank
        with session.edit_saved(("stage", 400, "prepare")) as kept:
            monkeypatch.setattr(incremental, "RENDERED_APART", 10**9)  # rendered here, where they are counted
            rendered = noted_plans(monkeypatch, "render")
            rebuild(session.plugin, kept)
            monkeypatch.undo()
            after = kept.renderer.relations.task_rank
            assert before[300] != after[300] and before[400] != after[400]  # the whole order did change
            assert "runbooks/roles/support.md" not in rendered
            assert {"runbooks/roles/partner.md", "runbooks/sources/mail.md", "runbooks/sources/files.md"} <= set(
                rendered
            )
            assert digest(session.site) == session.clean_digest()


@pytest.mark.parametrize(
    ("file", "before", "after"),
    [
        ("roles.yml", "name: Support team", "name: Support crew"),  # the tag of each of the role's tasks
        ("migration.yml", "name: Mail", "name: Email"),  # its runbook's title and introduction
        (  # a record with no page of its own added: every page is planned again
            "lifecycle.yml",
            "    lifecycle_phase: plan\n    source_pages: [roles-page]\n",
            "    lifecycle_phase: plan\n    source_pages: [roles-page]\n  - id: compare\n    name: Compare\n"
            "    order: 2\n    summary: Weigh the shortlist.\n    lifecycle_phase: migrate\n"
            "    source_pages: [roles-page]\n",
        ),
    ],
)
def test_an_edit_to_what_other_pages_are_planned_from_gives_a_clean_builds_site(
    session: Session, file: str, before: str, after: str
):
    data = session.project / "data" / file
    text = data.read_text(encoding="utf-8")
    assert before in text
    try:
        data.write_text(text.replace(before, after), encoding="utf-8")
        assert session.update().startswith("rebuilt ")
        assert digest(session.site) == session.clean_digest()
    finally:
        data.write_text(text, encoding="utf-8")
        session.update()
    assert digest(session.site) == session.base_digest


def test_a_page_that_fails_to_build_leaves_every_served_page_in_place(
    session: Session, monkeypatch: pytest.MonkeyPatch
):
    """A page event that fails halfway through the second pass: the pages begun are removed from where they were
    being written, never from where they are served, and the next pass builds them again."""
    with session.edit_saved(RENAMED) as kept:
        rebuild_edited(session.plugin, kept)
        before = digest(session.site)
        begun: list[str] = []
        populate = incremental._populate_page

        def failing(page, *args):
            begun.append(page.file.src_uri)
            if len(begun) == 2:
                raise RuntimeError("a plugin's page event failed")
            populate(page, *args)

        monkeypatch.setattr(incremental, "_populate_page", failing)
        with pytest.raises(RuntimeError):
            rebuild(session.plugin, kept)
        monkeypatch.undo()
        assert digest(session.site) == before
        assert set(begun) <= kept.dirty


def test_a_failure_while_the_built_pages_are_moved_into_place_loses_no_page(
    session: Session, monkeypatch: pytest.MonkeyPatch
):
    with session.edit_saved(RENAMED) as kept:
        rebuild_edited(session.plugin, kept)
        served = set(digest(session.site))
        moves: list[str] = []
        replace = os.replace

        def failing(source, target):
            if str(source).endswith(incremental.PENDING):
                moves.append(str(target))
                if len(moves) == 2:
                    raise OSError(28, "No space left on device")
            replace(source, target)

        monkeypatch.setattr(incremental.os, "replace", failing)
        with pytest.raises(OSError):
            rebuild(session.plugin, kept)
        monkeypatch.undo()
        assert set(digest(session.site)) == served  # none removed, none left aside
        assert kept.dirty  # the pages moved and not: built again by the next pass


def test_the_link_check_after_the_reload_gives_way_to_a_newer_save_and_checks_the_rest_later(session: Session):
    with session.edit_saved(RENAMED) as kept:
        rebuild(session.plugin, kept, check_links=False)
        waiting = dict(kept.unchecked)
        assert "catalogue/index.html" in waiting  # rebuilt, its links not checked yet
        # Each page as it was before the pass: its bytes, read while building, its ids read by the check.
        assert b'id="' in waiting["catalogue/index.html"]
        check_rebuilt_links(kept, superseded=lambda: True)
        assert kept.unchecked == waiting  # a newer save came first: nothing read, nothing checked, nothing forgotten
        asked = iter([False])  # a save comes while the first page's ids are read
        check_rebuilt_links(kept, superseded=lambda: next(asked, True))
        first, *rest = sorted(waiting)
        assert kept.unchecked == {first: read_ids(waiting[first])} | {page: waiting[page] for page in rest}
        check_rebuilt_links(kept)
        assert kept.unchecked == {}


def test_serve_stopping_after_an_edits_first_pass_stops_the_rest_and_says_nothing(
    session: Session, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
):
    """Ctrl-C while the rest of an edit is built: MkDocs removes the site folder next, and the pass or link check
    that met it missing said "full rebuild: a link is broken". Stopping, the rest stops, asks for no build and
    logs nothing; the next serve starts afresh anyway."""
    with session.edit_saved(RENAMED):
        saved = SavedFiles({str(session.project / "data" / "tasks.yml")})
        first_pass = mkdocs_plugin.rebuild_edited

        def then_stopping(*args: Any, **options: Any) -> Any:
            rebuilt = first_pass(*args, **options)
            saved.stopped = True  # Ctrl-C, as the first pass ends
            return rebuilt

        monkeypatch.setattr(mkdocs_plugin, "rebuild_edited", then_stopping)
        session.plugin.later = lambda work: work()  # type: ignore[method-assign]
        with caplog.at_level("INFO"):
            line = session.plugin._preview_build(saved, partial(serve_build, session.project, session.site))  # type: ignore[arg-type]
        assert line.startswith("rebuilt 1 of")
        assert (saved.builds_asked, saved.reloads) == (0, 0)
        assert [record.getMessage() for record in caplog.records] == [line]
        monkeypatch.undo()


def test_serve_sets_the_site_it_keeps_aside_from_the_cyclic_collector_until_it_stops(session: Session):
    """A full collection that met the kept build's millions of objects paused a large preview for 0.6 s wherever
    Python began it: once an edit is done they are set aside (collected while idle instead), and put back when
    serve stops."""
    gc.unfreeze()
    with session.edit_saved(RENAMED):
        session.update()
        assert gc.get_freeze_count() > 0
        session.plugin.on_shutdown()
        assert gc.get_freeze_count() == 0


def test_the_preview_serialises_every_pages_index_entries_after_its_full_build_and_then_only_the_rebuilt(
    session: Session, monkeypatch: pytest.MonkeyPatch
):
    """Serialising every page's search entries and tags entry took 0.2 s of the first edit's pass at 5,000 tasks:
    the preview does it after its full build, while nothing waits; a pass then serialises the pages it built."""
    with own_plugins():
        plugin = serve_build(session.project, session.scratch / "idle")
    kept = plugin.kept
    assert kept is not None
    indexed = {uri for uri, entries in kept.search_entries.items() if entries}
    assert indexed and indexed <= kept.search_json.keys()
    assert kept.tag_entries.keys() == {mapping.item.url for mapping in kept.tag_mappings}
    serialised: list[str] = []
    entry_json = incremental._entry_json
    monkeypatch.setattr(
        incremental, "_entry_json", lambda entry: serialised.append(entry["location"]) or entry_json(entry)
    )
    with session.edit_saved(RENAMED) as kept:
        rebuilt = rebuild(session.plugin, kept)
    pages = {location.split("#")[0] for location in serialised}
    assert pages and pages <= {session.plugin.kept.files.get_file_from_path(uri).page.url for uri in rebuilt.pages}


def test_the_collector_stays_off_from_an_edits_first_pass_to_the_end_of_its_link_check(session: Session):
    """Turned on between, it first went through everything a pass had made (55 ms at 5,000 tasks) before the second
    pass could start, and again before the browsers reloaded; it is on again, and the garbage collected, after."""
    assert gc.isenabled()
    with session.edit_saved(RENAMED):
        saved = SavedFiles({str(session.project / "data" / "tasks.yml")})
        session.plugin.later = lambda work: work()  # type: ignore[method-assign]
        line = session.plugin._preview_build(saved, partial(serve_build, session.project, session.site))  # type: ignore[arg-type]
        assert line.startswith("rebuilt 1 of")
        assert saved.collector_at_reloads == [False]
        assert gc.isenabled()


@pytest.mark.parametrize("end_of_an_edit", [True, False])
def test_the_collector_let_go_at_the_end_of_an_edit_sets_aside_what_it_made_and_only_there(end_of_an_edit: bool):
    """A save that comes during the link check leaves no time for the idle collection: what the edit made while the
    collector was held is set aside with the rest (collected while idle, later), not gone through at the next
    allocation (0.12 s at 5,000 tasks, before the next save's first pass). A first pass that fails (bad data: the
    problems page is built, and nothing is collected while idle after it) lets it go over what it made: set aside,
    what died in the builds that follow would never be freed."""
    gc.unfreeze()
    gc.collect()
    hold = mkdocs_plugin._CollectorHold()
    try:
        made = [[index] for index in range(20_000)]
    finally:
        hold.release(set_aside=end_of_an_edit)
    try:
        assert gc.isenabled()
        if end_of_an_edit:
            assert gc.get_count()[0] < 1_000  # the young objects waiting for the collector's next pass
            assert gc.get_freeze_count() >= len(made)
        else:
            assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()


def test_a_full_build_before_the_rest_of_an_edit_starts_runs_with_the_collector_on(session: Session):
    """The first pass hands its hold on the collector to the rest of the edit; a save that comes first (here a
    change outside the data, a full build) takes it back, and the rest, when it runs, holds nothing more."""
    assert gc.isenabled()
    waiting: list[Any] = []
    with session.edit_saved(RENAMED):
        saved = SavedFiles({str(session.project / "data" / "tasks.yml")})
        session.plugin.later = waiting.append  # type: ignore[method-assign]
        assert session.plugin._preview_build(saved, partial(serve_build, session.project, session.site)).startswith(
            "rebuilt 1 of"
        )
        assert not gc.isenabled()  # held for the rest of the edit
        collector_during_build: list[bool] = []
        other = SavedFiles({str(session.project / "mkdocs.yml")})
        line = session.plugin._preview_build(other, lambda: collector_during_build.append(gc.isenabled()))  # type: ignore[arg-type]
        assert line == "full rebuild: mkdocs.yml changed" and collector_during_build == [True]
        waiting.pop()()  # the rest of the first edit, late: it finds the kept build gone
        assert gc.isenabled()
        session.plugin = serve_build(session.project, session.site)  # the full build the test left out


def test_the_first_passs_hold_on_the_collector_is_let_go_when_the_rest_cannot_be_started(session: Session):
    def no_thread(work: Any) -> None:
        raise RuntimeError("can't start new thread")

    with session.edit_saved(RENAMED):
        session.plugin.later = no_thread  # type: ignore[method-assign]
        saved = SavedFiles({str(session.project / "data" / "tasks.yml")})
        with pytest.raises(RuntimeError):
            session.plugin._preview_build(saved, partial(serve_build, session.project, session.site))  # type: ignore[arg-type]
        assert gc.isenabled()


def test_pages_waiting_for_their_link_check_keep_only_their_ids_past_a_bound(
    session: Session, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(incremental, "UNCHECKED_BYTES_KEPT", 1_000)
    with session.edit_saved(RENAMED) as kept:
        rebuild(session.plugin, kept, check_links=False)
        assert kept.unchecked and all(isinstance(old, set) for old in kept.unchecked.values())
        assert "__drawer" in kept.unchecked["catalogue/index.html"]  # the page as it was, parsed
        check_rebuilt_links(kept)
        assert kept.unchecked == {}


def test_an_edit_that_takes_away_an_id_a_page_links_to_is_a_broken_link_though_its_ids_are_read_late(
    tmp_path: Path,
):
    """A rebuilt page's ids from before the edit are read by the link check after the browsers reload, from the
    page as it was (kept while it was rebuilt): one the home page links to, gone, is a broken link."""
    home = HOME + "\nThe files runbook's [second step](runbooks/sources/files.md#runbook-step-2).\n"
    with (
        own_plugins(),
        served_project(tmp_path, home=home) as session,
        session.edit_saved(("sources", 100, ["mail"])) as kept,
    ):
        rebuild(session.plugin, kept, check_links=False)
        assert b'id="runbook-step-2"' in kept.unchecked["runbooks/sources/files/index.html"]
        assert "runbook-step-2" not in read_ids((session.site / "runbooks/sources/files/index.html").read_bytes())
        with pytest.raises(incremental.FullBuild, match="broken"):
            check_rebuilt_links(kept)


@contextmanager
def line_added_above_the_records(session: Session) -> Iterator[KeptBuild]:
    """A comment saved above the tasks, which moves every task down a line; the data and the site go back after."""
    tasks = session.project / "data" / "tasks.yml"
    first, rest = tasks.read_text(encoding="utf-8").split("\n", 1)
    tasks.write_text(f"{first}\n# a comment a contributor added\n{rest}", encoding="utf-8")
    try:
        assert session.plugin.kept is not None
        yield session.plugin.kept
    finally:
        session.save(session.base)
        session.update()


def test_a_line_added_above_the_records_moves_their_edit_links_and_nothing_else(session: Session):
    with line_added_above_the_records(session) as kept:
        assert {task: kept.pages[f"tasks/{task}.md"].origin.line for task in TASKS} == {100: 3, 200: 9, 300: 19}
        rebuilt = rebuild(session.plugin, kept)
        assert set(rebuilt.pages) == {f"tasks/{task}.md" for task in TASKS}
        assert rebuilt.converted == 0  # the pages are the same but for the line their edit link names
        page = (session.site / "tasks" / "100" / "index.html").read_text(encoding="utf-8")
        assert "/edit/main/data/tasks.yml#L4" in page  # written over "#L3"
        page = (session.site / "tasks" / "200" / "index.html").read_text(encoding="utf-8")
        assert "/edit/main/data/tasks.yml#L10" in page  # a digit longer: the page copied, the copy moved over it
        assert not list(session.site.rglob("*" + PENDING))
        assert digest(session.site) == session.clean_digest()


def test_a_failure_while_edit_links_are_changed_leaves_the_others_changed_and_the_next_pass_mends_the_site(
    session: Session, monkeypatch: pytest.MonkeyPatch
):
    """Each moved edit link is written over the old one, in its page: one write failing, the others are still
    made, and the next pass changes what it could not."""
    writes: list[bytes] = []
    pwrite = os.pwrite

    def failing(descriptor, data, offset):
        writes.append(data)
        if len(writes) == 2:
            raise OSError(28, "No space left on device")
        return pwrite(descriptor, data, offset)

    with line_added_above_the_records(session) as kept:
        monkeypatch.setattr(incremental.os, "pwrite", failing)
        with pytest.raises(OSError, match="No space left"):
            rebuild(session.plugin, kept)
        monkeypatch.undo()
        # Every link that stays as long was written over the old one, after the failed write too (task 200's, on
        # line 9, gains a digit: its page is copied and the copy moved over it).
        assert len(writes) == len(TASKS) - 1
        assert all(re.fullmatch(rb"https://\S+/edit/main/data/tasks\.yml#L\d+", data) for data in writes)
        assert digest(session.site) != session.clean_digest()
        rebuild(session.plugin, kept)
        assert digest(session.site) == session.clean_digest()


def test_an_edit_links_offset_counts_bytes_as_mkdocs_writes_them_and_is_none_where_the_link_is_not_alone():
    html = "é\ud800<a href='https://x/e#L9'>x</a>"  # two bytes, then a character written as "&#55296;"
    assert edit_link_offset(html, "https://x/e#L9") == 2 + len("&#55296;") + len("<a href='")
    assert edit_link_offset(html + "https://x/e#L9", "https://x/e#L9") is None
    assert edit_link_offset(html, "https://x/e#L8") is None and edit_link_offset(html, None) is None


def test_an_edit_link_is_found_whole_never_as_the_start_of_a_longer_one(tmp_path: Path):
    """`#L12` is not the start of `#L120`: after a pass that stopped half-way, a page can hold the next link."""
    page = tmp_path / "index.html"
    html = b'<a href="https://x/e#L120" title="Edit this page">'
    page.write_bytes(html)
    old, new = b"https://x/e#L12", b"https://x/e#L13"
    assert incremental._found_once(page, old, html.index(b"https")) is None  # where it was, but longer
    assert incremental._found_once(page, old, None) is None
    assert incremental._found_once(page, b"https://x/e#L120", 9) == 9
    assert incremental._found_once(page, b"https://x/e#L120", None) == 9
    assert edit_link_offset(html.decode(), "https://x/e#L12") is None
    with pytest.raises(OSError, match="no longer where it was"):
        incremental._relinked_in_place(str(page), incremental._Relink(None, None, old, new, 9))  # type: ignore[arg-type]
    assert page.read_bytes() == html


def test_an_edit_link_not_where_its_build_wrote_it_is_found_in_the_page(session: Session):
    """Where each page's build wrote its edit link is only a hint: wrong, the link is looked for in the page."""
    with line_added_above_the_records(session) as kept:
        for task in TASKS:  # as built, each offset is where the page's bytes hold its link
            at, address = (
                session.plugin.edit_link_at[f"tasks/{task}.md"],
                kept.files.get_file_from_path(f"tasks/{task}.md").page.edit_url.encode(),
            )
            assert (session.site / "tasks" / str(task) / "index.html").read_bytes()[at : at + len(address)] == address
        session.plugin.edit_link_at.update({f"tasks/{task}.md": 7 for task in TASKS})
        kept.plugin_state["edit_link_at"] = session.plugin.edit_link_at
        rebuilt = rebuild(session.plugin, kept)
        assert rebuilt.converted == 0
        assert digest(session.site) == session.clean_digest()


def test_an_invalid_edit_shows_its_problems_and_the_next_valid_save_updates_the_last_good_site(session: Session):
    tasks = session.project / "data" / "tasks.yml"
    good = tasks.read_text(encoding="utf-8")
    tasks.write_text(good.replace("owner: support", "owner: suport", 1), encoding="utf-8")
    try:
        assert session.update() == "problems shown"
        problems = (session.site / "index.html").read_text(encoding="utf-8")
        assert "The site cannot be built" in problems
        assert re.search(r"data/tasks.yml:\d+:\d+: error: tasks\[1\]\.owner: unknown role &#x27;suport&#x27;", problems)
        assert not (session.site / "tasks").exists()  # only the problems page is served
    finally:
        session.save(edited(session.base, ("title", 100, "Assess the tenant again")))
    assert session.update().startswith("rebuilt ")  # from the site kept aside, not a full build
    assert "Assess the tenant again" in (session.site / "tasks" / "100" / "index.html").read_text(encoding="utf-8")
    assert digest(session.site) == session.clean_digest()
    assert not list(session.site.parent.glob("playbook-preview-*"))  # the site set aside is back, none left over
    session.save(session.base)
    session.update()


def test_a_change_outside_the_data_is_a_full_build_that_says_why(session: Session):
    saved = SavedFiles({str(session.project / "mkdocs.yml")})
    line = session.plugin._preview_build(saved, partial(serve_build, session.project, session.site))  # type: ignore[arg-type]
    assert line == "full rebuild: mkdocs.yml changed"
    assert session.plugin.kept is not None  # the full build keeps its state for the next data edit
    assert digest(session.site) == session.base_digest


#: A hook whose `on_page_content` runs before the plugin's: what MkDocs' conversion made is what is kept for the
#: next edit, not what a handler has made of it (applied twice, it would add its paragraph twice).
HOOK = """
from mkdocs.plugins import event_priority

@event_priority(10)
def on_page_content(html, page, config, files):
    return html + "<p class='hook'>added once</p>"
"""


def test_a_content_handler_before_the_plugins_own_applies_once_after_an_edit(tmp_path: Path):
    hook = tmp_path / "hook.py"
    hook.write_text(HOOK, encoding="utf-8")
    with own_plugins(), served_project(tmp_path / "served", config_extra=f"hooks:\n  - {hook}\n") as state:
        state.save(edited(state.base, ("title", 300, "Files workshop, renamed")))
        assert state.update().startswith("rebuilt")

        assert digest(state.site) == state.clean_digest()
        assert (state.site / "catalogue" / "index.html").read_text(encoding="utf-8").count("added once") == 1


def test_a_carriage_return_in_what_frames_a_page_stays_when_only_its_content_is_replaced(tmp_path: Path):
    """A role's name is one of its page's tags, shown around the content: the page served is read as bytes."""
    renamed = ("roles.yml", "name: Support team", 'name: "Support\\rteam"')
    with own_plugins(), served_project(tmp_path / "served", data_edits=(renamed,)) as state:
        state.save(edited(state.base, ("title", 300, "Files workshop, renamed")))
        assert state.update().startswith("rebuilt")

        assert digest(state.site) == state.clean_digest()
        assert b"\r" in (state.site / "roles" / "support" / "index.html").read_bytes()


def test_a_save_while_edit_links_move_leaves_no_copy_and_every_served_page_as_it_was(
    session: Session, monkeypatch: pytest.MonkeyPatch
):
    """A line added above the records moves every later record's edit link, while the pass renders the pages the
    same save changed otherwise (here an option's summary, which no task page shows). A newer save that stops the
    pass leaves no copy behind and no served page changed; the next pass does it all."""
    options = session.project / "data" / "options.yml"
    options_text = options.read_text(encoding="utf-8")
    assert "summary: The team does the work." in options_text
    options.write_text(options_text.replace("The team does the work.", "The team does it all."), encoding="utf-8")
    try:
        with line_added_above_the_records(session) as kept:
            before = digest(session.site)
            built: list[str] = []
            build = PageBuilder.build
            monkeypatch.setattr(
                PageBuilder, "build", lambda self, uri, page: (built.append(uri), build(self, uri, page))
            )
            with pytest.raises(Superseded):
                rebuild(session.plugin, kept, superseded=lambda: len(built) >= 1)
            monkeypatch.undo()

            assert digest(session.site) == before
            assert not [path for path in session.site.rglob("*") if path.name.endswith(PENDING)]
            rebuilt = rebuild(session.plugin, kept)
            assert {f"tasks/{task}.md" for task in TASKS} <= set(rebuilt.pages)
            assert digest(session.site) == session.clean_digest()
    finally:
        options.write_text(options_text, encoding="utf-8")
        session.update()
