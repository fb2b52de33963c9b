"""The portal's declared vocabularies, validated data: the themes (CKAN groups, ``themes.yaml``) and the
licences (CKAN's license_list, ``licenses.yaml``; the first applies by default)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from cityos.core.yamltext import parse_yaml
from cityos.opendata.models import Group, License

HERE = Path(__file__).parent
THEMES_PATH = HERE / "themes.yaml"
LICENSES_PATH = HERE / "licenses.yaml"


def _load(path: Path) -> Any:
    return parse_yaml(path.read_text(encoding="utf-8"))


def parse_themes(data: Any, source: str) -> dict[str, Group]:
    """Theme code -> its group; ValueError naming the entry and field of a bad one."""
    if not isinstance(data, dict):
        raise ValueError(f"{source}: expected a mapping of two-digit theme codes to {{name, zh, en}}")
    out: dict[str, Group] = {}
    for code, raw in data.items():
        if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str) and raw[k] for k in ("name", "zh", "en")):
            raise ValueError(f"{source}: theme {code!r} needs non-empty name, zh and en")
        out[str(code)] = Group(code=str(code), name=raw["name"], title=raw["zh"], en=raw["en"])
    if len({g.name for g in out.values()}) != len(out):
        raise ValueError(f"{source}: two themes share a name")
    return out


def parse_licenses(data: Any, source: str) -> tuple[License, ...]:
    """The licences, the default first; ValueError naming the entry and field of a bad one."""
    if not isinstance(data, list) or not data:
        raise ValueError(f"{source}: expected a non-empty list of licences, the default first")
    out = []
    for i, raw in enumerate(data):
        fields = ("id", "title", "url", "od_conformance", "osd_conformance")
        if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str) and raw[k] for k in fields):
            raise ValueError(f"{source}: licences[{i}] needs non-empty {', '.join(fields)}")
        out.append(License(**{k: raw[k] for k in fields}))
    return tuple(out)


@lru_cache(maxsize=1)
def themes() -> dict[str, Group]:
    return parse_themes(_load(THEMES_PATH), str(THEMES_PATH))


@lru_cache(maxsize=1)
def licenses() -> tuple[License, ...]:
    return parse_licenses(_load(LICENSES_PATH), str(LICENSES_PATH))
