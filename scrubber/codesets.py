"""External code sets, from maintained packages: the ICD-10-CM billable codes.

The ICD-10-CM tabular list comes from the ``simple-icd-10-cm`` package, which
ships the CMS ICD-10-CM files (version 1.5: the tabular of April 1, 2026, the
fiscal year 2026 code set with its April update).  Importing the package
parses its 10 MB XML, about 2-3 seconds, too slow for every ``check``; so the
first use writes the billable (leaf) codes to a text file in the scrubber
cache (``$XDG_CACHE_HOME/scrubber``, beside the compiled implementation-guide
tables), keyed by the package version, and later runs read that file (tens of
milliseconds).  Without a writable cache the package is asked every run.
"""

from __future__ import annotations

import functools
import os
from importlib import metadata

from scrubber.igc.tables import cache_dir

_PACKAGE = "simple-icd-10-cm"


def _release() -> str:
    try:
        version = metadata.version(_PACKAGE)
    except metadata.PackageNotFoundError:  # pragma: no cover - a declared dependency
        return "ICD-10-CM (simple-icd-10-cm not installed)"
    data = sorted(p.name for p in (metadata.files(_PACKAGE) or []) if p.name.startswith("icd10c-tabular"))
    tabular = data[0].removeprefix("icd10c-tabular-").removesuffix(".xml") if data else "unknown date"
    return f"CMS ICD-10-CM tabular {tabular} (simple-icd-10-cm {version})"


#: Which code set CLM010 checks against, as the installed package says.
ICD10CM_RELEASE = _release()


def is_billable_icd10cm(code: str) -> bool:
    """True for a valid ICD-10-CM code at its most specific level (dots ignored, any case)."""
    return code.replace(".", "").upper() in _billable_codes()


@functools.cache
def _billable_codes() -> frozenset[str]:
    cache = cache_dir() / f"icd10cm-billable-{metadata.version(_PACKAGE)}.txt"
    try:
        return frozenset(cache.read_text(encoding="ascii").split())
    except (OSError, UnicodeDecodeError):
        pass
    codes = _leaf_codes()
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text("\n".join(sorted(codes)) + "\n", encoding="ascii")
        os.replace(partial, cache)
    except OSError:
        pass  # no writable cache: the package is asked again next run
    return codes


def _leaf_codes() -> frozenset[str]:
    """Every code of the tabular that has no child (the codes a claim may carry), without dots."""
    import simple_icd_10_cm as cm

    return frozenset(code for code in cm.get_all_codes(with_dots=False) if cm.is_leaf(code) and "-" not in code)
