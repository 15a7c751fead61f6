"""Issue 12: structure-aware fuzzing of ``check`` and ``ingest``.

Seeds are generated 837P files and the public corpus (read in place).  Each
example applies a few mutations that keep the file X12-shaped enough to reach
deep code — an element value replaced by a hostile one (NaN, foreign digits,
control characters, delimiters, markup, very long text), the delimiters
changed (a space as terminator too), segments dropped, repeated or swapped, a
subscriber segment moved out of its loop, invalid bytes, the file cut short —
and runs ``scrubber check`` on it in every format, with and without
``--redact``, writing acknowledgments.  Asserted every time: no traceback, exit
0/1/2, JSON that loads, HTML and JUnit that parse, a text report without
control characters, acknowledgments that parse with their own delimiters, and
under ``--redact`` no value of a PHI element in any report.

The same inputs go through ``scrubber export`` (every format, with and without
``--redact``), through ``scrubber.scrub`` as bytes, which must give the
JSON report ``check`` gives for the file, and through the work of ``scrubber
serve``'s ``/v1/check`` (in one of its worker processes, with every
acknowledgment, with and without redaction).

A few hundred inputs run in CI; ``pytest -m slow -k fuzz`` runs 20,000 (and 5,000 through export and the API).
"""

from __future__ import annotations

import io
import json
import multiprocessing
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree, html

from helpers import CORPUS, NOW, html_readable, run_cli
from scrubber.claims.mapping import LoopTracker
from scrubber.cli import cli
from scrubber.harness.synth import ClaimSpec, LineSpec, build_837
from scrubber.redact import PHI_LOOPS
from segments import X12InputError, read_segments

HOSTILE = ["NaN", "sNaN", "Infinity", "1E999999999", "-0", "²", "①", "١٢٣", "\x1b[2J\x1b[31m", "\x00", "\x07\x08",
           "<script>alert(1)</script>", "]]>&amp;", "A" * 5000, "", " ", "*", ":", "^", "~", "\n", "\r\n",
           "\u202eevil", "\ufffd", "\udcff", "99999999999999999999", "20261340", "-1", "0", "1.2.3", "KX:RT:LT:50"]
SEEDS_GENERATED = [
    build_837([ClaimSpec("F1", lines=[LineSpec(), LineSpec(modifiers=("KX", "LT"))]),
               ClaimSpec("F2", filing_indicator="CI", payer_id="COMM01", prior_auth="AUTH1"),
               ClaimSpec("F3", subscriber_last="ABERNATHY", subscriber_first="QUENTIN", member_id="9XX9XX9XX99",
                         birth_date="19611231")], isa13="000000101"),
    build_837([[ClaimSpec("G1")], [ClaimSpec("G2", lines=[LineSpec(pwks=["PWK*CT*FX***AC*DOC1"])])]],
              isa13="000000102"),
]
CHECK_FORMATS = ("text", "json", "html", "junit", "annotated")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def _corpus_seeds() -> list[str]:
    if not CORPUS.is_dir():
        return []
    seeds = []
    for path in sorted(CORPUS.rglob("*")):
        if path.is_file() and path.stat().st_size < 60_000:
            head = path.read_bytes()[:200].lstrip()
            if head.startswith(b"ISA") and b"837" in path.read_bytes()[:2000]:
                seeds.append(path.read_bytes().decode("utf-8", "replace"))
    return seeds


SEEDS = SEEDS_GENERATED + _corpus_seeds()


# -- mutations on the segment list ----------------------------------------------------------------------------------

