"""scrubber: an X12 837P (005010X222A1) claim scrubber for HCPCS L4386 walking boots."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
