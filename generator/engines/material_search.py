"""Material's search plugin, spared a step that changes nothing on most pages.

On every page, Material's search (`SearchPlugin.on_page_context`) adds the page's entries to the index, then
removes the page's `data-search-*` attributes with `re.sub(r"\\s?data-search-\\w+=...")`. That expression tries a
match at every space of the page: 45 ms on a runbook of 1.6 MB (of a catalogue of 5,000 tasks) that holds no such
attribute, six times over in the live preview's pass after a title edit, and again for every page of a build.

Every match of that expression holds, from its `data-search-` on, a match of the same expression without its leading
`\\s?`; and that one, which starts with plain text, Python's `re` finds by looking for the text (1 ms on the same
page). Where it finds none, Material's expression can match nothing and leaves the HTML as it is, so its handler is
replaced by one that runs the rest of it alone; a page where it finds one goes to Material's own handler. (A
runbook's notices are marked `data-search-exclude` with no value: the expression leaves them as they are, too.) The
replacement is made only where Material's handler is the one this was read from (the names its code uses say so):
another version's is left as it is.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig

#: The names Material's handler uses (read from 9.8): its enabled flag, the index's entry step, and the `re.sub` on
#: the page's content. A handler that uses others does something else, and is left alone.
_HANDLER_NAMES = ("config", "enabled", "search_index", "add_entry_from_context", "re", "sub", "content")
#: Material's expression, which its handler must hold; and the same without its leading `\s?`: found in every match
#: of Material's, and found fast.
_MATERIALS = r"\s?data-search-\w+=\"[^\"]+\""
_REMOVED = re.compile(_MATERIALS.removeprefix("\\s?"))


def spare_search_scrub(config: MkDocsConfig) -> bool:
    """Replaces Material's search handler of the page context event by one that skips its needless step, where it
    is the handler this module knows; returns whether it did (at most one: there is one search plugin)."""
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
            spared = handlers[position] = _spared(search, handler)
            origins = getattr(config.plugins, "_event_origins", None)  # what MkDocs names in an error's message
            if isinstance(origins, dict) and handler in origins:
                origins[spared] = origins[handler]
            return True
    return False


def _spared(search: Any, handler: Any) -> Any:
    def on_page_context(context: Any, *, page: Any, config: Any, nav: Any) -> Any:
        if _REMOVED.search(page.content):
            return handler(context, page=page, config=config, nav=nav)
        if search.config.enabled:
            search.search_index.add_entry_from_context(page)
        return None

    return on_page_context
