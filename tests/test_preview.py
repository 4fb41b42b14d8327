"""The live preview's server hears saves from the kernel (inotify), not by polling the files twice a second."""

from __future__ import annotations

import threading
from pathlib import Path

import mkdocs.commands.serve
from mkdocs.livereload import LiveReloadServer
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers.polling import PollingObserver

from generator.preview import EventDrivenServer, event_driven_serve


class Heard(FileSystemEventHandler):
    def __init__(self) -> None:
        self.saved = threading.Event()

    def on_modified(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self.saved.set()


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


def test_the_event_driven_server_hears_a_save(tmp_path: Path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "tasks.yml").write_text("tasks: []\n", encoding="utf-8")
    server = EventDrivenServer(builder=lambda: None, host="127.0.0.1", port=8000, root=str(tmp_path))
    server.watch(str(data))  # as the plugin's on_serve does
    heard = Heard()
    server.observer.schedule(heard, str(data), recursive=True)
    server.observer.start()
    try:
        (data / "tasks.yml").write_text("tasks: [] # saved\n", encoding="utf-8")
        assert heard.saved.wait(timeout=10)
    finally:
        server.observer.stop()
        server.observer.join(timeout=10)
        server.server_close()
