"""Payer profiles and rule settings: load, merge, validate, resolve.

The built-in profiles live in ``profiles.toml`` beside this module; a user's
TOML file (``--config``) uses the same keys and is layered on top:

* ``default_profile`` – the profile of claims no other key selects;
* ``[payers]`` – payer ID (2010BB NM109) to profile name;
* ``[profiles.NAME]`` – ``description``, ``filing_indicators`` (SBR09 codes),
  ``extends`` (another profile), ``enable`` / ``disable`` (rule codes or
  family patterns such as ``"WB*"``);
* ``[rules.CODE]`` – settings for every profile: ``enabled``, ``severity`` and
  the rule's own options;
* ``[profiles.NAME.rules.CODE]`` – the same, for one profile.

Every unknown key, rule code, profile, option or wrong type raises
:class:`ConfigError` naming the key.
"""

from __future__ import annotations

import fnmatch
import hashlib
import math
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from scrubber.findings import Severity
from scrubber.rules import REGISTRY, Rule
from scrubber.rules.base import Option
from scrubber.rules.plugins import PROBLEMS as PLUGIN_PROBLEMS

_TOP_KEYS = {"default_profile", "payers", "profiles", "rules", "history", "select", "ignore"}
#: The files a configuration is found in without --config, looked for in the working directory and then each
#: parent: ``scrubber.toml``, or ``pyproject.toml`` with a ``[tool.scrubber]`` table (as ruff finds its own).
CONFIG_FILE = "scrubber.toml"
PYPROJECT = "pyproject.toml"
_PROFILE_KEYS = {"description", "filing_indicators", "extends", "enable", "disable", "rules"}
_COMMON_RULE_KEYS = {"enabled", "severity"}


class ConfigError(Exception):
    """A configuration the scrubber cannot use; the message names the key."""


@dataclass(frozen=True)
class RuleSetting:
    """A rule as one profile runs it."""

    rule: Rule
    severity: Severity
    options: Mapping[str, Any]


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    filing_indicators: tuple[str, ...]
    rules: tuple[RuleSetting, ...]

    def enabled_codes(self) -> list[str]:
        return [s.rule.code for s in self.rules]


@dataclass
class Config:
    """The resolved configuration: profiles and how claims are routed to them."""

    profiles: dict[str, Profile]
    default_profile: str
    payers: dict[str, str] = field(default_factory=dict)
    filing_indicators: dict[str, str] = field(default_factory=dict)
    forced_profile: str | None = None
    #: ``[history] key``: the key member IDs are hashed with in the claim history (``SCRUBBER_HISTORY_KEY`` wins).
    history_key: str | None = None
    #: The file the user's settings came from (None: the built-in profiles alone), and the SHA-256 of its bytes.
    source: str | None = None
    source_sha256: str | None = None

    def narrowed(self, select: Sequence[str] = (), ignore: Sequence[str] = ()) -> Config:
        """A copy whose profiles run only the rules whose codes start with one of ``select`` (all, when empty)
        and none that start with one of ``ignore``, as ruff's ``--select`` and ``--ignore``: ``CLM`` is the
        family, ``CLM01`` CLM010 to CLM013, ``CLM012`` the one rule.  They narrow what each profile runs;
        a rule a profile leaves off is turned on in the config, not here.  ConfigError for a prefix that
        matches no rule code."""
        for option, prefixes in (("select", select), ("ignore", ignore)):
            for prefix in prefixes:
                if not any(code.startswith(prefix) for code in REGISTRY):
                    raise ConfigError(f"{option} {prefix!r} matches no rule code ('scrubber rules' lists them)")
        if not select and not ignore:
            return self

        def keep(code: str) -> bool:
            return (not select or code.startswith(tuple(select))) and not code.startswith(tuple(ignore))

        profiles = {name: replace(p, rules=tuple(r for r in p.rules if keep(r.rule.code)))
                    for name, p in self.profiles.items()}
        return replace(self, profiles=profiles)

    def forcing(self, profile: str) -> Config:
        """A copy of this configuration that uses ``profile`` for every claim (``--profile``)."""
        if profile not in self.profiles:
            raise ConfigError(f"--profile {profile!r} is not a profile (known: {', '.join(sorted(self.profiles))})")
        return replace(self, forced_profile=profile)

    def profile_for(self, payer_id: str, filing_indicator: str) -> Profile:
        """The profile for a claim: forced, else by payer ID, else by SBR09, else the default."""
        name = (
            self.forced_profile
            or self.payers.get(payer_id)
            or self.filing_indicators.get(filing_indicator)
            or self.default_profile
        )
        return self.profiles[name]


