"""A real headless Chromium (Debian's package) for tests, with every request outside file:// refused and logged."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

#: axe-core, from the npm registry (package.json): `npm install` puts it here.
AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
CHROMIUM = os.environ.get("PLAYBOOK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@dataclass
class Traffic:
    outside: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def record_failure(self, request) -> None:
        """A failed request, unless the browser merely cancelled it (a page closed or navigated away while its
        favicon was still loading, say) and what it asked for is there: a missing file counts however the request
        ended."""
        if request.failure == "net::ERR_ABORTED" and _is_present(request.url):
            return
        self.failed.append(f"{request.url} ({request.failure})")


def _is_present(url: str) -> bool:
    """Whether a file:// address names a file on disk; other addresses are not vouched for here."""
    parts = urlsplit(url)
    return parts.scheme == "file" and os.path.isfile(unquote(parts.path))


#: Where a test's own server answers.
LOCAL_SERVER = "http://127.0.0.1:"


def gated_context(
    browser, allowed: tuple[str, ...] = ("file://",), traffic: Traffic | None = None, **options
) -> tuple[object, Traffic]:
    """A context of the browser that may load only addresses starting with one of `allowed` (file://, by
    default); anything else is refused and recorded, into `traffic` if given."""
    traffic = traffic if traffic is not None else Traffic()
    context = browser.new_context(**options)

    def gate(route) -> None:
        if route.request.url.startswith(allowed):
            route.continue_()
        else:
            traffic.outside.append(route.request.url)
            route.abort()

    context.route("**/*", gate)
    context.on("requestfailed", traffic.record_failure)
    context.on("weberror", lambda error: traffic.errors.append(str(error.error)))
    return context, traffic


@contextmanager
def launched_chromium() -> Iterator[object]:
    """Debian's Chromium, headless, with the flags above; closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def offline_browser() -> Iterator[tuple[object, Traffic]]:
    """A headless Chromium with one gated context (see `gated_context`)."""
    with launched_chromium() as browser:
        yield gated_context(browser)


def blocking_violations(page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is now, with every element they concern."""
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [violation for violation in violations if violation["impact"] in BLOCKING]


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} - {violation['helpUrl']}")
        for node in violation["nodes"]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    {json.dumps(node['target'])}: {summary}")
    return "\n".join(lines)
