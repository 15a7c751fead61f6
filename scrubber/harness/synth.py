"""Build synthetic 837P 005010X222A1 files from small claim descriptions.

Every name, address and identifier here is invented; NPIs carry a valid check
digit.  The output passes pyx12's X222A1 validation when the description does
not ask for a defect.  Used by the tests, the demo file and the benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from scrubber.npi import make_npi

BILLING_NPI = make_npi("123456789")  # 1234567893
ORDERING_NPI = make_npi("198765432")


def order_referring_csv() -> str:
    """A synthetic Medicare Order and Referring file, in the layout CMS publishes, that lists the ordering
    provider these claims name (ORTIZ, SAMPLE) as eligible to order DME: the test suite's and the goldens' data
    store, where CMS001 passes the synthetic claims."""
    return ("NPI,LAST_NAME,FIRST_NAME,PARTB,DME,HHA,PMD,HOSPICE\r\n"
            f"{ORDERING_NPI},ORTIZ,SAMPLE,Y,Y,Y,N,N\r\n")


def load_synthetic_data() -> None:
    """Import :func:`order_referring_csv` into the default data store (``$XDG_DATA_HOME``: point it at a folder
    of its own first), effective and imported on 2026-11-01, so the reports that name it are the same every run."""
    from datetime import UTC, date, datetime

    from scrubber.data import DataStore, default_path

    source = default_path().parent / "synthetic-order-referring.csv"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(order_referring_csv(), encoding="utf-8")
    with DataStore() as store:
        store.import_file("order-referring", source, date(2026, 11, 1), now=datetime(2026, 11, 1, tzinfo=UTC))


@dataclass
class LineSpec:
    """One service line; ``extra`` segments (without terminator) go after its REF and NTE, before 2420E."""

    procedure: str = "L4386"
    modifiers: tuple[str, ...] = ("KX", "RT")
    charge: str = "250.00"
    units: str = "1"
    #: CCYYMMDD, or CCYYMMDD-CCYYMMDD for a range (DTP*472*RD8).
    date: str = "20260105"
    #: SV105, the line's place of service ("" when CLM05-1 applies).
    place: str = ""
    pointers: tuple[str, ...] = ("1",)
    pwks: list[str] = field(default_factory=list)
    auths: list[str] = field(default_factory=list)
    line_control: str | None = None
    note: str | None = None
    ordering_npi: str | None = ORDERING_NPI
    #: 2420F NM1*DN: the line's referring provider (NPI), none by default.
    referring_npi: str | None = None
    extra: list[str] = field(default_factory=list)


@dataclass
class ClaimSpec:
    """One claim with its subscriber (who is also the patient) and payer."""

    claim_id: str = "PCN0001"
    filing_indicator: str = "MB"
    payer_name: str = "SYNTHETIC DME MAC"
    payer_id: str = "DMEMAC01"
    charge: str | None = None
    diagnoses: tuple[str, ...] = ("S93401A",)
    lines: list[LineSpec] = field(default_factory=lambda: [LineSpec()])
    pwks: list[str] = field(default_factory=list)
    prior_auth: str | None = None
    trace: str | None = None
    note: str | None = None
    billing_npi: str = BILLING_NPI
    #: CLM05-3: 1 original, 7 replacement, 8 void; with ``original_reference``, the 2300 REF*F8.
    frequency: str = "1"
    original_reference: str | None = None
    subscriber_last: str = "DOE"
    subscriber_first: str = "JORDAN"
    member_id: str = "1EG4TE5MK73"
    birth_date: str = "19500101"
    #: CLM05-1: the claim's place of service (a line's SV105 overrides it).
    place: str = "12"
    #: A dependent patient (loop 2000C): (last name, first name, birth date); None when the subscriber is the patient.
    patient: tuple[str, str, str] | None = None

    def total(self) -> str:
        if self.charge is not None:
            return self.charge
        total = sum((Decimal(ln.charge) for ln in self.lines), Decimal(0))
        return f"{total:.2f}"


def mbi(number: int) -> str:
    """A synthetic Medicare Beneficiary Identifier, one for each ``number`` (0 to about 10**10): the published
    pattern C A AN N A AN N A A N N (:data:`scrubber.rules.claim.MBI`), so a Medicare claim passes CLM013."""
    from scrubber.rules.claim import MBI_LETTERS as letters

    number, last = divmod(number, 100)
    number, seventh = divmod(number, 10)
    number, fourth = divmod(number, 10)
    number, ninth = divmod(number, 20)
    number, eighth = divmod(number, 20)
    number, fifth = divmod(number, 20)
    number, second = divmod(number, 20)
    first = number % 9 + 1
    return (f"{first}{letters[second]}Y{fourth}{letters[fifth]}Y{seventh}{letters[eighth]}{letters[ninth]}"
            f"{last:02d}")


def claim_segments(claim: ClaimSpec) -> list[str]:
    """The 2300 and 2400 segments of one claim."""
    segs = [f"CLM*{claim.claim_id}*{claim.total()}***{claim.place}:B:{claim.frequency}*Y*A*Y*Y"]
    segs += [f"PWK*{p}" for p in claim.pwks]
    if claim.prior_auth:
        segs.append(f"REF*G1*{claim.prior_auth}")
    if claim.original_reference:
        segs.append(f"REF*F8*{claim.original_reference}")
    if claim.trace:
        segs.append(f"REF*D9*{claim.trace}")
    if claim.note:
        segs.append(f"NTE*ADD*{claim.note}")
    if claim.diagnoses:
        codes = [code if ":" in code else f"{'ABK' if i == 0 else 'ABF'}:{code}"  # "BK:8450": a qualifier of its own
                 for i, code in enumerate(claim.diagnoses)]
        segs.append("HI*" + "*".join(codes))
    for n, line in enumerate(claim.lines, start=1):
        proc = ":".join(("HC", line.procedure) + tuple(line.modifiers))
        segs.append(f"LX*{n}")
        segs.append(f"SV1*{proc}*{line.charge}*UN*{line.units}*{line.place}**{':'.join(line.pointers)}")
        segs += [f"PWK*{p}" for p in line.pwks]
        segs.append(f"DTP*472*{'RD8' if '-' in line.date else 'D8'}*{line.date}")
        segs += [f"REF*G1*{a}" for a in line.auths]
        if line.line_control:
            segs.append(f"REF*6R*{line.line_control}")
        if line.note:
            segs.append(f"NTE*ADD*{line.note}")
        segs += line.extra
        if line.ordering_npi:
            segs.append(f"NM1*DK*1*ORTIZ*SAMPLE****XX*{line.ordering_npi}")
        if line.referring_npi:
            segs.append(f"NM1*DN*1*QUARRY*SAMPLE****XX*{line.referring_npi}")
    return segs


def transaction_segments(claims: list[ClaimSpec], st02: str = "0001", bht03: str = "BATCH0001") -> list[str]:
    """ST through SE for ``claims``; each claim under its own subscriber HL."""
    segs = [
        f"ST*837*{st02}*005010X222A1",
        f"BHT*0019*00*{bht03}*20260110*1200*CH",
        "NM1*41*2*SYNTHETIC BILLING SERVICE*****46*SUBMIT01",
        "PER*IC*PAT QUINN*TE*5555550100",
        "NM1*40*2*SYNTHETIC CLEARINGHOUSE*****46*RECV01",
        "HL*1**20*1",
        f"NM1*85*2*ACME ORTHOTIC SUPPLY*****XX*{claims[0].billing_npi if claims else BILLING_NPI}",
        "N3*100 EXAMPLE WAY",
        "N4*SPRINGFIELD*IL*627010000",
        "REF*EI*990000001",
    ]
    hl = 1
    for claim in claims:
        hl += 1
        segs += [
            f"HL*{hl}*1*22*{0 if claim.patient is None else 1}",
            f"SBR*P*{'18' if claim.patient is None else ''}*******{claim.filing_indicator}",
            f"NM1*IL*1*{claim.subscriber_last}*{claim.subscriber_first}****MI*{claim.member_id}",
            "N3*200 SAMPLE STREET",
            "N4*SPRINGFIELD*IL*627020000",
            f"DMG*D8*{claim.birth_date}*F",
            f"NM1*PR*2*{claim.payer_name}*****PI*{claim.payer_id}",
        ]
        if claim.patient is not None:  # a dependent: loop 2000C under the subscriber
            last, first, birth = claim.patient
            hl += 1
            segs += [f"HL*{hl}*{hl - 1}*23*0", "PAT*19", f"NM1*QC*1*{last}*{first}", "N3*200 SAMPLE STREET",
                     "N4*SPRINGFIELD*IL*627020000", f"DMG*D8*{birth}*M"]
        segs += claim_segments(claim)
    segs.append(f"SE*{len(segs) + 1}*{st02}")
    return segs


def build_837(transactions: list[list[ClaimSpec]] | list[ClaimSpec], isa13: str = "000000001", gs06: str = "1",
              newline: bool = True) -> str:
    """A whole interchange: one functional group holding one ST per claim list."""
    if transactions and isinstance(transactions[0], ClaimSpec):
        transactions = [transactions]
    sets = [transaction_segments(claims, st02=f"{i:04d}", bht03=f"BATCH{int(isa13):04d}{i:02d}")  # type: ignore[arg-type]  # narrowed above: a flat list of claims became one transaction set
            for i, claims in enumerate(transactions, start=1)]
    return interchange(sets, isa13, gs06, newline)


def interchange(sets: list[list[str]], isa13: str = "000000001", gs06: str = "1", newline: bool = True) -> str:
    """ISA/GS … GE/IEA around transaction sets given as segment strings (without terminators)."""
    segs = [
        f"ISA*00*          *00*          *ZZ*SUBMIT01       *ZZ*RECV01         *260110*1200*^*00501*{isa13}*0*T*:",
        f"GS*HC*SUBMIT01*RECV01*20260110*1200*{gs06}*X*005010X222A1",
    ]
    for st in sets:
        segs += st
    segs.append(f"GE*{len(sets)}*{gs06}")
    segs.append(f"IEA*1*{isa13}")
    sep = "~\n" if newline else "~"
    return sep.join(segs) + sep
