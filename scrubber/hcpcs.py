"""Reference data: the CMS HCPCS walking-boot descriptors (the CMS HCPCS quarterly update files).

Some coding websites swap L4386 and L4387; the CMS file says L4386 is the
non-pneumatic *custom-fitted* boot and L4387 the *off-the-shelf* one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Descriptor:
    code: str
    pneumatic: bool | None
    custom_fitted: bool
    short: str


DESCRIPTORS = {
    d.code: d
    for d in (
        Descriptor("L4360", True, True, "Pneumat walking boot pre cst"),
        Descriptor("L4361", True, False, "Pneuma/vac walk boot pre ots"),
        Descriptor("L4386", False, True, "Non-pneum walk boot pre cst"),
        Descriptor("L4387", False, False, "Non-pneum walk boot pre ots"),
        Descriptor("L4396", None, True, "Static or dynami afo pre cst"),
        Descriptor("L4397", None, False, "Static or dynami afo pre ots"),
    )
}

#: The prefabricated walking boots (pneumatic and not, custom fitted and OTS).
WALKING_BOOTS = frozenset({"L4360", "L4361", "L4386", "L4387"})
