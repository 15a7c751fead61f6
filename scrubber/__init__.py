"""scrubber: an X12 837P (005010X222A1) claim scrubber for HCPCS L4386 walking boots.

The stable Python API (``docs/api.md``) is what ``__all__`` lists; it is
imported on first use, so ``import scrubber`` stays cheap for the CLI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrubber.version import __version__

if TYPE_CHECKING:
    from scrubber.api import list_rules, read_claims, scrub
    from scrubber.claims.model import Claim, ServiceLine
    from scrubber.config import Config, ConfigError, load_config
    from scrubber.explain import fix_for
    from scrubber.findings import Finding, Severity
    from scrubber.report import ClaimResult, FileResult, Report
    from scrubber.rules import Rule
    from segments.errors import X12InputError

_PUBLIC = {
    "scrub": "scrubber.api", "read_claims": "scrubber.api", "list_rules": "scrubber.api",
    "Config": "scrubber.config", "ConfigError": "scrubber.config", "load_config": "scrubber.config",
    "Finding": "scrubber.findings", "Severity": "scrubber.findings",
    "Claim": "scrubber.claims.model", "ServiceLine": "scrubber.claims.model",
    "Report": "scrubber.report", "FileResult": "scrubber.report", "ClaimResult": "scrubber.report",
    "Rule": "scrubber.rules", "fix_for": "scrubber.explain", "X12InputError": "segments.errors",
}

__all__ = [  # the names of _PUBLIC, spelled out for linters and type checkers (a test keeps them equal)
    "__version__", "scrub", "read_claims", "list_rules", "Config", "ConfigError", "load_config", "Finding",
    "Severity", "Claim", "ServiceLine", "Report", "FileResult", "ClaimResult", "Rule", "fix_for", "X12InputError",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module the first time it is asked for (PEP 562)."""
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'scrubber' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
