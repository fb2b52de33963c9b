"""The classification level scale (分级): validated data loaded from ``levels.yaml`` or the file the
``datahub_levels`` setting names."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from cityos.core.yamltext import parse_yaml
from cityos.datahub.errors import InvalidLevelScale
from cityos.datahub.models import CatalogueEntry, Level, LevelScale
from cityos.runtime import Runtime

DEFAULT_PATH = Path(__file__).with_name("levels.yaml")
_FIELDS = ("name", "zh", "en")


def parse_scale(data: Any, source: str) -> LevelScale:
    """The scale a list of ``{name, zh, en}`` mappings declares, lowest first; errors name the entry and field."""
    if not isinstance(data, list) or not data:
        raise InvalidLevelScale(f"{source}: expected a non-empty list of levels, lowest first")
    levels: list[Level] = []
    for i, raw in enumerate(data):
        if not isinstance(raw, dict):
            raise InvalidLevelScale(f"{source}: levels[{i}] must be a mapping with {', '.join(_FIELDS)}")
        if unknown := sorted(set(raw) - set(_FIELDS)):
            raise InvalidLevelScale(f"{source}: levels[{i}] has unknown field(s) {', '.join(map(repr, unknown))}")
        for field in _FIELDS:
            if not isinstance(raw.get(field), str) or not raw[field].strip():
                raise InvalidLevelScale(f"{source}: levels[{i}] field '{field}' must be a non-empty string")
        if any(lv.name == raw["name"] for lv in levels):
            raise InvalidLevelScale(f"{source}: levels[{i}] repeats the name {raw['name']!r}")
        levels.append(Level(name=raw["name"], rank=i + 1, zh=raw["zh"], en=raw["en"]))
    return LevelScale(tuple(levels))


@lru_cache(maxsize=8)
def load_scale(path: Path = DEFAULT_PATH) -> LevelScale:
    """The scale in a YAML file (read once per path)."""
    try:
        data = parse_yaml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidLevelScale(f"{path}: cannot read the level scale ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise InvalidLevelScale(f"{path}: not valid YAML ({exc})") from None
    return parse_scale(data, str(path))


def level_scale(rt: Runtime) -> LevelScale:
    """The level scale this deployment uses (``CITYOS_DATAHUB_LEVELS``, else the GB/T 43697 default)."""
    return load_scale(rt.settings.datahub_levels or DEFAULT_PATH)


def dataset_level(scale: LevelScale, entry: CatalogueEntry) -> Level | None:
    """An entry's level: that of its most protected item (None for an entry with no items)."""
    return scale.highest([item.level for item in entry.items])
