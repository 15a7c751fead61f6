"""Map an 837P segment stream to :class:`~scrubber.claims.model.Claim` objects.

Two small state machines, fed one segment at a time so that nothing but the
claim being built is held in memory:

* :class:`LoopTracker` names the 005010X222A1 loop of each segment from the
  segment ID, its qualifier and the HL level (the 999 IK303 loop ID);
* :class:`ClaimBuilder` collects the 2300/2400 data rules need, with the
  billing provider, subscriber, patient and payer context around it, and hands
  back each claim as soon as the next CLM, HL or SE closes it.
"""

from __future__ import annotations

from typing import Any

from scrubber.claims.model import PERSON_ENTITIES, Claim, Loc, Note, Npi, Party, Person, Pwk, Ref, ServiceLine, assemble
from segments import Segment, to_date, to_decimal, to_int

#: A claim, service line or person being read: its fields by name, lists where the object has tuples.
Draft = dict[str, Any]
_HL_LOOPS = {"20": "2000A", "22": "2000B", "23": "2000C"}
_NM1_HEADER = {"41": "1000A", "40": "1000B"}
_NM1_2000A = {"85": "2010AA", "87": "2010AB", "PE": "2010AC"}
_NM1_2000B = {"IL": "2010BA", "PR": "2010BB"}
_NM1_2000C = {"QC": "2010CA"}
_NM1_2300 = {"DN": "2310A", "P3": "2310A", "82": "2310B", "77": "2310C", "DQ": "2310D", "PW": "2310E", "45": "2310F"}
_NM1_2320 = {"IL": "2330A", "PR": "2330B", "DN": "2330C", "P3": "2330C", "82": "2330D", "77": "2330E", "DQ": "2330F",
             "85": "2330G"}
_NM1_2400 = {"82": "2420A", "QB": "2420B", "77": "2420C", "DQ": "2420D", "DK": "2420E", "DN": "2420F", "P3": "2420F",
             "PW": "2420G", "45": "2420H"}


_NM1_BY_LEVEL = {"": _NM1_HEADER, "2000A": _NM1_2000A, "2000B": _NM1_2000B, "2000C": _NM1_2000C,
                 "2300": _NM1_2300, "2320": _NM1_2320, "2400": _NM1_2400}
#: The segments that can change the loop; every other segment stays in the loop before it.
_LOOP_STARTS = frozenset(("ST", "BHT", "SE", "HL", "CLM", "LX", "SBR", "SVD", "LQ", "NM1"))


#: HI01-1 qualifiers of diagnosis codes (TR3 2300 HI "Health Care Diagnosis Code": ABK principal and ABF
#: other ICD-10-CM; BK and BF for ICD-9-CM).
DIAGNOSIS_QUALIFIERS = frozenset(("ABK", "ABF", "BK", "BF"))

#: The segments that close the claim being read.
_CLOSERS = frozenset(("HL", "CLM", "SE"))


class LoopTracker:
    """Names the loop of each segment of an 837P transaction set."""

    def __init__(self) -> None:
        self.loop = ""
        self._level = ""  # 2000A/B/C, then 2300, 2320, 2400

    def see(self, seg: Segment) -> str:
        sid = seg.elements[0]
        if sid not in _LOOP_STARTS:
            return self.loop
        if sid == "NM1":
            self.loop = _NM1_BY_LEVEL.get(self._level, {}).get(seg.get(1)) or self.loop
        elif sid in ("ST", "BHT", "SE"):
            self.loop = self._level = ""
        elif sid == "HL":
            self.loop = self._level = _HL_LOOPS.get(seg.get(3), "2000B")
        elif sid == "CLM":
            self.loop = self._level = "2300"
        elif sid == "LX":
            self.loop = self._level = "2400"
        elif sid == "SBR":
            if self._level in ("2300", "2320"):
                self.loop = self._level = "2320"
        elif sid == "SVD":
            self.loop = "2430"
        else:  # LQ
            self.loop = "2440"
        return self.loop


