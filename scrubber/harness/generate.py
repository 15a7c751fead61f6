"""``scrubber generate``: deterministic synthetic 837P batches with known defects, and their manifest.

A batch is built claim by claim from a seeded :class:`random.Random`: 1–4
service lines, about a third of them L4386 (bilateral pairs included), other
walking-boot and office codes, the PWKs and prior authorization the payer's
profile wants, valid NPIs, plausible diagnoses and dates.  Every baseline
claim passes the whole rule catalogue and pyx12.

Defects are injected by code:

* a **rule defect** (``WB001`` … ``CLM006``) is a small change to one claim
  that makes exactly that rule fire (:data:`RULE_DEFECTS`); its share is the
  fraction of claims that get it (one defect at most per claim);
* an **implementation-guide defect** (``IG-TOO-LONG`` …) breaks one segment
  of a transaction set (:data:`IG_DEFECTS`); its share is the fraction of
  transaction sets that get it, and the whole set is then rejected in the 999.

The manifest says what a correct scrubber must answer: per claim the status,
the findings (rule, line) and the 277CA statuses; per transaction set the 999
verdict and codes.  Expectations follow the effective profile of each claim
(a rule the profile turns off is expected not to fire) and assume the rules'
default options.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from scrubber.config import Config, load_config
from scrubber.findings import Severity
from scrubber.harness.synth import ORDERING_NPI, ClaimSpec, LineSpec, interchange, mbi, transaction_segments
from scrubber.npi import make_npi
from scrubber.rules import REGISTRY

MANIFEST_VERSION = 1
PAYERS = {
    "medicare": {"filing_indicator": "MB", "payer_name": "SYNTHETIC DME MAC", "payer_id": "DMEMAC01"},
    "commercial": {"filing_indicator": "CI", "payer_name": "SYNTHETIC HEALTH PLAN", "payer_id": "SYNHP01"},
    "medicaid": {"filing_indicator": "MC", "payer_name": "SYNTHETIC MEDICAID", "payer_id": "SYNMCD01"},
}
BOOT = "L4386"
FITTED = "CUSTOM FITTED BY CO, SHELL TRIMMED AND LINER MOLDED"
CHARGES = {"L4386": "250.00", "L4387": "120.00", "L4361": "110.00", "99213": "95.00", "97760": "60.00"}
DIAGNOSES = ("S93401A", "S82891A", "S92301A", "M84374A", "S86011A")
LAST_NAMES = ("ABERNATHY", "BELLWEATHER", "CORRIGAN", "DALTREY", "ESPINOZA", "FAIRCLOUGH", "GALLOWAY",
              "HOLLISTER", "IVANOVA", "JESSUP", "KINCAID", "LOCKWOOD", "MERRIWEATHER", "NAKAMURA", "OSTRANDER")
FIRST_NAMES = ("AUGUST", "BLAIR", "CAMERON", "DALE", "EMERSON", "FINLEY", "GRAY", "HARPER", "INDIGO", "JULES")
#: The attachments a profile's enabled rules want: (rule, PWK with the claim ID filled in).
ATTACHMENTS = (("DOC001", "PO*FX***AC*{id}MN"), ("DOC002", "DB*FX***AC*{id}OR"), ("DOC003", "OZ*FX***AC*{id}PD"))
#: Baseline dates of service run from here for 300 days: before the manifest's processing date and within a
#: year of it (Medicare's filing limit, CLM009).
FIRST_DATE = date(2026, 1, 5)


@dataclass
class Plan:
    """A claim being generated: its spec, profile, and what the manifest must say of it."""

    spec: ClaimSpec
    profile: str
    enabled: dict[str, frozenset[str]]
    findings: list[tuple[str, int | None]] = field(default_factory=list)


Mutation = Callable[[Plan, random.Random, list[Plan]], None]


@dataclass(frozen=True)
class RuleDefect:
    """How to make one rule fire on a claim; ``profiles`` limits which claims can take it."""

    code: str
    describe: str
    mutate: Mutation
    profiles: tuple[str, ...] = ("medicare", "commercial", "medicaid")


@dataclass(frozen=True)
class IgDefect:
    """How to break one transaction set, and what the 999 then reports."""

    code: str
    describe: str
    errors: tuple[tuple[str, str], ...]  # (segment ID, IK304/IK403 code) pairs of the 999
    ik5: tuple[str, ...]
    mutate: Callable[[list[str]], list[str]]


# -- rule defects ----------------------------------------------------------------------------------------------------


def _boot_lines(plan: Plan) -> list[tuple[int, LineSpec]]:
    return [(i, ln) for i, ln in enumerate(plan.spec.lines, start=1) if ln.procedure == BOOT]


def _first_boot(plan: Plan) -> tuple[int, LineSpec]:
    """The first L4386 line, making line 1 one (and dropping other boot codes) when the claim has none."""
    boots = _boot_lines(plan)
    if boots:
        return boots[0]
    for ln in plan.spec.lines:
        if ln.procedure in ("L4387", "L4361"):
            ln.procedure, ln.modifiers, ln.charge = "97760", (), CHARGES["97760"]
    line = plan.spec.lines[0]
    line.procedure, line.modifiers, line.charge, line.ordering_npi = BOOT, ("KX", "RT"), CHARGES[BOOT], ORDERING_NPI
    line.note = FITTED
    return 1, line


def _on_boot_line(codes: str | tuple[str, ...], change: Callable[[LineSpec], None]) -> Mutation:
    """Change the first L4386 line; ``codes`` fire on it (the manifest keeps those the profile runs)."""
    def mutate(plan: Plan, rng: random.Random, earlier: list[Plan]) -> None:
        n, line = _first_boot(plan)
        change(line)
        plan.findings.extend((code, n) for code in ((codes,) if isinstance(codes, str) else codes))
    return mutate


def _claim_wide(code: str, change: Callable[[Plan], None]) -> Mutation:
    """Change the claim; ``code`` fires once, on no line."""
    def mutate(plan: Plan, rng: random.Random, earlier: list[Plan]) -> None:
        _first_boot(plan)
        change(plan)
        plan.findings.append((code, None))
    return mutate


def _two_years_back(plan: Plan, rng: random.Random, earlier: list[Plan]) -> None:
    """CLM009: every line dated two years back; each line is late."""
    _first_boot(plan)
    for line in plan.spec.lines:
        line.date = "20241104"
    plan.findings.extend(("CLM009", n) for n in range(1, len(plan.spec.lines) + 1))


def _addition(plan: Plan, rng: random.Random, earlier: list[Plan]) -> None:
    """WB008: an addition (L2820, soft interface) on the boot's date, as a new last line."""
    _, boot = _first_boot(plan)
    plan.spec.lines.append(LineSpec(procedure="L2820", modifiers=(), charge="45.00", date=boot.date,
                                    ordering_npi=None))
    plan.findings.append(("WB008", len(plan.spec.lines)))


