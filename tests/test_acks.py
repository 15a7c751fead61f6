"""999, TA1 and 277CA: structure, codes, determinism, and pyx12's own verdict on every one we write."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from helpers import NOW, run_cli
from scrubber import ig
from scrubber.acks.ack277 import ANNOTATION_LIMIT
from scrubber.harness.synth import ClaimSpec, LineSpec, build_837
from scrubber.rules import REGISTRY
from segments import Segment, read_segments
from test_rules import CASES

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def scrub_with_acks(tmp_path: Path, *inputs: Path, extra: tuple[str, ...] = ()) -> tuple[int, Path]:
    acks = tmp_path / "acks"
    code, _, err = run_cli("check", "--now", NOW, "--control-start", "1", "--ack-dir", str(acks),
                           *extra, *map(str, inputs))
    assert "Traceback" not in err
    return code, acks


def write_and_ack(tmp_path: Path, name: str, text: str, extra: tuple[str, ...] = ()) -> tuple[int, Path]:
    """Write ``text`` as ``name`` and scrub it with --ack-dir; (exit code, ack folder)."""
    path = tmp_path / name
    path.write_text(text)
    return scrub_with_acks(tmp_path, path, extra=extra)


def pyx12_errors(path: Path) -> list[str]:
    """pyx12's validation of an acknowledgment file against its own X231A1 / X214 map."""
    return [f"{e.segment}@{e.position} {e.element} {e.code}: {e.message}" for e in ig.validate(path)]


def segs(path: Path) -> list[Segment]:
    return read_segments(path.read_text())


def ids(path: Path, sid: str) -> list[list[str]]:
    return [s.elements for s in segs(path) if s.id == sid]


# -- the rule catalogue through the 277CA --------------------------------------------------------------------------