class ClaimBuilder:
    """Feed segments of one transaction set; collect finished claims.

    ``feed`` returns the claim that the segment closed, if any; ``finish``
    returns the last one at SE (or at the end of a truncated set).  While a
    claim is read its parts are kept in plain dicts (a *draft*: the field
    names of :class:`Claim`, :class:`ServiceLine` and :class:`Person`); the
    immutable objects are made once, when the claim closes.
    """

    def __init__(self, isa13: str = "", gs06: str = "", st02: str = "") -> None:
        self.isa13, self.gs06, self.st02 = isa13, gs06, st02
        self.loops = LoopTracker()
        self.bht03 = ""
        self.submitter = Party()
        self.receiver = Party()
        self._billing: Npi | None = None
        self._billing_name: Party | None = None
        self._filing_indicator = ""
        self._payer_name = ""
        self._payer_id = ""
        self._subscriber: Draft = {}
        self._member_loc: Loc | None = None  # the subscriber's NM1 (2010BA NM109: the member ID)
        self._patient: Draft | None = None
        self._person: Draft | None = None
        self._claim: Draft | None = None
        self._lines: list[Draft] = []
        self._line: Draft | None = None
        self._last_index = 0

    def feed(self, seg: Segment) -> Claim | None:
        sid = seg.elements[0]
        loop = self.loops.see(seg) if sid in _LOOP_STARTS else self.loops.loop
        done: Claim | None = None
        if sid in _CLOSERS:
            done = self.finish()
        handler = _HANDLERS.get(sid)
        if handler is not None:
            handler(self, seg, loop)
        self._last_index = seg.index
        return done

    @property
    def current_claim_id(self) -> str | None:
        """CLM01 of the claim being read, if any."""
        return self._claim["claim_id"] if self._claim is not None else None

    def finish(self) -> Claim | None:
        """The claim being read, made whole (None when there is none); the builder then waits for the next CLM."""
        claim, lines = self._claim, self._lines
        self._claim, self._line, self._lines = None, None, []
        if claim is None:
            return None
        claim["last_index"] = self._last_index
        return _make_claim(claim, lines)

    # -- header and hierarchy -----------------------------------------------------

    def _bht(self, seg: Segment, loop: str) -> None:
        self.bht03 = seg.get(3)

    def _hl(self, seg: Segment, loop: str) -> None:
        level = seg.get(3)
        if level == "20":
            self._billing = None
            self._billing_name = None
            self._person = None
        elif level == "22":
            self._subscriber = {}
            self._member_loc = None
            self._patient = None
            self._person = self._subscriber
            self._filing_indicator = self._payer_name = self._payer_id = ""
        elif level == "23":
            self._patient = {}
            self._person = self._patient

    def _sbr(self, seg: Segment, loop: str) -> None:
        if loop == "2000B":
            self._filing_indicator = seg.get(9)

    def _nm1(self, seg: Segment, loop: str) -> None:
        if seg.get(1) in PERSON_ENTITIES and loop not in ("2010BA", "2010CA"):
            return  # a subscriber or patient out of its loop is never read as a provider, payer or party
        if self._claim is not None and seg.get(8) == "XX" and loop[:2] in ("23", "24"):
            on_line = len(self._lines) - 1 if loop.startswith("24") and self._line is not None else None
            self._claim.setdefault("npis", []).append((Npi(seg.get(1), "XX", seg.get(9), _loc(seg, loop)), on_line))
        if loop in ("1000A", "1000B"):
            party = Party(seg.get(2), seg.get(3), seg.get(4), seg.get(8), seg.get(9))
            if loop == "1000A":
                self.submitter = party
            else:
                self.receiver = party
        elif loop == "2010AA":
            self._billing = Npi("85", seg.get(8), seg.get(9), _loc(seg, loop))
            self._billing_name = Party(seg.get(2), seg.get(3), seg.get(4), seg.get(8), seg.get(9))
        elif loop in ("2010BA", "2010CA") and self._person is not None:
            self._person.update(last_name=seg.get(3), first_name=seg.get(4), member_id=seg.get(9))
            if loop == "2010BA":
                self._member_loc = _loc(seg, loop)
        elif loop == "2010BB":
            self._payer_name, self._payer_id = seg.get(3), seg.get(9)
        elif loop == "2310B" and self._claim is not None:
            self._claim["rendering"] = _npi(seg, loop)
        elif loop == "2310A" and self._claim is not None:
            self._claim["referring"] = Npi(seg.get(1), seg.get(8), seg.get(9), _loc(seg, loop), seg.get(3), seg.get(4))
        elif loop == "2420A" and self._line is not None:
            self._line["rendering"] = _npi(seg, loop)
        elif loop == "2420E" and self._line is not None:
            self._line["ordering"] = Npi("DK", seg.get(8), seg.get(9), _loc(seg, loop), seg.get(3), seg.get(4))
        elif loop == "2420F" and self._line is not None:
            self._line["referring"] = Npi(seg.get(1), seg.get(8), seg.get(9), _loc(seg, loop), seg.get(3), seg.get(4))

    def _dmg(self, seg: Segment, loop: str) -> None:
        if loop in ("2010BA", "2010CA") and self._person is not None:
            self._person["birth_date"] = to_date(seg.get(2))

    def _n3(self, seg: Segment, loop: str) -> None:
        if loop in ("2010BA", "2010CA") and self._person is not None:
            self._person["address"] = self._person.get("address", ()) + tuple(e for e in seg.elements[1:] if e)

    def _n4(self, seg: Segment, loop: str) -> None:
        self._n3(seg, loop)

    # -- claim -----------------------------------------------------------------------

    def _clm(self, seg: Segment, loop: str) -> None:
        place = seg.components(5)
        self._claim = {
            "claim_id": seg.get(1),
            "loc": _loc(seg, loop),
            "st02": self.st02,
            "isa13": self.isa13,
            "gs06": self.gs06,
            "bht03": self.bht03,
            "charge": to_decimal(seg.get(2)),
            "place_of_service": place[0],
            "facility_qualifier": place[1] if len(place) > 1 else "",
            "frequency": place[2] if len(place) > 2 else "",
            "filing_indicator": self._filing_indicator,
            "payer_name": self._payer_name,
            "payer_id": self._payer_id,
            "billing": self._billing,
            "billing_name": self._billing_name,
            "subscriber": Person(**self._subscriber),
            "member_loc": self._member_loc,
            "patient": None if self._patient is None else Person(**self._patient),
            "first_index": seg.index,
        }

    def _hi(self, seg: Segment, loop: str) -> None:
        """Diagnoses only (ABK/ABF, and BK/BF for ICD-9): an HI of condition codes (BG) or anesthesia
        procedures (BP/BO) is not a diagnosis, and SV107 pointers index the diagnoses alone."""
        if self._claim is None or loop != "2300":
            return
        for n in range(1, len(seg.elements)):
            parts = seg.components(n)
            if len(parts) >= 2 and parts[1] and parts[0] in DIAGNOSIS_QUALIFIERS:
                self._claim.setdefault("hi", _loc(seg, loop))
                self._claim.setdefault("diagnoses", []).append((parts[0], parts[1]))

    def _pwk(self, seg: Segment, loop: str) -> None:
        if loop == "2400" and self._line is not None:
            self._line.setdefault("pwks", []).append(_pwk(seg, loop))
        elif loop == "2300" and self._claim is not None:
            self._claim.setdefault("pwks", []).append(_pwk(seg, loop))

    def _ref(self, seg: Segment, loop: str) -> None:
        ref = Ref(seg.get(1), seg.get(2), _loc(seg, loop))
        if loop == "2300" and self._claim is not None:
            if ref.qualifier == "G1":
                self._claim["prior_auth"] = ref
            elif ref.qualifier == "D9":
                self._claim["trace"] = ref
            elif ref.qualifier == "F8":
                self._claim["original_reference"] = ref
        elif loop == "2400" and self._line is not None:
            if ref.qualifier == "G1":
                self._line.setdefault("prior_auths", []).append(ref)
            elif ref.qualifier == "6R":
                self._line["line_control"] = ref

    def _nte(self, seg: Segment, loop: str) -> None:
        if loop == "2400" and self._line is not None:
            self._line.setdefault("notes", []).append(Note(seg.get(1), seg.get(2), _loc(seg, loop)))
        elif loop == "2300" and self._claim is not None:
            self._claim.setdefault("notes", []).append(Note(seg.get(1), seg.get(2), _loc(seg, loop)))

    # -- service line ------------------------------------------------------------------

    def _lx(self, seg: Segment, loop: str) -> None:
        if self._claim is None:
            return
        self._line = {"line_number": to_int(seg.get(1), 6), "loc": _loc(seg, loop)}
        self._lines.append(self._line)

    def _sv1(self, seg: Segment, loop: str) -> None:
        line = self._line
        if line is None or loop != "2400":
            return
        proc = seg.components(1)
        line["qualifier"] = proc[0]
        line["procedure"] = proc[1] if len(proc) > 1 else ""
        line["modifiers"] = tuple(m for m in proc[2:6] if m)
        line["charge"] = to_decimal(seg.get(2))
        line["unit_basis"] = seg.get(3)
        line["units"] = to_decimal(seg.get(4))
        line["place_of_service"] = seg.get(5)
        line["pointers"] = tuple(p for p in seg.components(7) if p)
        line["sv1"] = _loc(seg, loop)

    def _cr3(self, seg: Segment, loop: str) -> None:
        if loop == "2400" and self._line is not None:
            self._line["cr3"] = _loc(seg, loop)

    def _dtp(self, seg: Segment, loop: str) -> None:
        if loop == "2400" and self._line is not None and seg.get(1) == "472":
            line = self._line
            line["date_format"], line["dtp"] = seg.get(2), _loc(seg, loop)
            first, dash, last = seg.get(3).partition("-") if seg.get(2) == "RD8" else (seg.get(3), "", "")
            line["service_date"] = to_date(first)
            line["service_end"] = to_date(last) if dash else line["service_date"]