def _not_mbi(plan: Plan) -> None:
    """CLM013: a member ID of the retired HICN form (nine digits and a letter), not an MBI."""
    plan.spec.member_id = "123456789A"


def _span(line: LineSpec) -> str:
    first = date(int(line.date[:4]), int(line.date[4:6]), int(line.date[6:8]))
    return f"{line.date}-{(first + timedelta(days=2)).strftime('%Y%m%d')}"


def _category(plan: Plan) -> None:
    """CLM010: a secondary diagnosis that is a category (status 255; the principal diagnosis would be 254)."""
    plan.spec.diagnoses = ("S93401A", "S9340")
    for line in plan.spec.lines:
        line.pointers = ("1",)


def _replacement_without_reference(plan: Plan, rng: random.Random, earlier: list[Plan]) -> None:
    plan.spec.frequency = "7"
    plan.findings.append(("CLM007", None))


def _side(line: LineSpec) -> str:
    return next((m for m in line.modifiers if m in ("RT", "LT")), "RT")


def _set(**changes: object) -> Callable[[LineSpec], None]:
    def change(line: LineSpec) -> None:
        for key, value in changes.items():
            setattr(line, key, value(line) if callable(value) else value)
    return change


def _units_two(line: LineSpec) -> None:
    line.units, line.charge = "2", "500.00"


