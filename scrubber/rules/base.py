"""What a rule is: metadata, options, a pure check function, its documentation.

A rule is a plain function ``check(claim, ctx) -> Iterator[Hit]`` registered
with :func:`rule`, which records its code, name, default severity, 277CA
status, options and docstring.  Rules never read files, the clock or the
environment: everything comes in through the claim and the :class:`Context`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from scrubber.claims.model import Claim, Loc, ServiceLine
from scrubber.findings import Finding, Severity
from scrubber.snip import SNIP_TYPES, TRADING_PARTNER

WALKING_BOOT = "L4386"
#: The prefabricated walking boots a DME MAC edits alike (the AFO policy's RT/LT and KX rules): the ``codes``
#: option of WB001-WB003, KX001, KX002 and CLM001 (LCD L33686, article A52457).
BOOT_CODES = ("L4360", "L4361", "L4386", "L4387")
#: The built-in families; a plugin's rules use a prefix of their own (``ACME001``), checked when it is loaded.
BUILTIN_FAMILIES = ("WB", "KX", "MOD", "DOC", "AUTH", "CLM", "CMS")
#: Every rule code: two to eight capital letters (the family), three digits.
CODE_PATTERN = re.compile(r"^[A-Z]{2,8}\d{3}$")
DOC_SECTIONS = ("What it checks", "Why", "Failing", "Passing", "Fix")


@dataclass(frozen=True, slots=True)
class Hit:
    """What a check yields: a message and the place it is about."""

    message: str
    loc: Loc
    element: str = ""
    line: ServiceLine | None = None
    entity: str = ""
    #: The rule accepts what it found, with a warning (an error rule's softer case, e.g. CLM001's 2310A).
    warning_only: bool = False
    #: The 277CA category:status of this hit when it is not the rule's (CLM010: 254 for the principal diagnosis).
    stc: str | None = None
    #: The rule could not check (a CMS table it needs is not loaded): a note, whatever the rule's severity.
    unchecked: bool = False


class ClaimHistory(Protocol):
    """The accepted claim lines of earlier files (:mod:`scrubber.history`), as the history rules ask them.

    The engine calls ``begin_file`` before each file (answers may be kept for one file)."""

    def begin_file(self) -> None: ...

    def prefetch(self, member_ids: Iterable[str]) -> None:
        """Read these members' lines at once (an optimisation: a history may read each when asked)."""

    def accepted(self, billing_npi: str, member: str, procedure: str, side: str,
                 service_date: str) -> str | None: ...

    def supplied(self, member: str, side: str, procedures: Sequence[str], since: str,
                 before: str, corrects: tuple[str, str] | None = None) -> tuple[str, str] | None: ...

    def units_billed(self, member: str, procedure: str, service_date: str,
                     corrects: tuple[str, str] | None = None) -> tuple[Decimal, str] | None: ...


class DataTables(Protocol):
    """The CMS tables of the data store (:mod:`scrubber.data`), as the rules that need them ask.

    The engine calls ``begin_file`` before each file: the tables read are the versions in force then."""

    def begin_file(self) -> None: ...

    def loaded(self, kind: str) -> bool: ...

    def lookup(self, kind: str, key: tuple[str, ...]) -> tuple[str, ...] | None: ...

    def rows(self, kind: str, key: tuple[str, ...]) -> list[tuple[str, ...]]: ...

    def quarter(self, kind: str) -> str: ...

    def first_miss(self, kind: str) -> bool: ...

    def describe(self) -> list[dict[str, object]]: ...


@dataclass(frozen=True)
class Context:
    """Everything a rule may know besides the claim.

    ``options`` are the rule's resolved options; ``today`` is the processing
    date (``--now``); ``earlier_claims`` holds (billing NPI, CLM01) of the
    claims already read in this interchange; ``history`` the claim history
    (None without one: the history rules are then silent).
    """

    options: Mapping[str, Any]
    today: date
    earlier_claims: frozenset[tuple[str, str]] | set[tuple[str, str]] = frozenset()
    history: ClaimHistory | None = None
    #: The CMS tables (None: no data store; a rule that needs one says so once per file, see DataTables).
    data: DataTables | None = None


Check = Callable[[Claim, Context], Iterator[Hit]]


