"""The project's mkdocs.yml for the site source `playbook generate` writes: the project's settings, without our
plugin, with what the plugin adds while it builds (SiteExtras) written out.

Edited line by line, so its comments and `!ENV` tags stay as they are (and no YAML library need know them).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from generator.pages.generate import SiteExtras

#: Top-level settings the site source sets itself, replacing the project's.
REPLACED = ("docs_dir", "copyright", "edit_uri", "edit_uri_template")


class _PlainLoader(yaml.SafeLoader):
    """mkdocs.yml as plain data: a tagged value (`!ENV [OFFLINE, false]`) is read as what it tags."""


def _untagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    return loader.construct_scalar(node)  # type: ignore[arg-type]


_PlainLoader.add_multi_constructor("!", _untagged)


def read_settings(text: str) -> dict[str, Any]:
    """The settings of a mkdocs.yml, tags read as plain values; {} for a file that is not a mapping."""
    try:
        settings = yaml.load(text, Loader=_PlainLoader)
    except yaml.YAMLError:
        return {}  # the engine itself says what is wrong with it, at its line
    return settings if isinstance(settings, dict) else {}


def plain_config(text: str, extras: SiteExtras, *, docs: str, theme: str, hooks: list[str]) -> str:
    """The project's mkdocs.yml without the `- playbook:` plugin entry (and its options), building `docs` with
    `theme` as Material's custom_dir, the footer, scripts, stylesheets and polyfills of `extras`, MkDocs `hooks`,
    and no edit links (the pages are generated: the files to edit are the data and the docs folder)."""
    lines = _without_plugin(text.splitlines(keepends=True))
    for key in REPLACED:
        lines = _without_key(lines, key)
    lines = [line for line in lines if not line.lstrip(" ").startswith("custom_dir:")]
    at_theme = next((n for n, line in enumerate(lines) if line.rstrip() == "theme:"), None)
    if at_theme is not None:
        lines.insert(at_theme + 1, f"  custom_dir: {theme}  # the Material override the plugin adds\n")
    lines = _with_items(lines, "extra_javascript", list(extras.javascript))
    lines = _with_items(lines, "extra_css", list(extras.stylesheets))
    lines = _with_items(lines, "hooks", hooks)
    lines = _with_theme_extra(lines, extras)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    return "".join(lines) + (
        f"docs_dir: {docs}\n"
        f"copyright: {json.dumps(extras.footer, ensure_ascii=False)}\n"
        "# The pages are generated: the files to edit are the project's data and docs folder, not these.\n"
        'edit_uri: ""\n'
    )


#: Settings a site opened from disk must not have: the repository widget's script asks api.github.com for stars.
ONLINE_ONLY = ("repo_url", "repo_name")


def without_settings(text: str, keys: tuple[str, ...]) -> str:
    """The configuration without the top-level settings `keys` (their indented lines too)."""
    lines = text.splitlines(keepends=True)
    for key in keys:
        lines = _without_key(lines, key)
    return "".join(lines)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _block_end(lines: list[str], start: int) -> int:
    """Just after the lines that belong to the top-level key on line `start`: those indented or blank after it."""
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > 0 or lines[end].startswith("-")):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():  # blank lines before the next key stay
        end -= 1
    return end


def _top_level(lines: list[str], key: str) -> int | None:
    return next((n for n, line in enumerate(lines) if line.startswith(f"{key}:")), None)


def _without_key(lines: list[str], key: str) -> list[str]:
    start = _top_level(lines, key)
    return lines if start is None else lines[:start] + lines[_block_end(lines, start) :]


def _without_plugin(lines: list[str]) -> list[str]:
    out: list[str] = []
    plugin_indent: int | None = None
    for line in lines:
        if plugin_indent is not None:
            if line.strip() and _indent(line) <= plugin_indent:
                plugin_indent = None
            else:
                continue  # an option of the playbook plugin, such as `data_dir: data`
        if line.strip() in ("- playbook:", "- playbook"):
            plugin_indent = _indent(line)
            continue
        out.append(line)
    return out


def _with_items(lines: list[str], key: str, items: list[str]) -> list[str]:
    """The top-level list `key` with `items` added after the project's own; the list made if there is none."""
    start = _top_level(lines, key)
    written = [f"  - {json.dumps(item)}\n" for item in items]
    if start is None and not items:
        return lines
    if start is None:
        return [*lines, f"{key}:\n", *written]
    end = _block_end(lines, start)
    own = read_settings("".join(lines[start:end])).get(key) or []
    if not isinstance(own, list):
        own = [own]
    merged = [f"  - {json.dumps(item, ensure_ascii=False)}\n" for item in own] + written
    return [*lines[:start], f"{key}:\n", *merged, *lines[end:]]


def _with_theme_extra(lines: list[str], extras: SiteExtras) -> list[str]:
    """Material's `extra.polyfills` and `extra.homepage` set where the project's `extra` does not set them; its
    other `extra` settings kept."""
    wanted: dict[str, object] = {"polyfills": list(extras.polyfills), "homepage": extras.homepage}
    start = _top_level(lines, "extra")
    own = read_settings("".join(lines[start : _block_end(lines, start)])).get("extra") if start is not None else {}
    added = {key: value for key, value in wanted.items() if value and key not in (own or {})}
    if not added:
        return lines
    if start is None:
        lines, start = [*lines, "extra:\n"], len(lines)
    indented = next((line for line in lines[start + 1 :] if line.strip()), "")
    pad = " " * (_indent(indented) or 2)  # as the project's `extra` settings are indented
    written = [f"{pad}{key}: {json.dumps(value)}\n" for key, value in added.items()]
    return [*lines[: start + 1], *written, *lines[start + 1 :]]
