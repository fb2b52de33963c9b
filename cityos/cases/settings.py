"""The cases configuration of a process: taxonomy, routing rules, duplicates, auto-opening.

Loaded once per runtime from the shipped YAML (``settings.yaml``, ``taxonomy.yaml``, ``routing.yaml``);
every error names the file, entry and field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from cityos.cases.duplicates import DuplicatePolicy, parse_duration, policy_from_config
from cityos.cases.errors import InvalidCasesConfig
from cityos.cases.routing import RuleSet, load_rules
from cityos.cases.taxonomy import Taxonomy, load_taxonomy, read_yaml
from cityos.runtime import Runtime

SETTINGS_PATH = Path(__file__).with_name("settings.yaml")


@dataclass(frozen=True)
class WarningSource:
    """Warnings of an indicator (or of a vitals category) at ``min_level`` or above open a case of ``category``."""

    indicator: str | None
    vitals_category: str | None
    min_level: int
    category: str


@dataclass(frozen=True)
class CasesSettings:
    taxonomy: Taxonomy
    rules: RuleSet
    duplicates: DuplicatePolicy
    reopen_period: timedelta
    from_warnings: tuple[WarningSource, ...]
    from_alerts: dict[str, str]


def parse_settings(raw: Any, taxonomy: Taxonomy, rules: RuleSet, where: str = "settings.yaml") -> CasesSettings:
    if not isinstance(raw, dict):
        raise InvalidCasesConfig(f"{where}: expected a mapping with duplicates, reopen_period, from_warnings")
    codes = {s.code for s in taxonomy.subs}

    def category(value: Any, field: str) -> str:
        if value not in codes:
            raise InvalidCasesConfig(f"{where}: {field} {value!r} is not a sub-category code of taxonomy.yaml")
        return str(value)

    sources = []
    for n, item in enumerate(raw.get("from_warnings") or []):
        field = f"from_warnings[{n}]"
        if not isinstance(item, dict) or bool(item.get("indicator")) == bool(item.get("vitals_category")):
            raise InvalidCasesConfig(f"{where}: {field} needs exactly one of indicator and vitals_category")
        level = item.get("min_level", 1)
        if level not in (1, 2, 3, 4):
            raise InvalidCasesConfig(f"{where}: {field}.min_level must be 1 (蓝) to 4 (红), not {level!r}")
        sources.append(
            WarningSource(
                item.get("indicator"),
                item.get("vitals_category"),
                level,
                category(item.get("category"), f"{field}.category"),
            )
        )
    alerts = {str(k): category(v, f"from_alerts.{k}") for k, v in (raw.get("from_alerts") or {}).items()}
    return CasesSettings(
        taxonomy=taxonomy,
        rules=rules,
        duplicates=policy_from_config(raw.get("duplicates"), categories=codes, where=f"{where}: duplicates"),
        reopen_period=parse_duration(raw.get("reopen_period", "7d"), where=f"{where}: reopen_period"),
        from_warnings=tuple(sources),
        from_alerts=alerts,
    )


def settings(rt: Runtime) -> CasesSettings:
    """The process's cases settings (loaded on first use)."""
    return rt.parts.get(CasesSettings, load_settings)


def load_settings() -> CasesSettings:
    """The shipped cases settings, read and checked."""
    taxonomy = load_taxonomy()
    rules = load_rules(known_categories={s.code for s in taxonomy.subs} | {m.code for m in taxonomy.mains})
    return parse_settings(read_yaml(SETTINGS_PATH, "the cases settings"), taxonomy, rules)
