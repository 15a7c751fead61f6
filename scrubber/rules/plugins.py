"""Rules from other packages: the ``scrubber.rules`` entry point group.

A payer's own edits live in their own package.  It declares, in its
``pyproject.toml``::

    [project.entry-points."scrubber.rules"]
    acme = "acme_edits.rules"

and the module named there registers its checks with
:func:`scrubber.rules.rule`, under a family of its own (``ACME001``; the
built-in families WB, KX, MOD, DOC, AUTH and CLM are refused).  Installed
plugins are loaded after the built-in rules, in entry-point name order; their
rules are off until a profile enables them (``enable = ["ACME*"]``).

A plugin that fails to load registers nothing; the failure is kept in
:data:`PROBLEMS`, and :func:`scrubber.config.load_config` turns it into a
configuration error (exit 2): a scrubber that silently ran without a payer's
edits would accept claims that payer rejects.
"""

from __future__ import annotations

import importlib.machinery
import os
import re
import sys
from dataclasses import replace
from typing import TYPE_CHECKING

from scrubber.rules.base import BUILTIN_FAMILIES, REGISTRY

if TYPE_CHECKING:
    from importlib.metadata import EntryPoints

GROUP = "scrubber.rules"
_FAMILY = re.compile(r"[A-Z]+")

#: One line for each plugin that could not be loaded.
PROBLEMS: list[str] = []


def load_plugins() -> list[str]:
    """Load every installed rule plugin; the problems, one line each (also kept in :data:`PROBLEMS`)."""
    problems: list[str] = []
    for ep in sorted(_entry_points() if may_be_installed() else (), key=lambda e: (e.name, e.value)):
        where = f"rule plugin {ep.name!r} ({ep.value})"
        before = set(REGISTRY)
        try:
            ep.load()
        except Exception as exc:  # noqa: BLE001 - any failure of foreign code is reported, not raised
            problems.append(f"{where} failed to load: {type(exc).__name__}: {exc}")
            _drop(set(REGISTRY) - before)
            continue
        added = [code for code in REGISTRY if code not in before]
        builtin = [code for code in added if _family(code) in BUILTIN_FAMILIES]
        if builtin:
            problems.append(f"{where} registers {', '.join(builtin)} in a built-in family"
                            f" ({', '.join(BUILTIN_FAMILIES)}); a plugin's rules need a prefix of their own")
            _drop(set(added))
            continue
        for code in added:
            REGISTRY[code] = replace(REGISTRY[code], origin=ep.name)
    PROBLEMS[:] = problems
    return problems


def _entry_points() -> EntryPoints:
    from importlib.metadata import entry_points

    return entry_points(group=GROUP)


def may_be_installed() -> bool:
    """False when no distribution on ``sys.path`` can declare a plugin: no ``entry_points.txt`` of a
    ``*.dist-info`` or ``*.egg-info`` folder names the group, no zip is on the path, and no import hook but
    Python's own finds distributions.  Then :mod:`importlib.metadata`, a fifth of every command's start-up
    (its email and zip modules), is not imported; otherwise it answers, as before."""
    if any(hasattr(finder, "find_distributions") and finder is not importlib.machinery.PathFinder
           for finder in sys.meta_path):
        return True
    needle = GROUP.encode()
    for entry in sys.path:
        folder = entry or "."
        try:
            names = os.listdir(folder)
        except OSError:
            if os.path.isfile(folder):  # a zip (an egg, a zipapp): importlib.metadata reads it
                return True
            continue
        for name in names:
            if name.lower().endswith((".dist-info", ".egg-info")):
                try:
                    with open(os.path.join(folder, name, "entry_points.txt"), "rb") as declared:
                        if needle in declared.read():
                            return True
                except OSError:  # none (or an egg-info file, not a folder)
                    continue
    return False


def _family(code: str) -> str:
    match = _FAMILY.match(code)
    return match.group() if match else ""


def _drop(codes: set[str]) -> None:
    for code in codes:
        del REGISTRY[code]