def _split(text: str) -> tuple[list[list[str]], str, str]:
    segments = read_segments(text)
    d = segments[0].delimiters
    return [list(s.elements) for s in segments], d.element, d.segment


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    seed = draw(st.sampled_from(SEEDS))
    segments, sep, term = _split(seed)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["value", "value", "value", "drop", "repeat", "swap", "move-person", "cut"]))
        i = draw(st.integers(1, len(segments) - 1))
        if kind == "value" and len(segments[i]) > 1:
            j = draw(st.integers(1, len(segments[i]) - 1))
            segments[i][j] = draw(st.sampled_from(HOSTILE))
        elif kind == "drop" and len(segments) > 3:
            del segments[i]
        elif kind == "repeat":
            segments[i:i] = [list(segments[i])] * draw(st.integers(1, 30))
        elif kind == "swap":
            k = draw(st.integers(1, len(segments) - 1))
            segments[i], segments[k] = segments[k], segments[i]
        elif kind == "move-person":
            person = [s for s in segments if s[0] in ("NM1", "N3", "DMG") and len(s) > 1 and s[1] in ("IL", "QC", "D8")
                      or s[0] == "N3"]
            if person:
                segments.insert(i, list(draw(st.sampled_from(person))))
    new_sep, new_term = draw(st.sampled_from([(sep, term), ("|", "\n"), ("*", " "), ("^", "~"), ("!", "'")]))
    lines = []
    for s in segments:
        if s[0] == "ISA" and len(s) == 17:
            s = [*s[:16], s[16][:1] or ":"]
        lines.append(new_sep.join(s))
    text = (new_term + ("\n" if new_term != "\n" else "")).join(lines) + new_term
    data = text.encode("utf-8", "surrogateescape")
    if draw(st.booleans()) and draw(st.booleans()):
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from([b"\xff\xfe", b"\x80", b"\x00\x00"])) + data[at:]
    if draw(st.integers(0, 9)) == 0:
        data = data[: draw(st.integers(0, len(data)))]
    return data


# -- what must hold ---------------------------------------------------------------------------------------------------

def phi_values(data: bytes) -> set[str]:
    """Values in PHI elements (as the scrubber reads the file) that stand in no other element of it."""
    from scrubber.redact import _PHI_ELEMENTS

    try:
        segments = read_segments(data)
    except X12InputError:
        return set()
    phi, other = set(), set()
    loops = LoopTracker()
    for seg in segments:
        if seg.id == "ST":
            loops = LoopTracker()
        loop = loops.see(seg)
        person = loop in PHI_LOOPS or seg.id == "DMG" or (seg.id == "NM1" and seg.get(1) in ("IL", "QC"))
        places = dict(_PHI_ELEMENTS.get(seg.id, ())) if person else {}
        if seg.id == "PER":
            places.update({2: "NAME", 4: "PHONE", 6: "PHONE", 8: "PHONE"})
        for n, value in enumerate(seg.elements[1:], start=1):
            (phi if n in places else other).add(value)
    return {v for v in phi - other if len(v) >= 4 and v.isascii() and v.strip() == v and not v.isdigit() or
            (len(v) >= 6 and v.isdigit() and v not in other)} - {"", "None"}


def shown_as_a_value(value: str) -> re.Pattern[str]:
    """``value`` where a report shows it as a value of its own (not inside a longer word or number)."""
    return re.compile(f"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])")


def check_outputs(tmp: Path, data: bytes, redact: bool) -> None:
    path = tmp / "fuzz.837"
    path.write_bytes(data)
    acks = tmp / "acks"
    for fmt in CHECK_FORMATS:
        args = ["check", "--format", fmt, "--now", NOW, "--control-start", "1", str(path)]
        if redact:
            args.insert(1, "--redact")
        if fmt == "json":
            args[1:1] = ["--ack-dir", str(acks)]
        result = CliRunner().invoke(cli, args)
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        out, err = result.stdout, result.stderr
        assert result.exit_code in (0, 1, 2) and "Traceback" not in out + err, (fmt, err)
        assert not _CONTROL.search(err), err
        if fmt == "json":
            json.loads(out)
        elif fmt == "html":
            html.fromstring(out)
        elif fmt == "junit":
            etree.fromstring(out.encode())
        else:
            assert not _CONTROL.search(out), out
        if redact:
            readable = html_readable(out) if fmt == "html" and "report-data" in out else out  # the page's claim data
            for value in phi_values(data):
                shown = shown_as_a_value(value)
                assert not shown.search(readable) and not shown.search(err), (fmt, value)
    for ack in acks.iterdir() if acks.is_dir() else []:
        assert_parses(ack.read_text())
    shutil.rmtree(acks, ignore_errors=True)


def assert_parses(text: str) -> None:
    """An acknowledgment read back with its own delimiters: ISA…IEA, segment IDs only, ISA16/ISA11 right."""
    segments = read_segments(text)
    assert segments[0].id == "ISA" and len(segments[0].elements) == 17 and segments[-1].id == "IEA", text[:300]
    d = segments[0].delimiters
    assert segments[0].get(16) == d.component and segments[0].get(11) == d.repetition
    for seg in segments:
        assert re.fullmatch("[A-Z][A-Z0-9]{1,2}", seg.id), (seg.id, text[:300])
        assert not _CONTROL.search("".join(seg.elements))


