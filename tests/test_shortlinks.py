"""`[[kind:id]]` links in hand-written pages, and the relative links every page is made of."""

from __future__ import annotations

import posixpath

import pytest
from conftest import MINIMAL

from generator.data.validate import load_valid_catalogue
from generator.pages.addresses import SiteMap, continuation_uri, relative_link


@pytest.fixture(scope="module")
def site_map() -> SiteMap:
    return SiteMap(load_valid_catalogue(MINIMAL))


def resolve(site_map: SiteMap, text: str, page: str = "guide/page.md"):
    from generator.pages.shortlinks import resolve_shortlinks

    return resolve_shortlinks(text, page, "content/guide/page.md", site_map)


def test_links_by_id_with_default_and_own_text(site_map: SiteMap):
    resolved = resolve(site_map, "See [[task:200]] and [[role:support|the support team]].")

    assert resolved.markdown == "See [Task 200](../tasks/200.md) and [the support team](../roles/support.md)."
    assert resolved.problems == []


def test_entities_on_another_page_link_to_their_anchor(site_map: SiteMap):
    resolved = resolve(site_map, "[[responsibility:run-workshops]] [[term:sme]]", page="index.md")

    assert resolved.markdown == (
        "[Runs a workshop per source.](roles/support.md#responsibility-run-workshops) [SME](glossary.md#term-sme)"
    )


def test_unknown_ids_and_kinds_are_reported_with_line_column_and_hint(site_map: SiteMap):
    resolved = resolve(site_map, "Intro\n\nFirst [[task:201]], then [[rol:support]].\n")

    assert [problem.text() for problem in resolved.problems] == [
        "content/guide/page.md:3:7: error: unknown playbook task '201' in [[task:201]] (did you mean '200'?)",
        "content/guide/page.md:3:26: error: unknown link kind 'rol' in [[rol:support]] (did you mean 'role'?)",
    ]
    assert "[[task:201]]" in resolved.markdown  # left as written


def test_code_is_left_alone(site_map: SiteMap):
    text = "Write `[[task:999]]` to link.\n\n```md\n[[task:999]]\n```\n"

    resolved = resolve(site_map, text)

    assert (resolved.markdown, resolved.problems) == (text, [])


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("tasks/1.md", "tasks/2.md"),
        ("tasks/1.md", "roles/a.md"),
        ("index.md", "tasks/1.md"),
        ("roles/a/page-2.md", "roles/a.md"),
        ("roles/a/page-2.md", "tasks/3.md"),
        ("tasks/page-2.md", "tasks/index.md"),
        ("fasttrack/phases/x.md", "fasttrack/focus-areas/y.md"),
        ("a.md", "deep/er/b.md"),
    ],
)
def test_relative_links_match_posixpath(source: str, target: str):
    assert relative_link(source, target) == posixpath.relpath(target, posixpath.dirname(source) or ".")


def test_continuation_pages():
    assert continuation_uri("roles/mvm.md", 1) == "roles/mvm.md"
    assert continuation_uri("roles/mvm.md", 3) == "roles/mvm/page-3.md"
    assert continuation_uri("tasks/index.md", 2) == "tasks/page-2.md"
