"""Catalogues written as YAML (the demo district's, a city's first load): read and validated, then
registered through :func:`cityos.datahub.register_entry` like any other entry.

A file holds ``departments`` (id -> Chinese name), optional ``defaults`` (fields every entry takes unless it
gives its own) and ``entries``, each with the fields of POST /datahub/catalogue (camelCase); an item is a
mapping of those fields or a short list ``[name, zh, kind, level, key, source]`` (key and source optional).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from cityos.core.yamltext import parse_yaml
from cityos.datahub import catalogue
from cityos.datahub.catalogue_schemas import EntryIn
from cityos.datahub.errors import InvalidEntry
from cityos.datahub.models import CatalogueEntry
from cityos.runtime import Runtime

DEMO_PATH = Path(__file__).parent / "data" / "catalogue.yaml"
_ITEM_FIELDS = ("name", "zh", "kind", "level", "key", "source")


@dataclass(frozen=True)
class CatalogueFile:
    departments: dict[str, str]  # department id -> its Chinese name
    entries: list[CatalogueEntry]


@dataclass(frozen=True)
class Seeded:
    registered: int  # entries new in the catalogue
    kept: int  # entries it held already, left as they are


def read_catalogue(path: Path = DEMO_PATH) -> CatalogueFile:
    """The entries of a catalogue file, checked in shape; errors name the file, the entry and the field."""
    try:
        data = parse_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidEntry(f"{path}: cannot read the catalogue ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        raise InvalidEntry(f"{path}: expected a mapping with 'departments' and a list of 'entries'")
    departments = {str(k): str(v) for k, v in (data.get("departments") or {}).items()}
    defaults = data.get("defaults") or {}
    entries = []
    for i, raw in enumerate(data["entries"]):
        entry = _entry(path, i, {**defaults, **raw})
        for who in (entry.provider, *(item.source for item in entry.items if item.source)):
            if departments and who not in departments:
                raise InvalidEntry(f"{path}: entries[{i}] ({entry.code}) names department {who!r}, not listed")
        entries.append(entry)
    return CatalogueFile(departments, entries)


def _entry(path: Path, i: int, raw: dict[str, Any]) -> CatalogueEntry:
    raw = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in raw.items()}
    items = raw.get("items")
    if isinstance(items, list):
        raw["items"] = [dict(zip(_ITEM_FIELDS, it, strict=False)) if isinstance(it, list) else it for it in items]
    try:
        return EntryIn.model_validate(raw).to_entry()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidEntry(f"{path}: entries[{i}] ({raw.get('code')}) field {where}: {first['msg']}") from None


def load_catalogue(rt: Runtime, tenant: str, path: Path = DEMO_PATH, *, by: str = "cityos") -> Seeded:
    """Register the file's entries a tenant's catalogue does not hold yet (the others are left as they are:
    loading twice changes nothing)."""
    found = read_catalogue(path)
    held = {v.entry.code for v in catalogue.list_entries(rt, tenant, limit=100_000).views}
    new = [e for e in found.entries if e.code not in held]
    for entry in new:
        catalogue.register_entry(rt, tenant, entry, by=by, reason=f"loaded from {path.name}")
    return Seeded(registered=len(new), kept=len(found.entries) - len(new))
