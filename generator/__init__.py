"""Partner Playbook: structured playbook data, validated and rendered into a cross-linked site."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("partner-playbook")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"
