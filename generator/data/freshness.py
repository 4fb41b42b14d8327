"""`playbook validate --max-age DAYS`: which facts rest on a source page nobody has compared with the data lately.

A warning, not an error: the data is still valid, but a maintainer should reread the source page, update what
changed, and set its `reviewed` date.
"""

from __future__ import annotations

import datetime
from collections import Counter

from generator.data.loader import LoadedData
from generator.data.model import COLLECTIONS
from generator.errors import Problem


def stale_sources(loaded: LoadedData, max_age_days: int, today: datetime.date) -> list[Problem]:
    cited = Counter(
        page
        for collection in COLLECTIONS
        for record in loaded.catalogue.records(collection.name)
        for page in record.get("source_pages", [])
        if isinstance(page, str)
    )
    problems = []
    for index, page in enumerate(loaded.catalogue.records("source_pages")):
        reviewed = _date(page.get("reviewed"))
        if reviewed is None and page.get("reviewed") is not None:
            continue  # written but not a date: validation reports it at the value, not as "never reviewed"
        age = (today - reviewed).days if reviewed else None
        if age is not None and age <= max_age_days:
            continue
        where = loaded.locate("source_pages", index, ("reviewed",) if reviewed else ())
        when = f"last reviewed {reviewed.isoformat()}, {age} days ago" if reviewed else "never reviewed"
        problems.append(
            Problem(
                where.path,
                where.line,
                where.column,
                f"source page '{page.get('id')}' was {when} (limit: {max_age_days} days); "
                f"{cited.get(page.get('id'), 0)} record(s) rely on it",
                "compare the page with the data, update what changed, and set `reviewed:` to today's date",
                severity="warning",
            )
        )
    return problems


def _date(value: object) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None  # the schema reports a malformed date
