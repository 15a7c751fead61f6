"""The TA1 interchange acknowledgment: the answer when the ISA/IEA envelope itself is broken.

``TA1*<ISA13>*<ISA09>*<ISA10>*<A|R>*<note code>`` in an interchange of its
own (IEA01 = 0 groups).  A broken interchange gets ``R`` with the I18 note
code of its first envelope error, and no 999 or 277CA; a sound one gets
``A`` / ``000`` only when its ISA14 asks for an interchange acknowledgment.
"""

from __future__ import annotations

from scrubber.acks.envelope import Elements
from scrubber.report import InterchangeResult

NO_ERROR = "000"


def needed(received: InterchangeResult) -> bool:
    """A TA1 answers a broken interchange, or a sound one whose ISA14 is 1."""
    return received.rejected or received.isa.get(14) == "1"


def segment(received: InterchangeResult, note: str | None = None) -> Elements:
    """The TA1 for ``received``: ``R`` with ``note`` when given (e.g. ingest's duplicate 025), else by its errors."""
    isa = received.isa
    if note is not None:
        return ["TA1", isa.get(13), isa.get(9), isa.get(10), "R", note]
    if received.rejected:
        return ["TA1", isa.get(13), isa.get(9), isa.get(10), "R", received.errors[0].code]
    return ["TA1", isa.get(13), isa.get(9), isa.get(10), "A", NO_ERROR]