def _each_boot_line(code: str, change: Callable[[Plan], None]) -> Mutation:
    def mutate(plan: Plan, rng: random.Random, earlier: list[Plan]) -> None:
        _first_boot(plan)
        change(plan)
        plan.findings.extend((code, n) for n, _ in _boot_lines(plan))
    return mutate


def _repeat_side(plan: Plan, rng: random.Random, earlier: list[Plan]) -> None:
    """WB004: the first L4386 line again, same side and date, as a new last line."""
    _, line = _first_boot(plan)
    if len(_boot_lines(plan)) > 1:  # a bilateral pair: turn the second into the repeat
        n, second = _boot_lines(plan)[1]
        second.modifiers = line.modifiers
        plan.findings.append(("WB004", n))
        return
    plan.spec.lines.append(replace(line, pwks=[], auths=[], extra=[]))
    plan.findings.append(("WB004", len(plan.spec.lines)))


def _fit_conflict(plan: Plan, rng: random.Random, earlier: list[Plan]) -> None:
    """WB005: an L4387 on the same side and date as an L4386 line."""
    n, line = _first_boot(plan)
    plan.spec.lines.append(LineSpec(procedure="L4387", modifiers=("KX", _side(line)), charge=CHARGES["L4387"],
                                    date=line.date, note=FITTED))
    plan.findings.append(("WB005", n))


def _attachment_without_control(plan: Plan, rng: random.Random, earlier: list[Plan]) -> None:
    """DOC004: a claim PWK sent by fax without control number (the rule looks at L4386 claims only)."""
    _first_boot(plan)
    plan.spec.pwks = [*plan.spec.pwks, "OZ*FX"]
    plan.findings.append(("DOC004", None))


def _line_auth(plan: Plan, rng: random.Random, earlier: list[Plan]) -> None:
    n, line = _first_boot(plan)
    plan.spec.prior_auth = plan.spec.prior_auth or f"PA{plan.spec.claim_id}"
    line.auths = [plan.spec.prior_auth]
    plan.findings.append(("AUTH002", n))


#: The boot code the synthetic HCPCS file terminates before the generated dates (CMS002's defect).
TERMINATED_BOOT = "L4360"
#: A valid NPI that the synthetic Order and Referring file does not list (CMS001's defect).
UNLISTED_NPI = make_npi("177777777")


def _bad_ordering_npi(plan: Plan, rng: random.Random, earlier: list[Plan]) -> None:
    n, line = _first_boot(plan)
    good = line.ordering_npi or ORDERING_NPI
    line.ordering_npi = good[:-1] + str((int(good[-1]) + 1) % 10)
    plan.findings.append(("CLM002", n))


def _out_of_balance(plan: Plan, rng: random.Random, earlier: list[Plan]) -> None:
    plan.spec.charge = f"{float(plan.spec.total()) + 10:.2f}"
    plan.findings.append(("CLM004", None))


def _duplicate(plan: Plan, rng: random.Random, earlier: list[Plan]) -> None:
    plan.spec.claim_id = earlier[-1].spec.claim_id
    plan.findings.append(("CLM006", None))


def _drop_pwk(report_type: str) -> Callable[[Plan], None]:
    def change(plan: Plan) -> None:
        plan.spec.pwks = [p for p in plan.spec.pwks if not p.startswith(report_type + "*")]
    return change


def _drop_auth(plan: Plan) -> None:
    plan.spec.prior_auth = None


def _ulcer_only(plan: Plan) -> None:
    plan.spec.diagnoses = ("L97411",)
    for line in plan.spec.lines:
        line.pointers = ("1",)


def _no_proof_of_delivery(plan: Plan) -> None:
    """DOC003: the proof of delivery announced as available on request (OZ*AA), not sent."""
    plan.spec.pwks = [p for p in plan.spec.pwks if not p.startswith("OZ*")]
    _first_boot(plan)[1].pwks = ["OZ*AA"]


