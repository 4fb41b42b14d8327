"""The live preview's server hears saves from the kernel (inotify), not by polling the files twice a second."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import mkdocs.commands.serve
from mkdocs.livereload import LiveReloadServer
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers.polling import PollingObserver

from generator.engines.mkdocs_plugin import problems_404
from generator.engines.preview import CHANGES, EventDrivenServer, event_driven_serve


class Heard(FileSystemEventHandler):
    """Every file event the observer reports, as MkDocs' own handler takes them: any event starts a rebuild."""

    def __init__(self) -> None:
        self.events: list[FileSystemEvent] = []
        self.any = threading.Event()

    def on_any_event(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self.events.append(event)
            self.any.set()


def test_serve_builds_an_event_driven_server_and_puts_mkdocs_own_back(tmp_path: Path):
    with event_driven_serve():
        # as mkdocs.commands.serve.serve() makes it; the server binds its port only when it serves
        server = mkdocs.commands.serve.LiveReloadServer(
            builder=lambda: None, host="127.0.0.1", port=8000, root=str(tmp_path)
        )
    server.server_close()

    assert isinstance(server, EventDrivenServer)
    assert not isinstance(server.observer, PollingObserver)
    assert mkdocs.commands.serve.LiveReloadServer is LiveReloadServer


def test_the_event_driven_server_hears_a_save_and_not_a_read(tmp_path: Path):
    data = tmp_path / "data"
    data.mkdir()
    tasks = data / "tasks.yml"
    tasks.write_text("tasks: []\n", encoding="utf-8")
    server = EventDrivenServer(builder=lambda: None, host="127.0.0.1", port=8000, root=str(tmp_path))
    server.watch(str(data))  # as the plugin's on_serve does
    heard = Heard()
    server.observer.schedule(heard, str(data), recursive=True)  # as MkDocs' watch() schedules its handler
    server.observer.start()
    try:
        tasks.read_text(encoding="utf-8")  # as a build reads the data: no rebuild, or serve would never rest
        time.sleep(0.5)
        assert heard.events == []

        tasks.write_text("tasks: [] # saved\n", encoding="utf-8")
        assert heard.any.wait(timeout=10)
        assert all(isinstance(event, tuple(CHANGES)) for event in heard.events)
    finally:
        server.observer.stop()
        server.observer.join(timeout=10)
        server.server_close()


def test_the_event_driven_server_says_which_files_changed(tmp_path: Path):
    data = tmp_path / "data"
    data.mkdir()
    tasks, roles = data / "tasks.yml", data / "roles.yml"
    tasks.write_text("tasks: []\n", encoding="utf-8")
    server = EventDrivenServer(builder=lambda: None, host="127.0.0.1", port=8000, root=str(tmp_path))
    server.watch(str(data))  # as the plugin's on_serve does
    server.observer.start()
    try:
        tasks.write_text("tasks: [] # saved\n", encoding="utf-8")
        roles.write_text("roles: []\n", encoding="utf-8")
        assert changes_within(server, {str(tasks), str(roles)}) == {str(tasks), str(roles)}
        time.sleep(0.5)  # a new file may be heard twice (created, then written): the second is taken here
        assert server.take_changes() <= {str(tasks), str(roles)}
        tasks.write_text("tasks: [] # saved again\n", encoding="utf-8")
        assert changes_within(server, {str(tasks)}) == {str(tasks)}  # what was taken is not named again
    finally:
        server.observer.stop()
        server.observer.join(timeout=10)
        server.server_close()


def changes_within(server: EventDrivenServer, expected: set[str], seconds: float = 10) -> set[str]:
    """The files the server names as changed, taken until they are `expected` or the time is up."""
    deadline, changes = time.monotonic() + seconds, set[str]()
    while time.monotonic() < deadline and changes != expected:
        changes |= server.take_changes()
        time.sleep(0.05)
    return changes


def test_the_problems_page_served_anywhere_names_the_root_escaped():
    """The site's root comes from mkdocs.yml's site_url, which a pull request may change: it lands in an attribute
    and in scripts, escaped for each; the report page's own markup is otherwise as built."""
    home = (
        '<html><head><meta charset="utf-8"><title>t</title></head><body><a href="#top">Skip</a>'
        '<script>__md_scope=new URL(".",location)</script>'
        '<script id="__config" type="application/json">{"base": ".", "search": "x.js"}</script></body></html>'
    )
    root = '/a"b</script><script>alert(1)</script>/'
    page = problems_404(home, root)
    escaped = '"/a\\"b\\u003c/script>\\u003cscript>alert(1)\\u003c/script>/"'
    assert '<base href="/a&quot;b&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;/">' in page
    assert '<script id="__config" type="application/json">{"base": ' + escaped + ', "search": "x.js"}' in page
    assert "__md_scope=new URL(" + escaped + ",location)" in page
    assert page.count("<script") == 3  # the palette's, the config and the one that asks again: no other
    # After the character set, and marked with the report's digest: another report is another page.
    assert page.index('<meta charset="utf-8">') < page.index('name="playbook-problems"') < page.index("<title>")
    assert problems_404(home.replace("Skip", "Skip!"), root) != page
    assert re.findall(r'name="playbook-problems" content="([0-9a-f]{16})"', page)
