"""The rule catalogue as people and programs read it: ``docs/rules.md`` (Markdown), ``scrubber rules`` (text, JSON).

``scrubber rules --markdown`` prints it; a test holds the committed file to it,
so the page a billing reviewer reads is always the catalogue the code runs.
"""

from __future__ import annotations

import textwrap

from scrubber.config import Config, load_config
from scrubber.rules import REGISTRY, Rule
from scrubber.snip import SNIP_TYPES
from scrubber.snip import label as snip_label

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
        "code (and entity) a rejected claim gets; `{entity}` is the provider's entity code. SNIP is the rule's",
        "WEDI SNIP test type (1 integrity, 2 requirement, 3 balancing, 4 inter-segment situation, 5 external code",
        "sets, 6 product types or line of service, 7 trading-partner specific). The field is where a biller fixes",
        "it: its name on a billing screen and the CMS-1500, then its X12 place.",
        "",
        "| code | name | default | 277CA | SNIP | " + " | ".join(profiles) + " |",
        "|---|---|---|---|---|" + "---|" * len(profiles),
    ]
    for rule in REGISTRY.values():
        states = [_state(config, p, rule) for p in profiles]
        out.append(f"| [{rule.code}](#{rule.code.lower()}) | {rule.name} | {rule.severity.value} | {_stc(rule)} | "
                   f"{rule.snip} | " + " | ".join(states) + " |")
    for rule in REGISTRY.values():
        out += ["", f"## {rule.code}", "", f"**{rule.name}** — {rule.severity.value}; 277CA {_stc(rule)};"
                f" {snip_label(rule.snip)}", ""]
        if rule.field:
            out += [f"Field: {rule.field}", ""]
        out += ["```", rule.doc, "```"]
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


#: ``scrubber rules`` fits a terminal of this width.
WIDTH = 100


def plain(text: str) -> str:
    """A docstring as plain text: reStructuredText's ````literal```` quotes dropped."""
    return text.replace("``", "")


def rules_list(config: Config) -> list[str]:
    """``scrubber rules``: per rule a line of code, name, severity, 277CA and the profiles that run it, and its
    summary under it; no line past :data:`WIDTH` columns (but a URL)."""
    out = [f"{'code':8}{'name':32}{'severity':9}{'277CA':13}{'SNIP':5}profiles"]
    for rule in REGISTRY.values():
        profiles = ",".join(name for name, p in config.profiles.items() if rule.code in p.enabled_codes()) or "-"
        head = f"{rule.code:8}{rule.name:32}{rule.severity.value:9}{rule.stc or '-':13}{rule.snip:<5}"
        out.append(head + profiles if len(head + profiles) <= WIDTH else head.rstrip())
        if len(head + profiles) > WIDTH:
            out.extend(textwrap.wrap(profiles.replace(",", ", "), WIDTH, initial_indent=" " * 8,
                                     subsequent_indent=" " * 8))
        out.extend(textwrap.wrap(plain(rule.summary.split(" ", 1)[1]), WIDTH, initial_indent=" " * 8,
                                 subsequent_indent=" " * 8))
    return out


def rule_text(rule: Rule, config: Config) -> str:
    """``scrubber rules CODE``: the rule's settings and its documentation, as plain text."""
    profiles = [n for n, p in config.profiles.items() if rule.code in p.enabled_codes()]
    stc = rule.stc or "-"
    if rule.stc10:
        stc += f" (STC10 {rule.stc10})"
    out = [f"{rule.code} {rule.name}", f"severity: {rule.severity.value}", f"277CA: {stc}",
           f"WEDI SNIP type: {rule.snip} ({SNIP_TYPES[rule.snip]})",
           *_fit(f"field: {rule.field}" if rule.field else ""),
           f"profiles: {', '.join(profiles) or 'none (enable it in a config)'}"]
    out = [line for line in out if line]
    if rule.origin != "scrubber":
        out.append(f"from: rule plugin {rule.origin!r}")
    for name, option in rule.options.items():
        out.extend(textwrap.wrap(f"option {name} ({option.kind}, default {option.default!r}): {plain(option.help)}",
                                 WIDTH, subsequent_indent="    "))
    doc = [wrapped for line in plain(textwrap.dedent(rule.doc)).splitlines() for wrapped in _fit(line)]
    return "\n".join([*out, "", *doc])


def _fit(line: str) -> list[str]:
    """A documentation line within :data:`WIDTH` columns, wrapped at spaces under its own indent; a line with a
    URL is left whole (a broken URL cannot be followed)."""
    if len(line) <= WIDTH or "://" in line:
        return [line]
    indent = line[:len(line) - len(line.lstrip())]
    return textwrap.wrap(line, WIDTH, initial_indent="", subsequent_indent=indent, break_long_words=False,
                         break_on_hyphens=False) or [line]


def rules_json(config: Config, codes: list[str] | None = None) -> list[dict[str, object]]:
    """``scrubber rules --format json``: each rule with its defaults, and how every profile of ``config`` runs it
    (on or off, its severity and options there)."""
    out: list[dict[str, object]] = []
    for rule in REGISTRY.values():
        if codes is not None and rule.code not in codes:
            continue
        profiles: dict[str, object] = {}
        for name, profile in config.profiles.items():
            setting = next((s for s in profile.rules if s.rule.code == rule.code), None)
            profiles[name] = ({"enabled": False} if setting is None else
                              {"enabled": True, "severity": setting.severity.value, "options": dict(setting.options)})
        out.append({
            "code": rule.code, "name": rule.name, "summary": plain(rule.summary.split(" ", 1)[1]),
            "severity": rule.severity.value, "stc": rule.stc, "stc10": rule.stc10, "origin": rule.origin,
            "needs_history": rule.needs_history, "fix": plain(rule.section("Fix")), "field": rule.field,
            "snip_type": rule.snip,
            "options": {name: {"kind": o.kind, "default": o.default, "help": o.help}
                        for name, o in rule.options.items()},
            "profiles": profiles,
        })
    return out