RULE_DEFECTS: dict[str, RuleDefect] = {d.code: d for d in (
    RuleDefect("WB001", "an L4386 line without RT or LT", _on_boot_line("WB001", _set(modifiers=("KX",)))),
    RuleDefect("WB002", "an L4386 line with both RT and LT", _on_boot_line("WB002", _set(modifiers=("KX", "RT",
                                                                                                    "LT")))),
    RuleDefect("WB003", "2 units of L4386 on one side", _on_boot_line("WB003", _units_two)),
    RuleDefect("WB004", "two L4386 lines for the same side and date", _repeat_side),
    RuleDefect("WB005", "L4386 and L4387 for the same side and date", _fit_conflict),
    RuleDefect("KX001", "an L4386 line with none of KX/GA/GZ/GY",
               _on_boot_line("KX001", _set(modifiers=lambda ln: (_side(ln),))), ("medicare",)),
    RuleDefect("KX002", "KX and GY on one L4386 line",
               _on_boot_line("KX002", _set(modifiers=lambda ln: ("KX", "GY", _side(ln))))),
    RuleDefect("KX003", "GZ instead of KX (warning)", _on_boot_line("KX003", _set(modifiers=lambda ln: ("GZ",
                                                                                                        _side(ln))))),
    RuleDefect("KX004", "GA instead of KX (info)", _on_boot_line("KX004", _set(modifiers=lambda ln: ("GA",
                                                                                                     _side(ln))))),
    RuleDefect("KX005", "only an ulcer diagnosis (warning)", _each_boot_line("KX005", _ulcer_only)),
    RuleDefect("KX006", "EY on an L4386 line, with GA (warning; KX004 info)",
               _on_boot_line(("KX004", "KX006"), _set(modifiers=lambda ln: ("GA", _side(ln), "EY")))),
    RuleDefect("KX007", "GY alone on an L4386 line (warning)",
               _on_boot_line("KX007", _set(modifiers=lambda ln: ("GY", _side(ln))))),
    RuleDefect("KX008", "KX and EY on one L4386 line (KX006 warning too)",
               _on_boot_line(("KX006", "KX008"), _set(modifiers=lambda ln: ("KX", "EY", _side(ln))))),
    RuleDefect("MOD001", "side before KX (warning)", _on_boot_line("MOD001", _set(modifiers=lambda ln: (_side(ln),
                                                                                                        "KX")))),
    RuleDefect("MOD002", "a repeated modifier", _on_boot_line("MOD002", _set(modifiers=lambda ln: ("KX", "KX",
                                                                                                   _side(ln))))),
    RuleDefect("MOD003", "NU on an L4386 line (warning; for Medicare also CMS003's error: the synthetic DMEPOS fee"
               " schedule prices L4386 with no modifier)",
               _on_boot_line(("MOD003", "CMS003"), _set(modifiers=lambda ln: ("NU", "KX", _side(ln))))),
    RuleDefect("MOD004", "modifier 50 on an L4386 line",
               _on_boot_line("MOD004", _set(modifiers=lambda ln: ("KX", _side(ln), "50")))),
    RuleDefect("DOC001", "no medical-necessity attachment", _each_boot_line("DOC001", _drop_pwk("PO")),
               ("commercial", "medicaid")),
    RuleDefect("DOC002", "no order attachment", _each_boot_line("DOC002", _drop_pwk("DB")), ("commercial", "medicaid")),
    RuleDefect("DOC003", "proof of delivery announced but not sent (rule off unless a config enables it)",
               _each_boot_line("DOC003", _no_proof_of_delivery)),
    RuleDefect("DOC004", "a PWK without attachment control number", _attachment_without_control),
    RuleDefect("DOC005", "no fitting note on an L4386 line (info)", _on_boot_line("DOC005", _set(note=None)),
               ("medicare",)),
    RuleDefect("DOC006", "the CMN indicator PWK*CT*AD on a 2026 L4386 line",
               _on_boot_line("DOC006", _set(pwks=["CT*AD"])), ("medicare",)),
    RuleDefect("DOC007", "RA on an L4386 line with no narrative (warning; DOC005 info)",
               _on_boot_line(("DOC005", "DOC007"), _set(modifiers=lambda ln: ("KX", _side(ln), "RA"), note=None)),
               ("medicare",)),
    RuleDefect("AUTH001", "no prior authorization", _each_boot_line("AUTH001", _drop_auth), ("commercial", "medicaid")),
    RuleDefect("AUTH002", "the claim's REF*G1 repeated on a line (warning)", _line_auth, ("commercial", "medicaid")),
    RuleDefect("CLM001", "an L4386 line without ordering provider", _on_boot_line("CLM001", _set(ordering_npi=None)),
               ("medicare", "medicaid")),
    RuleDefect("CLM002", "an ordering NPI with a wrong check digit", _bad_ordering_npi),
    RuleDefect("CLM003", "a service date after the processing date", _on_boot_line("CLM003", _set(date="20991231"))),
    RuleDefect("CLM004", "CLM02 differs from the line total", _out_of_balance),
    RuleDefect("CLM005", "a diagnosis pointer beyond the HI codes", _on_boot_line("CLM005", _set(pointers=("9",)))),
    RuleDefect("CLM006", "the CLM01 of the previous claim again", _duplicate),
    RuleDefect("CLM007", "a replacement (CLM05-3 7) without REF*F8", _replacement_without_reference),
    RuleDefect("CLM008", "0 units on an L4386 line", _on_boot_line("CLM008", _set(units="0"))),
    RuleDefect("CLM009", "every line dated two years before the processing date", _two_years_back,
               ("medicare", "medicaid")),
    RuleDefect("CLM010", "a secondary diagnosis code that is not billable (S93.40, a category)",
               _claim_wide("CLM010", _category)),
    RuleDefect("CLM011", "an L4386 line for place of service 21 (inpatient)",
               _on_boot_line("CLM011", _set(place="21")), ("medicare",)),
    RuleDefect("WB006", "an L4386 line over a date range (Medicare error, else warning)",
               _on_boot_line("WB006", _set(date=_span))),
    RuleDefect("CLM013", "a Medicare member ID that is not an MBI (a retired HICN)", _claim_wide("CLM013", _not_mbi),
               ("medicare",)),
    RuleDefect("WB008", "an addition (L2820) billed with the L4386 boot on its date", _addition, ("medicare",)),
    RuleDefect("CMS001", "an ordering NPI the Order and Referring file does not list (checked against the synthetic"
               " file of scrubber.harness.synth.order_referring_csv)",
               _on_boot_line("CMS001", _set(ordering_npi=UNLISTED_NPI)), ("medicare",)),
    RuleDefect("CMS002", "the boot billed as L4360, which the synthetic HCPCS file terminates on 2025-12-31"
               " (scrubber.harness.synth.hcpcs_txt)", _on_boot_line("CMS002", _set(procedure=TERMINATED_BOOT)),
               ("medicare",)),
    RuleDefect("CMS003", "RR (rented) on the boot, which the synthetic DMEPOS fee schedule prices with no modifier"
               " (also MOD003's warning)",
               _on_boot_line(("CMS003", "MOD003"), _set(modifiers=lambda line: ("RR", *line.modifiers))),
               ("medicare",)),
    RuleDefect("CMS004", "3 units on the boot line, over its synthetic DME MUE of 2 per line (also WB003's 1 per"
               " side)", _on_boot_line(("WB003", "CMS004"), _set(units="3", charge="750.00")), ("medicare",)),
)}