def find_config(start: str | os.PathLike[str] | None = None) -> Path | None:
    """The configuration in force where no --config names one: the first ``scrubber.toml``, or ``pyproject.toml``
    holding a ``[tool.scrubber]`` table, in ``start`` (the working directory) or one of its parents."""
    here = Path(start if start is not None else os.getcwd()).absolute()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return candidate
        pyproject = folder / PYPROJECT
        if pyproject.is_file() and _has_tool_table(pyproject):
            return pyproject
    return None


def _has_tool_table(pyproject: Path) -> bool:
    try:
        return "scrubber" in tomllib.loads(pyproject.read_text("utf-8")).get("tool", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False  # not ours to judge: a broken pyproject.toml without our table is skipped


def load_config(path: str | os.PathLike[str] | None = None, profile: str | None = None) -> Config:
    """Built-in profiles, plus the user's TOML file at ``path``, resolved.  A ``pyproject.toml`` is read for its
    ``[tool.scrubber]`` table.

    Raises :class:`ConfigError` when an installed rule plugin failed to load.
    """
    if PLUGIN_PROBLEMS:
        raise ConfigError("; ".join(PLUGIN_PROBLEMS))
    builtin = tomllib.loads(resources.files("scrubber").joinpath("profiles.toml").read_text("utf-8"))
    user: dict[str, Any] = {}
    digest = None
    if path is not None:
        try:
            data = Path(path).read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            user = tomllib.loads(data.decode("utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {path} cannot be read: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
        if Path(path).name == PYPROJECT:
            user = user.get("tool", {}).get("scrubber", {})
            if not isinstance(user, dict):
                raise ConfigError(f"config file {path}: tool.scrubber must be a table")
    _check_keys(user, _TOP_KEYS, "")
    history = _table(user, "history", "")
    _check_keys(history, {"key"}, "history")
    if "key" in history and not isinstance(history["key"], str):
        raise ConfigError("history.key must be a string")
    raw = _merge(builtin, user)
    config = replace(_resolve(raw), history_key=history.get("key"), source=None if path is None else str(path),
                     source_sha256=digest)
    config = config.narrowed(_str_list(user.get("select", []), "select"), _str_list(user.get("ignore", []), "ignore"))
    return config if profile is None else config.forcing(profile)


def _merge(base: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {
        "default_profile": user.get("default_profile", base.get("default_profile")),
        "payers": {**base.get("payers", {}), **_table(user, "payers", "")},
        "rules": {**base.get("rules", {}), **_table(user, "rules", "")},
        "profiles": {name: dict(p) for name, p in base.get("profiles", {}).items()},
    }
    for name, table in _table(user, "profiles", "").items():
        key = f"profiles.{name}"
        if not isinstance(table, dict):
            raise ConfigError(f"{key} must be a table")
        _check_keys(table, _PROFILE_KEYS, key)
        target = merged["profiles"].setdefault(name, {})
        for k, v in table.items():
            if k in ("enable", "disable") and k in target:
                target[k] = list(target[k]) + list(_str_list(v, f"{key}.{k}"))
            elif k == "rules":
                target["rules"] = {**target.get("rules", {}), **_table(table, "rules", key)}
            else:
                target[k] = v
    return merged


def _resolve(raw: dict[str, Any]) -> Config:
    profiles_raw: dict[str, dict[str, Any]] = raw["profiles"]
    global_rules = raw["rules"]
    for code in global_rules:
        _rule(code, f"rules.{code}")
    profiles: dict[str, Profile] = {}
    filing: dict[str, str] = {}
    for name in profiles_raw:
        profiles[name] = _resolve_profile(name, profiles_raw, global_rules)
        for code in profiles[name].filing_indicators:
            filing.setdefault(code, name)
    default = raw.get("default_profile")
    if default not in profiles:
        raise ConfigError(f"default_profile {default!r} is not a profile")
    payers: dict[str, str] = {}
    for payer, name in raw["payers"].items():
        if name not in profiles:
            raise ConfigError(f"payers.{payer} names unknown profile {name!r}")
        payers[str(payer)] = name
    return Config(profiles, default, payers, filing)


def _resolve_profile(name: str, profiles: dict[str, dict[str, Any]], global_rules: dict[str, Any],
                     seen: tuple[str, ...] = ()) -> Profile:
    key = f"profiles.{name}"
    if name in seen:
        raise ConfigError(f"{key}.extends makes a cycle ({' -> '.join(seen + (name,))})")
    table = profiles[name]
    enabled: set[str] = set()
    settings: dict[str, dict[str, Any]] = {code: dict(v) for code, v in global_rules.items()}
    parent = table.get("extends")
    if parent is not None:
        if parent not in profiles:
            raise ConfigError(f"{key}.extends names unknown profile {parent!r}")
        base = _resolve_profile(parent, profiles, global_rules, seen + (name,))
        enabled = set(base.enabled_codes())
        for s in base.rules:
            settings.setdefault(s.rule.code, {})
    enabled |= _expand(table.get("enable", []), f"{key}.enable")
    enabled -= _expand(table.get("disable", []), f"{key}.disable")
    own = table.get("rules", {})
    if parent is not None:
        own = {**profiles[parent].get("rules", {}), **own}
    for code, values in own.items():
        _rule(code, f"{key}.rules.{code}")
        settings[code] = {**settings.get(code, {}), **values}
    result = []
    for code, rule in REGISTRY.items():
        values = settings.get(code, {})
        where = f"{key}.rules.{code}" if code in own else f"rules.{code}"
        _check_keys(values, _COMMON_RULE_KEYS | set(rule.options), where)
        on = values.get("enabled", code in enabled)
        if not isinstance(on, bool):
            raise ConfigError(f"{where}.enabled must be true or false")
        options = _options(rule, values, where)  # checked whether or not the rule is on: a bad value is an error
        if on:
            result.append(RuleSetting(rule, _severity(values.get("severity", rule.severity), where), options))
    indicators = _str_list(table.get("filing_indicators", []), f"{key}.filing_indicators")
    return Profile(name, str(table.get("description", "")), tuple(indicators), tuple(result))


def _expand(patterns: Any, key: str) -> set[str]:
    codes: set[str] = set()
    for pattern in _str_list(patterns, key):
        matched = [c for c in REGISTRY if fnmatch.fnmatchcase(c, pattern)]
        if not matched:
            raise ConfigError(f"{key}: {pattern!r} matches no rule code")
        codes.update(matched)
    return codes


def _options(rule: Rule, values: Mapping[str, Any], where: str) -> dict[str, Any]:
    options = {}
    for name, option in rule.options.items():
        value = values.get(name, option.default)
        if option.kind == "list":
            value = _str_list(value, f"{where}.{name}")
        elif option.kind == "number":
            _check_number(value, option, f"{where}.{name}")
        options[name] = value
    return options


def _check_number(value: Any, option: Option, key: str) -> None:
    """A number option: a finite number in the option's range (``nan``, ``inf`` and ``1e20`` load as TOML floats,
    then broke every claim)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{key} must be a number")
    if not math.isfinite(value):
        raise ConfigError(f"{key} must be a finite number, not {value!r}")
    low, high = option.minimum, option.maximum
    if (low is not None and value < low) or (high is not None and value > high):
        raise ConfigError(f"{key} must be from {low:g} to {high:g}, not {value!r}")


def _severity(value: Any, where: str) -> Severity:
    try:
        return Severity(value)
    except ValueError:
        raise ConfigError(f"{where}.severity must be error, warning or info, not {value!r}") from None


def _rule(code: str, key: str) -> Rule:
    if code not in REGISTRY:
        raise ConfigError(f"{key}: unknown rule code {code!r}")
    return REGISTRY[code]


def _check_keys(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    for k in table:
        if k not in allowed:
            name = f"{where}.{k}" if where else k
            raise ConfigError(f"unknown key {name!r} (allowed: {', '.join(sorted(allowed))})")


def _table(parent: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    value = parent.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where + '.' if where else ''}{key} must be a table")
    return value


def _str_list(value: Any, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{key} must be a list of strings")
    return value
