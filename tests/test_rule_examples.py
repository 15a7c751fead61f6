"""Every rule's Failing and Passing examples, run straight from its docstring.

An example is written as X12 a biller can read, one segment per line, applied
to a clean synthetic claim (IG-clean, accepted) of the example's profile:

* ``SEG*...~`` replaces the claim's segment with the same key (the segment ID,
  and for NM1, REF, DTP, PWK, NTE and HI its qualifier), or is added in its
  place in the guide's order, on the first service line (2400) — or at claim
  level (2300) for CLM, HI, REF*F8, REF*D9, or a line starting ``2300 ``;
* ``without SEG*QUALIFIER~`` removes the claim's segments with that key;
* ``2010BA SEG*...~`` replaces the subscriber's segment with that key (before the claim);
* ``new line SV1*...~`` adds a second service line (LX*2, the SV1, the first line's DTP*472);
* ``profile NAME`` picks the base claim (medicare by default).

The rule under test is switched on in the profile, so a rule that is off by
default is tested too.  The Failing example must make the rule fire; the
Passing one must not.  New and changed rules (issue 13) must have runnable
examples; older rules whose examples are prose are covered by ``test_rules.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import check_json, recount_se
from scrubber.harness.synth import ClaimSpec, build_837
from scrubber.rules import REGISTRY, Rule

#: Rules added or changed by issue 13: their examples must run.
MUST_RUN = {"WB001", "WB002", "WB003", "WB006", "KX001", "KX002", "KX005", "KX007", "KX008", "MOD003", "MOD004",
            "DOC001", "DOC002", "DOC003", "DOC006", "DOC007", "AUTH001", "CLM001", "CLM002", "CLM007", "CLM008",
            "CLM009", "CLM010", "CLM011", "CLM013", "WB008"}
DOCUMENTED = {"pwks": ["PO*FX***AC*DOC100", "DB*FX***AC*ORD100"], "prior_auth": "AUTH100"}
BASES = {
    "medicare": ClaimSpec(filing_indicator="MB"),
    "commercial": ClaimSpec(filing_indicator="CI", payer_id="COMM01", payer_name="SYNTHETIC HEALTH PLAN",
                            **DOCUMENTED),  # type: ignore[arg-type]
    "medicaid": ClaimSpec(filing_indicator="MC", payer_id="MCD01", payer_name="SYNTHETIC MEDICAID",
                          **DOCUMENTED),  # type: ignore[arg-type]
}
QUALIFIED = {"NM1", "REF", "DTP", "PWK", "NTE", "HI"}
CLAIM_LEVEL = {("CLM", ""), ("HI", "ABK"), ("REF", "F8"), ("REF", "D9")}
ORDER_2300 = ["CLM", "DTP", "PWK", "CN1", "AMT", "REF", "K3", "NTE", "CR1", "CR2", "CRC", "HI", "HCP", "NM1", "SBR"]
ORDER_2400 = ["LX", "SV1", "SV5", "PWK", "CR1", "CR3", "CRC", "DTP", "QTY", "MEA", "CN1", "REF", "AMT", "K3", "NTE",
              "PS1", "HCP", "LIN", "NM1"]


def examples(rule: Rule, section: str) -> list[str] | None:
    """The lines of a Failing/Passing section, or None when they are not all runnable."""
    lines = rule.doc.splitlines()
    try:
        start = lines.index(section + ":") + 1
    except ValueError:
        return None
    body = []
    for line in lines[start:]:
        if line and not line.startswith(" "):
            break
        if line.strip():
            body.append(line.strip())
    runnable = all(b.startswith("profile ") or (b.endswith("~") and b.count("~") == 1) for b in body)
    return body if body and runnable else None


def _key(segment: str) -> tuple[str, str]:
    parts = segment.rstrip("~").split("*")
    qualifier = parts[1].split(":")[0] if parts[0] in QUALIFIED and len(parts) > 1 else ""
    return parts[0], qualifier


def apply(example: list[str]) -> tuple[str, str]:
    """(profile, 837 text) of the base claim changed by the example."""
    profile = next((line.split()[1] for line in example if line.startswith("profile ")), "medicare")
    segments = [s for s in build_837([BASES[profile]]).split("~\n") if s]
    clm = next(i for i, s in enumerate(segments) if s.startswith("CLM*"))
    lx = next(i for i, s in enumerate(segments) if s.startswith("LX*"))
    for line in example:
        if line.startswith("profile "):
            continue
        if line.startswith("2010BA "):  # the subscriber's segment, before the claim
            segment = line.removeprefix("2010BA ").rstrip("~")
            at = next(i for i in range(clm) if _key(segments[i]) == _key(segment))
            segments[at] = segment
            continue
        if line.startswith("new line "):  # a second service line: LX, this SV1, the first line's date
            date = next(s for s in segments[lx:] if s.startswith("DTP*472*"))
            end = next(i for i, s in enumerate(segments) if s.startswith("SE*"))
            segments[end:end] = ["LX*2", line.removeprefix("new line ").rstrip("~"), date]
            continue
        claim_level = line.startswith("2300 ")
        segment = line.removeprefix("2300 ").removeprefix("without ").rstrip("~")
        key = _key(segment)
        first, last = (clm, lx) if claim_level or key in CLAIM_LEVEL else (lx, len(segments) - 1)
        if line.startswith("without "):  # anywhere in the claim
            segments = [s for i, s in enumerate(segments) if not (clm <= i < len(segments) - 1 and _key(s) == key)]
        else:
            same = [i for i in range(first, last) if _key(segments[i]) == key]
            if same:
                segments[same[0]] = segment
            else:
                order = ORDER_2300 if first == clm else ORDER_2400
                rank = order.index(key[0])
                at = next((i for i in range(first + 1, last) if _key(segments[i])[0] in order
                           and order.index(_key(segments[i])[0]) > rank), last)
                segments.insert(at, segment)
        clm = next(i for i, s in enumerate(segments) if s.startswith("CLM*"))
        lx = next(i for i, s in enumerate(segments) if s.startswith("LX*"))
    return profile, recount_se("~\n".join(segments) + "~\n")


def _fired(tmp_path: Path, code: str, example: list[str], name: str) -> bool:
    profile, text = apply(example)
    path = tmp_path / f"{name}.837"
    path.write_text(text)
    config = tmp_path / "config.toml"
    config.write_text(f'[profiles.{profile}]\nenable = ["{code}"]\n')
    _, report, _ = check_json(path, extra=("--config", str(config)))
    transaction = report["files"][0]["transactions"][0]
    assert transaction["ig_errors"] == [] and transaction["envelope_errors"] == [], (code, name, text)
    return any(f["rule"] == code for c in report["files"][0]["claims"] for f in c["findings"])


RUNNABLE = [code for code, rule in REGISTRY.items() if examples(rule, "Failing") and examples(rule, "Passing")]


def test_new_and_changed_rules_have_runnable_examples() -> None:
    assert set(RUNNABLE) >= MUST_RUN, sorted(MUST_RUN - set(RUNNABLE))


@pytest.mark.parametrize("code", RUNNABLE)
def test_docstring_examples(code: str, tmp_path: Path) -> None:
    rule = REGISTRY[code]
    failing, passing = examples(rule, "Failing"), examples(rule, "Passing")
    assert failing is not None and passing is not None
    assert _fired(tmp_path, code, failing, "failing"), f"{code} did not fire on its Failing example"
    assert not _fired(tmp_path, code, passing, "passing"), f"{code} fired on its Passing example"


def test_docs_rules_md_is_current() -> None:
    """docs/rules.md is what `scrubber rules --markdown` prints now (regenerate it after changing a rule)."""
    from scrubber.ruledocs import rules_markdown

    committed = (Path(__file__).resolve().parents[1] / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == rules_markdown(), "docs/rules.md is stale: run `scrubber rules --markdown > docs/rules.md`"


def test_catalogue_has_38_rules_each_citing_a_public_source() -> None:
    assert len(REGISTRY) >= 38
    for code, rule in REGISTRY.items():
        assert "domain.md" not in rule.doc and "../shared" not in rule.doc, code
        assert "https://" in rule.section("References"), f"{code} cites no public address"


def test_catalogue_order_is_the_contracts() -> None:
    """Findings are sorted by catalogue order: WB, KX, MOD, DOC, AUTH, CLM (the import order of the pack), then
    CMS, the edits against CMS's public data."""
    families = [code.rstrip("0123456789") for code in REGISTRY]
    assert list(dict.fromkeys(families)) == ["WB", "KX", "MOD", "DOC", "AUTH", "CLM", "CMS"]
