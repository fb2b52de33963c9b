"""API shape of the source's conflict list (数据归集 · 冲突), camelCase on the wire."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from cityos.datahub.feed_conflicts import ConflictList, OpenConflict
from cityos.datahub.schemas import Shape


class OpenConflictPublic(Shape):
    record: str = Field(description="the record key (the ID number), masked as the caller's access shows it")
    entity_id: str = Field(description="the Person entity of the registry")
    item: str = Field(description="the registry's attribute (person.<item>)")
    offered_as: str = Field(description="the item's name in the offering entry")
    code: str = Field(description="the offering entry")
    department: str = Field(description="the department that offered the value")
    source: str = Field(description="the item's one source")
    offered: Any = Field(description="the latest value the department offered (not applied)")
    held: Any = Field(description="the value the registry holds now; masked for a caller that is not the source")
    run_id: str = Field(description="the feed run that offered it")
    at: str = Field(description="when that run was stored")

    @classmethod
    def of(cls, c: OpenConflict) -> OpenConflictPublic:
        return cls(record=c.record, entity_id=c.entity_id, item=c.item, offered_as=c.offered_as, code=c.code,
                   department=c.department, source=c.source, offered=c.offered, held=c.held, run_id=c.run_id,
                   at=c.at)  # fmt: skip


class ConflictListPublic(Shape):
    """A page of the open conflicts, their total, and the source's open conflicts counted per item and per
    offering department (whatever the filters)."""

    total: int
    by_item: dict[str, int]
    by_department: dict[str, int]
    conflicts: list[OpenConflictPublic]

    @classmethod
    def of(cls, found: ConflictList) -> ConflictListPublic:
        return cls(total=found.total, by_item=found.by_item, by_department=found.by_department,
                   conflicts=[OpenConflictPublic.of(c) for c in found.conflicts])  # fmt: skip
