"""The link checker on a corpus site with known-good and known-broken links: exactly these findings, no others."""

from __future__ import annotations

import difflib
import json
import multiprocessing
import re
from pathlib import Path

import pytest
from conftest import TESTS
from site_helpers import make_project, playbook

from generator.links.htmllinks import locate, read_links, srcset_urls
from generator.links.linkcheck import MAX_PAGE_BYTES, CheckOptions, PageStream, SiteIndex, check_site, html_pages

SITE = TESTS / "cases" / "links" / "site"

BROKEN_ANYWHERE = {
    ("dir/index.html", 4, 10, "dir/nothing.html", "no such file: dir/nothing.html"),
    ("dir/index.html", 5, 10, "#sec", "no element with id 'sec' on index.html"),  # the base decides the document
    ("index.html", 4, 13, "css/gone.css", "no such file: css/gone.css"),
    ("index.html", 6, 14, "js/gone.js", "no such file: js/gone.js"),
    ("index.html", 10, 10, "page.html#Sec", "no element with id 'Sec' on page.html"),  # fragments keep their case
    ("index.html", 14, 64, "#missing", "no element with id 'missing' on this page"),
    ("index.html", 15, 71, "empty/", "a folder without an index.html: empty"),
    ("index.html", 17, 10, "../outside.html", "the link leads outside the site's root folder"),
    ("index.html", 21, 10, "missing.html", "no such file: missing.html"),
    ("index.html", 22, 53, "mailto:nobody", "not a plausible e-mail address"),
    ("index.html", 24, 43, "img/nope.png", "no such file: img/nope.png"),
    ("index.html", 25, 38, "img/missing@2x.png", "no such file: img/missing@2x.png"),
    ("index.html", 30, 10, "also-missing.html", "no such file: also-missing.html"),
    ("page.html", 6, 10, "index.html#sec", "no element with id 'sec' on index.html"),
}
BROKEN_ONLY_FROM_DISK = {
    ("index.html", 15, 10, "dir/", "a link to a folder does not open from disk"),
    ("index.html", 15, 36, "dir", "a link to a folder does not open from disk"),
    ("index.html", 26, 10, "/page.html", "a root-relative link does not open from disk"),
}


def findings(workers: int | None = None, **options) -> set[tuple[str, int, int, str, str]]:
    report = check_site(SITE, CheckOptions(**options), workers=workers)
    return {(f.page, f.line, f.column, f.link, f.reason) for f in report.findings}


@pytest.mark.parametrize("workers", [1, 2])
def test_exactly_the_broken_links_are_found(workers: int):
    assert findings(workers=workers) == BROKEN_ANYWHERE


def test_from_disk_folder_and_root_relative_links_are_broken_too():
    assert findings(file_urls=True) == BROKEN_ANYWHERE | BROKEN_ONLY_FROM_DISK


def test_counts_and_the_outside_link_is_collected_not_checked():
    report = check_site(SITE)

    assert (report.pages, report.links, report.broken) == (6, 40, 14)
    assert [url for _, _, url in report.external] == ["https://example.com/"]


def test_hints_name_the_closest_id_or_file():
    report = check_site(SITE)
    hints = {f.link: f.hint for f in report.findings}

    assert hints["page.html#Sec"] == "did you mean '#sec'?"
    assert hints["js/gone.js"] == "did you mean js/app.js?"


def test_excluded_links_are_skipped():
    assert not any(f[3].startswith("img/") for f in findings(excludes=(r"^img/",)))


def test_a_site_served_under_a_path_resolves_root_relative_links_under_it(tmp_path: Path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "index.html").write_text('<a href="/docs/a/">in</a> <a href="/elsewhere/">out</a>')

    report = check_site(tmp_path, CheckOptions(root="/docs/"))

    assert [(f.link, f.reason) for f in report.findings] == [
        ("/elsewhere/", "the link leads outside the site, which is served at /docs/")
    ]


