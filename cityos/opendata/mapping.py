"""Catalogue entries as open datasets: pure functions from a catalogue entry (and the level scale, the
departments' names, the themes) to a :class:`~cityos.opendata.models.Package`.

Which items open: an item opens when its level is at most :data:`OPEN_LEVELS` levels above the bottom of
the scale (by default only the lowest, general level 1: 一般数据（一级）) and its kind is not one that names
or reaches a person (:data:`PERSONAL_KINDS`: ID numbers, names, phone numbers, e-mail), whatever its level.
Every other item is withheld, and the package says which.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from cityos.datahub import CatalogueEntry, DataItem, LevelScale, OpeningType
from cityos.opendata.models import Column, Group, Organization, Package, Resource

OPEN_LEVELS = 1  # how many of the scale's lowest levels may be opened
PERSONAL_KINDS = frozenset({"id-card", "name", "mobile", "phone", "email"})  # never opened
OPENED = (OpeningType.UNCONDITIONAL, OpeningType.CONDITIONAL)
DOWNLOADS = "/opendata/datasets"  # reserved for the downloads: {DOWNLOADS}/{name}/records.{csv,json,...}
_IDS = uuid.UUID("7b0c7f4e-5b1a-4c44-9a57-3f1c0d0e0da1")  # the namespace of the portal's stable ids
_TYPES = {"number": "numeric", "geo": "json"}  # item kind -> datastore type; the others are text


def is_open(entry: CatalogueEntry) -> bool:
    return entry.opening in OPENED


def slug(code: str) -> str:
    """A resource code as a package name: HP-01-01-0003 -> hp-01-01-0003."""
    return code.lower()


def stable_id(*parts: str) -> str:
    return str(uuid.uuid5(_IDS, "/".join(parts)))


def open_level(scale: LevelScale) -> str:
    """The name of the highest level an open item may have."""
    return scale.levels[min(OPEN_LEVELS, len(scale.levels)) - 1].name


def item_opens(item: DataItem, scale: LevelScale) -> bool:
    level = scale.get(item.level)
    return level is not None and level.rank <= OPEN_LEVELS and item.kind not in PERSONAL_KINDS


def open_items(entry: CatalogueEntry, scale: LevelScale) -> tuple[DataItem, ...]:
    """The entry's items the public sees, in the entry's order."""
    return tuple(i for i in entry.items if item_opens(i, scale))


def theme_of(code: str, themes: Mapping[str, Group]) -> Group | None:
    """The theme of a resource code: its first classification code (HP-06-01-0001 -> 06)."""
    parts = code.split("-")
    return themes.get(parts[1]) if len(parts) > 2 else None


def _column(item: DataItem) -> Column:
    return Column(id=item.name, type=_TYPES.get(item.kind, "text"), label=item.zh, notes=item.description)


def _instant(day_or_instant: str) -> str:
    """An ISO instant as CKAN writes it (no zone, UTC): a date becomes its midnight."""
    text = day_or_instant.replace("Z", "").replace("+00:00", "")
    return text if "T" in text else f"{text}T00:00:00"


def to_package(
    entry: CatalogueEntry,
    scale: LevelScale,
    *,
    updated_at: str,
    departments: Mapping[str, str],
    themes: Mapping[str, Group],
    license_id: str,
) -> Package:
    """The open dataset of ``entry`` (one marked 无条件开放 or 有条件开放): its metadata, the items it opens
    and withholds, and its one resource of records. ``updated_at``: when its current version was made."""
    name = slug(entry.code)
    shown = open_items(entry, scale)
    theme = theme_of(entry.code, themes)
    created = _instant(entry.published)
    resource = Resource(
        id=stable_id(entry.code, "records"),
        name=f"{entry.name}（数据）",
        description=f"{entry.name}的记录，含开放的数据项：{'、'.join(i.zh for i in shown) or '无'}",
        path=f"{DOWNLOADS}/{name}/records.csv",
        format="CSV",
        mimetype="text/csv",
        columns=tuple(_column(i) for i in shown),
    )
    return Package(
        id=stable_id(entry.code),
        name=name,
        code=entry.code,
        title=entry.name,
        notes=entry.abstract,
        organization=Organization(entry.provider, departments.get(entry.provider, entry.provider)),
        groups=(theme,) if theme is not None else (),
        tags=tuple(dict.fromkeys([*entry.classification, *(i.zh for i in shown)])),
        license_id=license_id,
        opening=str(entry.opening),
        update_cycle=entry.update_cycle,
        open_conditions=entry.opening_conditions,
        created=created,
        modified=max(created, _instant(updated_at)),
        version=entry.version,
        open_level=open_level(scale),
        withheld=tuple(i.zh for i in entry.items if i not in shown),
        resource=resource,
        entities=bool(entry.backing.entity_types),
        datastore=bool(entry.backing.entity_types or entry.backing.table),
    )
