"""``docs/rules.md``: the whole rule catalogue with its sources, made from the registry.

``scrubber rules --markdown`` prints it; a test holds the committed file to it,
so the page a billing reviewer reads is always the catalogue the code runs.
"""

from __future__ import annotations

from scrubber.config import Config, load_config
from scrubber.rules import REGISTRY, Rule

PROFILE_ORDER = ("medicare", "commercial", "medicaid")


def rules_markdown(config: Config | None = None) -> str:
    """The catalogue as Markdown: a table of every rule, then each rule's documentation."""
    config = config or load_config()
    profiles = [p for p in PROFILE_ORDER if p in config.profiles]
    out = [
        "# The rule catalogue",
        "",
        "Made by `scrubber rules --markdown` from the rule registry; do not edit by hand (a test checks that this",
        "file is current). `scrubber rules CODE` prints one rule. The 277CA column is the claim status category and",
        "code (and entity) a rejected claim gets; `{entity}` is the provider's entity code.",
        "",
        "| code | name | default | 277CA | " + " | ".join(profiles) + " |",
        "|---|---|---|---|" + "---|" * len(profiles),
    ]
    for rule in REGISTRY.values():
        states = [_state(config, p, rule) for p in profiles]
        out.append(f"| [{rule.code}](#{rule.code.lower()}) | {rule.name} | {rule.severity.value} | {_stc(rule)} | "
                   + " | ".join(states) + " |")
    for rule in REGISTRY.values():
        out += ["", f"## {rule.code}", "", f"**{rule.name}** — {rule.severity.value}; 277CA {_stc(rule)}", "", "```",
                rule.doc, "```"]
        for name, option in rule.options.items():
            out.append(f"- option `{name}` ({option.kind}, default `{option.default!r}`): {option.help}")
    return "\n".join(out) + "\n"


def _state(config: Config, profile: str, rule: Rule) -> str:
    setting = next((s for s in config.profiles[profile].rules if s.rule.code == rule.code), None)
    if setting is None:
        return "off"
    return "on" if setting.severity is rule.severity else f"on ({setting.severity.value})"


def _stc(rule: Rule) -> str:
    if not rule.stc:
        return "—"
    return rule.stc + (f" (STC10 {rule.stc10})" if rule.stc10 else "")
