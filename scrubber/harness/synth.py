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


#: The codes the synthetic CMS tables hold: the prefabricated walking boots, and one that is priced with NU, RR and
#: UE (E0601, a CPAP device) for the fee schedule's cases.
SYNTHETIC_BOOTS = ("L4360", "L4361", "L4386", "L4387")


def hcpcs_record(code: str, short: str, added: str, terminated: str = "", action: str = "N") -> str:
    """One procedure record (record identification 3) of CMS's fixed-width HCPCS file, 320 columns."""
    record = [" "] * 320
    for start, text in ((0, code), (5, "00100"), (10, "3"), (11, short.upper()[:80]), (91, short[:28]),
                        (119, "46"), (127, "A"), (268, added), (276, added), (284, terminated), (292, action)):
        record[start:start + len(text)] = text
    return "".join(record)


def hcpcs_txt() -> str:
    """A synthetic HCPCS quarterly file in CMS's fixed-width layout: the boots, added long ago, not terminated, but
    L4360, which this invented file discontinues on 2025-12-31 (``generate``'s CMS002 defect bills it)."""
    records = [hcpcs_record(code, f"Walker boot {code}", "20060101", *(("20251231", "D") if code == "L4360" else ()))
               for code in SYNTHETIC_BOOTS]
    records.append(hcpcs_record("E0601", "Cont airway pressure device", "19940101"))
    return "\r\n".join(records) + "\r\n"


def dmepos_fee_csv() -> str:
    """A synthetic DMEPOS fee schedule in CMS's CSV layout (title lines, header, a fee per state): the boots priced
    with no modifier, E0601 with NU, RR and UE."""
    head = ("DMEPOS Fee Schedule - synthetic test file\r\n\r\n"
            "HCPCS,MOD,MOD2,JURIS,CATG,CEILING,FLOOR,AL (NR),AL (R),DESCRIPTION\r\n")
    rows = [f"{code},,,D,PO,300.00,250.00,280.00,290.00,Walker boot" for code in SYNTHETIC_BOOTS]
    rows += [f"E0601,{mod},,D,{cat},900.00,700.00,800.00,820.00,CPAP device"
             for mod, cat in (("NU", "IN"), ("RR", "CR"), ("UE", "IN"))]
    return head + "\r\n".join(rows) + "\r\n"


def mue_dme_csv() -> str:
    """A synthetic DME Supplier Services MUE table in CMS's CSV layout: the boots at 2 per line (MAI 1, a right and
    a left), E0601 at 1 per date of service (MAI 2)."""
    head = ("DME Supplier Services MUE Table - synthetic test file\r\n"
            '"HCPCS/CPT Code","DME Supplier Services MUE Values","MUE Adjudication Indicator","MUE Rationale"\r\n')
    rows = [f"{code},2,1 Line Edit,Anatomic Consideration" for code in SYNTHETIC_BOOTS]
    rows.append("E0601,1,2 Date of Service Edit: Policy,Nature of Equipment")
    return head + "\r\n".join(rows) + "\r\n"


#: Each synthetic table, by kind: its file name and text.
SYNTHETIC_TABLES = {
    "order-referring": ("synthetic-order-referring.csv", order_referring_csv),
    "hcpcs": ("synthetic-HCPC2026_OCT_ANWEB.txt", hcpcs_txt),
    "dmepos-fee": ("synthetic-DMEPOS26_OCT.csv", dmepos_fee_csv),
    "mue-dme": ("synthetic-mue-dme-2026q4.csv", mue_dme_csv),
}


def load_synthetic_data(store_path: str | None = None) -> None:
    """Import the synthetic CMS tables (:data:`SYNTHETIC_TABLES`) into the default data store (``$XDG_DATA_HOME``:
    point it at a folder of its own first) or ``store_path``, effective and imported on 2026-11-01, so the reports
    that name them are the same every run."""
    from datetime import UTC, date, datetime
    from pathlib import Path

    from scrubber.data import DataStore, default_path

    folder = (Path(store_path).parent if store_path else default_path().parent)
    folder.mkdir(parents=True, exist_ok=True)
    with DataStore(store_path) as store:
        for kind, (name, text) in SYNTHETIC_TABLES.items():
            source = folder / name
            source.write_bytes(text().encode("latin-1" if kind == "hcpcs" else "utf-8"))
            store.import_file(kind, source, date(2026, 11, 1), now=datetime(2026, 11, 1, tzinfo=UTC))


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
