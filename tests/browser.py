"""A real headless Chromium (Debian's package) for tests, with every request outside file:// refused and logged."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

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


def gated_context(browser, **options) -> tuple[object, Traffic]:
    """A context of the browser that may load file:// only; anything else is refused and recorded."""
    traffic = Traffic()
    context = browser.new_context(**options)

    def gate(route) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            traffic.outside.append(route.request.url)
            route.abort()

    context.route("**/*", gate)
    context.on("requestfailed", lambda request: traffic.failed.append(request.url))
    context.on("weberror", lambda error: traffic.errors.append(str(error.error)))
    return context, traffic


@contextmanager
def offline_browser() -> Iterator[tuple[object, Traffic]]:
    """A headless Chromium with one gated context (see `gated_context`)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield gated_context(browser)
        finally:
            browser.close()
