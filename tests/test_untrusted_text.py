"""Values from the data, checked where they land: Markdown lines, the abbreviation lines every page ends with,
and CSV cells; what each place cannot carry is refused by validation."""

from __future__ import annotations

import csv
import html as html_module
import io
import json
import re
from pathlib import Path

import markdown
import pytest
import yaml
from conftest import REPO, build_case_data
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.data.exports import Exporter, export_files
from generator.data.model import Catalogue
from generator.data.validate import load_valid_catalogue, validate_data
from generator.pages.escape import escape_markdown
from generator.pages.site_text import Abbreviations


def site_markdown(text: str) -> str:
    """`text` through Python-Markdown with the extensions of the site's mkdocs.yml."""
    config = yaml.load((REPO / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_IgnoreTags)
    extensions = [name if isinstance(name, str) else next(iter(name)) for name in config["markdown_extensions"]]
    return markdown.markdown(text, extensions=extensions)


class _IgnoreTags(yaml.SafeLoader):
    """mkdocs.yml as plain data: its `!ENV` tags are read as the list they tag."""


_IgnoreTags.add_multi_constructor("!", lambda loader, suffix, node: loader.construct_sequence(node))


# Block syntax at the start of a value ---------------------------------------------------------------------------

BLOCK_STARTS = [
    '!!! danger "Pwned"',
    "=====",
    "-----",
    "# Heading",
    "1. one",
    "+ item",
    "> quote",
    "Ends in ##",
    "#",
    "###",
]


@pytest.mark.parametrize("value", BLOCK_STARTS)
@pytest.mark.parametrize(
    "line",
    ["Text above\n{}\n", "{}\n", "- {}\n", "## {}\n", "| a |\n|---|\n| {} |\n"],
    ids=["after-text", "paragraph", "list-item", "heading", "table-cell"],
)
def test_block_syntax_at_the_start_of_a_value_stays_text(value: str, line: str):
    html = site_markdown(line.format(escape_markdown(value)))

    assert "admonition" not in html
    assert "<blockquote>" not in html and "<ol>" not in html and "<hr" not in html
    assert html_module.unescape(re.sub(r"<[^>]+>", "", html)).count(value) == 1, html
    if not line.startswith("#"):
        assert "<h" not in html, html


# Abbreviation lines ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "term",
    ["Z\\", "A[B", "A]B", " SME", "SME ", "A\tB", "A\nB", "--", "A  B"],
    ids=[
        "backslash",
        "open-bracket",
        "close-bracket",
        "leading-space",
        "trailing-space",
        "tab",
        "newline",
        "no-letter",
        "double-space",
    ],
)
def test_a_glossary_term_the_abbreviation_syntax_cannot_carry_is_refused(
    term: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    quoted = '"' + term.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t") + '"'
    build_case_data({"edit": {"glossary.yml": [["term: SME", f"term: {quoted}"]]}}, tmp_path / "data")

    problems = [problem.text() for problem in validate_data(Path("data")).problems]

    assert len(problems) == 1, problems
    assert problems[0].startswith("data/glossary.yml:4:11: error: glossary[0].term: "), problems
    assert "is not in the expected form" in problems[0]
    if not any(character in term for character in "\t\n"):  # invisible characters get a hint of their own
        assert "a term is letters, digits and punctuation" in problems[0]


@pytest.mark.parametrize("expansion", ["''", '""'])
def test_an_expansion_the_abbreviation_syntax_reads_as_a_deletion_is_refused(
    expansion: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    build_case_data(
        {
            "edit": {
                "glossary.yml": [
                    ["expansion: Subject matter expert", f"expansion: '{expansion.replace(chr(39), chr(39) * 2)}'"]
                ]
            }
        },
        tmp_path / "data",
    )

    problems = [problem.text() for problem in validate_data(Path("data")).problems]

    assert len(problems) == 1 and problems[0].startswith("data/glossary.yml:5:16: error: glossary[0].expansion: ")


HOSTILE_ENTRIES = [
    ("XSS", "<img src=x onerror=alert(1)>"),
    ("A&B", '"><svg onload=alert(1)> & [x](javascript:alert(1))'),
    ("*[HTML]", "never"),
    ("C#", '!!! danger "x" {: onclick=alert(1)} `code` | pipe | <!-- ]]>'),
    ("D.E", "*[F]: <script>alert(1)</script>"),
]


def glossary_catalogue(entries: list[tuple[str, str]]) -> Catalogue:
    return Catalogue(
        {
            "glossary": [
                {"id": f"g{n}", "term": term, "expansion": expansion, "source_pages": ["p"]}
                for n, (term, expansion) in enumerate(entries)
            ]
        }
    )


def test_every_abbreviation_line_is_read_as_an_abbreviation_and_its_expansion_as_text():
    valid = [(term, expansion) for term, expansion in HOSTILE_ENTRIES if "[" not in term]
    abbreviations = Abbreviations(glossary_catalogue(valid))
    page = "Uses " + ", ".join(escape_markdown(term) for term, _ in valid) + "."

    html = site_markdown(page + abbreviations.for_page(page))

    assert html.count("<p>") == 1, html  # nothing but the page's own paragraph
    assert "<img" not in html and "<svg" not in html and "<script" not in html and "<a " not in html
    # The title, as the DOM holds it, is itself escaped HTML: Material's tooltip inserts it as HTML.
    marked = {
        term: html_module.unescape(html_module.unescape(title))
        for title, term in re.findall(r'<abbr title="([^"]*)">([^<]*)</abbr>', html)
    }
    assert all("<" not in html_module.unescape(title) for title in re.findall(r'<abbr title="([^"]*)">', html))
    # Python-Markdown marks a term only between word boundaries and outside entities: not `C#`, not `A&B`.
    assert marked == {term: expansion for term, expansion in valid if term in ("XSS", "D.E")}


def test_an_abbreviation_line_that_would_not_be_read_as_one_is_never_written():
    with pytest.raises(ValueError, match="cannot be written as an abbreviation"):
        Abbreviations(glossary_catalogue([("Z\\", "<img src=x onerror=alert(1)>")]))


def test_a_page_carries_only_the_abbreviations_it_uses():
    abbreviations = Abbreviations(
        glossary_catalogue([("FRP", "FastTrack Ready Partner"), ("MVM", "Migration Velocity Manager"), ("A B", "x")])
    )

    assert abbreviations.for_page("The FRP works alone.") == "\n\n*[FRP]: FastTrack Ready Partner\n"
    assert abbreviations.for_page("FRPs, MVMx, B and A") == "\n\n*[A B]: x\n"  # whole words, in any order
    assert (
        abbreviations.for_page("FRP, MVM")
        == "\n\n*[FRP]: FastTrack Ready Partner\n\n*[MVM]: Migration Velocity Manager\n"
    )
    assert abbreviations.for_page("Nothing here.") == ""


def test_every_page_of_the_shipped_glossary_keeps_the_abbreviations_it_shows():
    catalogue = load_valid_catalogue(REPO / "data")
    abbreviations = Abbreviations(catalogue)
    page = "Every term: " + ", ".join(entry["term"] for entry in catalogue.records("glossary"))

    html = site_markdown(page + abbreviations.for_page(page))

    assert len(re.findall("<abbr ", html)) == len(catalogue.records("glossary"))


# CSV cells ------------------------------------------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("https://example.com","x")', "+1+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1", "'=1"]


@pytest.mark.parametrize("value", FORMULAS)
def test_a_csv_cell_a_spreadsheet_would_run_as_a_formula_starts_with_an_apostrophe(value: str):
    catalogue = Catalogue(
        {"roles": [{"id": "r", "name": value, "summary": "Plain", "acronym": value, "source_pages": ["p"]}]}
    )

    rows = list(csv.reader(io.StringIO(export_files(catalogue)["roles.csv"])))
    row = dict(zip(rows[0], rows[1], strict=True))

    assert row["name"] == "'" + value and row["acronym"] == "'" + value
    assert row["summary"] == "Plain" and row["source_pages"] == "p"


def test_a_carriage_return_in_a_value_never_starts_a_csv_row():
    catalogue = Catalogue(
        {"roles": [{"id": "r", "name": "Plain\r=cmd|' /C calc'!A0", "summary": "x", "source_pages": ["p"]}]}
    )

    rows = list(csv.reader(io.StringIO(export_files(catalogue)["roles.csv"], newline="")))

    assert len(rows) == 2 and rows[1][1] == "Plain\r=cmd|' /C calc'!A0"


VALUES = st.one_of(
    st.text(alphabet="ab =+-@'\"\r\n\t,;é😀", max_size=8),
    st.integers(-5, 5),
    st.booleans(),
    st.none(),
    st.lists(st.text(alphabet="ab,;\n", max_size=3), max_size=3),
    st.dictionaries(st.sampled_from(["x", "y"]), st.text(alphabet='ab"', max_size=3), max_size=2),
)
ROLES = st.lists(
    st.fixed_dictionaries(
        {"id": st.text(alphabet="abc", min_size=1, max_size=3)}, optional={"name": VALUES, "summary": VALUES}
    ),
    max_size=4,
)


@settings(max_examples=150, deadline=None)
@given(before=ROLES, after=ROLES)
def test_the_previews_exporter_writes_what_a_build_writes_before_and_after_an_edit(before, after):
    """The preview keeps each record's rows and writes only new records out: the files must be a fresh build's,
    byte for byte, the first time and after records change (some kept, some replaced, some new); the JSON is the
    whole list as `json.dumps` indents it."""
    exporter = Exporter()
    first = Catalogue({"roles": before})
    written = exporter.files(first)
    assert written == export_files(first)
    assert written["roles.json"] == json.dumps(before, indent=2, ensure_ascii=False) + "\n"
    edited = Catalogue({"roles": [*before[:2], *after]})  # the first two records are the same objects
    rewritten = exporter.files(edited)
    assert rewritten == export_files(edited)
    assert rewritten["roles.json"] == json.dumps(edited.records("roles"), indent=2, ensure_ascii=False) + "\n"
    # As the preview reads an edit: one record parsed again, the others the same objects, in the same places.
    for index, record in enumerate(after[: len(before)]):
        one_edited = Catalogue({"roles": [*before[:index], record, *before[index + 1 :]]})
        assert exporter.files(one_edited) == export_files(one_edited)


@settings(max_examples=100, deadline=None)
@given(before=ROLES)
def test_the_previews_exporter_knows_a_record_read_again_and_writes_one_whose_fields_moved_anew(before):
    """The data is read afresh after each edit: a record holding the same is a new object, and its rows are
    reused; one whose fields only changed places compares equal, but its JSON differs, and is written anew."""
    exporter = Exporter()
    exporter.files(Catalogue({"roles": before}))
    again = [dict(record) for record in before]
    moved = [dict(reversed(record.items())) for record in before]
    for records in (again, moved, before):
        edited = Catalogue({"roles": records})
        assert exporter.files(edited) == export_files(edited)
