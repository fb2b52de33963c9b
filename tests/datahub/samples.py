"""Sample catalogue entries for the datahub tests."""

from __future__ import annotations

import dataclasses
from typing import Any

from cityos.datahub import CatalogueEntry, DataItem, OpeningType, SharingType


def person_entry(code: str = "HP-01-01-0001", provider: str = "public-security", **changes: Any) -> CatalogueEntry:
    entry = CatalogueEntry(
        code=code,
        name="户籍人口基本信息",
        abstract="本区户籍人口的身份证号、姓名、户籍地址等基本信息。",
        provider=provider,
        classification=("基础信息", "人口", "户籍"),
        format="database",
        items=(
            DataItem("idCard", "身份证号", "id-card", "important", key="person.idCard"),
            DataItem("name", "姓名", "name", "general-3", key="person.name"),
            DataItem("registeredAddress", "户籍地址", "address", "general-3", key="person.registeredAddress"),
        ),
        sharing=SharingType.CONDITIONAL,
        opening=OpeningType.NONE,
        update_cycle="daily",
        published="2024-03-01",
        sharing_conditions="经授权用于本区公共服务和社会治理场景",
        sharing_method="api",
    )
    return dataclasses.replace(entry, **changes)


def lights_entry(code: str = "HP-04-01-0001", provider: str = "city-appearance", **changes: Any) -> CatalogueEntry:
    entry = CatalogueEntry(
        code=code,
        name="道路照明运行监测数据",
        abstract="路灯开关状态、功率和故障告警，实时更新。",
        provider=provider,
        classification=("城市运行", "市政设施", "照明"),
        format="stream",
        items=(
            DataItem("status", "运行状态", "code", "general-1"),
            DataItem("powerConsumption", "功率", "number", "general-1"),
            DataItem("location", "位置", "geo", "general-2", key="streetlight.location"),
        ),
        sharing=SharingType.UNCONDITIONAL,
        opening=OpeningType.UNCONDITIONAL,
        update_cycle="real-time",
        published="2024-05-10",
    )
    return dataclasses.replace(entry, **changes)


def as_body(entry: CatalogueEntry, **extra: Any) -> dict[str, Any]:
    """The entry as the API takes it (camelCase)."""
    return {
        "code": entry.code,
        "name": entry.name,
        "abstract": entry.abstract,
        "provider": entry.provider,
        "classification": list(entry.classification),
        "format": entry.format,
        "items": [
            {"name": i.name, "zh": i.zh, "kind": i.kind, "level": i.level, "source": i.source, "key": i.key}
            for i in entry.items
        ],
        "sharing": str(entry.sharing),
        "opening": str(entry.opening),
        "updateCycle": entry.update_cycle,
        "published": entry.published,
        "sharingConditions": entry.sharing_conditions,
        "sharingMethod": entry.sharing_method,
        "backing": {"entityTypes": list(entry.backing.entity_types)},
        **extra,
    }
