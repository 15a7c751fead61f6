"""Text that lxml accepts: XML 1.0 forbids most control characters, and input files may hold them."""

from __future__ import annotations

import re

_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_safe(text: str) -> str:
    """``text`` with every character XML 1.0 cannot carry replaced by U+FFFD."""
    return _FORBIDDEN.sub("\ufffd", text)