def catalogue_file(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """One 837, a transaction set per failing case without a config (CLM01 made unique per case); CLM01 → rule."""
    sets: list[list[ClaimSpec]] = []
    expected: dict[str, str] = {}
    for code, (failing, _, config) in CASES.items():
        if config is not None:
            continue
        sets.append([replace(c, claim_id=f"{code}-{c.claim_id}") for c in failing])
        expected.update({c.claim_id: code for c in sets[-1]})
    path = tmp_path / "catalogue.837"
    path.write_text(build_837(sets))
    return path, expected


def test_every_rule_code_reaches_a_valid_277ca(tmp_path: Path) -> None:
    path, expected = catalogue_file(tmp_path)
    code, acks = scrub_with_acks(tmp_path, path)
    assert code == 1
    ack277 = acks / "catalogue.837.277"
    assert pyx12_errors(acks / "catalogue.837.999") == []
    assert pyx12_errors(ack277) == []
    claim_stcs: dict[str, list[list[str]]] = {}
    current = ""
    in_claim = False
    for s in segs(ack277):
        if s.id == "TRN" and s.get(1) == "2" and s.get(2) in expected:
            current, in_claim = s.get(2), True
            claim_stcs[current] = []
        elif s.id == "HL":
            in_claim = False
        elif s.id == "STC" and in_claim and current:
            claim_stcs[current].append(s.elements)
        elif s.id == "SVC":
            in_claim = False
    assert set(claim_stcs) == set(expected), "every claim gets exactly one 2200D"
    for claim_id, code in expected.items():
        rule = REGISTRY[code]
        stcs = claim_stcs[claim_id]
        statuses = {x for stc in stcs for x in (stc[1], *(stc[10:12] if len(stc) > 10 else ()))}
        if rule.severity.value == "error":
            assert all(stc[3] == "U" for stc in stcs), claim_id
            assert any(st.startswith(rule.stc.split(":{")[0]) for st in statuses), (claim_id, statuses)
            annotation = stcs[0][12]
            assert code in annotation and len(annotation) <= ANNOTATION_LIMIT
        else:  # warnings and notes never reach a 277CA
            assert [stc[1] for stc in stcs] == ["A2:20"] and stcs[0][3] == "WQ", claim_id


def test_rejected_l4386_line_gets_a_2220d_with_ref_fj(tmp_path: Path) -> None:
    c = ClaimSpec("LINE-1", lines=[LineSpec(modifiers=("KX",), line_control="LC0001"),
                                   LineSpec(modifiers=("KX", "LT"), line_control="LC0002")])
    _, acks = write_and_ack(tmp_path, "line.837", build_837([c]))
    ack = acks / "line.837.277"
    assert pyx12_errors(ack) == []
    text = ack.read_text()
    assert "SVC*HC:L4386:KX*250*****1~\nSTC*A6:453*20261127*U~\nREF*FJ*LC0001~\nDTP*472*D8*20260105~" in text
    assert "LC0002" not in text, "only the rejected line gets a 2220D"


def test_totals_count_and_sum_claims(tmp_path: Path) -> None:
    claims = [ClaimSpec("T-1"), ClaimSpec("T-2", lines=[LineSpec(modifiers=("KX",), charge="99.50")]),
              ClaimSpec("T-3", lines=[LineSpec(), LineSpec(modifiers=("KX", "LT"))])]
    _, acks = write_and_ack(tmp_path, "totals.837", build_837(claims))
    ack = acks / "totals.837.277"
    assert ids(ack, "QTY") == [["QTY", "90", "2"], ["QTY", "AA", "1"], ["QTY", "QA", "2"], ["QTY", "QC", "1"]]
    assert ids(ack, "AMT") == [["AMT", "YU", "750"], ["AMT", "YY", "99.5"]] * 2
    stc_b = [s for s in ids(ack, "STC") if s[1] == "A1:19:PR"]
    assert stc_b == [["STC", "A1:19:PR", "20261127", "WQ", "849.5"]]


def test_trace_number_is_echoed(tmp_path: Path) -> None:
    _, acks = write_and_ack(tmp_path, "trace.837", build_837([ClaimSpec("TR-1", trace="CHTRACE77")], isa13="000000077"))
    ack = acks / "trace.837.277"
    assert ["REF", "D9", "CHTRACE77"] in ids(ack, "REF")
    assert ["TRN", "2", "BATCH007701"] in ids(ack, "TRN"), "2200B TRN02 is the 837 BHT03"
    assert ["TRN", "2", "TR-1"] in ids(ack, "TRN")


# -- the 999 -------------------------------------------------------------------------------------------------------


def test_999_reports_ig_errors_with_claim_context(tmp_path: Path) -> None:
    bad = ClaimSpec("BAD-1", lines=[LineSpec(modifiers=("KXX", "RT"))])
    good = ClaimSpec("GOOD-1")
    code, acks = write_and_ack(tmp_path, "ig.837", build_837([[bad], [good]]))
    assert code == 1
    ack999 = acks / "ig.837.999"
    assert pyx12_errors(ack999) == []
    body = [s.text() for s in segs(ack999)][3:-3]
    assert body == [
        "AK1*HC*1*005010X222A1",
        "AK2*837*0001*005010X222A1",
        "IK3*SV1*21*2400*8",
        "CTX*CLM01:BAD-1",
        "IK4*1:3*1339*5*KXX",
        "IK5*R*5",
        "AK2*837*0002*005010X222A1",
        "IK5*A",
        "AK9*P*2*2*1",
    ]
    trns = [t[2] for t in ids(acks / "ig.837.277", "TRN") if t[1] == "2"]
    assert "GOOD-1" in trns and "BAD-1" not in trns, "only the accepted set gets a 277CA"


def test_all_sets_rejected_gives_ak9_r_and_no_277(tmp_path: Path) -> None:
    _, acks = write_and_ack(tmp_path, "allbad.837", build_837([ClaimSpec("BAD-1", lines=[LineSpec(date="2026010")])]))
    assert ids(acks / "allbad.837.999", "AK9") == [["AK9", "R", "1", "1", "0"]]
    assert not (acks / "allbad.837.277").exists()


def test_group_count_error_goes_to_ak905(tmp_path: Path) -> None:
    _, acks = write_and_ack(tmp_path, "ge.837", build_837([ClaimSpec("G-1")]).replace("GE*1*1~", "GE*3*1~"))
    assert pyx12_errors(acks / "ge.837.999") == []
    assert ids(acks / "ge.837.999", "AK9") == [["AK9", "R", "3", "1", "0", "5"]]
    assert not (acks / "ge.837.277").exists()


def test_situational_trigger_context(tmp_path: Path) -> None:
    c = ClaimSpec("SIT-1", lines=[LineSpec(extra=["NM1*DK*1*ORTIZ*SAMPLE****XX"], ordering_npi=None)])
    _, acks = write_and_ack(tmp_path, "sit.837", build_837([c]))
    ack = acks / "sit.837.999"
    assert pyx12_errors(ack) == []
    text = ack.read_text()
    assert "IK4*9**2~\nCTX*SITUATIONAL TRIGGER*NM1*" in text


# -- TA1 -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("mutate", "note"), [
    (lambda t: t.replace("IEA*1*000000001", "IEA*1*000000002"), "001"),
    (lambda t: t.replace("IEA*1*000000001", "IEA*2*000000001"), "021"),
    (lambda t: t.replace("*260110*1200*^", "*261340*1200*^"), "014"),
    (lambda t: t.rsplit("IEA", 1)[0], "023"),
])
def test_broken_interchange_gets_ta1_r_and_nothing_else(tmp_path: Path, mutate, note: str) -> None:  # type: ignore[no-untyped-def]
    code, acks = write_and_ack(tmp_path, "env.837", mutate(build_837([ClaimSpec("E-1")])))
    assert code == 1
    ta1 = ids(acks / "env.837.ta1", "TA1")
    assert len(ta1) == 1 and ta1[0][4:] == ["R", note]
    assert sorted(p.name for p in acks.iterdir()) == ["env.837.ta1"]