def test_pages_streamed_as_a_build_writes_them_give_the_report_of_a_whole_site_check():
    pages = html_pages(SITE)
    stream = PageStream(SITE, SiteIndex.of(SITE), CheckOptions())
    for page in pages:  # each is announced before it is written; the corpus is on disk already
        stream.add(page)

    streamed = stream.finish()
    whole = check_site(SITE, CheckOptions(), workers=1)

    assert (streamed.pages, streamed.links, streamed.findings) == (whole.pages, whole.links, whole.findings)
    assert streamed.broken > 0
    assert multiprocessing.active_children() == []


def test_a_cancelled_stream_stops_its_worker():
    stream = PageStream(SITE, SiteIndex.of(SITE), CheckOptions())
    stream.add(html_pages(SITE)[0])

    stream.cancel()

    assert multiprocessing.active_children() == []


def test_srcset_candidates_are_split_as_the_standard_says():
    assert srcset_urls("a.png 1x, b,c.png 2x,d.png") == ["a.png", "b,c.png", "d.png"]
    assert srcset_urls(" x.png, y.png 300w ") == ["x.png", "y.png"]


def test_ids_include_legacy_anchor_names_and_entities_are_decoded():
    page = read_links(b'<p id="caf&eacute;"></p><a name="old"></a><base href="../">')

    assert page.ids == {"café", "old"}
    assert page.base == "../"


def test_cli_formats_and_exit_codes(tmp_path: Path):
    text = playbook("check-links", str(SITE), "--root", "/", cwd=tmp_path)
    as_json = playbook("check-links", str(SITE), "--root", "/", "--format", "json", cwd=tmp_path)
    github = playbook("check-links", str(SITE), "--root", "/", "--format", "github", cwd=tmp_path)
    missing = playbook("check-links", "nowhere", cwd=tmp_path)

    assert text.returncode == 1
    assert text.stderr.splitlines()[0] == "dir/index.html"
    assert "  4:10  dir/nothing.html  no such file: dir/nothing.html (did you mean dir/index.html?)" in text.stderr
    assert text.stderr.splitlines()[-1] == "6 pages, 40 links, 14 broken"
    assert json.loads(as_json.stdout)["broken"] == 14
    assert github.stderr.startswith("::error file=dir/index.html,line=4,col=10::dir/index.html:4:10: dir/nothing.html")
    assert missing.returncode == 2


def test_the_build_fails_on_a_broken_link_that_mkdocs_cannot_see(tmp_path: Path):
    project = make_project(tmp_path / "p")
    template = project / "overrides" / "glossary.md.j2"
    template.write_text('# Glossary\n\n<a href="../nowhere/">raw HTML link</a>\n')

    result = playbook("build", "--site-dir", "site", cwd=project)

    assert result.returncode == 1
    assert "glossary/index.html (from data)" in result.stderr
    assert "../nowhere/  no such file: nowhere/" in result.stderr
    assert not (project / "site").exists()


def test_a_broken_link_names_the_data_record_behind_the_page(tmp_path: Path):
    project = make_project(tmp_path / "p")
    assert playbook("build", "--site-dir", "site", cwd=project).returncode == 0
    page = project / "site" / "tasks" / "3392" / "index.html"
    page.write_text(page.read_text().replace('href="../3160/"', 'href="../3161/"'))
    line = next(
        n for n, t in enumerate((project / "data" / "tasks.yml").read_text().splitlines(), 1) if t == "  - id: 3392"
    )

    result = playbook("check-links", "site", cwd=project)

    assert result.returncode == 1
    assert f"tasks/3392/index.html (from data/tasks.yml:{line}, playbook task 3392)" in result.stderr
    annotation = playbook("check-links", "site", "--format", "github", cwd=project).stderr.splitlines()[0]
    assert annotation.startswith(f"::error file=data/tasks.yml,line={line},col=1::tasks/3392/index.html:")


class CountedMatcher(difflib.SequenceMatcher):
    """Counts the names a hint compares a misspelling with, and stops a run that compares too many."""

    compared = 0
    most = 10_000

    def ratio(self) -> float:
        type(self).compared += 1
        assert type(self).compared <= self.most, "hints compared each broken link with every name"
        return super().ratio()