# -- implementation-guide defects -----------------------------------------------------------------------------------


def _first(prefix: str, change: Callable[[str], str]) -> Callable[[list[str]], list[str]]:
    def mutate(segs: list[str]) -> list[str]:
        i = next(i for i, s in enumerate(segs) if s.startswith(prefix))
        return [*segs[:i], change(segs[i]), *segs[i + 1:]]
    return mutate


def _drop_first(prefix: str) -> Callable[[list[str]], list[str]]:
    def mutate(segs: list[str]) -> list[str]:
        i = next(i for i, s in enumerate(segs) if s.startswith(prefix))
        out = [*segs[:i], *segs[i + 1:]]
        se = out[-1].split("*")
        out[-1] = f"SE*{int(se[1]) - 1}*{se[2]}"
        return out
    return mutate


def _long_modifier(sv1: str) -> str:
    elements = sv1.split("*")
    composite = elements[1].split(":")
    if len(composite) > 2:
        composite[2] += "X"
    else:
        composite.append("KXX")
    elements[1] = ":".join(composite)
    return "*".join(elements)


def _wrong_count(segs: list[str]) -> list[str]:
    se = segs[-1].split("*")
    return [*segs[:-1], f"SE*{int(se[1]) + 5}*{se[2]}"]


IG_DEFECTS: dict[str, IgDefect] = {d.code: d for d in (
    IgDefect("IG-TOO-LONG", "a 3-character procedure modifier (SV101-3)", (("SV1", "5"),), ("5",),
             _first("SV1*", _long_modifier)),
    IgDefect("IG-BAD-CODE", "unit basis XX instead of UN (SV103)", (("SV1", "7"),), ("5",),
             _first("SV1*", lambda s: s.replace("*UN*", "*XX*", 1))),
    IgDefect("IG-BAD-DATE", "a service date that is not a date (DTP03)", (("DTP", "8"),), ("5",),
             _first("DTP*472*", lambda s: s[:-4] + "1340")),
    IgDefect("IG-MISSING-ELEMENT", "subscriber last name empty (NM103)", (("NM1", "1"),), ("5",),
             _first("NM1*IL*", lambda s: "*".join(p if i != 3 else "" for i, p in enumerate(s.split("*"))))),
    IgDefect("IG-MISSING-SEGMENT", "the claim's HI (diagnoses) dropped", (("HI", "3"),), ("5",), _drop_first("HI*")),
    IgDefect("IG-SE-COUNT", "SE01 segment count off by five", (), ("4",), _wrong_count),
)}

