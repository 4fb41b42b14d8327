"""Outside links, checked against a local HTTP server that misbehaves in every way the checker must survive."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from generator.external import ExternalOptions, check_urls
from generator.linkcheck import add_external_findings, check_site


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
        else:
            self.reply(*answer)

    def route(self, method: str, count: int) -> tuple[int, dict[str, str]] | None:
        path = self.path
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
