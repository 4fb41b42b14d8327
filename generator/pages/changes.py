"""`playbook diff`: what a change does to the playbook, not only which lines moved.

The data at two git revisions (or a revision and the working tree) is loaded and validated as usual; entities are
matched by ID and compared field by field; both catalogues are rendered and the pages whose Markdown differs are
listed, so a reviewer sees that editing one task also changes its role's and its prerequisites' pages.
"""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from generator.data.loader import show_value
from generator.data.model import COLLECTIONS, Catalogue
from generator.data.validate import load_valid_catalogue
from generator.errors import UsageError, one_line
from generator.pages.escape import escape_markdown
from generator.pages.render import SiteRenderer


@dataclass(frozen=True)
class EntityChange:
    collection: str
    record_id: object
    change: str  # "added", "removed" or "changed"
    fields: tuple[str, ...] = ()
    #: (old, new) of each changed field, in the order of `fields`; absent is None.
    values: tuple[tuple[object, object], ...] = ()

    def value_changes(self) -> list[tuple[str, object, object]]:
        """(field, old, new) of each changed field."""
        return [(name, old, new) for name, (old, new) in zip(self.fields, self.values, strict=True)]


@dataclass
class Changes:
    entities: list[EntityChange] = field(default_factory=list)
    pages: list[tuple[str, str]] = field(default_factory=list)  # (page, "added" / "removed" / "changed")

    def count(self, change: str) -> int:
        return sum(entity.change == change for entity in self.entities)


def catalogue_at(repository: Path, revision: str | None, data_dir: str = "data") -> Catalogue:
    """The validated catalogue of `data_dir` at a git revision, or in the working tree when it is None."""
    if revision is None:
        return load_valid_catalogue(repository / data_dir)
    result = subprocess.run(
        ["git", "archive", "--format=tar", revision, "--", data_dir],
        cwd=repository,
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        raise UsageError(f"git cannot read {data_dir}/ at '{revision}': {result.stderr.decode().strip()}")
    with tempfile.TemporaryDirectory() as scratch, tarfile.open(fileobj=io.BytesIO(result.stdout)) as archive:
        if hasattr(tarfile, "data_filter"):  # refuse links and absolute paths where Python can
            archive.extractall(scratch, filter="data")
        else:  # pragma: no cover - Python before 3.10.12; git archive writes plain files only
            archive.extractall(scratch)
        return load_valid_catalogue(Path(scratch) / data_dir)


def compare(base: Catalogue, head: Catalogue) -> Changes:
    changes = Changes()
    for collection in COLLECTIONS:
        before, after = base.index(collection.name), head.index(collection.name)
        for record_id in after.keys() - before.keys():
            changes.entities.append(EntityChange(collection.name, record_id, "added"))
        for record_id in before.keys() - after.keys():
            changes.entities.append(EntityChange(collection.name, record_id, "removed"))
        for record_id in before.keys() & after.keys():
            old, new = before[record_id], after[record_id]
            differing = tuple(sorted(key for key in old.keys() | new.keys() if old.get(key) != new.get(key)))
            if differing:
                values = tuple((old.get(key), new.get(key)) for key in differing)
                changes.entities.append(EntityChange(collection.name, record_id, "changed", differing, values))
    order = {collection.name: n for n, collection in enumerate(COLLECTIONS)}
    changes.entities.sort(key=lambda e: (order[e.collection], e.change, str(e.record_id)))
    changes.pages = _page_changes(base, head)
    return changes


def _page_changes(base: Catalogue, head: Catalogue) -> list[tuple[str, str]]:
    before = {page.src_uri: page.markdown() for page in SiteRenderer(base).pages()}
    after = {page.src_uri: page.markdown() for page in SiteRenderer(head).pages()}
    pages = [(uri, "added") for uri in after.keys() - before.keys()]
    pages += [(uri, "removed") for uri in before.keys() - after.keys()]
    pages += [(uri, "changed") for uri in before.keys() & after.keys() if before[uri] != after[uri]]
    return sorted(pages)


def render_changes(changes: Changes, output_format: str, *, base: str, head: str) -> str:
    if output_format == "markdown":
        return _markdown(changes, base, head)
    if output_format == "json":
        entities = [
            {
                "collection": e.collection,
                "id": e.record_id,
                "change": e.change,
                "fields": list(e.fields),
                "values": {name: {"old": old, "new": new} for name, old, new in e.value_changes()},
            }
            for e in changes.entities
        ]
        pages = [{"page": page, "change": change} for page, change in changes.pages]
        return json.dumps({"entities": entities, "pages": pages}, indent=2, ensure_ascii=False) + "\n"
    lines = []
    for entity in changes.entities:
        lines.append(
            f"{_label(entity)}: {entity.change}{' (' + ', '.join(entity.fields) + ')' if entity.fields else ''}"
        )
        lines += [f"  {name}: {_shown(old)} → {_shown(new)}" for name, old, new in entity.value_changes()]
    lines += [f"page {page}: {change}" for page, change in changes.pages]
    lines.append(_summary(changes, base, head))
    return "\n".join(lines) + "\n"


#: A changed value longer than this is shortened: the line says what changed, the page diff shows it all.
MAX_SHOWN = 80


def _shown(value: object) -> str:
    """A value on one line, as YAML would write it, `(none)` when the field is absent, shortened if long."""
    if value is None:
        return "(none)"
    text = one_line(show_value(value))
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def _label(entity: EntityChange) -> str:
    from generator.data.model import COLLECTION_BY_NAME

    return f"{COLLECTION_BY_NAME[entity.collection].label} {entity.record_id}"


def _summary(changes: Changes, base: str, head: str) -> str:
    counts = ", ".join(f"{changes.count(kind)} {kind}" for kind in ("added", "removed", "changed"))
    return f"{base} → {head}: {counts}; {len(changes.pages)} page(s) change"


def _markdown(changes: Changes, base: str, head: str) -> str:
    out = ["### What this change does to the playbook", "", escape_markdown(_summary(changes, base, head)), ""]
    if changes.entities:
        out += ["| Change | Kind | ID | Fields |", "|---|---|---|---|"]
        for entity in changes.entities:
            kind = _label(entity).rsplit(" ", 1)[0]
            fields = "; ".join(
                f"{name}: {_shown(old)} → {_shown(new)}" for name, old, new in entity.value_changes()
            ) or ", ".join(entity.fields)
            out.append(
                f"| {entity.change} | {escape_markdown(kind)} | {escape_markdown(entity.record_id)} "
                f"| {escape_markdown(fields)} |"
            )
        out.append("")
    if changes.pages:
        out += [f"<details><summary>Pages whose content changes ({len(changes.pages)})</summary>", ""]
        out += [f"- `{page}` ({change})" for page, change in changes.pages]
        out += ["", "</details>", ""]
    return "\n".join(out)
