"""Runbooks, exports and source freshness: what a partner uses on a migration, tested as a reader meets it."""

from __future__ import annotations

import csv
import datetime
import io
import itertools
import json
import re
import shutil
from pathlib import Path

import pytest
from browser import CHROMIUM, FLAGS
from conftest import MINIMAL, REPO
from hypothesis import given, settings
from hypothesis import strategies as st
from site_helpers import link_targets, make_project, playbook, read_page

from generator.data.exports import columns, export_files
from generator.data.model import COLLECTIONS, Catalogue
from generator.data.relations import Relations
from generator.data.schema_check import read_schema
from generator.data.validate import load_valid_catalogue, validate_data

STAGES = [{"id": f"s{n}", "name": f"Stage {n}", "order": n} for n in range(1, 5)]


@st.composite
def catalogues(draw: st.DrawFn) -> Catalogue:
    """Random valid task graphs: each task may wait for any earlier one, in any stage."""
    count = draw(st.integers(min_value=1, max_value=40))
    ids = draw(st.lists(st.integers(min_value=1, max_value=9999), min_size=count, max_size=count, unique=True))
    tasks = []
    for position, task_id in enumerate(ids):
        earlier = ids[:position]
        prerequisites = draw(st.lists(st.sampled_from(earlier), unique=True, max_size=3)) if earlier else []
        stage = draw(st.sampled_from(STAGES))["id"]
        tasks.append(
            {"id": task_id, "title": f"t{task_id}", "owner": "r", "stage": stage, "prerequisites": prerequisites}
        )
    order = draw(st.permutations(tasks))  # the file order is not the dependency order
    return Catalogue({"tasks": list(order), "migration_stages": STAGES})


@settings(max_examples=200, deadline=None)
@given(catalogues())
def test_runbook_steps_never_come_before_a_task_they_wait_for(catalogue: Catalogue):
    relations = Relations(catalogue)
    steps = [task["id"] for _, tasks in relations.runbook(catalogue.records("tasks")) for task in tasks]

    position = {task_id: n for n, task_id in enumerate(steps)}
    assert sorted(steps) == sorted(task["id"] for task in catalogue.records("tasks"))
    for task in catalogue.records("tasks"):
        for prerequisite in task["prerequisites"]:
            assert position[prerequisite] < position[task["id"]]


@settings(max_examples=100, deadline=None)
@given(catalogues())
def test_runbook_order_is_stable_and_groups_runs_of_one_stage(catalogue: Catalogue):
    first = Relations(catalogue).runbook(catalogue.records("tasks"))
    again = Relations(Catalogue(dict(catalogue.collections))).runbook(catalogue.records("tasks"))

    assert [(s["id"], [t["id"] for t in ts]) for s, ts in first] == [
        (s["id"], [t["id"] for t in ts]) for s, ts in again
    ]
    assert all(task["stage"] == stage["id"] for stage, tasks in first for task in tasks)
    assert all(a[0]["id"] != b[0]["id"] for a, b in itertools.pairwise(first))  # each group is a maximal run


def test_with_prerequisites_that_never_point_forward_each_stage_is_one_group():
    catalogue = load_valid_catalogue(REPO / "data")
    groups = Relations(catalogue).runbook(catalogue.records("tasks"))

    assert [stage["id"] for stage, _ in groups] == ["assess", "prepare", "onboard", "migrate", "close"]


@pytest.fixture(scope="module")
def site(shipped_site: Path) -> Path:
    return shipped_site


def test_a_source_runbook_is_a_checklist_of_its_tasks_in_order(site: Path):
    catalogue = load_valid_catalogue(REPO / "data")
    page = read_page(site, "runbooks/sources/box/")
    html = (site / "runbooks" / "sources" / "box" / "index.html").read_text()
    steps = [link.text.removeprefix("Task ") for link in page.links if re.fullmatch(r"Task \d+", link.text)]

    expected = [str(task["id"]) for task in Relations(catalogue).tasks_for_source("box")]
    assert steps == expected
    assert steps.index("1141") < steps.index("3392") and "1635" not in steps
    assert html.count('class="runbook-check"') == len(expected)
    assert [h.strip() for h in re.findall(r'<h2 class="runbook-stage[^"]*"[^>]*>([^<]+)', html)] == [
        "Assess",
        "Prepare",
        "Onboard",
        "Migrate",
        "Close",
    ]
    assert "Migration Velocity Manager: retired for Box migrations" in page.text  # the MVM owns Box steps


def test_a_role_runbook_names_what_it_waits_for_from_other_roles(site: Path):
    page = read_page(site, "runbooks/roles/mvm/")

    assert "waits for" in page.text
    assert {"tasks/3160/", "tasks/1141/", "roles/frp/"} <= link_targets(page, "runbooks/roles/mvm/")


