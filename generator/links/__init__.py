"""Links: reading links out of built HTML, checking them (inside the site and, when asked, outside), tracing a
page back to the record or file that made it, and reporting what was found. Knows no engine."""