def test_thousands_of_broken_fragments_are_hinted_without_comparing_each_with_every_id(tmp_path, monkeypatch):
    ids = "".join(f'<h2 id="section-{n}">s</h2>\n' for n in range(5000))
    fragments = "".join(f'<a href="#sectoin-{n}">x</a>\n' for n in range(5000))
    (tmp_path / "index.html").write_text(f"<body>{ids}{fragments}</body>")
    (tmp_path / "img.html").write_text("".join(f'<img src="img-{n}.png">\n' for n in range(1000)))
    for n in range(1000):
        (tmp_path / f"img{n}.png").touch()
    monkeypatch.setattr(difflib, "SequenceMatcher", CountedMatcher)
    CountedMatcher.compared = 0

    report = check_site(tmp_path, workers=1)

    assert report.broken == 6000
    hints = {f.link: f.hint for f in report.findings}
    assert hints["#sectoin-0"] == "did you mean '#section-0'?"  # a misspelling in the middle is still found
    assert hints["img-0.png"] == "did you mean img0.png?"


def test_a_symlink_out_of_the_site_is_reported_not_followed_and_a_huge_page_not_read(tmp_path: Path):
    site, outside = tmp_path / "site", tmp_path / "outside"
    site.mkdir()
    outside.mkdir()
    with open(outside / "huge.html", "wb") as huge:  # sparse: 1.5 GB that take no room on the disk
        huge.truncate(1500 * 2**20)
    (site / "huge.html").symlink_to("../outside/huge.html")
    (site / "shared").symlink_to(outside, target_is_directory=True)
    with open(site / "big.html", "wb") as big:
        big.truncate(MAX_PAGE_BYTES + 1)
    (site / "index.html").write_text('<a href="huge.html#a">h</a> <a href="big.html#b">b</a> <a href="#c">c</a>')

    report = check_site(site, workers=1)

    leaving = "a symlink that leads out of the site folder; it is not followed"
    too_big = f"the page is {MAX_PAGE_BYTES + 1:,} bytes, more than the {MAX_PAGE_BYTES:,} read of one page"
    assert [(f.page, f.line, f.link, f.reason) for f in report.findings] == [
        ("big.html", 1, "", too_big + "; it is not checked"),
        ("huge.html", 1, "../outside/huge.html", leaving),
        ("index.html", 1, "#c", "no element with id 'c' on this page"),  # pages not read have no ids to miss
        ("shared", 1, str(outside), leaving),
    ]


def test_a_page_streamed_from_a_build_is_read_within_bounds_too(tmp_path: Path):
    (tmp_path / "index.html").write_text('<a href="big.html">b</a>')
    (tmp_path / "big.html").write_text("<p>" + "x" * 2000 + "</p>")
    stream = PageStream(tmp_path, SiteIndex.of(tmp_path), CheckOptions(max_page_bytes=1000))
    for page in ("index.html", "big.html"):
        stream.add(page)

    report = stream.finish()

    assert [(f.page, f.reason) for f in report.findings] == [
        ("big.html", "the page is 2,007 bytes, more than the 1,000 read of one page; it is not checked")
    ]


UNPRINTABLE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")  # all but \n


