"""``scrubber data``: CMS public data imported into the data store (issue 23, first part: the store and the
Order and Referring file).  Synthetic files in the published layout, a few rows each; never a CMS file."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from helpers import run_cli
from scrubber.data import DataStore
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
