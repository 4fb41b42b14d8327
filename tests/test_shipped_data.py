"""The shipped data holds the seed documents' facts, including the messy ones, as they are."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema_rs
import pytest
from conftest import REPO

from generator.data.model import DATA_FILES, SCHEMA_URL
from generator.data.schema_check import read_schema, schema_names
from generator.data.validate import load_valid_catalogue

SEEDS = REPO.parent / "shared" / "seeds"
# Every "Playbook Task ID" the FastTrack Ready Partner roles page cites, in order of first appearance.
SEED_TASK_IDS = [
    1699,
    1635,
    3169,
    4119,
    2467,
    3009,
    4027,
    3614,
    3312,
    4008,
    1034,
    2979,
    3615,
    3282,
    3160,
    3159,
    3158,
    3157,
    1141,
    3217,
    1672,
    3392,
    3306,
    2474,
    3954,
    1871,
    2481,
    2323,
    1370,
]


@pytest.fixture(scope="module")
def catalogue():
    return load_valid_catalogue(REPO / "data")


def citations(catalogue, task_id: int) -> list[str]:
    return [
        r["id"]
        for r in catalogue.records("responsibilities")
        if task_id in r.get("tasks", []) or task_id in r.get("tasks_by_source", {}).values()
    ]


def test_every_seed_task_is_modelled_once_in_seed_order(catalogue):
    assert [task["id"] for task in catalogue.records("tasks")] == SEED_TASK_IDS


def test_the_seed_task_list_matches_the_seed_text():
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds is not beside this checkout")
    text = (SEEDS / "004_7f10637e30759d2a.txt").read_text(encoding="utf-8")
    cited = [int(n) for n in re.findall(r"\b(\d{4})\b", text)]
    assert list(dict.fromkeys(cited)) == SEED_TASK_IDS


def test_messy_citations_are_kept_as_the_seed_has_them(catalogue):
    assert len(citations(catalogue, 3306)) == 2
    for task_id in (3169, 2467, 3009):
        assert len(citations(catalogue, task_id)) == 2, task_id
    responsibilities = catalogue.records("responsibilities")
    assert any(r.get("tasks") == [3160, 3159, 3158, 3157] for r in responsibilities)
    assert {"imap": 1635, "box": 3169, "dropbox": 4119, "google-drive": 2467, "file-share": 3009} in [
        r.get("tasks_by_source") for r in responsibilities
    ]


def test_role_limits_are_recorded(catalogue):
    roles = catalogue.index("roles")
    assert [(limit["kind"], limit.get("except_sources")) for limit in roles["mvm"]["limits"]] == [("retired", ["imap"])]
    assert [limit["kind"] for limit in roles["sme"]["limits"]] == ["opt-in-only"]
    assert [limit["kind"] for limit in roles["frp"]["limits"]] == ["does-not"]
    assert roles["mst"]["contact"] == "mailto:FTMigrationSupport@microsoft.com"
    assert set(roles) == {"frp", "mst", "mvm", "customer", "ftvm", "sme"}


def test_flags_and_prerequisites_follow_the_seed(catalogue):
    tasks = catalogue.index("tasks")
    assert tasks[3614].get("optional") is True
    assert {task_id for task_id, task in tasks.items() if task.get("if_applicable")} == {
        3160,
        3159,
        3158,
        3157,
        3217,
        1370,
    }
    assert tasks[3392]["prerequisites"] == [3160, 3159, 3158, 3157, 1141]
    assert tasks[1635]["sources"] == ["imap"]


def test_lists_from_the_caf_pages_are_complete(catalogue):
    assert [p["id"] for p in catalogue.records("lifecycle_phases")] == [
        "strategy",
        "plan",
        "ready",
        "migrate",
        "innovate",
        "govern",
        "manage",
    ]
    assert len(catalogue.records("focus_areas")) == 18
    assert [p["id"] for p in catalogue.records("fasttrack_phases")] == [
        "discovery",
        "solution-enablement",
        "continuous-partnership",
    ]
    assert len(catalogue.records("alignment_steps")) == 4
    assert [o["id"] for o in catalogue.records("services_offerings")] == [
        "assess",
        "adopt",
        "migrate-optimize",
        "innovate",
    ]
    assert {o["id"] for o in catalogue.records("options")} == {
        "guided-self-service",
        "fasttrack-for-azure",
        "solution-partners",
        "supported-self-service",
        "ammp",
        "solution-assessments",
        "azure-support",
    }
    assert {s["id"] for s in catalogue.records("migration_sources")} == {
        "imap",
        "box",
        "dropbox",
        "google-drive",
        "file-share",
    }
    dates = {page["id"]: page.get("date") for page in catalogue.records("source_pages")}
    assert dates == {
        "caf-partnership-options": "2019-04-04",
        "caf-partner-alignment": "2020-05-19",
        "frp-migration-roles": None,
    }


def test_every_data_file_starts_with_its_schema_line():
    for stem in DATA_FILES:
        first = (REPO / "data" / f"{stem}.yml").read_text(encoding="utf-8").splitlines()[0]
        assert first == f"# yaml-language-server: $schema={SCHEMA_URL}{stem}.schema.json"


@pytest.mark.parametrize("name", schema_names())
def test_each_schema_is_a_valid_draft_2020_12_schema(name: str):
    schema = read_schema(name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == SCHEMA_URL + name
    assert jsonschema_rs.meta.is_valid(schema)


def test_no_sentence_is_copied_from_the_seeds():
    """Facts carry over, sentences do not: no run of eight words from a seed appears in our prose."""
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds is not beside this checkout")

    def runs(text: str) -> set[tuple[str, ...]]:
        prose = re.sub(r"(https?://|mailto:|\.\./|\./|/azure/)\S+", " ", text.lower())  # links are facts
        words = re.findall(r"[a-z0-9']+", prose)
        return {tuple(words[i : i + 8]) for i in range(len(words) - 7)}

    seed_runs = set().union(*(runs(path.read_text(encoding="utf-8")) for path in SEEDS.glob("*.txt")))
    for path in sorted((REPO / "data").glob("*.yml")):
        copied = runs(path.read_text(encoding="utf-8")) & seed_runs
        assert not copied, f"{path.name} copies seed wording: {' '.join(sorted(copied)[0])}"


def test_synthetic_catalogues_are_valid(tmp_path: Path):
    import sys

    sys.path.insert(0, str(REPO / "benchmarks"))
    from synthetic import write_catalogue

    catalogue = load_valid_catalogue(write_catalogue(tmp_path / "data", 300))
    assert len(catalogue.records("tasks")) == 300
    assert any(task.get("prerequisites") for task in catalogue.records("tasks"))
