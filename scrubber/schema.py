"""The JSON report's published schema (``report.schema.json``, JSON Schema 2020-12), and a check against it.

The schema ships in the package so that a program reading scrubber's JSON can
validate it (``scrubber.schema.report_schema()``) before trusting a field.
The tests hold every JSON report they make to it: with
``SCRUBBER_CHECK_REPORT_SCHEMA=1`` in the environment (the test suite sets
it), the JSON formatter validates each report it writes, in-process and in
child processes alike, and fails loudly on the first report that does not
match (of a file of more than :data:`CLAIMS_CHECKED` claims, the first and
the last claims: the claims all have one shape, and jsonschema takes ten
seconds over 10,000 of them).
"""

from __future__ import annotations

import functools
import json
import os
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jsonschema

#: Set to 1: every JSON report written is validated against the schema (a developer's and the tests' check).
CHECK_VARIABLE = "SCRUBBER_CHECK_REPORT_SCHEMA"


@functools.cache
def report_schema() -> dict[str, Any]:
    """The JSON Schema of the JSON report."""
    schema: dict[str, Any] = json.loads(resources.files("scrubber").joinpath("report.schema.json").read_text("utf-8"))
    return schema


def report_problems(data: Any) -> list[str]:
    """What in ``data`` (a loaded JSON report) the schema does not allow, one line each (none: it matches)."""
    validator = _validator()
    return [f"{'/'.join(str(p) for p in error.absolute_path) or '(top)'}: {error.message}"
            for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))]


#: Claims per file the check validates when a file has more: the first and the last half of them (validating every
#: claim of a 10,000-claim report takes jsonschema ten seconds; the claims all have one shape).
CLAIMS_CHECKED = 400


def validate_report(data: Any, claims: int | None = CLAIMS_CHECKED) -> None:
    """Raise ValueError naming the first problems when ``data`` does not match the report schema; of a file with
    more than ``claims`` claims (None: no limit), the first and last ``claims // 2`` are checked."""
    if claims is not None and isinstance(data, dict) and isinstance(data.get("files"), list):
        half = claims // 2
        data = {**data, "files": [{**f, "claims": f["claims"][:half] + f["claims"][-half:]}
                                  if isinstance(f, dict) and len(f.get("claims") or ()) > claims else f
                                  for f in data["files"]]}
    problems = report_problems(data)
    if problems:
        raise ValueError("the JSON report does not match report.schema.json: " + "; ".join(problems[:5]))


def checking() -> bool:
    """True when every JSON report written is to be validated (:data:`CHECK_VARIABLE`)."""
    return os.environ.get(CHECK_VARIABLE) == "1"


@functools.cache
def _validator() -> jsonschema.protocols.Validator:
    import jsonschema  # only when a report is checked: the import costs a check run 0.1 s

    schema = report_schema()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)
