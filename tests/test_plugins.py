"""Rules from outside the package: a plugin wheel installed with pip, its rule run by ``scrubber check``.

The wheel is made here (a zip, as any build backend writes it) and installed
by pip into a folder of its own, which the scrubber run in a subprocess finds
on its ``PYTHONPATH``: the test venv itself is left as it was.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures" / "demo.837"

GOOD_RULES = '''
from scrubber.findings import Severity
from scrubber.rules import Option, Hit, rule


@rule("ACME001", "acme-charge-cap", Severity.ERROR, stc="A7:178",
      options={"cap": Option("number", 400, "highest line charge ACME pays without review")})
def charge_cap(claim, ctx):
    """ACME001 A service line charges more than ACME's cap."""
    for line in claim.lines:
        if float(line.charge or 0) > ctx.options["cap"]:
            yield Hit(f"line {line.line_number} charges {line.charge}, over ACME's cap", line.sv1 or line.loc,
                      "SV102", line)
'''
CLASHING_RULES = GOOD_RULES.replace("ACME001", "WB100")
BROKEN_RULES = "import acme_nosuch_module\n"
CONFIG = """
[profiles.medicare]
enable = ["WB*", "KX*", "MOD*", "CLM*", "ACME*"]

[profiles.medicare.rules.ACME001]
cap = 200
"""


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(folder: Path, rules_source: str) -> Path:
    """A wheel of the distribution ``acme-edits`` whose ``scrubber.rules`` entry point is ``acme_edits.rules``."""
    info = "acme_edits-0.1.dist-info"
    files = {
        "acme_edits/__init__.py": b"",
        "acme_edits/rules.py": rules_source.encode(),
        f"{info}/METADATA": b"Metadata-Version: 2.1\nName: acme-edits\nVersion: 0.1\n",
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{info}/entry_points.txt": b"[scrubber.rules]\nacme = acme_edits.rules\n",
    }
    record = [_record_line(name, data) for name, data in files.items()] + [f"{info}/RECORD,,"]
    wheel = folder / "acme_edits-0.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
        z.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return wheel


def install(tmp_path: Path, rules_source: str) -> dict[str, str]:
    """pip-install the plugin into a folder; the environment a process needs to see it."""
    target = tmp_path / "site"
    wheel = build_wheel(tmp_path, rules_source)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps",
                    "--disable-pip-version-check", "--target", str(target), str(wheel)], check=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(target), env.get("PYTHONPATH", "")) if p)
    return env


def scrubber_cli(env: dict[str, str], *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scrubber", *args], env=env, cwd=cwd, capture_output=True,
                          text=True)


def test_installed_plugin_rule_runs_when_a_profile_enables_it(tmp_path: Path) -> None:
    env = install(tmp_path, GOOD_RULES)
    config = tmp_path / "acme.toml"
    config.write_text(CONFIG)
    done = scrubber_cli(env, "check", "--format", "json", "--now", "2026-11-30T10:00", "--config", str(config),
                        "--ack-dir", str(tmp_path / "acks"), str(DEMO))
    assert done.returncode == 1, done.stderr
    claims = {c["claim_id"]: c for c in json.loads(done.stdout)["files"][0]["claims"]}
    hit = [f for f in claims["DEMO-001"]["findings"] if f["rule"] == "ACME001"]
    assert [(f["severity"], f["line_number"], f["element"]) for f in hit] == [("error", 1, "SV102"),
                                                                              ("error", 2, "SV102")]
    assert claims["DEMO-001"]["status"] == "rejected"  # accepted in the demo without the plugin
    ack277 = next((tmp_path / "acks").glob("*.277"))
    assert "STC*A7:178" in ack277.read_text()  # the plugin's 277CA code goes back to the submitter


def test_installed_plugin_rule_is_off_until_enabled_and_listed(tmp_path: Path) -> None:
    env = install(tmp_path, GOOD_RULES)
    done = scrubber_cli(env, "check", "--format", "json", "--now", "2026-11-30T10:00", str(DEMO))
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["summary"]["accepted"] == 4  # as without the plugin
    assert all(f["rule"] != "ACME001" for c in report["files"][0]["claims"] for f in c["findings"])
    shown = scrubber_cli(env, "rules", "ACME001")
    assert shown.returncode == 0, shown.stderr
    assert "from: rule plugin 'acme'" in shown.stdout
    assert "option cap (number, default 400)" in shown.stdout
    listed = scrubber_cli(env, "rules")
    assert listed.stdout.splitlines()[-2].startswith("ACME001 acme-charge-cap")
    assert listed.stdout.splitlines()[-1] == "        A service line charges more than ACME's cap."


@pytest.mark.parametrize(("source", "message"), [
    (CLASHING_RULES, "rule plugin 'acme' (acme_edits.rules) registers WB100 in a built-in family"),
    (BROKEN_RULES, "rule plugin 'acme' (acme_edits.rules) failed to load: ModuleNotFoundError"),
])
def test_a_plugin_that_cannot_be_used_stops_the_run(tmp_path: Path, source: str, message: str) -> None:
    """Exit 2 with one line naming the plugin: never a run that quietly lacks the payer's edits."""
    env = install(tmp_path, source)
    done = scrubber_cli(env, "check", str(DEMO))
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
