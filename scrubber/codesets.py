"""External code sets, from maintained packages: the ICD-10-CM billable codes.

The ICD-10-CM tabular list comes from the ``simple-icd-10-cm`` package, which
ships the CMS ICD-10-CM files (version 1.5: the tabular of April 1, 2026, the
fiscal year 2026 code set with its April update).  Importing the package
parses its 10 MB XML, about 2-3 seconds, too slow for every ``check``; so the
first use writes the billable (leaf) codes to a text file in the scrubber
cache (``$XDG_CACHE_HOME/scrubber``, beside the compiled implementation-guide
tables), keyed by the package's tabular file, and later runs read that file
(about 10 ms).  Without a writable cache the package is asked every run.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path

from scrubber.cachedir import cache_dir

_MODULE = "simple_icd_10_cm"


def is_billable_icd10cm(code: str) -> bool:
    """True for a valid ICD-10-CM code at its most specific level (dots ignored, any case)."""
    codes = _billable_codes()
    return code in codes or code.replace(".", "").upper() in codes


@functools.cache
def icd10cm_release() -> str:
    """Which code set CLM010 checks against: the CMS tabular file the installed package ships."""
    date = _tabular().stem.removeprefix("icd10c-tabular-")
    return f"CMS ICD-10-CM tabular {date} (simple-icd-10-cm {_package_version()})"


def _package_version() -> str:
    """The installed simple-icd-10-cm's version: read from the name of the ``.dist-info`` folder beside the
    package (``simple_icd_10_cm-1.5.0.dist-info``, as a wheel installs it), which spares every report the import
    of importlib.metadata; asked of importlib.metadata where the package was installed otherwise."""
    found = list(_package_dir().parent.glob(f"{_MODULE}-*.dist-info"))
    if len(found) == 1:
        return found[0].name.removeprefix(f"{_MODULE}-").removesuffix(".dist-info")
    from importlib import metadata

    return metadata.version("simple-icd-10-cm")


def _tabular() -> Path:
    """The package's tabular XML, found without importing the package."""
    return sorted((_package_dir() / "data").glob("icd10c-tabular-*.xml"))[-1]


def _package_dir() -> Path:
    """The simple-icd-10-cm package's folder, found without importing the package."""
    spec = importlib.util.find_spec(_MODULE)
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover - a declared dependency
        raise RuntimeError("the simple-icd-10-cm package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


@functools.cache
def _billable_codes() -> frozenset[str]:
    tabular = _tabular()
    cache = cache_dir() / f"icd10cm-billable-{tabular.stem}-{tabular.stat().st_size}.txt"
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
