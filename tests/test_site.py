"""End-to-end: `playbook build` on a copy of the project, asserting on the HTML a reader gets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import REPO
from site_helpers import link_targets, playbook, read_page, tree_digest

from generator.data.model import COLLECTIONS
from generator.data.validate import load_valid_catalogue
from generator.pages.addresses import OWN_PAGES, address


@pytest.fixture(scope="module")
def built(shipped_site: Path):
    """The shipped project built once: (project folder, site folder, digests of the content/ and data/ it copied)."""
    sources_before = {name: tree_digest(REPO / name) for name in ("content", "data")}
    return shipped_site.parent, shipped_site, sources_before


@pytest.fixture(scope="module")
def catalogue(built):
    return load_valid_catalogue(built[0] / "data")


def url_of(src_uri: str) -> str:
    return src_uri.removesuffix(".md").removesuffix("index") + ("/" if not src_uri.endswith("index.md") else "")


def test_every_entity_has_its_page_or_its_anchor(built, catalogue):
    _, site, _ = built
    for collection in COLLECTIONS:
        for record in catalogue.records(collection.name):
            where = address(collection.name, record)
            page = read_page(site, url_of(where.src_uri))
            if where.anchor:
                assert where.anchor in page.ids, (collection.name, record["id"])


def test_a_task_page_links_everything_it_relates_to(built):
    _, site, _ = built
    page = read_page(site, "tasks/3392/")
    targets = link_targets(page, "tasks/3392/")

    assert {"roles/mvm/", "stages/onboard/"} <= targets
    assert {"tasks/3160/", "tasks/3159/", "tasks/3158/", "tasks/3157/", "tasks/1141/"} <= targets  # prerequisites
    assert "roles/mvm/" in {t for t in targets}  # the responsibility that cites it lives on the MVM page
    assert any(link.href.endswith("#responsibility-mvm-onboard-customer") for link in page.links)


def test_prerequisites_link_back_as_needed_by(built):
    _, site, _ = built
    page = read_page(site, "tasks/1141/")

    assert "Needed by" in page.text
    assert "tasks/3392/" in link_targets(page, "tasks/1141/")


def test_a_task_cited_twice_links_both_responsibilities(built):
    _, site, _ = built
    page = read_page(site, "tasks/3306/")
    anchors = {link.href.split("#")[1] for link in page.links if "#responsibility-" in link.href}

    assert anchors == {"responsibility-mvm-environment-build", "responsibility-mvm-brief-ftvm"}


def test_per_source_citations_name_the_source(built):
    _, site, _ = built
    page = read_page(site, "tasks/3169/")

    assert "sources/box/" in link_targets(page, "tasks/3169/")
    assert sum("#responsibility-" in link.href for link in page.links) == 2


def test_a_role_page_lists_its_responsibilities_and_tasks(built, catalogue):
    _, site, _ = built
    page = read_page(site, "roles/frp/")
    targets = link_targets(page, "roles/frp/")
    owned = {f"tasks/{task['id']}/" for task in catalogue.records("tasks") if task["owner"] == "frp"}

    assert owned <= targets
    responsibilities = [r["id"] for r in catalogue.records("responsibilities") if r["role"] == "frp"]
    assert {f"responsibility-{rid}" for rid in responsibilities} <= page.ids


def test_a_source_page_lists_its_tasks_in_dependency_order(built, catalogue):
    _, site, _ = built
    page = read_page(site, "sources/imap/")
    order = [link.text for link in page.links if link.href.startswith("../../tasks/") and link.text.isdigit()]

    assert order.index("1141") < order.index("3392")
    assert order.index("3160") < order.index("3392")
    assert "1635" in order and "3169" not in order  # IMAP's workshop, not Box's


def test_option_pages_link_their_phases_and_the_matrix_links_both(built, catalogue):
    _, site, _ = built
    option = read_page(site, "options/ammp/")
    assert {f"lifecycle/{p}/" for p in catalogue.index("options")["ammp"]["lifecycle_phases"]} <= link_targets(
        option, "options/ammp/"
    )
    matrix = read_page(site, "options-by-phase/")
    assert "options-by-phase/" in link_targets(read_page(site, "lifecycle/"), "lifecycle/")
    assert {f"options/{o['id']}/" for o in catalogue.records("options")} <= link_targets(matrix, "options-by-phase/")
    phase = read_page(site, "lifecycle/migrate/")
    assert "options/ammp/" in link_targets(phase, "lifecycle/migrate/")


def test_the_retired_mvm_role_is_flagged_on_its_page_and_every_task_it_owns(built, catalogue):
    _, site, _ = built
    mvm_tasks = [task["id"] for task in catalogue.records("tasks") if task["owner"] == "mvm"]
    assert mvm_tasks
    for url in ["roles/mvm/", *(f"tasks/{task_id}/" for task_id in mvm_tasks)]:
        assert "Migration Velocity Manager: retired except for IMAP" in read_page(site, url).text, url
    assert "no longer applies" not in read_page(site, "tasks/1141/").text


def test_sme_availability_is_stated_wherever_smes_are_offered(built):
    _, site, _ = built
    for url in ("roles/sme/", "tasks/1699/"):  # 1699's responsibility involves an SME request
        assert "Subject matter expert: availability" in read_page(site, url).text, url


def test_acronyms_expand_on_every_page(built):
    _, site, _ = built
    for url in ("", "tasks/3392/", "fasttrack-migration/", "options/ammp/"):
        page = read_page(site, url)
        assert page.abbreviations, url
    assert read_page(site, "roles/mvm/").abbreviations["MVM"] == "Migration Velocity Manager"


def line_of(path: Path, text: str) -> int:
    return next(number for number, line in enumerate(path.read_text().splitlines(), start=1) if line.strip() == text)


def test_edit_links_open_the_data_file_at_the_line_or_the_markdown_file(built):
    project, site, _ = built
    task_line = line_of(project / "data" / "tasks.yml", "- id: 3392")
    role_line = line_of(project / "data" / "roles.yml", "- id: mvm")

    assert read_page(site, "tasks/3392/").edit_url.endswith(f"/edit/main/data/tasks.yml#L{task_line}")
    assert read_page(site, "roles/mvm/").edit_url.endswith(f"/edit/main/data/roles.yml#L{role_line}")
    assert read_page(site, "fasttrack-migration/").edit_url.endswith("/edit/main/content/fasttrack-migration.md")
    assert read_page(site, "contributing/").edit_url.endswith("/edit/main/CONTRIBUTING.md")


def test_window_titles_name_the_page_then_the_site_and_the_home_page_once(built):
    _, site, _ = built

    def title(url: str) -> str:
        return re.search(r"<title>(.*?)</title>", (site / url / "index.html").read_text(encoding="utf-8")).group(1)

    assert title("") == "Partner Playbook"
    assert title("roles/mvm/") == "Migration Velocity Manager (MVM) - Partner Playbook"
    assert title("tasks/3306/").startswith("Task 3306: ")


def test_tags_name_role_stage_and_source(built):
    _, site, _ = built
    assert sorted(read_page(site, "tasks/1635/").tags) == ["Role: MST", "Source: IMAP", "Stage: Prepare"]


def test_hand_written_pages_resolve_shortlinks(built):
    _, site, _ = built
    page = read_page(site, "fasttrack-migration/")

    assert "[[" not in page.text
    assert "tasks/3306/" in link_targets(page, "fasttrack-migration/")


def test_the_build_leaves_content_and_data_untouched(built):
    project, _, before = built
    assert {name: tree_digest(project / name) for name in ("content", "data")} == before


def test_two_builds_are_byte_identical(built):
    project, site, _ = built
    result = playbook("build", "--site-dir", "site-again", cwd=project)

    assert result.returncode == 0, result.stderr
    assert tree_digest(project / "site-again") == tree_digest(site)


def test_entity_pages_are_generated_for_each_collection_with_pages(built, catalogue):
    _, site, _ = built
    for collection in OWN_PAGES:
        for record in catalogue.records(collection):
            assert (site / url_of(address(collection, record).src_uri) / "index.html").is_file()


def test_generate_writes_the_same_pages_as_markdown(built, tmp_path: Path):
    project, _, _ = built
    result = playbook("generate", "--out", str(tmp_path / "md"), cwd=project)

    assert result.returncode == 0, result.stderr
    task = (tmp_path / "md" / "docs" / "tasks" / "3392.md").read_text()
    # The title, escaped for the theme's <title> (which no plugin escapes here), then the tags.
    assert task.startswith('---\ntitle: "Task 3392: ') and "\ntags:\n" in task.split("\n---\n", 1)[0]
    assert "[Task 1141](1141.md)" in task
    assert "[[" not in (tmp_path / "md" / "docs" / "fasttrack-migration.md").read_text()


def test_generate_refuses_to_write_over_the_sources(built):
    project, _, _ = built
    result = playbook("generate", "--out", "content", cwd=project)

    assert result.returncode == 2
    assert "--out content would replace content/" in result.stderr


def test_published_schemas_validate_the_shipped_data_through_the_data_files_schema_lines(built):
    """An editor follows each data file's first line to the published schema: that path must work."""
    import json

    import jsonschema_rs

    from generator.data.yamlsafe import load_yaml_bytes

    project, site, _ = built
    site_url = "https://partner-playbook.github.io/partner-playbook/"
    published = {path.name: json.loads(path.read_text()) for path in (site / "schemas").glob("*.schema.json")}
    registry = jsonschema_rs.Registry([(schema["$id"], schema) for schema in published.values()])
    for data_file in sorted((project / "data").glob("*.yml")):
        raw = data_file.read_bytes()
        url = raw.split(b"\n", 1)[0].decode().split("$schema=", 1)[1]
        assert url.startswith(site_url)
        schema = json.loads((site / url.removeprefix(site_url)).read_text())
        assert jsonschema_rs.meta.is_valid(schema)
        validator = jsonschema_rs.Draft202012Validator(schema, registry=registry)
        assert list(validator.iter_errors(load_yaml_bytes(raw, data_file.name).data)) == [], data_file.name


def test_the_options_summaries_in_our_words_say_they_are_ours(built, catalogue):
    _, site, _ = built
    note = "are this site's summaries of what the source pages say"
    summarised = [option for option in catalogue.records("options") if "fits_when" in option]
    assert summarised

    for option in summarised:
        text = " ".join(read_page(site, f"options/{option['id']}/").text.split())
        assert option["fits_when"].split()[0] in text and note in text, option["id"]
    assert note in " ".join(read_page(site, "options/").text.split())
