"""Pages: where each record lives and the site's pages as Markdown, rendered from the data through Jinja, with
their static files (`playbook generate`). Knows the data; knows no engine."""
