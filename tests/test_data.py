"""``scrubber data``: CMS public data imported into the data store (issue 23, first part: the store and the
Order and Referring file).  Synthetic files in the published layout, a few rows each; never a CMS file."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from helpers import check_json, run_cli
from scrubber.data import DataStore
from scrubber.harness.synth import ClaimSpec, LineSpec, build_837
from scrubber.npi import make_npi

HEADER = "NPI,LAST_NAME,FIRST_NAME,PARTB,DME,HHA,PMD,HOSPICE\r\n"
ORDERING = make_npi("198765432")  # the demo's ordering provider, ORTIZ
NOT_DME = make_npi("112345678")


def _file(tmp_path: Path, rows: list[str], name: str = "or.csv", header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_text(header + "".join(row + "\r\n" for row in rows), encoding="utf-8")
    return path


def _rows(n: int) -> list[str]:
    return [f"{make_npi(f'15{i:07d}')},SYNTH{i},PAT,Y,Y,Y,N,N" for i in range(n)]


def _import(store: Path, path: Path, *extra: str) -> tuple[int, str]:
    code, out, err = run_cli("data", "import", "order-referring", "--data", str(store), *extra, str(path))
    assert out == ""
    return code, err


def test_import_then_status_then_lookup(tmp_path: Path) -> None:
    store = tmp_path / "data.sqlite"
    path = _file(tmp_path, [f"{ORDERING},Ortiz,Sample,Y,Y,Y,N,N", f"{NOT_DME},Lee,Dana,Y,N,Y,N,N", *_rows(300)])
    code, err = _import(store, path, "--effective", "2026-11-27")
    assert code == 0 and err.startswith("order-referring imported or.csv: 302 rows, version 1, effective 2026-11-27")
    code, out, _ = run_cli("data", "status", "--data", str(store), "--format", "json")
    [version] = json.loads(out)
    assert version["table"] == "order-referring" and version["rows"] == 302 and version["source"] == "or.csv"
    assert len(version["sha256"]) == 64 and version["effective"] == "2026-11-27"
    code, out, _ = run_cli("data", "status", "--data", str(store))
    assert code == 0 and "order-referring  or.csv: 302 rows, effective 2026-11-27" in out
    with DataStore(store) as data:
        assert data.lookup("order-referring", (ORDERING,)) == (ORDERING, "ORTIZ", "SAMPLE", "Y", "Y", "Y", "N", "N")
        assert data.lookup("order-referring", (NOT_DME,))[4] == "N"  # type: ignore[index]
        assert data.lookup("order-referring", (make_npi("199999999"),)) is None


def test_status_of_an_empty_store_names_the_import_command(tmp_path: Path) -> None:
    code, out, _ = run_cli("data", "status", "--data", str(tmp_path / "none.sqlite"))
    assert code == 0
    assert "order-referring  not loaded (Order and Referring: scrubber data import order-referring FILE)" in out
    assert not (tmp_path / "none.sqlite").exists(), "asking does not make a store"


def test_the_same_file_again_changes_nothing_and_a_newer_one_replaces_it(tmp_path: Path) -> None:
    store = tmp_path / "data.sqlite"
    first = _file(tmp_path, _rows(5))
    assert _import(store, first)[0] == 0
    code, err = _import(store, first)
    assert code == 0 and "already loaded, unchanged: or.csv: 5 rows, version 1" in err
    newer = _file(tmp_path, _rows(7), "or-2.csv")
    code, err = _import(store, newer)
    assert code == 0 and "imported or-2.csv: 7 rows, version 2" in err
    db = sqlite3.connect(store)
    assert db.execute("SELECT version, count(*) FROM order_referring GROUP BY version").fetchall() == [(2, 7)], (
        "the previous version's rows are gone")


@pytest.mark.parametrize(("rows", "header", "said"), [
    (["1234567893,LEE"], "NPI,LAST_NAME\r\n", "not the Order and Referring layout: the header lacks FIRST_NAME"),
    ([*_rows(3), "1234567893,LEE,DANA,Y"], HEADER, ":5: 4 fields where the header has 8 (a file cut off?)"),
    ([*_rows(3), _rows(1)[0]], HEADER, "the same NPI appears twice"),
    ([], HEADER, "no rows (an empty Order and Referring file)"),
    ([], "", "the file is empty"),
    (["12345,LEE,DANA,Y,Y,Y,N,N"], HEADER, ":2: NPI '12345' is not ten digits"),
    ([f"{ORDERING},ORTIZ,SAMPLE,Y,MAYBE,Y,N,N"], HEADER, "a benefit flag is not Y or N"),
])
def test_a_malformed_file_is_one_line_exit_2_and_the_previous_version_is_kept(
        tmp_path: Path, rows: list[str], header: str, said: str) -> None:
    store = tmp_path / "data.sqlite"
    assert _import(store, _file(tmp_path, [f"{ORDERING},ORTIZ,SAMPLE,Y,Y,Y,N,N"], "good.csv"))[0] == 0
    code, err = _import(store, _file(tmp_path, rows, "bad.csv", header))
    assert code == 2 and said in err and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("scrubber: data import order-referring: bad.csv") and err.endswith("; nothing changed\n")
    with DataStore(store) as data:
        [version] = data.versions()
        assert (version.source, version.rows, version.version) == ("good.csv", 1, 1)
        assert data.lookup("order-referring", (ORDERING,)) is not None


def test_binary_and_missing_files(tmp_path: Path) -> None:
    store = tmp_path / "data.sqlite"
    (tmp_path / "bin.csv").write_bytes(b"NPI,LAST_NAME\xff\xfe\x00\x01")
    code, err = _import(store, tmp_path / "bin.csv")
    assert code == 2 and "not UTF-8 text" in err
    code, err = _import(store, tmp_path / "absent.csv")
    assert code == 2 and "absent.csv: cannot be read" in err


def test_a_reader_keeps_its_version_while_a_newer_one_is_imported(tmp_path: Path) -> None:
    store = tmp_path / "data.sqlite"
    assert _import(store, _file(tmp_path, _rows(5)))[0] == 0
    reader = sqlite3.connect(store, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM order_referring").fetchone() == (5,)
    assert _import(store, _file(tmp_path, _rows(9), "or-2.csv"))[0] == 0, "the import does not wait for readers"
    assert reader.execute("SELECT count(*) FROM order_referring").fetchone() == (5,), "the reader's snapshot"
    reader.execute("COMMIT")
    assert reader.execute("SELECT count(*) FROM order_referring").fetchone() == (9,)
    reader.close()


def test_the_default_store_is_in_the_users_data_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    code, _, err = run_cli("data", "import", "order-referring", str(_file(tmp_path, _rows(2))))
    assert code == 0, err
    assert (tmp_path / "xdg" / "scrubber" / "data.sqlite").is_file()
    code, out, _ = run_cli("data", "import", "order-referring", "--effective", "2026-13-01", str(tmp_path / "or.csv"))
    assert code == 2


# -- CMS001: the ordering provider in the Order and Referring file ------------------------------------------------


def _claims(tmp_path: Path, *lines: LineSpec) -> Path:
    path = tmp_path / "claims.837"
    path.write_text(build_837([ClaimSpec(f"C{i}", lines=[line]) for i, line in enumerate(lines, 1)]))
    return path


def _cms001(report: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    return {c["claim_id"]: [(f["severity"], f["message"]) for f in c["findings"] if f["rule"] == "CMS001"]
            for f_ in report["files"] for c in f_["claims"]}


def test_cms001_checks_the_ordering_provider_against_the_loaded_table(tmp_path: Path) -> None:
    store = tmp_path / "data.sqlite"
    other = make_npi("155555555")
    assert _import(store, _file(tmp_path, [f"{ORDERING},ORTIZ,SAMPLE,Y,Y,Y,N,N", f"{NOT_DME},ORTIZ,SAMPLE,Y,N,Y,N,N",
                                           f"{other},SMITH,ANN,Y,Y,Y,N,N"]), "--effective", "2026-11-27")[0] == 0
    absent = make_npi("177777777")
    path = _claims(tmp_path, LineSpec(), LineSpec(ordering_npi=NOT_DME), LineSpec(ordering_npi=absent),
                   LineSpec(ordering_npi=other), LineSpec(procedure="A4570", ordering_npi=absent))
    code, report, _ = check_json(path, extra=("--data", str(store)))
    assert code == 1
    found = _cms001(report)
    assert found["C1"] == [] and found["C5"] == [], "eligible and matching; a code the rule does not check"
    assert found["C2"] == [("error", f"L4386 line 1: ordering NPI {NOT_DME} (2420E) may not order DME (DME = N in"
                                     " the Order and Referring file): the DME MAC denies the line (CO-16, N574)")]
    assert "is not in Medicare's Order and Referring file" in found["C3"][0][1]
    assert found["C4"] == [("error", f"L4386 line 1: ordering NPI {other} (2420E) is sent as ORTIZ, SAMPLE; the"
                                     " Order and Referring file has SMITH, ANN (CEDI compares the first four letters"
                                     " of the last name and the first initial): the DME MAC denies the line (CO-16,"
                                     " N575)")]
    c2 = next(c for c in report["files"][0]["claims"] if c["claim_id"] == "C2")
    assert [(f["stc"], f["element"]) for f in c2["findings"] if f["rule"] == "CMS001"] == [("A7:562:DK", "NM109")]
    [version] = report["data_versions"]
    assert (version["table"], version["rows"], version["effective"]) == ("order-referring", 3, "2026-11-27")


def test_cms001_name_match_is_cedis_four_letters_and_initial(tmp_path: Path) -> None:
    store = tmp_path / "data.sqlite"
    assert _import(store, _file(tmp_path, [f"{ORDERING},ORTIZSON,STEPHANIE,Y,Y,Y,N,N"]))[0] == 0
    _, report, _ = check_json(_claims(tmp_path, LineSpec()), extra=("--data", str(store)))
    assert _cms001(report)["C1"] == [], "ORTIZ/SAMPLE matches ORTIZSON/STEPHANIE on ORTI and S"


def test_cms001_without_the_table_says_so_once_per_file_and_checks_nothing(tmp_path: Path) -> None:
    path = _claims(tmp_path, LineSpec(), LineSpec(ordering_npi=make_npi("177777777")), LineSpec())
    code, report, _ = check_json(path, path, extra=("--data", str(tmp_path / "empty.sqlite")))
    notes = [(f["claim_id"], f_["severity"]) for f in report["files"][0]["claims"] for f_ in f["findings"]
             if f_["rule"] == "CMS001"]
    assert notes == [("C1", "info")], "one note per file, on its first claim the rule applies to"
    assert len([1 for f in report["files"][1]["claims"] for x in f["findings"] if x["rule"] == "CMS001"]) == 1
    message = next(x["message"] for x in report["files"][0]["claims"][0]["findings"] if x["rule"] == "CMS001")
    assert message == ("the ordering providers were not checked: the order-referring table is not loaded"
                       " (scrubber data import order-referring FILE)")
    assert report["data_versions"] == [] and code == 0


def test_the_api_takes_the_data_store(tmp_path: Path) -> None:
    import scrubber

    store = tmp_path / "data.sqlite"
    assert _import(store, _file(tmp_path, [f"{NOT_DME},LEE,DANA,Y,N,Y,N,N"]))[0] == 0
    report = scrubber.scrub(_claims(tmp_path, LineSpec()), now="2026-11-27", data=store)
    [claim] = report.files[0].claims
    assert claim.rejected_by("CMS001"), "ORTIZ's NPI is not in this file"
    assert report.to_dict()["data_versions"][0]["rows"] == 1  # type: ignore[index]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ingest_reads_the_same_store_as_check(tmp_path: Path, jobs: str, store_target: str) -> None:
    """Ingest judges the CMS rules in the node (its workers, forked from a node whose threads use SQLite, open no
    SQLite): the same findings as check, the claim not forwarded, its 277CA rejection, the report's versions; on a
    SQLite and on a PostgreSQL store."""
    import subprocess
    import sys

    store = store_target
    code, _, err = run_cli("data", "import", "order-referring", "--data", store, "--effective", "2026-11-27",
                           str(_file(tmp_path, [f"{ORDERING},ORTIZ,SAMPLE,Y,Y,Y,N,N",
                                                f"{NOT_DME},ORTIZ,SAMPLE,Y,N,Y,N,N"])))
    assert code == 0, err
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    path = _claims(inbox, LineSpec(), LineSpec(ordering_npi=NOT_DME))
    _, checked, _ = check_json(path, extra=("--data", str(store)))
    done = subprocess.run([sys.executable, "-m", "scrubber", "ingest", str(inbox), "--out", str(out), "--now",
                           "2026-11-27T10:00", "--settle", "0", "--data", str(store), "--jobs", jobs],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads((out / "reports" / "claims.837.json").read_text())
    assert _cms001(report) == _cms001(checked) and _cms001(report)["C2"][0][0] == "error"
    assert [c["status"] for c in report["files"][0]["claims"]] == ["accepted", "rejected"]
    assert report["data_versions"] == checked["data_versions"] and report["data_versions"][0]["rows"] == 2
    forwarded = (out / "forward" / "claims.837").read_text()
    assert "CLM*C1*" in forwarded and "CLM*C2*" not in forwarded
    assert "STC*A7:562:DK" in (out / "acks" / "claims.837.277").read_text()


def test_ingest_without_the_table_says_so_once_per_file(tmp_path: Path) -> None:
    import subprocess
    import sys

    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    _claims(inbox, LineSpec(), LineSpec())
    done = subprocess.run([sys.executable, "-m", "scrubber", "ingest", str(inbox), "--out", str(out), "--now",
                           "2026-11-27T10:00", "--settle", "0", "--data", str(tmp_path / "none.sqlite")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads((out / "reports" / "claims.837.json").read_text())
    assert report["data_versions"] == []
    notes = [(c["claim_id"], f["message"], f["unchecked"]) for c in report["files"][0]["claims"]
             for f in c["findings"] if f["rule"] == "CMS001"]
    assert notes == [("C1", "the ordering providers were not checked: the order-referring table is not loaded"
                            " (scrubber data import order-referring FILE)", True)]
    assert "CLM*C2*" in (out / "forward" / "claims.837").read_text(), "a note rejects nothing"


def test_the_kinds_named_are_the_kinds_read() -> None:
    from scrubber.data import KIND_NAMES, kinds

    assert tuple(kinds()) == KIND_NAMES


# -- the same store on PostgreSQL (the database ingest's nodes share) -------------------------------------------------


def test_both_stores_import_look_up_keep_a_readers_version_and_refuse_a_bad_file(tmp_path: Path,
                                                                                 store_target: str) -> None:
    code, _, err = run_cli("data", "import", "order-referring", "--data", store_target,
                           str(_file(tmp_path, [f"{NOT_DME},LEE,DANA,Y,N,Y,N,N", *_rows(300)])))
    assert code == 0 and "301 rows, version 1" in err, err
    reader = DataStore(store_target)
    reader.begin_file()
    assert reader.lookup("order-referring", (NOT_DME,))[1] == "LEE"  # type: ignore[index]
    code, _, err = run_cli("data", "import", "order-referring", "--data", store_target,
                           str(_file(tmp_path, [f"{ORDERING},ORTIZ,SAMPLE,Y,Y,Y,N,N"], "or-2.csv")))
    assert code == 0 and "1 rows, version 2" in err, "an import does not wait for a reader"
    assert reader.lookup("order-referring", (NOT_DME,)) is not None, "the reader keeps the version it started with"
    unasked = _rows(300)[150].split(",")[0]
    assert reader.lookup("order-referring", (unasked,)) is not None, "from its snapshot, not from what it asked"
    assert reader.describe()[0]["rows"] == 301
    reader.begin_file()  # the next file: the new version
    assert reader.lookup("order-referring", (NOT_DME,)) is None
    assert reader.lookup("order-referring", (ORDERING,)) is not None
    reader.close()
    code, _, err = run_cli("data", "import", "order-referring", "--data", store_target,
                           str(_file(tmp_path, [*_rows(3), _rows(1)[0]], "dup.csv")))
    assert code == 2 and "the same NPI appears twice" in err and err.count("\n") == 1
    with DataStore(store_target) as data:
        [version] = data.versions()
        assert (version.source, version.version) == ("or-2.csv", 2)
    path = _claims(tmp_path, LineSpec(), LineSpec(ordering_npi=NOT_DME))
    code, report, _ = check_json(path, extra=("--data", store_target))
    found = _cms001(report)
    assert found["C1"] == [] and "is not in Medicare's Order and Referring file" in found["C2"][0][1]
    code, out, _ = run_cli("data", "status", "--data", store_target)
    assert code == 0 and "order-referring  or-2.csv: 1 rows" in out and "@" not in out.splitlines()[0]


def test_a_postgresql_store_that_cannot_be_reached_is_one_line(tmp_path: Path) -> None:
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install '.[postgres]')")
    code, _, err = run_cli("data", "status", "--data", f"postgresql://nobody:secret@/none?host={tmp_path}&port=1")
    assert code == 2 and err.count("\n") == 1 and "secret" not in err and "Traceback" not in err, err


def test_ingest_with_a_data_store_it_cannot_read_does_not_start(tmp_path: Path) -> None:
    import subprocess
    import sys

    (tmp_path / "inbox").mkdir()
    (tmp_path / "bad.sqlite").write_bytes(b"not a database, 100 bytes of it " * 4)
    done = subprocess.run([sys.executable, "-m", "scrubber", "ingest", str(tmp_path / "inbox"), "--out",
                           str(tmp_path / "out"), "--settle", "0", "--data", str(tmp_path / "bad.sqlite")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.startswith("scrubber: ingest cannot start: data store:"), done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