DEFECTS = {**RULE_DEFECTS, **IG_DEFECTS}


# -- generation -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GenerateOptions:
    claims: int = 100
    seed: int = 1
    payers: tuple[str, ...] = ("medicare", "commercial", "medicaid")
    defects: tuple[tuple[str, float], ...] = ()
    claims_per_st: int = 100
    #: ISA13 (and GS06); default derived from the seed, so batches of different seeds are different interchanges.
    isa13: int | None = None
    claim_prefix: str = "G"
    config_path: str | None = None
    now: str = "2026-11-27T10:00"

    def check(self) -> None:
        """Raise ValueError for options that cannot give a batch."""
        if self.claims < 1 or self.claims_per_st < 1:
            raise ValueError("--claims and --claims-per-st must be at least 1")
        unknown = [p for p in self.payers if p not in PAYERS]
        if unknown or not self.payers:
            raise ValueError(f"unknown payer {unknown[0] if unknown else '(none)'!r}; use {', '.join(PAYERS)}")
        for code, share in self.defects:
            if code not in DEFECTS:
                raise ValueError(f"unknown defect {code!r}; 'scrubber generate --list-defects' lists them")
            if not 0 <= share <= 1:
                raise ValueError(f"defect {code} share {share} is not between 0 and 1")
        for kind in (RULE_DEFECTS, IG_DEFECTS):
            if sum(share for code, share in self.defects if code in kind) > 1 + 1e-9:
                raise ValueError("the shares of rule defects (and of IG defects) must add up to at most 1")


@dataclass
class Batch:
    text: str
    manifest: dict[str, object]


