"""The built-in L4386 rule pack: an explicit list of family modules.

Importing this package registers every rule in :data:`REGISTRY`, keyed by code,
in the catalogue order of the contract (WB, KX, MOD, DOC, AUTH, CLM, then CMS): the import
order below *is* that order, so it is kept by hand (isort is told to leave it).
The rules of installed plugins follow (:mod:`scrubber.rules.plugins`).

For a plugin's author, the stable names are :func:`rule` (register a check),
:class:`Hit` (what a check yields), :class:`Context`, :class:`Option` and
:class:`Rule`.
"""

from __future__ import annotations

# isort: off
from scrubber.rules import walking_boot  # noqa: F401  (WB)
from scrubber.rules import liability  # noqa: F401  (KX)
from scrubber.rules import modifiers  # noqa: F401  (MOD)
from scrubber.rules import documentation  # noqa: F401  (DOC)
from scrubber.rules import authorization  # noqa: F401  (AUTH)
from scrubber.rules import claim  # noqa: F401  (CLM)
from scrubber.rules import cms_data  # noqa: F401  (CMS)
# isort: on
from scrubber.rules.base import REGISTRY, Context, Hit, Option, Rule, rule
from scrubber.rules.plugins import load_plugins

load_plugins()

__all__ = ["REGISTRY", "Context", "Hit", "Option", "Rule", "rule"]