def test_runbooks_print_without_navigation_and_stages_run_on(site: Path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        page.goto((site / "runbooks" / "sources" / "box" / "index.html").as_uri())
        page.emulate_media(media="print")
        hidden = page.evaluate(
            "['.md-header', '.md-tabs', '.md-search', '.md-footer']"
            ".map(s => document.querySelector(s)).filter(Boolean).map(e => getComputedStyle(e).display)"
        )
        breaks = page.evaluate(
            "[...document.querySelectorAll('h2.runbook-stage')].map(h => getComputedStyle(h).breakBefore)"
        )
        pdf = page.pdf(format="A4")
        browser.close()

    assert hidden and set(hidden) == {"none"}
    assert breaks == ["auto"] * 5  # a stage no longer takes a sheet of its own (see test_reader_journeys)
    assert 1 <= len(re.findall(rb"/Type\s*/Page\b", pdf)) <= 4


def test_exports_round_trip_to_the_same_data():
    catalogue = load_valid_catalogue(REPO / "data")
    files = export_files(catalogue)

    for collection in COLLECTIONS:
        records = catalogue.records(collection.name)
        assert json.loads(files[f"{collection.name}.json"]) == records
        rows = list(csv.reader(io.StringIO(files[f"{collection.name}.csv"])))
        assert rows[0] == columns(collection.name, collection.file)
        properties = read_schema(f"{collection.file}.schema.json")["properties"][collection.name]["items"]["properties"]
        assert [_from_csv(rows[0], row, properties) for row in rows[1:]] == records


def _from_csv(header: list[str], row: list[str], properties: dict) -> dict:
    """A CSV row read back by the rules the downloads page states, with the schema saying each column's type."""
    record = {}
    for name, cell in zip(header, row, strict=True):
        if cell == "":
            continue
        kind = _kind(properties[name])
        cell = cell[1:] if cell.startswith("'") else cell  # the apostrophe that marks text, as the page says
        if kind == "boolean":
            record[name] = cell == "true"
        elif kind == "integer":
            record[name] = int(cell)
        elif kind in ("object", "array of object"):
            record[name] = json.loads(cell)
        elif kind.startswith("array"):
            record[name] = [int(item) if kind == "array of integer" else item for item in cell.split("; ")]
        else:
            record[name] = cell
    return record


def _kind(schema: dict) -> str:
    """ "integer", "boolean", "array of integer", "object", ...: a property's type, following `$ref`s."""
    from generator.data.schema_check import read_schema

    if "$ref" in schema:
        schema = read_schema("common.schema.json")["$defs"][schema["$ref"].rsplit("/", 1)[1]]
        return _kind(schema)
    if schema.get("type") == "array":
        return "array of " + _kind(schema.get("items", {}))
    return schema.get("type") or ("string" if "enum" in schema or "pattern" in schema else "object")


def test_the_site_links_the_downloads_and_they_match_the_bundle(site: Path):
    page = read_page(site, "downloads/")

    assert {"downloads/tasks.json/", "downloads/tasks.csv/"} <= {t for t in link_targets(page, "downloads/")}
    assert json.loads((site / "downloads" / "tasks.json").read_text()) == load_valid_catalogue(REPO / "data").records(
        "tasks"
    )


def test_max_age_warns_about_sources_not_reviewed_lately(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    data = shutil.copytree(MINIMAL, Path("data"))
    provenance = data / "provenance.yml"
    provenance.write_text(
        provenance.read_text().replace("    date: 2020-01-02\n", "    date: 2020-01-02\n    reviewed: 2025-01-01\n")
    )

    validation = validate_data(data, max_age_days=90, today=datetime.date(2025, 6, 1))
    fresh = validate_data(data, max_age_days=365, today=datetime.date(2025, 6, 1))

    assert validation.ok  # a warning, not an error
    assert [p.text() for p in validation.problems] == [
        "data/provenance.yml:8:15: warning: "
        "source page 'roles-page' was last reviewed 2025-01-01, 151 days ago (limit: 90 days); 15 record(s) rely on it"
        " (compare the page with the data, update what changed, and set `reviewed:` to today's date)"
    ]
    assert fresh.problems == []


def test_max_age_leaves_a_reviewed_date_that_is_no_date_to_the_error_at_its_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    data = shutil.copytree(MINIMAL, Path("data"))
    provenance = data / "provenance.yml"
    provenance.write_text(
        provenance.read_text().replace("    date: 2020-01-02\n", "    date: 2020-01-02\n    reviewed: 2025-02-30\n")
    )

    validation = validate_data(data, max_age_days=90, today=datetime.date(2025, 6, 1))

    assert [p.text() for p in validation.problems] == [
        "data/provenance.yml:8:15: error: source_pages[0].reviewed: '2025-02-30' is not a date in the calendar "
        "(check the day and the month; dates are written YYYY-MM-DD)"
    ]  # not "never reviewed" at the record's first line


def test_max_age_from_the_command_line_exits_0_with_warnings(tmp_path: Path):
    project = make_project(tmp_path / "p")
    provenance = project / "data" / "provenance.yml"
    provenance.write_text(provenance.read_text().replace("reviewed: 2026-11-22", "reviewed: 2001-01-01"))

    result = playbook("validate", "--max-age", "30", cwd=project)

    assert result.returncode == 0
    assert result.stdout.count(": warning: source page") == 3
    assert result.stdout.splitlines()[-1] == "data: 0 errors, 3 warnings in 1 file"