def test_control_characters_and_bidi_overrides_are_printed_escaped_in_every_format(tmp_path: Path):
    site = tmp_path / "site"
    site.mkdir()
    links = ["#%1b[2J", "x\u202egpj.exe", "y\x9b31m.html", "z%0D%0A::warning::pwned.html"]
    (site / "index.html").write_text("".join(f'<a href="{link}">x</a>\n' for link in links), encoding="utf-8")
    (site / "a\x1b[2J,b::c.html").write_text('<a href="gone.html">x</a>')

    text = playbook("check-links", "site", "--root", "/", cwd=tmp_path).stderr
    github = playbook("check-links", "site", "--root", "/", "--format", "github", cwd=tmp_path).stderr
    as_json = playbook("check-links", "site", "--root", "/", "--format", "json", cwd=tmp_path).stdout

    for output in (text, github, as_json):
        assert not UNPRINTABLE.search(output)
    assert text.splitlines() == [
        "a\\x1b[2J,b::c.html",
        "  1:10  gone.html  no such file: gone.html (did you mean index.html?)",
        "index.html",
        "  1:10  #%1b[2J  no element with id '\\x1b[2J' on this page",
        "  2:10  x\\u202egpj.exe  no such file: x\\u202egpj.exe",
        "  3:10  y\\x9b31m.html  no such file: y\\x9b31m.html",
        "  4:10  z%0D%0A::warning::pwned.html  no such file: z\\x0d\\x0a::warning::pwned.html",
        "2 pages, 5 links, 5 broken",
    ]
    annotations = github.splitlines()[:-1]
    assert len(annotations) == 5 and all(line.startswith("::error file=") for line in annotations)
    assert annotations[0].startswith("::error file=a\\x1b[2J%2Cb%3A%3Ac.html,line=1,col=10::")
    assert annotations[-1].endswith(
        "::index.html:4:10: z%250D%250A::warning::pwned.html: no such file: z\\x0d\\x0a::warning::pwned.html"
    )
    findings = json.loads(as_json)["findings"]  # still valid JSON, with the values exactly as they are
    assert [finding["link"] for finding in findings] == ["gone.html", *links]
    assert findings[1]["reason"] == "no element with id '\x1b[2J' on this page"


def test_links_are_placed_in_one_pass_on_a_page_of_unfinished_markup(tmp_path: Path):
    # The standard library's parser searched the rest of the page for a `>` at each `</` and `<!` (minutes here).
    (tmp_path / "index.html").write_text('<p>\n  <a href="gone.html">x</a>\n' + "<!" * 100_000 + "</" * 100_000)

    report = check_site(tmp_path, workers=1)

    assert [(f.line, f.column, f.link) for f in report.findings] == [(2, 12, "gone.html")]


def test_positions_follow_html_comments_raw_text_and_attribute_rules():
    lines = [
        '<!-- <a href="x.html"> -->',
        '<script>var a = \'<a href="x.html">\';</script><title><a href="x.html"></title>',
        '<a  HREF = x.html href="ignored.html">',
        "<img src='q&amp;.png' srcset=\"a.png 1x, b.png 2x\">",
        '<A href="x.html">',
    ]
    html = "\n".join(lines)

    positions = locate(html, read_links(html.encode()).links)

    assert {(link.attribute, link.value, link.occurrence): where for link, where in positions.items()} == {
        ("href", "x.html", 0): (3, lines[2].index("x.html") + 1),
        ("href", "x.html", 1): (5, lines[4].index("x.html") + 1),
        ("src", "q&.png", 0): (4, lines[3].index("q&amp;") + 1),
        ("srcset", "a.png", 0): (4, lines[3].index("a.png") + 1),
        ("srcset", "b.png", 0): (4, lines[3].index("b.png") + 1),
    }


def test_a_long_base_href_is_resolved_once_and_not_repeated_in_each_finding(tmp_path: Path):
    base = "a/" * 50_000
    (tmp_path / "index.html").write_text(f'<base href="{base}">' + '<a href="x.html">x</a>\n' * 2000)

    report = check_site(tmp_path, workers=1)

    assert report.broken == 2000
    reason = report.findings[0].reason
    assert reason.startswith("the page's <base href> is unusable: no such file: a/a/a/") and len(reason) < 300


def test_a_long_mailto_address_is_judged_in_one_pass(tmp_path: Path):
    # The address pattern backtracked over every dot of a long domain: 16 KB of them took seconds, 40 KB minutes.
    (tmp_path / "index.html").write_text('<a href="mailto:a@' + "b." * 20_000 + ' ">x</a>')

    report = check_site(tmp_path, workers=1)

    assert [f.reason for f in report.findings] == ["not a plausible e-mail address"]
