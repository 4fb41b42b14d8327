"""`playbook bundle`: the site as one zip that opens from disk, searches, and asks the network for nothing.

The site is built in MkDocs with Material's offline plugin (links that end in `.html`, the search index as a
script) into a scratch folder, link-checked as pages opened from disk, and only then zipped. The zip is written
beside its target and renamed over it, so a failure leaves no partial zip and an existing one untouched; its
entries have fixed order, times and permissions, so the same commit gives the same bytes.
"""

from __future__ import annotations

import os
import tempfile
import time
import zipfile
from pathlib import Path

from generator.engines.site import reproducible_epoch, run_build, site_sources
from generator.system.atomic import remove_stale, scratch_prefix
from generator.system.confine import refuse_output

SCRATCH = "playbook-bundle-"

#: Files a server would use and a folder on disk cannot: the 404 page links from the site's root URL.
SERVER_ONLY = ("404.html", "sitemap.xml", "sitemap.xml.gz")
EARLIEST_ZIP_TIME = 315_532_800  # 1980-01-01: a zip cannot record anything earlier


def default_bundle_path(version: str) -> Path:
    return Path("dist") / f"partner-playbook-{version}-offline.zip"


def build_bundle(config_file: Path, output: Path, *, verbose: bool = False) -> Path:
    root = config_file.resolve().parent
    refuse_output(
        "--output", output, root, site_sources(config_file), "a file outside the sources, such as dist/playbook.zip"
    )
    # What a killed bundle left: its scratch site, and its unfinished zip
    remove_stale(Path(tempfile.gettempdir()), SCRATCH)
    remove_stale(output.absolute().parent, f".{output.name}.", ".partial")
    epoch = int(reproducible_epoch(root))
    os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
    os.environ["OFFLINE"] = "true"  # read by mkdocs.yml to enable Material's offline plugin
    try:
        with tempfile.TemporaryDirectory(prefix=f"{SCRATCH}{os.getpid()}-") as scratch:
            site = Path(scratch) / "site"
            run_build(config_file, site, verbose=verbose, offline=True)
            for name in SERVER_ONLY:
                (site / name).unlink(missing_ok=True)
            write_zip(site, output, folder=output.stem, epoch=epoch)
    finally:
        os.environ.pop("OFFLINE", None)
    return output


def write_zip(source: Path, output: Path, *, folder: str, epoch: int) -> None:
    """Zip `source` under one top folder, byte-for-byte the same for the same files; atomically."""
    output.parent.mkdir(parents=True, exist_ok=True)
    stamp = _zip_time(epoch)
    handle, partial = tempfile.mkstemp(prefix=scratch_prefix(output.name), suffix=".partial", dir=output.parent)
    os.close(handle)
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
            for path in sorted(p for p in source.rglob("*") if p.is_file()):
                entry = zipfile.ZipInfo(f"{folder}/{path.relative_to(source).as_posix()}", date_time=stamp)
                entry.external_attr = 0o644 << 16
                entry.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(entry, path.read_bytes(), compresslevel=9)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(partial, 0o666 & ~umask)  # mkstemp makes the file private; a zip to share should not be
        os.replace(partial, output)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def _zip_time(epoch: int) -> tuple[int, int, int, int, int, int]:
    moment = time.gmtime(max(epoch, EARLIEST_ZIP_TIME))
    return (moment.tm_year, moment.tm_mon, moment.tm_mday, moment.tm_hour, moment.tm_min, moment.tm_sec & ~1)
