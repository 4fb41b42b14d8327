"""A hostile copy of the shipped data: every free-text field of every collection, and the glossary, filled with
strings that try to become markup, scripts, links or formulas wherever they land. The schemas decide which fields
are free text, so a field added later is covered too; IDs, references, dates and URLs keep their forms (a URL
stays https://, one of them shaped to break out of a Markdown link).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from generator.data.model import COLLECTIONS
from generator.data.schema_check import read_schema

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "'><img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "[x](javascript:alert(1))",
    "[y]: javascript:alert(1)",
    "![z](data:text/html,<script>alert(1)</script>)",
    "<a href=javascript:alert(1)>a</a>",
    '!!! danger "Pwned"',
    "*[HTML]: <img src=x onerror=alert(1)>",
    "`code` ``more``",
    "{: onclick=alert(1) }",
    "| table | pipe |",
    "<!-- comment",
    "]]> <![CDATA[",
    "line one\nline two\n\n# heading\n",
    "=====",
    "-----",
    "1. one",
    "> quote",
    "    indented code",
    "<div markdown=1>*x*</div>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<style>body{display:none}</style>",
    "</title><script>alert(1)</script>",
    "{{ 7*7 }} {% raw %}",
    '=HYPERLINK("https://example.com","x")',
    "+1+1",
    "@SUM(A1)",
    "-1+1",
    "Ends in ##",
    "back\\slash",
]
#: Markup a payload would produce if it escaped: none of it may appear in a built page.
HOSTILE_URL = "https://example.com/x)](javascript:alert(1)"


def hostile_value(index: int, max_length: int | None = None) -> str:
    """Every other field holds one payload alone (block syntax such as `!!! danger "x"` needs a line to itself);
    the rest hold every payload, starting at a different one each time, so each payload also starts a value."""
    if index % 2:
        return PAYLOADS[index // 2 % len(PAYLOADS)]
    index //= 2
    rotated = PAYLOADS[index % len(PAYLOADS) :] + PAYLOADS[: index % len(PAYLOADS)]
    value = " ".join(rotated)
    while max_length is not None and len(value) > max_length and len(rotated) > 1:
        rotated.pop()
        value = " ".join(rotated)
    return value


def hostile_term(index: int) -> str:
    """A glossary term from the payloads, in the form the schema allows (no backslash, brackets or line breaks)."""
    payload = PAYLOADS[index % len(PAYLOADS)]
    words = re.sub(r"[\\\[\]]", "", payload).split()
    return " ".join([f"T{index}", *words])


def write_hostile_data(source: Path, target: Path) -> None:
    """The data files of `source`, made hostile, into `target` (each keeping its first line, the schema line)."""
    target.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1_000_000))
    for path in sorted(source.glob("*.yml")):
        text = path.read_text(encoding="utf-8")
        document = yaml.safe_load(text)
        stem = path.stem
        schema = read_schema(f"{stem}.schema.json")
        for collection in (c for c in COLLECTIONS if c.file == stem):
            item_schema = schema["properties"][collection.name]["items"]
            document[collection.name] = [
                _hostile(record, item_schema, schema, counter) for record in document[collection.name]
            ]
            if collection.name == "glossary":
                longest = _resolve(item_schema["properties"]["expansion"], schema).get("maxLength")
                for number, entry in enumerate(document["glossary"]):
                    entry["term"] = hostile_term(number)
                    entry["expansion"] = hostile_value(number, longest)  # the image payload alone at 3
        first_line = text.splitlines()[0]
        body = yaml.dump(document, Dumper=_NoAliases, allow_unicode=True, sort_keys=False, width=10_000)
        (target / path.name).write_text(first_line + "\n" + body, encoding="utf-8")


def _hostile(value: Any, schema: dict[str, Any], root: dict[str, Any], counter) -> Any:
    schema = _resolve(schema, root)
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        # optional text fields too, so every field a contributor could fill is hostile
        missing = {
            key: "" for key, field in properties.items() if key not in value and _resolve(field, root).get("x-text")
        }
        return {
            key: _hostile(item, properties.get(key, {}), root, counter) for key, item in {**value, **missing}.items()
        }
    if isinstance(value, list):
        items = schema.get("items", {})
        return [_hostile(item, items, root, counter) for item in value]
    if isinstance(value, str) and schema.get("x-text"):
        return hostile_value(next(counter), schema.get("maxLength"))
    if isinstance(value, str) and schema.get("x-url") and value.startswith("https://"):
        return HOSTILE_URL
    return value


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """The schema with its `$ref` followed (to common definitions or the file's own), marked as free text or a
    URL when it is the common `text` or `url` definition."""
    reference = schema.get("$ref")
    if not reference:
        return schema
    document, _, pointer = reference.partition("#")
    base = read_schema(document) if document else root
    if not document and pointer.strip("/").split("/")[-1] not in root.get("$defs", {}):
        base = read_schema("common.schema.json")  # a common definition referring to another of its own
    target = base
    for part in pointer.strip("/").split("/"):
        target = target[part]
    resolved = {**_resolve(target, base), **{key: value for key, value in schema.items() if key != "$ref"}}
    if reference.endswith(("/$defs/text", "/$defs/name")) and "pattern" not in schema:  # own rule: value kept
        resolved["x-text"] = True
    if reference.endswith("/$defs/url"):
        resolved["x-url"] = True
    return resolved


class _NoAliases(yaml.SafeDumper):
    """Repeated values written out in full: the validator caps aliases, and a reader expects none."""

    def ignore_aliases(self, data: Any) -> bool:
        return True
