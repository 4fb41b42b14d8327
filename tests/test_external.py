"""Outside links, checked against a local HTTP server that misbehaves in every way the checker must survive."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from site_helpers import playbook

from generator.links.external import ExternalOptions, check_urls
from generator.links.linkcheck import add_external_findings, check_site


class Misbehaving(BaseHTTPRequestHandler):
    hits: ClassVar[dict[str, list[tuple[str, float]]]] = defaultdict(list)
    in_flight = 0
    most_in_flight = 0
    lock = threading.Lock()

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def do_HEAD(self) -> None:
        self.answer("HEAD")

    def do_GET(self) -> None:
        self.answer("GET")

    def answer(self, method: str) -> None:
        cls = type(self)
        with cls.lock:
            cls.hits[self.path].append((method, time.monotonic()))
            cls.in_flight += 1
            cls.most_in_flight = max(cls.most_in_flight, cls.in_flight)
        try:
            answer = self.route(method, len(cls.hits[self.path]))
        finally:
            with cls.lock:  # counted out before the reply, which lets the client send its next request
                cls.in_flight -= 1
        if answer is None:
            self.connection.close()  # no answer at all
        elif answer == "drip":
            self.drip()
        else:
            self.reply(*answer)

    def drip(self) -> None:
        """A status line, then a header one byte at a time: each read is quick, the answer never ends."""
        try:
            self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            for _ in range(100):
                self.wfile.write(b"z")
                self.wfile.flush()
                time.sleep(0.1)
            self.wfile.write(b"\r\nContent-Length: 0\r\n\r\n")
        except OSError:
            pass  # the client gave up, as it should

    def route(self, method: str, count: int) -> tuple[int, dict[str, str]] | str | None:
        path = self.path
        if path == "/loop":
            return 302, {"Location": "/loop"}
        if path == "/drip":
            return "drip"
        if path == "/patient":
            return 429, {"Retry-After": "100000"}
        if path == "/limited-twice":
            return 429, {"Retry-After": "2"}
        if path.startswith("/ok") or (path == "/head-refused" and method == "GET"):
            return 200, {}
        if path == "/head-refused":
            return 405, {}
        if path == "/missing":
            return 404, {}
        if path == "/limited":
            return (429, {"Retry-After": "1"}) if count == 1 else (200, {})
        if path == "/flaky":
            return (503, {}) if count <= 2 else (200, {})
        if path == "/moved":
            return 301, {"Location": "/ok-final"}
        if path.startswith("/slow"):
            time.sleep(0.4)
            return 200, {}
        if path == "/hang":
            time.sleep(3)
            return 200, {}
        if path == "/drop":
            return None
        return 500, {}

    def reply(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def server() -> Iterator[str]:
    Misbehaving.hits.clear()
    Misbehaving.most_in_flight = 0
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Misbehaving)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def options(**overrides: object) -> ExternalOptions:
    return ExternalOptions(**{"timeout": 1.0, "retries": 2, "backoff": 0.05, **overrides})  # type: ignore[arg-type]


def test_good_broken_and_misbehaving_servers(server: str):
    urls = [f"{server}/{path}" for path in ("ok", "missing", "head-refused", "error", "moved", "hang", "drop")]

    results = check_urls(urls, options())

    assert results[f"{server}/ok"].ok
    assert (results[f"{server}/missing"].ok, results[f"{server}/missing"].status) == (False, 404)
    assert results[f"{server}/head-refused"].ok  # HEAD refused, GET answered
    assert (results[f"{server}/error"].ok, results[f"{server}/error"].status) == (False, 500)
    assert len(Misbehaving.hits["/error"]) == 3  # the first try and two retries
    assert results[f"{server}/moved"].ok and results[f"{server}/moved"].final_url == f"{server}/ok-final"
    assert results[f"{server}/hang"].error == "no answer within 1 s"
    assert results[f"{server}/drop"].error.startswith("connection failed")


def test_retries_with_backoff_recover_from_passing_errors(server: str):
    assert check_urls([f"{server}/flaky"], options())[f"{server}/flaky"].ok


def test_429_waits_as_long_as_retry_after_says(server: str):
    result = check_urls([f"{server}/limited"], options())[f"{server}/limited"]

    times = [when for _, when in Misbehaving.hits["/limited"]]
    assert result.ok
    assert times[-1] - times[0] >= 0.95


def test_requests_to_one_host_are_limited(server: str):
    urls = [f"{server}/slow-{n}" for n in range(6)]

    results = check_urls(urls, options(per_host=2))

    assert all(result.ok for result in results.values())
    assert Misbehaving.most_in_flight <= 2


def test_progress_counts_each_outside_link_as_it_is_answered(server: str):
    urls = [f"{server}/slow-{n}" for n in range(4)] + [f"{server}/ok"]
    told: list[tuple[str, int, int]] = []

    check_urls(urls, options(), lambda step, done, total: told.append((step, done, total)))

    assert told == [("checking outside links", done, 5) for done in range(1, 6)]


def test_the_cache_spares_good_urls_and_rechecks_failures(server: str, tmp_path: Path):
    cache = tmp_path / "links.json"
    check_urls([f"{server}/ok", f"{server}/missing"], options(cache_file=cache))
    Misbehaving.hits.clear()

    results = check_urls([f"{server}/ok", f"{server}/missing"], options(cache_file=cache))

    assert results[f"{server}/ok"].ok and "/ok" not in Misbehaving.hits
    assert "/missing" in Misbehaving.hits


def test_expired_cache_entries_are_checked_again(server: str, tmp_path: Path):
    cache = tmp_path / "links.json"
    check_urls([f"{server}/ok"], options(cache_file=cache))
    Misbehaving.hits.clear()

    check_urls([f"{server}/ok"], options(cache_file=cache, cache_max_age=0))

    assert "/ok" in Misbehaving.hits


def test_findings_for_outside_links_are_placed_in_their_pages(server: str, tmp_path: Path):
    (tmp_path / "index.html").write_text(
        f'<a href="{server}/missing">gone</a>\n<a href="{server}/moved">moved</a>\n<a href="{server}/ok">fine</a>\n'
    )
    report = check_site(tmp_path)

    add_external_findings(tmp_path, report, check_urls([u for _, _, u in report.external], options()))

    assert [(f.line, f.severity, f.reason) for f in report.findings] == [
        (1, "error", "outside link failed: HTTP 404"),
        (2, "warning", f"redirects to {server}/ok-final"),
    ]
    assert report.broken == 1


def test_a_redirect_loop_is_a_broken_link_not_a_crash(server: str):
    result = check_urls([f"{server}/loop"], options(timeout=5.0))[f"{server}/loop"]  # 21 requests in one try

    assert (result.ok, result.unsure) == (False, False)
    assert result.error == "a redirect loop (or a chain of more than 20 redirects)"


def test_a_server_that_answers_a_byte_at_a_time_is_given_up_on_after_the_timeout(server: str):
    result = check_urls([f"{server}/drip"], options(timeout=0.5))[f"{server}/drip"]

    assert (result.ok, result.error) == (False, "no answer within 0.5 s")  # the whole answer would take 10 s


def test_a_retry_after_beyond_the_cap_is_not_waited_for_and_is_a_warning(server: str, tmp_path: Path):
    (tmp_path / "index.html").write_text(f'<a href="{server}/patient">busy</a>\n')
    report = check_site(tmp_path)

    results = check_urls([f"{server}/patient"], options())
    add_external_findings(tmp_path, report, results)

    assert len(Misbehaving.hits["/patient"]) == 1  # asked once, not again a day later
    assert [(f.severity, f.reason) for f in report.findings] == [
        ("warning", "outside link rate-limited: asked to wait 100,000 s")
    ]
    assert report.broken == 0


def test_all_tries_at_one_url_share_its_deadline_pauses_included(server: str):
    result = check_urls([f"{server}/limited-twice"], options(url_deadline=1.0))[f"{server}/limited-twice"]

    assert len(Misbehaving.hits["/limited-twice"]) == 1  # the 2 s pause did not fit in the 1 s left
    assert (result.unsure, result.error) == (True, "rate-limited (HTTP 429)")


def test_links_not_checked_when_the_budget_runs_out_are_warnings(server: str, tmp_path: Path):
    urls = [f"{server}/ok", *(f"{server}/slow-{n}" for n in range(6))]
    (tmp_path / "index.html").write_text("".join(f'<a href="{url}">x</a>\n' for url in urls))
    report = check_site(tmp_path)

    results = check_urls(urls, options(per_host=1, budget=1.0, cache_file=tmp_path / "links.json"))
    add_external_findings(tmp_path, report, results)

    assert results[f"{server}/ok"].ok  # asked first
    late = [url for url, result in results.items() if result.unsure]
    assert len(late) >= 3  # one at a time, 0.4 s each: at most two of the six slow ones are answered in 1 s
    assert all(result.ok for url, result in results.items() if url not in late)
    assert {(f.severity, f.reason) for f in report.findings} == {
        ("warning", "outside link not checked: the 1 s for all outside links were used up")
    }
    assert late[0] not in (tmp_path / "links.json").read_text()  # not remembered as good


@pytest.mark.parametrize(
    "content",
    [b"[]", b"not json", b"\xff\xfe", b"[" * 100_000, b'{"x": 1}'],
    ids=["a list", "not JSON", "not UTF-8", "nested too deep", "an entry not an object"],
)
def test_a_bad_cache_file_is_set_aside_with_one_warning(server: str, tmp_path: Path, content: bytes):
    cache = tmp_path / "links.json"
    cache.write_bytes(content)
    warnings: list[str] = []

    results = check_urls([f"{server}/ok"], options(cache_file=cache), warn=warnings.append)

    assert results[f"{server}/ok"].ok and "/ok" in Misbehaving.hits
    assert len(warnings) == 1 and warnings[0].startswith(f"{cache}: ")
    assert list(json.loads(cache.read_text())) == [f"{server}/ok"]  # a fresh cache, written whole
    assert [path.name for path in tmp_path.iterdir()] == ["links.json"]  # no scratch file left behind


@pytest.mark.parametrize("checked_at", ["1e300", "NaN", "Infinity", '"yesterday"', "true", "-5"])
def test_a_cache_entry_dated_in_the_future_or_malformed_does_not_pass_a_dead_link(
    server: str, tmp_path: Path, checked_at: str
):
    cache = tmp_path / "links.json"
    entry = f'{{"url": "{server}/missing", "ok": true, "status": 200, "final_url": null, "checked_at": {checked_at}}}'
    cache.write_text(f'{{"{server}/missing": {entry}}}')
    warnings: list[str] = []

    results = check_urls([f"{server}/missing"], options(cache_file=cache), warn=warnings.append)

    assert results[f"{server}/missing"].status == 404
    assert warnings == [f"{cache}: 1 cache entry malformed or dated in the future; checked again"]


def test_cli_reports_loops_warns_of_a_bad_cache_and_has_bounded_waits(server: str, tmp_path: Path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(f'<a href="{server}/loop">a</a>\n<a href="{server}/patient">b</a>\n')
    (tmp_path / "links.json").write_text("[]")

    result = playbook(
        "check-links", "site", "--external", "--cache", "links.json", "--timeout", "5", "--budget", "20", cwd=tmp_path
    )
    help_text = playbook("check-links", "--help", cwd=tmp_path).stdout

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[0] == (
        "warning: links.json: not a cache of outside links (it holds a JSON list, not an object of URLs);"
        " starting a fresh one"
    )
    assert f"  1:10  {server}/loop  outside link failed: a redirect loop" in result.stderr
    assert f"  2:10  {server}/patient  warning: outside link rate-limited: asked to wait 100,000 s" in result.stderr
    assert result.stderr.splitlines()[-1] == "1 pages, 2 links, 1 broken, 1 warning"
    assert "--budget" in help_text and "--timeout" in help_text


def test_a_cache_that_cannot_be_saved_is_a_warning_not_a_traceback(server: str, tmp_path: Path):
    (tmp_path / "taken").write_text("a file where the cache's folder would go")
    warnings: list[str] = []

    results = check_urls([f"{server}/ok"], options(cache_file=tmp_path / "taken" / "links.json"), warn=warnings.append)

    assert results[f"{server}/ok"].ok
    assert len(warnings) == 1 and "the cache of outside links could not be saved" in warnings[0]


def test_a_url_that_does_not_parse_is_a_broken_link_not_a_crash():
    result = check_urls(["http://[::1/"], options())["http://[::1/"]  # refused before any connection is tried

    assert (result.ok, result.unsure) == (False, False) and result.error.startswith("not a valid URL")
