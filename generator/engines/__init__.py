"""Engines: the thin shells that hand the pages to a site generator (MkDocs, ProperDocs), serve them, and pack
the offline bundle. The only part of the package that imports an engine."""
