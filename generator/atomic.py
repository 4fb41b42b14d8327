"""Replace an output folder all at once, so a failed run never leaves half of one behind."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replaced_directory(target: Path) -> Iterator[Path]:
    """Yields an empty scratch folder beside `target`; on success it becomes `target`, on failure it vanishes.

    The scratch folder is a sibling so the final rename stays on one file system and is atomic; an existing
    `target` is kept untouched until the new one is complete.
    """
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
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
