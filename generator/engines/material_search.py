"""Material's search plugin, its page step done the same, faster.

On every page, Material's search (`SearchPlugin.on_page_context`) adds the page's entries to the index, then
removes the page's `data-search-*` attributes with `re.sub(r"\\s?data-search-\\w+=...")`. That expression starts with
an optional space, so `re` tries it at every position of the page: 45 ms for a runbook of 1.6 MB (of a catalogue of
5,000 tasks), six times over in the live preview's pass after a title edit, and again for every page of a build.

The same expression without its leading `\\s?` starts with plain text, which `re` finds by looking for the text
(2 ms on the same page). Its matches, left to right, are Material's, less the one space before each that Material's
takes where there is one (a match ends with a quote, so that space is never part of the match before): the scrub
here removes each match and that space. The replacement is made only where Material's handler is the one this was
read from (the names its code uses, and its expression, say so): another version's is left as it is.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig

#: The names Material's handler uses (read from 9.8): its enabled flag, the index's entry step, and the `re.sub` on
#: the page's content. A handler that uses others does something else, and is left alone.
_HANDLER_NAMES = ("config", "enabled", "search_index", "add_entry_from_context", "re", "sub", "content")
#: Material's expression, which its handler must hold; the same without its leading `\s?`; and that `\s`.
_MATERIALS = r"\s?data-search-\w+=\"[^\"]+\""
_REMOVED = re.compile(_MATERIALS.removeprefix("\\s?"))
_SPACE = re.compile(r"\s")


def speed_up_search_scrub(config: MkDocsConfig) -> bool:
    """Replaces Material's search handler of the page context event by one that does the same with the faster
    scrub, where it is the handler this module knows; returns whether it did (there is one search plugin)."""
    try:
        from material.plugins.search.plugin import SearchPlugin
    except ImportError:  # another theme, without Material installed
        return False
    original = SearchPlugin.on_page_context
    code = original.__code__
    if code.co_names != _HANDLER_NAMES or _MATERIALS not in code.co_consts:
        return False
    handlers = config.plugins.events["page_context"]
    for position, handler in enumerate(handlers):
        search = getattr(handler, "__self__", None)
        if isinstance(search, SearchPlugin) and getattr(handler, "__func__", None) is original:
            faster = handlers[position] = _faster_handler(search)
            origins = getattr(config.plugins, "_event_origins", None)  # what MkDocs names in an error's message
            if isinstance(origins, dict) and handler in origins:
                origins[faster] = origins[handler]
            return True
    return False


def _faster_handler(search: Any) -> Any:
    def on_page_context(context: Any, *, page: Any, config: Any, nav: Any) -> Any:
        if not search.config.enabled:
            return None
        search.search_index.add_entry_from_context(page)  # reads the attributes first: they leave sections out
        page.content = scrubbed(page.content)
        return None

    return on_page_context


def scrubbed(content: str) -> str:
    """`re.sub(_MATERIALS, "", content)`, by a scan for the text every match holds."""
    parts: list[str] = []
    kept_from = 0
    for found in _REMOVED.finditer(content):
        start = found.start()
        if start > kept_from and _SPACE.match(content, start - 1):
            start -= 1  # the space Material's `\s?` takes
        parts.append(content[kept_from:start])
        kept_from = found.end()
    if not parts:
        return content
    parts.append(content[kept_from:])
    return "".join(parts)
