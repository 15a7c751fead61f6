"""The front page and the docs site: the README stays a front page whose commands are CI's, its sample output
is real, and the docs build with no broken link."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import run_cli

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _fenced_after(marker: str, text: str) -> list[str]:
    block = text.split(marker, 1)[1].split("```", 2)[1]
    return block.split("\n", 1)[1].rstrip("\n").splitlines()


def test_the_readme_is_a_front_page() -> None:
    assert 150 <= len(README.splitlines()) <= 200


def test_the_readme_set_up_commands_are_the_ones_ci_runs() -> None:
    install_and_demo, install_and_test = re.findall(r"```sh\n(python3 -m venv[^\n]*)\n```", README)[:2]
    assert install_and_demo.endswith("scrubber check fixtures/demo.837")
    assert (ROOT / "fixtures" / "demo.837").is_file()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert ci[-1] == install_and_test


def test_the_readme_sample_output_is_what_the_demo_prints(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))  # a fresh machine: no CMS table loaded
    code, out, _ = run_cli("check", "--isolated", "--now", "2026-11-30", "fixtures/demo.837")
    shown = [line for line in _fenced_after("<!-- demo-output -->", README) if line != "..."]
    assert code == 1 and len(shown) == 12
    printed = out.splitlines()
    assert shown[:6] == printed[:6]
    start = printed.index(shown[6])
    assert shown[6:] == printed[start:start + 6]


def test_the_readme_links_and_images_exist() -> None:
    for target in re.findall(r"\]\(([^)#]+)\)", README):
        if "://" not in target:
            assert (ROOT / target).exists(), target


def test_the_docs_site_builds_strictly(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs", reason="mkdocs is not installed (pip install '.[docs]')")
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site"),
                          "--config-file", str(ROOT / "mkdocs.yml")], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "site" / "json" / "index.html").is_file()


def test_every_docs_page_is_in_the_site_navigation() -> None:
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = {p.name for p in (ROOT / "docs").glob("*.md")}
    assert pages == set(re.findall(r": (\S+\.md)$", config, flags=re.M))
