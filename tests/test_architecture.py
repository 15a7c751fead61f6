"""The layout of docs/architecture.md, held: what each folder may import, and no import circles.

Every import counts, at the top of a module or inside a function: a lazy import is still a
dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The scrubber and segments modules ``path`` imports (``from a import b`` counts as a and a.b)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
    return out


GRAPH = {_module(p): _imports(p) for top in ("scrubber", "segments") for p in (ROOT / top).rglob("*.py")}
ROOT_NAMES = {_name: sorted(d.removeprefix("scrubber.") for d in _deps if d.startswith("scrubber.")
                            and d.count(".") == 1 and d not in GRAPH) for _name, _deps in GRAPH.items()}
for _name, _deps in GRAPH.items():
    # ``from scrubber import ig`` imports the package scrubber.ig, not the API the root re-exports
    GRAPH[_name] = {d for d in _deps if d in GRAPH and d not in (_name, "scrubber")}


def _under(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


#: folder -> (what it may import besides itself, why)
RULES = {
    "segments": ((), "segments knows no claims: it reads and writes X12"),
    "scrubber.claims": (("segments",), "claims are built from segments and know no validation or rules"),
    "scrubber.ig": (("segments", "scrubber.claims", "scrubber.cachedir"),
                    "the implementation guide is judged without the rules or any output"),
    "scrubber.rules": (("segments", "scrubber.claims", "scrubber.findings", "scrubber.codesets", "scrubber.hcpcs",
                        "scrubber.npi", "scrubber.snip"), "rules are pure: they read a claim and never write output"),
    "scrubber.acks": (("segments", "scrubber.claims", "scrubber.findings", "scrubber.ig.errors", "scrubber.ig",
                       "scrubber.report", "scrubber.claimresult", "scrubber.rules", "scrubber.redact"),
                      "acknowledgments answer from the results; they judge nothing"),
    "scrubber.data": (("scrubber.pgconnect",), "the data store reads CMS files and answers lookups; it knows no"
                      " claims and judges nothing"),
    "scrubber.history": (("scrubber.claims", "scrubber.pgconnect"), "the claim history keeps and answers lines; it"
                         " judges nothing and writes no output"),
}


@pytest.mark.parametrize("folder", sorted(RULES))
def test_each_folder_imports_only_what_its_rule_allows(folder: str) -> None:
    allowed, why = RULES[folder]
    for module, deps in GRAPH.items():
        if not _under(module, folder):
            continue
        bad = sorted(d for d in deps if not _under(d, folder, *allowed))
        assert not bad, f"{module} imports {bad}: {why}"


def test_the_ways_in_do_not_import_each_other() -> None:
    ways_in = {"scrubber.cli": (), "scrubber.ingest": ("scrubber.cli",),
               "scrubber.harness": ("scrubber.cli", "scrubber.ingest")}
    for folder, forbidden in ways_in.items():
        for module, deps in GRAPH.items():
            if _under(module, folder):
                assert not [d for d in deps if _under(d, *forbidden)], f"{module} imports a way in"
    for module, deps in GRAPH.items():
        if not _under(module, "scrubber.cli", "scrubber.ingest", "scrubber.harness", "scrubber.formatters",
                      "scrubber.__main__"):
            assert not [d for d in deps if _under(d, "scrubber.cli", "scrubber.ingest", "scrubber.harness")], \
                f"{module} imports a way in"


def test_nothing_inside_imports_a_name_from_the_package_root() -> None:
    """The root (``scrubber/__init__.py``) re-exports the API for callers; a module inside that took a name from
    it (``from scrubber import __version__``) would import against every other arrow. The version is a leaf."""
    assert {name: names for name, names in ROOT_NAMES.items() if names and name != "scrubber"} == {}


def test_no_import_circles() -> None:
    """No two modules import each other, directly or round a longer circle (a package and its own
    modules excepted: ``scrubber.ig`` re-exports ``scrubber.ig.errors``)."""
    def reaches(start: str) -> set[str]:
        seen: set[str] = set()
        todo = [start]
        while todo:
            for dep in GRAPH[todo.pop()]:
                if dep not in seen:
                    seen.add(dep)
                    todo.append(dep)
        return seen

    circles = []
    for module in GRAPH:
        for other in reaches(module):
            if module < other and module in reaches(other) and not (_under(other, module) or _under(module, other)):
                circles.append((module, other))
    assert circles == []
