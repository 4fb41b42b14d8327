"""End-to-end: hostile data stays text, mistakes stop the build at the right line, and nothing half-built remains."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from site_helpers import fetch, free_port, make_project, playbook, read_page, tree_digest, wait_for

from generator.pages.escape import escape_markdown, safe_url

HOSTILE = "<script>alert(1)</script> [x](javascript:alert(1)) *bold* `code` | cell"


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = make_project(tmp_path_factory.mktemp("hostile"))
    replace_in(project / "data" / "tasks.yml", "title: Finish the technical assessment", f"title: '{HOSTILE}'")
    replace_in(project / "data" / "roles.yml", "acronym: FRP", "acronym: '<b>FRP</b>'")
    result = playbook("build", "--site-dir", "site", cwd=project)
    assert result.returncode == 0, result.stderr
    return project / "site"


@pytest.mark.parametrize("url", ["tasks/1699/", "tasks/", "roles/frp/", "stages/assess/", "sources/box/"])
def test_hostile_values_show_as_text_and_never_become_markup(hostile_site: Path, url: str):
    html = (hostile_site / url / "index.html").read_text(encoding="utf-8")
    page = read_page(hostile_site, url)

    assert "<script>alert(1)</script>" not in html
    assert "<b>FRP</b>" not in html
    assert not any(link.href.startswith("javascript:") for link in page.links)
    assert "<strong>bold</strong>" not in html and "<code>code</code>" not in html


def test_hostile_title_reads_exactly_as_written(hostile_site: Path):
    assert HOSTILE in read_page(hostile_site, "tasks/1699/").text
    assert "Role: <b>FRP</b>" in read_page(hostile_site, "tasks/1699/").tags


def test_escaping_rules():
    assert escape_markdown("# 1. *a* [b](c) <i>") == r"\# 1. \*a\* \[b\](c) &lt;i&gt;"
    assert escape_markdown("12. twelve") == r"12\. twelve"
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("http://example.com") is None
    assert safe_url("https://example.com/a(b)") == "https://example.com/a%28b%29"
    assert safe_url("mailto:team@example.com") == "mailto:team@example.com"


def test_invalid_data_stops_the_build_with_path_line_and_column(tmp_path: Path):
    project = make_project(tmp_path / "p")
    replace_in(project / "data" / "tasks.yml", "owner: mst", "owner: msst")
    line = (project / "data" / "tasks.yml").read_text().splitlines().index("    owner: msst") + 1

    result = playbook("build", "--site-dir", "site", cwd=project)

    assert result.returncode == 1
    expected = f"data/tasks.yml:{line}:12: error: tasks[1].owner: unknown role 'msst' (did you mean 'mst'?)"
    assert expected in result.stderr
    assert "data: 1 error in 1 file" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (project / "site").exists()


def test_a_broken_id_link_in_content_fails_with_file_and_line(tmp_path: Path):
    project = make_project(tmp_path / "p")
    page = project / "content" / "choosing-an-option.md"
    page.write_text(page.read_text(encoding="utf-8") + "\nSee [[option:fastrack-for-azure]].\n", encoding="utf-8")
    line = len(page.read_text(encoding="utf-8").splitlines())

    result = playbook("build", "--site-dir", "site", cwd=project)

    assert result.returncode == 1
    assert (
        f"content/choosing-an-option.md:{line}:5: error: unknown option 'fastrack-for-azure' in "
        "[[option:fastrack-for-azure]] (did you mean 'fasttrack-for-azure'?)"
    ) in result.stderr


def test_a_failed_build_leaves_the_existing_site_as_it_was(tmp_path: Path):
    project = make_project(tmp_path / "p")
    assert playbook("build", "--site-dir", "site", cwd=project).returncode == 0
    before = tree_digest(project / "site")
    replace_in(project / "content" / "index.md", "# Partner Playbook", "# Partner Playbook\n\n[gone](missing.md)")

    result = playbook("build", "--site-dir", "site", cwd=project)

    assert result.returncode == 1
    assert "missing.md" in result.stderr
    assert tree_digest(project / "site") == before
    assert [p.name for p in project.iterdir() if p.name.startswith(".site")] == []


def test_a_template_in_overrides_replaces_the_built_in_one(tmp_path: Path):
    project = make_project(tmp_path / "p")
    (project / "overrides" / "glossary.md.j2").write_text("# Our glossary\n\nReplaced by the project.\n")

    assert playbook("build", "--site-dir", "site", cwd=project).returncode == 0
    assert "Replaced by the project." in read_page(project / "site", "glossary/").text


BROKEN_TEMPLATES = {
    # a syntax error: Jinja reports it where the template ends without closing the block
    "syntax": ("# {{ record.title }}\n\n{% if record.owner %}\nOwned.\n", 4, "Unexpected end of template"),
    # a runtime error on one line of an otherwise fine template
    "runtime": ("# {{ record.title }}\n\n{{ record.missing.deeper }}\n", 3, "has no attribute 'missing'"),
}


@pytest.mark.parametrize("command", [("build", "--site-dir", "site"), ("generate", "--out", "site")])
@pytest.mark.parametrize("kind", sorted(BROKEN_TEMPLATES))
def test_a_broken_override_template_is_reported_at_its_file_and_line(tmp_path: Path, kind: str, command: tuple):
    project = make_project(tmp_path / "p")
    text, line, message = BROKEN_TEMPLATES[kind]
    (project / "overrides" / "tasks.md.j2").write_text(text, encoding="utf-8")

    result = playbook(*command, cwd=project)

    assert result.returncode == 1, result.stderr
    assert f"overrides/tasks.md.j2:{line}:1: error: template error" in result.stderr, result.stderr
    assert message in result.stderr
    assert "delete it from the overrides folder" in result.stderr
    assert "templates: 1 error in 1 file" in result.stderr
    assert "Error reading page 'sources/" not in result.stderr  # a page that was fine is not blamed
    assert "Traceback" not in result.stderr
    assert not (project / "site").exists()


def test_catalogue_pages_stay_small_when_the_catalogue_grows(tmp_path: Path):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from synthetic import write_catalogue

    project = make_project(tmp_path / "p")
    write_catalogue(project / "data", 400)
    assert playbook("build", "--site-dir", "site", cwd=project).returncode == 0

    hand_written = {"index.html", "404.html", "contributing/index.html"}
    hand_written |= {f"{p.stem}/index.html" for p in (project / "content").glob("*.md")}
    # The whole-catalogue views hold every task by design: the catalogue's table (to filter without a server)
    # and the runbooks (to print as one checklist). The diagram pages are bounded by the diagrams' caps, not by
    # the catalogue (tests/test_diagrams.py proves the bound). Every other page must stay small.
    whole = ("catalogue/", "runbooks/", "flow/", "options-by-phase/")
    pages = [
        p
        for p in (project / "site").rglob("*.html")
        if p.relative_to(project / "site").as_posix() not in hand_written
        and not p.relative_to(project / "site").as_posix().startswith(whole)
    ]
    largest = max(pages, key=lambda p: p.stat().st_size)
    assert len(pages) > 400
    assert largest.stat().st_size < 40 * 1024, largest
    assert (project / "site" / "tasks" / "page-2" / "index.html").is_file()


def test_serve_rebuilds_when_a_data_file_a_template_or_a_content_page_changes(tmp_path: Path):
    project = make_project(tmp_path / "p")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "generator", "serve", "--dev-addr", f"127.0.0.1:{port}"],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    page = f"http://127.0.0.1:{port}/partner-playbook/tasks/1699/"  # served under site_url's path
    try:
        assert wait_for(lambda: "Finish the technical assessment" in fetch(page))
        replace_in(project / "data" / "tasks.yml", "Finish the technical assessment", "Finish the assessment today")
        assert wait_for(lambda: "Finish the assessment today" in fetch(page))

        (project / "overrides" / "tasks.md.j2").write_text("# {{ record.title }}\n\nFrom the project template.\n")
        assert wait_for(lambda: "From the project template." in fetch(page))

        home = project / "content" / "index.md"
        replace_in(home, "# Partner Playbook", "# Partner Playbook\n\nEdited while serving.")
        assert wait_for(lambda: "Edited while serving." in fetch(f"http://127.0.0.1:{port}/partner-playbook/"))
    finally:
        server.terminate()
        server.wait(timeout=10)
