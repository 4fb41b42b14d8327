"""The live preview's server: MkDocs' own, told of file changes by the kernel instead of looking every 0.5 s.

MkDocs 1.6's LiveReloadServer watches with watchdog's PollingObserver, which stats every watched file twice a
second: an edit waits up to 0.5 s before the rebuild even starts, and a large data folder is read for nothing.
watchdog's native observer (inotify on Linux) hears of a save at once. Rapid saves are still gathered into one
rebuild: MkDocs waits until no change has come for 0.1 s (its build_delay) before it builds.

The native observer also reports files opened and closed, and MkDocs rebuilds on any event: the build reads the
data, so it would start itself again for ever. Only events that change a file are asked for.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import mkdocs.commands.serve
import watchdog.observers
from mkdocs.livereload import LiveReloadServer, _timestamp
from watchdog.events import (
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers.api import ObservedWatch

log = logging.getLogger("mkdocs.livereload")

#: What a save, a new file, a rename or a deletion is made of; not a file opened, read or closed unchanged.
CHANGES: list[type[FileSystemEvent]] = [FileCreatedEvent, FileModifiedEvent, FileMovedEvent, FileDeletedEvent]


class ChangeObserver(watchdog.observers.Observer):  # type: ignore[misc,valid-type]
    """watchdog's native observer, reporting only the events that change a file."""

    def schedule(self, event_handler: Any, path: Any, **options: Any) -> ObservedWatch:
        options.setdefault("event_filter", CHANGES)
        return super().schedule(event_handler, path, **options)


class EventDrivenServer(LiveReloadServer):
    """LiveReloadServer with watchdog's native observer, told only of changes; everything else is MkDocs' own.

    It also notes which files changed since the last build began (`take_changes`), so that a builder can tell a
    data edit, which the plugin rebuilds in part, from any other change.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Nothing is watched yet: every watch() below is scheduled on this observer, started by serve().
        self.observer = ChangeObserver()
        self._changes: set[str] = set()
        self._changes_lock = threading.Lock()
        self._noter = FileSystemEventHandler()
        self._noter.on_any_event = self._note  # type: ignore[method-assign]

    def watch(self, path: str, func: None = None, *, recursive: bool = True) -> None:
        super().watch(path, func, recursive=recursive)
        watched = self._watch_refs.get(os.path.abspath(path))
        if watched is not None:  # beside MkDocs' own handler: noted long before the build it asks for begins
            self.observer.add_handler_for_watch(self._noter, watched)

    def _note(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            return
        with self._changes_lock:
            self._changes.add(os.fsdecode(event.src_path))
            if getattr(event, "dest_path", ""):
                self._changes.add(os.fsdecode(event.dest_path))

    def reload_browsers(self) -> None:
        """Tells the open pages to load again, as after a build: the site changed outside the build loop."""
        with self._rebuild_cond, self._epoch_cond:
            if self._visible_epoch == self._wanted_epoch:  # else a build is on its way, and will say so itself
                log.info("Reloading browsers")
                self._wanted_epoch = self._visible_epoch = _timestamp()
                self._epoch_cond.notify_all()

    def request_build(self) -> None:
        """Asks the build loop for a build, as a change of a watched file does."""
        with self._rebuild_cond:
            self._want_rebuild = True
            self._rebuild_cond.notify_all()

    def changes_waiting(self) -> bool:
        """Whether a file changed since the last `take_changes`: a build for it is on its way."""
        with self._changes_lock:
            return bool(self._changes)

    def stopping(self) -> bool:
        """Whether serve is shutting down (Ctrl-C): MkDocs removes the site folder next, so work on it stops."""
        return bool(getattr(self, "_shutdown", False))

    def take_changes(self) -> set[str]:
        """The files changed since the last call (absolute paths), forgotten once taken."""
        with self._changes_lock:
            changes, self._changes = self._changes, set()
        return changes


@contextmanager
def event_driven_serve() -> Iterator[None]:
    """While the block runs, `mkdocs.commands.serve.serve` builds its server as an EventDrivenServer.

    MkDocs makes the server inside serve() and offers no option for its observer, so its name is swapped there.
    """
    original = mkdocs.commands.serve.LiveReloadServer
    mkdocs.commands.serve.LiveReloadServer = EventDrivenServer  # type: ignore[misc]
    try:
        yield
    finally:
        mkdocs.commands.serve.LiveReloadServer = original  # type: ignore[misc]