def test_ta1_accept_when_isa14_asks(tmp_path: Path) -> None:
    _, acks = write_and_ack(tmp_path, "ask.837", build_837([ClaimSpec("A-1")]).replace("*0*T*:", "*1*T*:", 1))
    assert ids(acks / "ask.837.ta1", "TA1") == [["TA1", "000000001", "260110", "1200", "A", "000"]]
    assert (acks / "ask.837.999").exists() and (acks / "ask.837.277").exists()


# -- envelopes and reproducibility --------------------------------------------------------------------------------


def test_acks_swap_sender_and_receiver_and_use_the_clock(tmp_path: Path) -> None:
    _, acks = write_and_ack(tmp_path, "env.837", build_837([ClaimSpec("S-1")]))
    isa = segs(acks / "env.837.999")[0]
    assert (isa.get(6).strip(), isa.get(8).strip(), isa.get(9), isa.get(10)) == ("RECV01", "SUBMIT01", "261127", "1000")
    gs = ids(acks / "env.837.277", "GS")[0]
    assert gs[1:4] == ["HN", "RECV01", "SUBMIT01"] and gs[8] == "005010X214"


def test_same_input_same_bytes_and_no_control_number_repeats(tmp_path: Path) -> None:
    files = []
    for n in range(3):
        p = tmp_path / f"in{n}.837"
        p.write_text(build_837([ClaimSpec(f"R-{n}")], isa13=f"00000000{n + 1}"))
        files.append(p)
    _, first = scrub_with_acks(tmp_path / "a", *files)
    _, second = scrub_with_acks(tmp_path / "b", *files)
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir()) and len(names) == 6
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes()
    numbers = [s.get(13) for name in names for s in segs(first / name) if s.id == "ISA"]
    numbers += [s.get(6) for name in names for s in segs(first / name) if s.id == "GS"]
    assert len(numbers) == len(set(numbers)) == 12


def test_control_start_is_used(tmp_path: Path) -> None:
    _, acks = write_and_ack(tmp_path, "cs.837", build_837([ClaimSpec("C-1")]), extra=("--control-start", "500"))
    assert segs(acks / "cs.837.999")[0].get(13) == "000000500"
    assert segs(acks / "cs.837.277")[0].get(13) == "000000502"


def test_same_name_twice_does_not_overwrite(tmp_path: Path) -> None:
    for d in ("x", "y"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "same.837").write_text(build_837([ClaimSpec(f"{d}-1")]))
    _, acks = scrub_with_acks(tmp_path, tmp_path / "x" / "same.837", tmp_path / "y" / "same.837")
    assert sorted(p.name for p in acks.iterdir()) == ["same.837-2.277", "same.837-2.999", "same.837.277",
                                                       "same.837.999"]


def test_unreadable_input_gets_no_ack_but_others_do(tmp_path: Path) -> None:
    (tmp_path / "junk.837").write_text("hello, world\n")
    good = tmp_path / "good.837"
    good.write_text(build_837([ClaimSpec("G-1")]))
    code, acks = scrub_with_acks(tmp_path, tmp_path / "junk.837", good)
    assert code == 2
    assert sorted(p.name for p in acks.iterdir()) == ["good.837.277", "good.837.999"]


def test_echoed_values_never_break_the_ack(tmp_path: Path) -> None:
    """A file with other delimiters: the ack reuses them, so an echoed CLM01 holding '*' stays one element."""
    text = build_837([ClaimSpec("A*B-1")]).replace("*", "|").replace("A|B-1", "A*B-1")
    _, acks = write_and_ack(tmp_path, "pipes.837", text)
    assert pyx12_errors(acks / "pipes.837.277") == []
    assert ["TRN", "2", "A*B-1"] in ids(acks / "pipes.837.277", "TRN")
