"""Data: reading the YAML safely, validating it against the schemas and the cross-record rules, and the
relations between records. Imports nothing of the site, the links or the engines."""