_LINE_LISTS = ("pwks", "prior_auths", "notes")
_CLAIM_LISTS = ("diagnoses", "pwks", "notes")


def _make_claim(claim: Draft, lines: list[Draft]) -> Claim:
    """The immutable claim of a draft and its line drafts (an NPI's line is kept as its place in ``lines``)."""
    made = tuple(assemble(ServiceLine, _tuples(line, _LINE_LISTS)) for line in lines)
    if "npis" in claim:
        claim["npis"] = tuple((npi, None if at is None else made[at]) for npi, at in claim["npis"])
    claim["lines"] = made
    return assemble(Claim, _tuples(claim, _CLAIM_LISTS))


def _tuples(draft: Draft, keys: tuple[str, ...]) -> Draft:
    for key in keys:
        if key in draft:
            draft[key] = tuple(draft[key])
    return draft


def _loc(seg: Segment, loop: str) -> Loc:
    return Loc(seg.elements[0], seg.position, seg.line, loop)


def _npi(seg: Segment, loop: str) -> Npi | None:
    """The provider of an NM1 whose NM108 is XX, else None."""
    return Npi(seg.get(1), seg.get(8), seg.get(9), _loc(seg, loop)) if seg.get(8) == "XX" else None


def _pwk(seg: Segment, loop: str) -> Pwk:
    return Pwk(seg.get(1), seg.get(2), seg.get(5), seg.get(6), _loc(seg, loop))


#: Segment ID → ClaimBuilder method that reads it (segments without one are only counted).
_HANDLERS = {name[1:].upper(): method for name, method in vars(ClaimBuilder).items()
             if name.startswith("_") and not name.startswith("__") and name[1:].isalnum() and callable(method)}
