"""Rendering the planned pages: in this process or in forked ones, in order or as MkDocs asks for them."""

from __future__ import annotations

import multiprocessing
import os
import random
import re
import signal
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO

from generator.data.loader import load_data
from generator.errors import DataError, PlaybookError
from generator.links.link_origins import origin_lookup
from generator.pages.render import SINGLY, Rendering, SiteRenderer

sys.path.insert(0, str(REPO / "benchmarks"))
from synthetic import write_catalogue


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_catalogue(tmp_path_factory.mktemp("rendering") / "data", 300)


def as_text(pages) -> list[tuple[str, str, object]]:
    return [(page.src_uri, page.markdown(), page.origin) for page in pages]


def renderer(data: Path, overrides: list[Path] | None = None) -> SiteRenderer:
    loaded = load_data(data)
    return SiteRenderer(loaded.catalogue, origin_lookup(loaded), overrides or [])


def test_forked_processes_give_the_same_pages_in_the_same_order(data: Path):
    alone = renderer(data).pages(processes=0)
    shared = renderer(data).pages(processes=2)

    assert as_text(shared) == as_text(alone)
    assert len(alone) > 300
    assert alone[-1].origin is not None and alone[-1].origin.file.endswith("tasks.yml")


def test_the_plan_names_every_page_before_any_is_rendered(data: Path):
    plans = renderer(data).plan()

    assert [plan.src_uri for plan in plans] == [page.src_uri for page in renderer(data).pages()]
    assert len({plan.src_uri for plan in plans}) == len(plans)


def test_pages_asked_for_out_of_order_are_the_pages_rendered_in_order(data: Path):
    expected = as_text(renderer(data).pages())
    order = list(range(len(expected)))
    random.Random(7).shuffle(order)

    with Rendering(renderer(data), processes=1) as rendering:
        got = {index: rendering.page(index) for index in order}

    assert as_text(got[index] for index in range(len(expected))) == expected


def test_pages_taken_as_they_are_ready_are_each_wanted_page_once_and_this_process_renders_some(data: Path):
    """The preview's second pass takes each page as it is ready; rather than wait for the forked process, this one
    renders the batches the other has not begun, from the last one back."""
    expected = as_text(renderer(data).pages())
    wanted = list(range(0, len(expected), 3))
    slow = SlowRenderer(*_parts(data))
    here: list[int] = []
    render = slow.render
    slow.render = lambda plan: (here.append(plan.src_uri), render(plan))[1]  # type: ignore[method-assign]

    with Rendering(slow, processes=1, wanted=wanted) as rendering:
        got = dict(rendering.ready())

    assert sorted(got) == wanted
    assert as_text(got[index] for index in wanted) == [expected[index] for index in wanted]
    assert 0 < len(here) < len(wanted)  # this process took some batches; the other rendered the rest


def test_the_first_and_the_last_pages_go_to_the_processes_one_at_a_time(data: Path):
    """This process takes batches from the end while it waits: a batch taken whole once the processes have nothing
    left would leave them idle until it is done, so the last ones are single pages, as the first are."""
    wanted = list(range(200))
    with Rendering(renderer(data), processes=1, wanted=wanted) as rendering:
        sizes = [len(indices) for indices, _ in rendering._batches]
        assert [index for indices, _ in rendering._batches for index in indices] == wanted
        got = dict(rendering.ready())

    assert sizes[:SINGLY] == sizes[-SINGLY:] == [1] * SINGLY
    assert max(sizes) > 1  # the middle in batches: fewer trips between the processes
    assert sorted(got) == wanted


def _parts(data: Path):
    loaded = load_data(data)
    return loaded.catalogue, origin_lookup(loaded)


def test_a_failing_template_taken_as_pages_are_ready_reaches_the_caller(data: Path, tmp_path: Path):
    overrides = tmp_path / "overrides"
    overrides.mkdir()
    (overrides / "roles.md.j2").write_text("# {{ record.name }}\n{{ record.name.nothing.here }}\n", "utf-8")

    with pytest.raises(DataError), Rendering(renderer(data, [overrides]), processes=1) as rendering:
        for _ in rendering.ready():
            pass


def test_closing_early_stops_the_rendering_processes(data: Path):
    rendering = Rendering(renderer(data), processes=1)
    rendering.page(0)
    rendering.close()

    assert multiprocessing.active_children() == []


def test_a_failing_template_in_a_rendering_process_reaches_the_caller_with_its_line(data: Path, tmp_path: Path):
    overrides = tmp_path / "overrides"
    overrides.mkdir()
    (overrides / "roles.md.j2").write_text("# {{ record.name }}\n{{ record.name.nothing.here }}\n", "utf-8")

    with pytest.raises(DataError) as raised, Rendering(renderer(data, [overrides]), processes=1) as rendering:
        for index in range(len(rendering.plans)):
            rendering.page(index)

    [problem] = raised.value.problems
    assert (Path(problem.path).resolve(), problem.line) == ((overrides / "roles.md.j2").resolve(), 2)
    assert "while rendering roles/" in problem.message


class SlowRenderer(SiteRenderer):
    """Takes a while over each page, so a test can act while the rendering process is still at work."""

    def render(self, plan):
        time.sleep(0.01)
        return super().render(plan)


def test_a_rendering_process_that_dies_is_reported_not_waited_for(data: Path):
    loaded = load_data(data)
    slow = SlowRenderer(loaded.catalogue, origin_lookup(loaded))

    with Rendering(slow, processes=1) as rendering:
        rendering.page(0)
        for child in multiprocessing.active_children():
            os.kill(child.pid, signal.SIGKILL)
        with pytest.raises(PlaybookError, match="rendering process stopped"):
            rendering.page(len(rendering.plans) - 1)


def test_a_renderer_takes_the_responsibilities_places_of_an_earlier_one_only_where_they_are_the_same_records(
    tmp_path: Path,
):
    """The live preview makes a renderer at each save: where the responsibilities are the records the last one
    placed (a data file saved again keeps the records it did not change), their places are taken, not worked out
    again; where one changed, they are worked out, and come out as a fresh renderer's."""
    folder = tmp_path / "data"
    write_catalogue(folder, 300)
    before = load_data(folder, positions=True)
    first = SiteRenderer(before.catalogue, track_reads=True)
    tasks = folder / "tasks.yml"
    tasks.write_text(tasks.read_text(encoding="utf-8").replace("title: ", "title: Renamed ", 1), encoding="utf-8")
    second = SiteRenderer(load_data(folder, before).catalogue, track_reads=True, earlier_site_map=first.site_map)
    assert second.site_map._placed is first.site_map._placed and second.earlier_site_map is None

    responsibilities = folder / "responsibilities.yml"
    text = responsibilities.read_text(encoding="utf-8")
    roles = sorted(set(re.findall(r"\n  role: (\S+)\n", text)))
    assert len(roles) > 1
    responsibilities.write_text(text.replace(f"role: {roles[0]}\n", f"role: {roles[1]}\n", 1), encoding="utf-8")
    moved = load_data(folder, before)
    third = SiteRenderer(moved.catalogue, track_reads=True, earlier_site_map=first.site_map)
    assert third.site_map._placed is not first.site_map._placed
    assert third.site_map._placed == SiteRenderer(load_data(folder).catalogue).site_map._placed
    assert third.site_map._placed != first.site_map._placed