FUZZ = settings(max_examples=200, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


@FUZZ
@given(data=mutated(), redact=st.booleans())
def test_fuzz_check(tmp_path_factory: pytest.TempPathFactory, data: bytes, redact: bool) -> None:
    check_outputs(tmp_path_factory.mktemp("fuzz"), data, redact)


@pytest.mark.slow
@settings(max_examples=20_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=mutated(), redact=st.booleans())
def test_fuzz_check_long(tmp_path_factory: pytest.TempPathFactory, data: bytes, redact: bool) -> None:
    check_outputs(tmp_path_factory.mktemp("fuzz"), data, redact)


# -- export and the Python API (issue 15) ----------------------------------------------------------------------------

def export_outputs(tmp: Path, data: bytes, redact: bool) -> None:
    """``scrubber export`` in every format: exit 0 or 2 with no traceback, output that loads, one record per
    claim ``read_claims`` gives for the same bytes, and under ``--redact`` no PHI value."""
    import csv
    import io

    import scrubber
    from scrubber.export import CSV_COLUMNS

    path = tmp / "fuzz.837"
    path.write_bytes(data)
    ids: dict[str, list[str]] = {}
    for fmt in ("ndjson", "json", "csv"):
        result = CliRunner().invoke(cli, ["export", "--format", fmt, *(["--redact"] if redact else []), str(path)])
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        out, err = result.stdout, result.stderr
        assert result.exit_code in (0, 2) and "Traceback" not in out + err, (fmt, err)
        assert not _CONTROL.search(err), err
        if fmt == "ndjson":
            ids[fmt] = [json.loads(line)["claim_id"] for line in out.splitlines()]
        elif fmt == "json":
            ids[fmt] = [record["claim_id"] for record in json.loads(out)]
        else:
            rows = list(csv.reader(io.StringIO(out)))
            assert rows[0] == list(CSV_COLUMNS)
        if redact:
            readable = html_readable(out) if fmt == "html" and "report-data" in out else out  # the page's claim data
            for value in phi_values(data):
                shown = shown_as_a_value(value)
                assert not shown.search(readable) and not shown.search(err), (fmt, value)
        if result.exit_code == 0 and fmt == "ndjson":
            assert ids[fmt] == [c.claim_id for c in scrubber.read_claims(data)]
    assert ids["ndjson"] == ids["json"]


def api_matches_cli(tmp: Path, data: bytes) -> None:
    """``scrubber.scrub(bytes)`` is ``scrubber check --format json`` of the same bytes in a file."""
    from datetime import datetime

    import scrubber

    path = tmp / "fuzz.837"
    path.write_bytes(data)
    result = CliRunner().invoke(cli, ["check", "--format", "json", "--now", NOW, str(path)])
    assert result.exit_code in (0, 1, 2), result.stderr
    expected = json.loads(result.stdout)
    forms: list[tuple[object, object, str]] = [(data, datetime.fromisoformat(NOW), "<bytes>"),
                                               (io.BytesIO(data), NOW, "<stream>")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    if text.lstrip("\ufeff \t\r\n").startswith("ISA"):  # X12 text is taken as X12, not as a file name
        forms.append((text, datetime.fromisoformat(NOW).date() if NOW.endswith("T00:00") else NOW, "<bytes>"))
    for source, now, name in forms:
        report = scrubber.scrub(source, now=now).to_dict()  # type: ignore[arg-type]
        for f in [*report["files"], *report["inputs"]]:  # type: ignore[misc]  # to_dict is loosely typed
            assert f["path"] == name
            f["path"] = str(path)
        assert json.loads(json.dumps(report)) == expected


@FUZZ
@given(data=mutated(), redact=st.booleans())
def test_fuzz_export(tmp_path_factory: pytest.TempPathFactory, data: bytes, redact: bool) -> None:
    export_outputs(tmp_path_factory.mktemp("export"), data, redact)


@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(data=mutated())
def test_fuzz_api_bytes(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    api_matches_cli(tmp_path_factory.mktemp("api"), data)


@pytest.mark.slow
@settings(max_examples=5_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=mutated(), redact=st.booleans())
def test_fuzz_export_and_api_long(tmp_path_factory: pytest.TempPathFactory, data: bytes, redact: bool) -> None:
    export_outputs(tmp_path_factory.mktemp("export"), data, redact)
    api_matches_cli(tmp_path_factory.mktemp("api"), data)


# -- scrubber serve -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def serve_worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProcessPoolExecutor]:
    """One of ``scrubber serve``'s worker processes, spawned and started as the server starts its workers."""
    from scrubber.serve import work

    spool = tmp_path_factory.mktemp("spool")
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=work.start,
                             initargs=(work.Settings(spool=str(spool)),)) as pool:
        yield pool


def serve_outputs(pool: ProcessPoolExecutor, data: bytes, redact: bool) -> None:
    """``POST /v1/check?acks=999,277ca,ta1``'s work on the bytes: a file ``check`` cannot read is the error
    ``scrubber.scrub`` gives; otherwise its status, a JSON report that loads, acknowledgments that parse, and under
    ``redact`` no value of a PHI element in the answer."""
    from datetime import datetime

    import scrubber
    from scrubber.serve import work

    query = work.Query(now=datetime.fromisoformat(NOW), redact=redact, acks=tuple(work.ACK_KINDS), control_start=1)
    outcome = pool.submit(work.check, data, query).result()
    expected = scrubber.scrub(data, now=NOW).files[0]
    if expected.error is not None:
        assert (outcome.status, outcome.error, outcome.report) == ("error", expected.error, b"")
        return
    assert outcome.error is None and outcome.status == expected.status
    text = outcome.report.decode("utf-8")
    report = json.loads(text)
    assert report["files"][0]["status"] == expected.status
    for ack in report["acknowledgments"].values():
        if ack is not None:
            assert_parses(ack)
    if redact:
        for value in phi_values(data):
            assert not shown_as_a_value(value).search(text), value


@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(data=mutated(), redact=st.booleans())
def test_fuzz_serve_worker(serve_worker: ProcessPoolExecutor, data: bytes, redact: bool) -> None:
    serve_outputs(serve_worker, data, redact)


# -- ingest ---------------------------------------------------------------------------------------------------

def ingest_batch(tmp: Path, batch: list[bytes]) -> None:
    """A batch of mutated files through one ingest run: every file archived or failed once, and no
    claim the ledger rejects is in a forward file (nor one it forwards missing from it)."""
    inbox, out = tmp / "inbox", tmp / "out"
    inbox.mkdir()
    for n, data in enumerate(batch):
        (inbox / f"f{n:03d}.837").write_bytes(data)
    done = subprocess.run([sys.executable, "-m", "scrubber", "ingest", str(inbox), "--out", str(out), "--now", NOW,
                           "--settle", "0"], capture_output=True, text=True, timeout=600)
    assert not list(inbox.iterdir()) and not list((out / "work").iterdir())
    failed_any = any(not p.name.endswith(".reason.txt") for p in (out / "failed").iterdir())
    assert done.returncode == (1 if failed_any else 0) and "Traceback" not in done.stderr, done.stderr
    finished = sorted(p.name for folder in ("archive", "failed") for p in (out / folder).iterdir()
                      if not p.name.endswith(".reason.txt"))
    assert finished == [f"f{n:03d}.837" for n in range(len(batch))]
    db = sqlite3.connect(out / "ledger.sqlite")
    rows = db.execute("SELECT claims.claim_id, claims.status, claims.forward_file FROM claims").fetchall()
    db.close()
    for ack in (out / "acks").iterdir():
        assert_parses(ack.read_text())
    forwarded: dict[str, list[str]] = {}
    for forward in (out / "forward").iterdir():
        for seg in read_segments(forward.read_bytes()):
            if seg.id == "CLM":
                forwarded.setdefault(f"forward/{forward.name}", []).append(seg.get(1))
    for claim_id, status, forward_file in rows:
        if forward_file is None:
            continue
        assert status == "accepted"
        assert claim_id in forwarded.get(forward_file, []), (claim_id, forward_file)
    assert sum(len(v) for v in forwarded.values()) == sum(1 for r in rows if r[2] is not None)


@settings(max_examples=3, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(batch=st.lists(mutated(), min_size=8, max_size=12))
def test_fuzz_ingest(tmp_path_factory: pytest.TempPathFactory, batch: list[bytes]) -> None:
    ingest_batch(tmp_path_factory.mktemp("ingest"), batch)


@pytest.mark.slow
@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(batch=st.lists(mutated(), min_size=10, max_size=30))
def test_fuzz_ingest_long(tmp_path_factory: pytest.TempPathFactory, batch: list[bytes]) -> None:
    ingest_batch(tmp_path_factory.mktemp("ingest"), batch)


# -- the claim history as an input (issue 16) -------------------------------------------------------------------------

def history_input(tmp: Path, data: bytes, claims: bytes) -> None:
    """``check --history FILE`` with any bytes as the history: exit 1 (a usable history: the demo has rejects) or
    2 with one line on stderr, never a traceback; and a history that works judges as ``check`` without it, but
    for the history rules."""
    history = tmp / "history.sqlite"
    history.write_bytes(data)
    path = tmp / "in.837"
    path.write_bytes(claims)
    code, out, err = run_cli("check", "--now", NOW, "--format", "json", "--history", str(history), str(path))
    assert "Traceback" not in err
    assert code in (0, 1, 2), err
    if code == 2 and not out:
        assert err.count("\n") == 1 and err.startswith("scrubber: "), err
    elif out:
        json.loads(out)


@st.composite
def history_bytes(draw: st.DrawFn) -> bytes:
    """Bytes that are a SQLite history (made by the program), cut or overwritten somewhere, or anything."""
    import sqlite3
    import tempfile

    kind = draw(st.sampled_from(["junk", "cut", "overwritten"]))
    if kind == "junk":
        return draw(st.binary(max_size=2048))
    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite3.connect(Path(tmp) / "h.sqlite")
        from scrubber.history import sqlite as history_sql

        history_sql.upgrade(db)
        db.close()
        data = (Path(tmp) / "h.sqlite").read_bytes()
    at = draw(st.integers(0, len(data)))
    if kind == "cut":
        return data[:at]
    return data[:at] + draw(st.binary(min_size=1, max_size=64)) + data[at + 64:]


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(data=history_bytes(), claims=mutated())
def test_fuzz_history_input(tmp_path_factory: pytest.TempPathFactory, data: bytes, claims: bytes,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCRUBBER_HISTORY_KEY", "fuzz-key")
    history_input(tmp_path_factory.mktemp("history"), data, claims)


@pytest.mark.slow
@settings(max_examples=3_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=history_bytes(), claims=mutated())
def test_fuzz_history_input_long(tmp_path_factory: pytest.TempPathFactory, data: bytes, claims: bytes,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCRUBBER_HISTORY_KEY", "fuzz-key")
    history_input(tmp_path_factory.mktemp("history"), data, claims)


# -- config numbers, --now, and spreadsheet cells (issue 27: items 10 and 11) ------------------------------------------

NUMBER_OPTIONS = (("rules.CLM009", "months"), ("rules.WB007", "lifetime_years"),
                  ("profiles.medicare.rules.AUTH001", "charge_threshold"),
                  ("profiles.commercial.rules.CLM009", "months"))
TOML_NUMBERS = st.one_of(st.sampled_from(["nan", "+nan", "-nan", "inf", "-inf", "1e20", "-1e20", "1e308", "0", "-0",
                                          "5e-324", "9223372036854775807", "-9223372036854775808", "12", "0.5",
                                          "1_000", "0x10", "true", '"12"', "[]"]),
                         st.integers(-(2 ** 63), 2 ** 63 - 1).map(str),
                         st.floats(allow_nan=True, allow_infinity=True).map(
                             lambda f: "nan" if f != f else ("inf" if f == float("inf") else
                                                              "-inf" if f == float("-inf") else repr(f))))
NOW_VALUES = st.one_of(st.datetimes(allow_imaginary=True).map(lambda d: d.strftime("%Y-%m-%dT%H:%M")),
                       st.sampled_from(["0001-01-01T00:00", "9999-12-31T23:59", "1900-01-01T00:00",
                                        "9000-12-31T23:59", "2026-02-30T10:00", "2026-11-27T10:00"]),
                       st.text(max_size=20))
DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "demo.837"


def config_and_now(tmp: Path, option: tuple[str, str], number: str, now: str) -> None:
    """Any number for any option and any --now: a report (exit 0 or 1) or one line and exit 2, never a crash."""
    config = tmp / "fuzz.toml"
    table, key = option
    config.write_text(f"[{table}]\n{key} = {number}\n")
    result = CliRunner().invoke(cli, ["check", "--format", "json", "--config", str(config), "--now", now, str(DEMO)])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 1, 2), result.exit_code
    if result.exit_code == 2:
        assert "Traceback" not in result.stderr and result.stdout == ""
        assert result.stderr.startswith(("scrubber: config: ", "Usage: ")), result.stderr
    else:
        report = json.loads(result.stdout)
        assert report["summary"]["claims"] == 12 and not any(f["status"] == "error" for f in report["files"])


@FUZZ
@given(option=st.sampled_from(NUMBER_OPTIONS), number=TOML_NUMBERS, now=NOW_VALUES)
def test_fuzz_config_and_now(tmp_path_factory: pytest.TempPathFactory, option: tuple[str, str], number: str,
                             now: str) -> None:
    config_and_now(tmp_path_factory.mktemp("config"), option, number, now)


@pytest.mark.slow
@settings(max_examples=20_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(option=st.sampled_from(NUMBER_OPTIONS), number=TOML_NUMBERS, now=NOW_VALUES)
def test_fuzz_config_and_now_long(tmp_path_factory: pytest.TempPathFactory, option: tuple[str, str], number: str,
                                  now: str) -> None:
    config_and_now(tmp_path_factory.mktemp("config"), option, number, now)


def spreadsheet_cells_are_inert(value: str) -> None:
    """A cell as spreadsheet_safe writes it, read with any separator and any line break a spreadsheet may take:
    no piece starts a formula."""
    import csv
    import io

    from scrubber.textsafe import spreadsheet_safe

    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(["A", spreadsheet_safe(value), "=B"[1:]])
    text = out.getvalue()
    assert "\r" not in text
    for separator in (",", ";", "\t"):
        for row in re.split(r"\r\n|\r|\n", text):
            for cell in next(csv.reader([row], delimiter=separator), []):
                # csv's reader takes a field's quoting off as a spreadsheet does, with any separator
                assert not re.match(r"[=+@\t\r]|-(?![0-9.]+$)", cell), (separator, cell)


CELL_TEXT = st.text(alphabet=st.sampled_from(list("=+-@\t\r\n,;\"' 0123456789.AB|%")), max_size=30)


@FUZZ
@given(value=CELL_TEXT)
def test_fuzz_spreadsheet_cells(value: str) -> None:
    spreadsheet_cells_are_inert(value)


@pytest.mark.slow
@settings(max_examples=20_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(value=CELL_TEXT)
def test_fuzz_spreadsheet_cells_long(value: str) -> None:
    spreadsheet_cells_are_inert(value)


# -- the operator's inputs (issue 21): --metrics addresses, requeue names ---------------------------------------------

def metrics_address_is_parsed_or_refused(text: str) -> None:
    from scrubber.ingest.metrics import parse_address

    try:
        host, port = parse_address(text)
    except ValueError as exc:
        assert "is not HOST:PORT" in str(exc)
        return
    assert 0 <= port <= 65535 and host


ADDRESS_TEXT = st.one_of(st.text(max_size=40), st.from_regex(r"[a-z0-9.\[\]:]{0,20}:[0-9]{0,7}", fullmatch=True))


@FUZZ
@given(text=ADDRESS_TEXT)
def test_fuzz_metrics_address(text: str) -> None:
    metrics_address_is_parsed_or_refused(text)


@pytest.mark.slow
@settings(max_examples=20_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=ADDRESS_TEXT)
def test_fuzz_metrics_address_long(text: str) -> None:
    metrics_address_is_parsed_or_refused(text)


_INGESTED: list[Path] = []


def _ingested_junk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """OUT of one ingest run, by its own process, of an inbox that held junk.837 (not X12: it went to failed/);
    made once."""
    if _INGESTED:
        return _INGESTED[0]
    tmp = tmp_path_factory.mktemp("requeue-ledger")
    inbox, out = tmp / "inbox", tmp / "out"
    inbox.mkdir()
    (inbox / "junk.837").write_bytes(b"not x12")
    subprocess.run([sys.executable, "-m", "scrubber", "ingest", str(inbox), "--out", str(out), "--settle", "0"],
                   capture_output=True, timeout=120, check=False)
    assert (out / "failed" / "junk.837").is_file()
    _INGESTED.append(out)
    return out


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(names=st.lists(st.text(min_size=1, max_size=40).filter(lambda n: not n.startswith("-")), min_size=1,
                      max_size=3))
def test_fuzz_requeue_names(tmp_path_factory: pytest.TempPathFactory, names: list[str]) -> None:
    """Any name to requeue: one line and exit 2 (not in the ledger, or not requeuable), never a traceback; the
    inbox gets nothing it should not."""
    tmp = tmp_path_factory.mktemp("requeue")
    inbox, out = tmp / "inbox", tmp / "out"
    inbox.mkdir()
    shutil.copytree(_ingested_junk(tmp_path_factory), out)  # a fresh copy of the same ledger for each example
    result = CliRunner().invoke(cli, ["ingest", "requeue", *names, "--out", str(out), "--inbox", str(inbox)])
    assert result.exit_code in (0, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    if result.exit_code == 2:
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert not any(inbox.iterdir())
    else:
        assert names == ["junk.837"] and len(list(inbox.iterdir())) == 1


ORDER_REFERRING = (b"NPI,LAST_NAME,FIRST_NAME,PARTB,DME,HHA,PMD,HOSPICE\r\n"
                   b"1987654328,ORTIZ,SAMPLE,Y,Y,Y,N,N\r\n1234567893,LEE,DANA,Y,N,Y,N,N\r\n")


def _data_files() -> dict[str, bytes]:
    """A good file of each kind ``data import`` reads, in CMS's layout."""
    from scrubber.harness.synth import dmepos_fee_csv, hcpcs_txt, mue_dme_csv

    return {"order-referring": ORDER_REFERRING, "hcpcs": hcpcs_txt().encode("latin-1"),
            "dmepos-fee": dmepos_fee_csv().encode(), "mue-dme": mue_dme_csv().encode()}


@st.composite
def mutated_csv(draw: st.DrawFn) -> tuple[str, bytes]:
    """A kind, and a file of it with bytes replaced, inserted, deleted or cut off."""
    kind = draw(st.sampled_from(sorted(_data_files())))
    data = bytearray(_data_files()[kind])
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["replace", "insert", "delete", "cut"]))
        byte = draw(st.sampled_from([b",", b"\r\n", b"\"", b"\xff", b"\x00", b"Y", b"9", b"", b" ", b"3",
                                     "\ufeff".encode()]))
        if action == "replace":
            data[at:at + 1] = byte
        elif action == "insert":
            data[at:at] = byte
        elif action == "delete":
            del data[at:at + draw(st.integers(1, 12))]
        else:
            del data[at:]
    return kind, bytes(data)


@settings(max_examples=160, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(case=mutated_csv())
def test_fuzz_data_import(tmp_path_factory: pytest.TempPathFactory, case: tuple[str, bytes]) -> None:
    """``scrubber data import``, a new input of four kinds: any file is imported whole or refused in one line with
    exit 2, and a refused file leaves the version in force as it was."""
    from scrubber.data import DataStore, kinds

    kind, data = case
    tmp = tmp_path_factory.mktemp("data")
    store, good, bad = tmp / "d.sqlite", tmp / "good.in", tmp / "bad.in"
    good.write_bytes(_data_files()[kind])
    bad.write_bytes(data)
    runner = CliRunner()
    assert runner.invoke(cli, ["data", "import", kind, "--data", str(store), str(good)]).exit_code == 0
    with DataStore(store) as kept:
        [before] = kept.versions()
    result = runner.invoke(cli, ["data", "import", kind, "--data", str(store), str(bad)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in (0, 2) and "Traceback" not in result.stderr
    with DataStore(store) as kept:
        [version] = kept.versions()
    if result.exit_code == 2:
        assert result.stderr.count("\n") == 1 and version == before
    elif data == _data_files()[kind]:  # the same file again: nothing changes
        assert (version.source, version.version) == ("good.in", 1)
    else:
        db = sqlite3.connect(store)
        try:
            rows = db.execute(f"SELECT count(*) FROM {kinds()[kind].TABLE}").fetchone()[0]  # noqa: S608 - our table
        finally:
            db.close()
        assert version.source == "bad.in" and version.rows == rows
