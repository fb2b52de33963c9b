"""Catalogue entries as data: validation against the level scale (errors name the field as the API spells
it) and the JSON document each version is stored as. Pure: no SQL, no HTTP."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from cityos.datahub.errors import InvalidEntry
from cityos.datahub.models import (
    ITEM_KINDS,
    Backing,
    CatalogueEntry,
    DataItem,
    LevelScale,
    OpeningType,
    SharingType,
)

# resource code: a district prefix, the classification code (two digits per level, one to four levels)
# and a four-digit sequence, e.g. HP-01-02-0001
CODE = re.compile(r"^[A-Z]{2,6}(-[0-9]{2}){1,4}-[0-9]{4}$")
ITEM_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)+$")  # e.g. person.registeredAddress
ITEM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,127}$")
FORMATS = ("database", "file", "api", "stream")
UPDATE_CYCLES = ("real-time", "hourly", "daily", "weekly", "monthly", "quarterly", "yearly", "on-change")
SHARING_METHODS = ("", "api", "file", "database", "stream")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TEXT_MAX = 4000


def _bad(field: str, detail: str) -> InvalidEntry:
    return InvalidEntry(f"{field}: {detail}", field=field)


def _text(field: str, value: object, *, required: bool = True, max_length: int = 200) -> None:
    if not isinstance(value, str):
        raise _bad(field, "must be a string")
    if required and not value.strip():
        raise _bad(field, "must not be empty")
    if len(value) > max_length:
        raise _bad(field, f"must be at most {max_length} characters")
    if _CONTROL.search(value.replace("\n", "").replace("\t", "")):
        raise _bad(field, "must not hold control characters")


def _one_of(field: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise _bad(field, f"{value!r} is not one of {', '.join(repr(a) for a in allowed if a)}")


def validate(entry: CatalogueEntry, scale: LevelScale) -> None:
    """Refuse an entry the catalogue cannot take with InvalidEntry naming the first bad field."""
    if not isinstance(entry.code, str) or not CODE.match(entry.code):
        raise _bad("code", f"{entry.code!r} is not a resource code: write it like HP-01-02-0001 "
                           "(2-6 capitals, 1-4 two-digit classification codes, a 4-digit sequence)")  # fmt: skip
    _text("name", entry.name)
    _text("abstract", entry.abstract, max_length=_TEXT_MAX)
    _text("provider", entry.provider, max_length=128)
    _classification(entry.classification)
    _one_of("format", entry.format, FORMATS)
    _one_of("sharing", entry.sharing, tuple(map(str, SharingType)))
    _one_of("opening", entry.opening, tuple(map(str, OpeningType)))
    _one_of("updateCycle", entry.update_cycle, UPDATE_CYCLES)
    _one_of("sharingMethod", entry.sharing_method, SHARING_METHODS)
    _date("published", entry.published)
    _text("sharingConditions", entry.sharing_conditions, required=entry.sharing != SharingType.UNCONDITIONAL,
          max_length=_TEXT_MAX)  # fmt: skip
    _text("openingConditions", entry.opening_conditions, required=False, max_length=_TEXT_MAX)
    _text("sourceSystem", entry.source_system, required=False)
    for i, code in enumerate(entry.related):
        if not isinstance(code, str) or not CODE.match(code) or code == entry.code:
            raise _bad(f"related[{i}]", f"{code!r} is not the resource code of another entry")
    _backing(entry.backing)
    _items(entry, scale)


def _classification(path: tuple[str, ...]) -> None:
    if not 1 <= len(path) <= 4:
        raise _bad("classification", "give 1 to 4 levels (类/项/目/细目), from the top")
    for i, part in enumerate(path):
        _text(f"classification[{i}]", part, max_length=64)
        if "/" in part:
            raise _bad(f"classification[{i}]", "must not hold '/'")


def _date(field: str, value: object) -> None:
    try:
        date.fromisoformat(str(value))
    except ValueError:
        raise _bad(field, f"{value!r} is not an ISO date (YYYY-MM-DD)") from None


def _backing(backing: Backing) -> None:
    for i, kind in enumerate(backing.entity_types):
        _text(f"backing.entityTypes[{i}]", kind, max_length=256)
    if backing.q is not None:
        _text("backing.q", backing.q, max_length=_TEXT_MAX)
    if backing.table is not None and not ITEM_NAME.match(backing.table):
        raise _bad("backing.table", f"{backing.table!r} is not a table name")


def _items(entry: CatalogueEntry, scale: LevelScale) -> None:
    if not entry.items:
        raise _bad("items", "an entry has at least one data item")
    names: set[str] = set()
    sources: dict[str, str] = {}  # key -> its source: two items of one key (two id numbers) share it
    levels = ", ".join(lv.name for lv in scale.levels)
    for i, item in enumerate(entry.items):
        at = f"items[{i}]"
        if not isinstance(item.name, str) or not ITEM_NAME.match(item.name):
            raise _bad(f"{at}.name", f"{item.name!r} is not an item name (letters, digits, _ and -, 1-128)")
        if item.name in names:
            raise _bad(f"{at}.name", f"{item.name!r} is the name of an item before it")
        names.add(item.name)
        _text(f"{at}.zh", item.zh, max_length=128)
        _text(f"{at}.description", item.description, required=False, max_length=_TEXT_MAX)
        _one_of(f"{at}.kind", item.kind, ITEM_KINDS)
        if scale.get(item.level) is None:
            raise _bad(f"{at}.level", f"{item.level!r} is not a level of the scale ({levels})")
        if item.source is not None:
            _text(f"{at}.source", item.source, max_length=128)
        if item.key is not None and not ITEM_KEY.match(item.key):
            raise _bad(f"{at}.key", f"{item.key!r} is not an item key: write it like person.registeredAddress")
        key, source = entry.key_of(item), entry.source_of(item)
        if sources.setdefault(key, source) != source:
            raise _bad(f"{at}.source", f"an item before it with key {key!r} has the source {sources[key]!r}")


# --- the stored document ---------------------------------------------------------------------------------


def to_doc(entry: CatalogueEntry) -> dict[str, Any]:
    """The entry as JSON (snake_case keys, as stored)."""
    return {
        "code": entry.code, "name": entry.name, "abstract": entry.abstract, "provider": entry.provider,
        "classification": list(entry.classification), "format": entry.format,
        "items": [
            {"name": i.name, "zh": i.zh, "kind": i.kind, "level": i.level, "description": i.description,
             "source": i.source, "key": i.key}
            for i in entry.items
        ],
        "sharing": str(entry.sharing), "opening": str(entry.opening), "update_cycle": entry.update_cycle,
        "published": entry.published, "sharing_conditions": entry.sharing_conditions,
        "sharing_method": entry.sharing_method, "opening_conditions": entry.opening_conditions,
        "related": list(entry.related), "source_system": entry.source_system,
        "backing": {"entity_types": list(entry.backing.entity_types), "q": entry.backing.q,
                    "table": entry.backing.table},
        "version": entry.version,
    }  # fmt: skip


def from_doc(doc: dict[str, Any]) -> CatalogueEntry:
    """The entry a stored document holds."""
    backing = doc.get("backing") or {}
    return CatalogueEntry(
        code=doc["code"], name=doc["name"], abstract=doc["abstract"], provider=doc["provider"],
        classification=tuple(doc["classification"]), format=doc["format"],
        items=tuple(DataItem(**item) for item in doc["items"]),
        sharing=SharingType(doc["sharing"]), opening=OpeningType(doc["opening"]),
        update_cycle=doc["update_cycle"], published=doc["published"],
        sharing_conditions=doc.get("sharing_conditions", ""), sharing_method=doc.get("sharing_method", ""),
        opening_conditions=doc.get("opening_conditions", ""), related=tuple(doc.get("related", ())),
        source_system=doc.get("source_system", ""),
        backing=Backing(entity_types=tuple(backing.get("entity_types", ())), q=backing.get("q"),
                        table=backing.get("table")),
        version=int(doc.get("version", 1)),
    )  # fmt: skip


def search_text(entry: CatalogueEntry) -> str:
    """What free text is matched against: name, abstract, item names (both languages), lower case."""
    parts = [entry.name, entry.abstract, *(f"{i.name} {i.zh}" for i in entry.items)]
    return "\n".join(parts).lower()


def path_of(classification: tuple[str, ...]) -> str:
    return "/".join(classification)
