"""Which engine builds the site: MkDocs, ProperDocs (a maintained fork of MkDocs 1.x that runs its plugins), or
Zensical (the successor Material for MkDocs names, which reads mkdocs.yml but runs no MkDocs plugin).

MkDocs 1.x gets no more releases and Material for MkDocs announces its own end of life, so the `playbook`
command can drive any of them from the same mkdocs.yml. ProperDocs serves `mkdocs.*` imports from its own
modules once `properdocs.replacement` is imported, so the choice must be made before anything imports MkDocs;
`activate` does it. Zensical builds the site source `playbook generate` writes (see zensical_shell).
"""

from __future__ import annotations

import logging
import sys
from importlib.metadata import PackageNotFoundError, version
from importlib.util import find_spec

from generator.errors import UsageError

#: In the order the default is chosen: MkDocs first while it is installed (a dependency of Material, and so of
#: this package), then the others.
ENGINES = ("mkdocs", "properdocs", "zensical")
#: How to install each one: the package's extras.
INSTALL = {
    "mkdocs": "pip install partner-playbook",
    "properdocs": "pip install 'partner-playbook[properdocs]'",
    "zensical": "pip install 'partner-playbook[zensical]'",
}
#: Engines that run our MkDocs plugin (the others build the site source that `playbook generate` writes).
RUN_PLUGINS = ("mkdocs", "properdocs")
_chosen: list[str] = []


def installed() -> list[str]:
    return [name for name in ENGINES if find_spec(name) is not None]


def default_engine() -> str:
    return next(iter(installed()), "mkdocs")


def activate(name: str) -> None:
    """Makes `name` the engine behind every `mkdocs` import of this process; a UsageError if it cannot be."""
    if name not in installed():
        raise UsageError(f"--engine {name}: {name} is not installed; install it with {INSTALL[name]}")
    loaded = sys.modules.get("mkdocs")
    if name in RUN_PLUGINS and loaded is not None and loaded.__name__ != name:
        raise UsageError(f"--engine {name}: {loaded.__name__} is already loaded in this process")
    _chosen[:] = [name]
    if name == "properdocs":
        import properdocs.replacement  # noqa: F401  (from here on, `import mkdocs.x` gives `properdocs.x`)

        # Plugins and themes log to "mkdocs.*": under the fork's logger, so that strict mode counts their warnings.
        logging.getLogger("mkdocs").parent = logging.getLogger("properdocs")


def active_engine() -> str:
    """The engine chosen by `activate`; else the one that `import mkdocs` gives in this process."""
    if _chosen:
        return _chosen[0]
    module = sys.modules.get("mkdocs")
    return module.__name__ if module is not None else "mkdocs"


def logger_names(name: str) -> list[str]:
    """The loggers whose messages are the engine's: its own, and MkDocs' name that plugins log under."""
    return ["mkdocs"] if name == "mkdocs" else [name]


def notice(name: str) -> str:
    """One line: the engine that builds, the others and how to switch; Material's end of life where it applies."""
    others = [other for other in ENGINES if other != name]
    ready = [other for other in others if other in installed()]
    switch = "; ".join(
        f"--engine {other}" + ("" if other in ready else f" (after {INSTALL[other]})") for other in others
    )
    return f"engine: {name} {_version(name)}; {_theme_notice(name)}other engines: {switch} (see the README)"


def _theme_notice(name: str) -> str:
    # Material prints its own end-of-life notice only when run as `mkdocs`; this line passes it on, shortly.
    # Zensical builds with its own theme, not Material's.
    if name not in RUN_PLUGINS or find_spec("material") is None:
        return ""
    return f"Material for MkDocs {_version('mkdocs-material')} announces its end of life; "


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "(version unknown)"
