"""Child processes that die with their parent, and signals that unwind a run instead of cutting it short.

A build forks processes (rendering, link checking). Killed outright, the parent cannot stop them, and a child
blocked on a pipe would wait forever: on Linux the kernel is asked to kill each child when its parent dies. A
SIGTERM or SIGHUP (a CI job cancelled, a terminal closed) becomes a KeyboardInterrupt in the parent, so that
scratch folders are removed and children stopped on the way out, as after Ctrl-C.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
UNWINDING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def die_with_parent(parent: int) -> None:
    """In a forked child: be killed when `parent` dies, and leave interruptions to the parent to handle."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent stops the children
    for number in UNWINDING_SIGNALS:
        signal.signal(number, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request above was made
        os._exit(1)


def _unwind(number: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(number).name)


@contextmanager
def signals_unwind() -> Iterator[None]:
    """SIGTERM and SIGHUP raise KeyboardInterrupt in the main thread while the block runs."""
    previous = {number: signal.signal(number, _unwind) for number in UNWINDING_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
