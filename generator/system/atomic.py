"""Replace an output all at once, so a failed run never leaves half of one behind.

Scratch files and folders carry the ID of the process that made them. A run that was killed outright
(SIGKILL, a power cut) cannot remove its own; the next run removes those whose process is gone.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def scratch_prefix(name: str) -> str:
    """The start of this process's scratch names for `name`: `.site.1234.` (then random, then `.partial`)."""
    return f".{name}.{os.getpid()}."


@contextmanager
def replaced_directory(target: Path) -> Iterator[Path]:
    """Yields an empty scratch folder beside `target`; on success it becomes `target`, on failure it vanishes.

    The scratch folder is a sibling so the final rename stays on one file system and is atomic; an existing
    `target` is kept untouched until the new one is complete.
    """
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(target.parent, f".{target.name}.", ".partial")
    scratch = Path(tempfile.mkdtemp(prefix=scratch_prefix(target.name), suffix=".partial", dir=target.parent))
    try:
        yield scratch
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    retired = target.with_name(f".{target.name}.old")
    shutil.rmtree(retired, ignore_errors=True)
    if target.exists():
        target.rename(retired)
    scratch.rename(target)
    shutil.rmtree(retired, ignore_errors=True)


def remove_stale(folder: Path, prefix: str, suffix: str = "") -> None:
    """Removes the scratch files and folders `{prefix}{pid}.…{suffix}` in `folder` whose process has ended."""
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        name = path.name
        if not (name.startswith(prefix) and name.endswith(suffix)):
            continue
        pid = name[len(prefix) :].split(".", 1)[0].split("-", 1)[0]
        if pid.isdigit() and not _running(int(pid)):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True
