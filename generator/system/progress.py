"""How far a long step has got, on one line of a terminal: "writing pages: 1,200 of 13,466".

Silent where the stream is not a terminal (CI logs, pipes, files), so logs stay free of carriage returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

#: What a long-running step calls as it goes: (step, done, total).
ProgressSink = Callable[[str, int, int], None]


class TerminalProgress:
    """A progress line redrawn in place at most every `interval` seconds, and always at the end of a step."""

    def __init__(self, stream: TextIO, *, interval: float = 0.2, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.interval = interval
        self.clock = clock
        self._drawn_at = float("-inf")
        self._shown = False

    def __call__(self, step: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = self.clock()
        if done < total and now - self._drawn_at < self.interval:
            return  # thousands of pages a minute: redrawing each would cost more than it tells
        self._drawn_at = now
        self.stream.write(f"\r{step}: {done:,} of {total:,}\x1b[K")
        self.stream.flush()
        self._shown = True

    def clear(self) -> None:
        """Removes the line, so a message printed next starts at the left edge of a clean line."""
        if self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False