def generate(options: GenerateOptions, file_name: str = "batch.837",
             progress: Callable[[int], None] | None = None) -> Batch:
    """Build the batch and its manifest; the same options give the same bytes.

    ``progress`` is told of each step done: each claim planned, then each claim written (twice the claims in all).
    """
    options.check()
    config = load_config(options.config_path)
    enabled = {name: frozenset(config.profile_for(p["payer_id"], p["filing_indicator"]).enabled_codes())
               for name, p in PAYERS.items()}
    rng = random.Random(options.seed)
    plans: list[Plan] = []
    rule_shares = [(c, s) for c, s in options.defects if c in RULE_DEFECTS]
    ig_shares = [(c, s) for c, s in options.defects if c in IG_DEFECTS]
    for n in range(options.claims):
        plan = _baseline(f"{options.claim_prefix}{n + 1:07d}", rng, options.payers, enabled)
        defect = _pick(rng, rule_shares)
        if defect is not None:
            _inject(RULE_DEFECTS[defect], plan, rng, plans, options.payers)
        plans.append(plan)
        if progress is not None:
            progress(1)
    sets: list[list[str]] = []
    transactions: list[dict[str, object]] = []
    claims: list[dict[str, object]] = []
    control = options.isa13 if options.isa13 is not None else (options.seed - 1) % 999_999_999 + 1
    isa13 = f"{control:09d}"
    processed: set[str] = set()  # CLM01 of the claims of sets the 999 accepts (a rejected set's claims never count)
    for i in range(0, len(plans), options.claims_per_st):
        if progress is not None:
            progress(len(plans[i:i + options.claims_per_st]))
        chunk = plans[i:i + options.claims_per_st]
        st02 = f"{len(sets) + 1:04d}"
        segs = transaction_segments([p.spec for p in chunk], st02=st02, bht03=f"GEN{options.seed}B{len(sets) + 1:04d}")
        ig_code = _pick(rng, ig_shares)
        if ig_code is not None:
            segs = IG_DEFECTS[ig_code].mutate(segs)
        sets.append(segs)
        if ig_code is None:
            for plan in chunk:
                if plan.spec.claim_id not in processed:  # the claim it repeats was in a rejected set: no CLM006
                    plan.findings = [f for f in plan.findings if f[0] != "CLM006"]
                processed.add(plan.spec.claim_id)
        transactions.append(_expected_transaction(st02, ig_code))
        claims += [_expected_claim(p, st02, config, rejected_set=ig_code is not None) for p in chunk]
    text = interchange(sets, isa13=isa13, gs06=str(control))
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "generator": {
            "claims": options.claims, "seed": options.seed, "payers": list(options.payers),
            "defects": dict(options.defects), "claims_per_st": options.claims_per_st,
        },
        "now": options.now,
        "config": options.config_path,
        "files": [{"path": file_name, "transactions": transactions, "claims": claims}],
    }
    return Batch(text, manifest)


def _pick(rng: random.Random, shares: list[tuple[str, float]]) -> str | None:
    """One code chosen by cumulative share, or None (always draws once, so the stream stays aligned)."""
    r = rng.random()
    total = 0.0
    for code, share in shares:
        total += share
        if r < total:
            return code
    return None


def _inject(defect: RuleDefect, plan: Plan, rng: random.Random, earlier: list[Plan], payers: tuple[str, ...]) -> None:
    if defect.code == "CLM006" and not earlier:
        return
    if plan.profile not in defect.profiles:
        allowed = [p for p in payers if p in defect.profiles]
        if not allowed:
            return
        _set_payer(plan, allowed[0])
    defect.mutate(plan, rng, earlier)