@dataclass(frozen=True)
class Option:
    """A rule option: its type (``list``, ``number`` or ``str``) and default; a number is finite, and within
    ``minimum`` and ``maximum`` (inclusive) when they are given."""

    kind: str
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: Severity
    check: Check
    stc: str | None = None
    stc10: str | None = None
    options: Mapping[str, Option] = field(default_factory=dict)
    #: Where the rule comes from: ``scrubber`` for the built-in pack, else the plugin's entry-point name.
    origin: str = "scrubber"
    #: The rule asks the claim history (``Context.history``): without one it is not run (it would say nothing).
    needs_history: bool = False
    #: The rule looks the claim up in the CMS tables (``Context.data``): without a data store it is not run (ingest
    #: judges it in the node, :func:`scrubber.engine.judge_late`, not in the worker that scrubs the file).
    needs_data: bool = False
    #: Where the biller fixes it: the name a billing screen and the CMS-1500 give the field, then the X12 place
    #: ("Prior authorization number — CMS-1500 item 23; X12 2300 REF*G1").
    field: str = ""
    #: The WEDI SNIP test type (1-7, :mod:`scrubber.snip`) the rule's edit belongs to.
    snip: int = TRADING_PARTNER

    @functools.cached_property  # noqa: B019 - rules live as long as the registry
    def doc(self) -> str:
        import inspect

        return inspect.getdoc(self.check) or ""

    @property
    def summary(self) -> str:
        return self.doc.splitlines()[0] if self.doc else ""

    def section(self, name: str) -> str:
        """One section of the docstring (e.g. ``Fix``) as a single line of text (read once: the 277CA asks for a
        rule's Fix on every claim it rejects)."""
        return _section(self.doc, name)


@functools.cache
def _section(doc: str, name: str) -> str:
    """:meth:`Rule.section` of a docstring."""
    lines = doc.splitlines()
    try:
        start = lines.index(name + ":") + 1
    except ValueError:
        return ""
    body: list[str] = []
    for line in lines[start:]:
        if line and not line.startswith(" "):
            break
        body.append(line.strip())
    return " ".join(b for b in body if b)


REGISTRY: dict[str, Rule] = {}


def rule(
    code: str,
    name: str,
    severity: Severity,
    stc: str | None = None,
    stc10: str | None = None,
    options: Mapping[str, Option] | None = None,
    needs_history: bool = False,
    field: str = "",
    needs_data: bool = False,
    snip: int = TRADING_PARTNER,
) -> Callable[[Check], Check]:
    """Register a check function as rule ``code``; refuses duplicates and bad metadata.  ``needs_history``: the
    rule asks ``Context.history`` and is run only when there is one; ``needs_data``: it asks ``Context.data`` (a CMS
    table) and is run only when there is a data store.  ``field``: where the biller fixes it (see
    :attr:`Rule.field`); ``snip``: its WEDI SNIP type, 1-7 (a payer's or partner's edit, 7, unless told)."""

    def register(check: Check) -> Check:
        if not CODE_PATTERN.match(code):
            raise ValueError(f"rule code {code!r} does not match {CODE_PATTERN.pattern}")
        if code in REGISTRY or any(r.name == name for r in REGISTRY.values()):
            raise ValueError(f"rule {code} {name} registered twice")
        if not (check.__doc__ and code in check.__doc__.splitlines()[0]):
            raise ValueError(f"rule {code}: the docstring's first line must name the code")
        if snip not in SNIP_TYPES:
            raise ValueError(f"rule {code}: SNIP type {snip!r} is not one of 1-7")
        REGISTRY[code] = Rule(code, name, severity, check, stc, stc10, dict(options or {}),
                              needs_history=needs_history, field=field, snip=snip, needs_data=needs_data)
        return check

    return register


def finding_order(finding: Finding) -> tuple[int, int]:
    """The order a claim's findings are listed in: by place in the file, then in catalogue order (a plugin's
    rules after the built-in ones, in the order they were registered)."""
    if len(_CATALOGUE) != len(REGISTRY):
        _CATALOGUE.clear()
        _CATALOGUE.update((code, i) for i, code in enumerate(REGISTRY))
    return finding.file_line, _CATALOGUE.get(finding.rule, len(_CATALOGUE))


#: Rule code -> its place in the catalogue (made again when a rule was registered since).
_CATALOGUE: dict[str, int] = {}


def walking_boot_lines(claim: Claim) -> Iterator[ServiceLine]:
    """The claim's service lines billed with HCPCS L4386."""
    return (ln for ln in claim.lines if ln.procedure == WALKING_BOOT)


def codes_option() -> dict[str, Option]:
    """The ``codes`` option of a rule that applies to the walking-boot family."""
    return {"codes": Option("list", list(BOOT_CODES), "HCPCS codes the rule applies to (default: the"
                                                      " prefabricated walking boots L4360, L4361, L4386, L4387)")}


def lines_billed(claim: Claim, ctx: Context) -> Iterator[ServiceLine]:
    """The claim's lines billed with one of the rule's ``codes``."""
    codes = ctx.options["codes"]
    return (ln for ln in claim.lines if ln.procedure in codes)


def modifier_slot(line: ServiceLine) -> str:
    """Where a missing modifier goes: the SV101 component after the line's last modifier (``SV101-3`` to
    ``SV101-6``), or the whole SV101 when its four modifiers are taken (one must be replaced)."""
    taken = len(line.modifiers)
    return f"SV101-{3 + taken}" if taken < 4 else "SV101"


def line_loc(line: ServiceLine) -> Loc:
    """The SV1 of a line (its LX when SV1 is missing)."""
    return line.sv1 or line.loc
