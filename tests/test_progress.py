"""Progress on long work: a bar on standard error when it is a terminal, nothing when it is not."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

from helpers import NOW, run_cli

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "fixtures" / "demo.837"


def _on_a_terminal(*args: str, cwd: Path) -> tuple[int, str, str]:
    """Run the CLI with standard error on a pseudo-terminal: (exit code, stdout, what the terminal showed)."""
    main, secondary = pty.openpty()
    done = subprocess.run([sys.executable, "-m", "scrubber", *args], stdout=subprocess.PIPE, stderr=secondary,
                          cwd=cwd, env={**os.environ, "COLUMNS": "120"}, timeout=120, check=False)
    os.close(secondary)
    shown = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(main)
    return done.returncode, done.stdout.decode(), shown.decode(errors="replace")


def test_check_shows_files_claims_and_rate_on_a_terminal(tmp_path: Path) -> None:
    code, out, shown = _on_a_terminal("check", "--now", NOW, "--format", "json", str(DEMO), str(DEMO), cwd=tmp_path)
    assert code == 1 and out.startswith("{"), "the report itself is untouched"
    assert "scrubbing" in shown and "100%" in shown
    assert "24 claims" in shown and "claims/s" in shown


def test_generate_shows_its_progress_on_a_terminal(tmp_path: Path) -> None:
    code, _, shown = _on_a_terminal("generate", "--claims", "600", "-o", str(tmp_path / "b.837"), cwd=tmp_path)
    assert code == 0 and "generating" in shown and "100%" in shown


def test_nothing_but_the_report_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    code, out, err = run_cli("check", "--now", NOW, str(DEMO))
    assert code == 1 and err == "" and "claims/s" not in out
    result = subprocess.run([sys.executable, "-m", "scrubber", "generate", "--claims", "600", "-o",
                             str(tmp_path / "b.837")], capture_output=True, text=True, check=True)
    assert result.stderr == f"wrote {tmp_path / 'b.837'} (600 claims) and {tmp_path / 'b.837'}.json\n"


def test_ingest_shows_each_pass_on_a_terminal(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for n in range(3):
        (inbox / f"demo{n}.837").write_bytes(DEMO.read_bytes().replace(b"000000001", f"00000000{n + 2}".encode()))
    code, _, shown = _on_a_terminal("ingest", str(inbox), "--out", str(tmp_path / "out"), "--now", NOW,
                                    "--settle", "0", cwd=tmp_path)
    assert code in (0, 1) and "ingesting" in shown and "100%" in shown and "3 files" in shown


def test_one_large_file_moves_the_bar_as_its_bytes_are_read(tmp_path: Path) -> None:
    """The bar counts bytes, not files: a single file of 3,000 claims shows the percentages between 0 and 100."""
    code, _, _ = run_cli("generate", "--claims", "3000", "-o", str(tmp_path / "big.837"))
    assert code == 0
    code, _, shown = _on_a_terminal("check", "--now", NOW, "--format", "json", "-o", str(tmp_path / "r.json"),
                                    str(tmp_path / "big.837"), cwd=tmp_path)
    assert code in (0, 1)
    steps = {int(p) for p in re.findall(r"(\d+)%", shown)}
    assert steps & set(range(1, 100)), f"only {sorted(steps)} shown"
    assert 100 in steps and "3,000 claims" in shown