def _baseline(claim_id: str, rng: random.Random, payers: tuple[str, ...], enabled: dict[str, frozenset[str]]) -> Plan:
    """A claim that passes every rule of its profile and pyx12."""
    profile = payers[rng.randrange(len(payers))]
    day = (FIRST_DATE + timedelta(days=rng.randrange(300))).strftime("%Y%m%d")
    count = rng.randint(1, 4)
    kinds = ["boot" if rng.random() < 0.34 else "other" for _ in range(count)]
    lines: list[LineSpec] = []
    sides = ["RT", "LT"] if rng.random() < 0.5 else ["LT", "RT"]
    for kind in kinds:
        if kind == "boot" and sides:
            lines.append(LineSpec(procedure=BOOT, modifiers=("KX", sides.pop(0)), charge=CHARGES[BOOT], date=day,
                                  note=FITTED))
        else:
            code = rng.choice(("99213", "97760"))
            lines.append(LineSpec(procedure=code, modifiers=(), charge=CHARGES[code], date=day, ordering_npi=None))
    if not any(ln.procedure == BOOT for ln in lines) and rng.random() < 0.5:
        code = rng.choice(("L4387", "L4361"))
        lines[0] = LineSpec(procedure=code, modifiers=("KX", rng.choice(("RT", "LT"))), charge=CHARGES[code], date=day,
                            note=FITTED)
    diagnoses = (rng.choice(DIAGNOSES),) if rng.random() < 0.6 else tuple(rng.sample(DIAGNOSES, 2))
    spec = ClaimSpec(
        claim_id=claim_id,
        diagnoses=diagnoses,
        lines=lines,
        subscriber_last=rng.choice(LAST_NAMES),
        subscriber_first=rng.choice(FIRST_NAMES),
        member_id=mbi(rng.randint(1, 9) * 10**7 + rng.randrange(10**7)),  # two draws, as before MBIs
        birth_date=(date(1935, 1, 1) + timedelta(days=rng.randrange(20000))).strftime("%Y%m%d"),
    )
    plan = Plan(spec, profile, enabled)
    _set_payer(plan, profile)
    return plan


def _set_payer(plan: Plan, profile: str) -> None:
    """Payer fields, and the attachments and authorization the profile's enabled rules want."""
    plan.profile = profile
    for key, value in PAYERS[profile].items():
        setattr(plan.spec, key, value)
    rules = plan.enabled[profile]
    plan.spec.pwks = [pwk.format(id=plan.spec.claim_id) for code, pwk in ATTACHMENTS if code in rules]
    plan.spec.prior_auth = f"PA{plan.spec.claim_id}" if "AUTH001" in rules else None


def _expected_transaction(st02: str, ig_code: str | None) -> dict[str, object]:
    if ig_code is None:
        return {"st02": st02, "ack": "A", "errors": [], "ik5": []}
    defect = IG_DEFECTS[ig_code]
    return {"st02": st02, "ack": "R", "errors": [{"segment": s, "code": c} for s, c in defect.errors],
            "ik5": list(defect.ik5), "defect": ig_code}


def _expected_claim(plan: Plan, st02: str, config: Config, rejected_set: bool) -> dict[str, object]:
    """What the manifest says of a claim: status, findings (rule, line) and 277CA statuses."""
    base = {"claim_id": plan.spec.claim_id, "st02": st02}
    if rejected_set:
        return {**base, "status": "rejected", "findings": [], "stc": None}
    profile = config.profile_for(plan.spec.payer_id, plan.spec.filing_indicator)
    settings = {s.rule.code: s for s in profile.rules}
    findings = [(code, line) for code, line in plan.findings if code in settings]
    errors = [(code, line) for code, line in findings if settings[code].severity is Severity.ERROR]
    stc: list[str] = []
    for code, _ in errors:
        rule = REGISTRY[code]
        for status in (rule.stc.format(entity="DK") if rule.stc else "A3:21", rule.stc10):
            if status and status not in stc:
                stc.append(status)
    return {
        **base,
        "status": "rejected" if errors else "accepted",
        "findings": [{"rule": code, "line_number": line} for code, line in findings],
        "stc": sorted(stc) if errors else ["A2:20"],
    }


def catalogue() -> list[tuple[str, str, str]]:
    """(code, kind, description) of every defect ``--defect`` accepts."""
    rows = [(d.code, "rule", d.describe + ("" if len(d.profiles) == 3 else f" [{', '.join(d.profiles)}]"))
            for d in RULE_DEFECTS.values()]
    rows += [(d.code, "999", f"{d.describe} → {', '.join(f'{s} {c}' for s, c in d.errors) or 'IK5 ' + d.ik5[0]}")
             for d in IG_DEFECTS.values()]
    return rows


__all__ = ["DEFECTS", "IG_DEFECTS", "RULE_DEFECTS", "Batch", "GenerateOptions", "catalogue", "generate"]
