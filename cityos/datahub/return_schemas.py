"""API shapes of the district return (数据属地返还): a return grant asked for, a grant and a run as answered."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from cityos.datahub.returns import ReturnGrant, ReturnRun
from cityos.datahub.schemas import Shape


class ReturnCreate(Shape):
    """A standing return grant: the city's entries ``codes`` returned to the district's tenant."""

    model_config = ConfigDict(extra="forbid")

    tenant: str = Field(..., min_length=1, max_length=64, description="the district's tenant the records go to")
    district: str = Field(..., min_length=1, max_length=128, description="the district's name as addresses write it")
    codes: list[str] = Field(..., min_length=1, max_length=100, description="the city catalogue entries returned")
    area: dict[str, Any] | None = Field(None, description="the district's polygon (GeoJSON Polygon or MultiPolygon)")
    area_entity: str | None = Field(
        None, max_length=512, description="or the city entity to take the polygon from (its location)"
    )


class ReturnEnd(Shape):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(..., min_length=1, max_length=2000, description="why the return ends (the district reads it)")


class ReturnPublic(Shape):
    id: str
    tenant: str = Field(description="the district's tenant")
    district: str
    codes: list[str]
    area: dict[str, Any] | None
    area_entity: str | None
    state: str = Field(description="standing (常态返还) or ended")
    watermark: str | None = Field(description="the newest modifiedAt a run read: the next run starts after it")
    made_by: str
    made_at: str
    ended_by: str | None
    ended_at: str | None
    reason: str | None

    @classmethod
    def of(cls, g: ReturnGrant) -> ReturnPublic:
        return cls(id=g.id, tenant=g.district_tenant, district=g.district, codes=list(g.codes), area=g.area,
                   area_entity=g.area_entity, state=g.state, watermark=g.watermark, made_by=g.made_by,
                   made_at=g.made_at, ended_by=g.ended_by, ended_at=g.ended_at, reason=g.reason)  # fmt: skip


class ReturnRunPublic(Shape):
    """A run's report: the city records read, and the district's records new, changed, removed, unchanged."""

    id: str
    grant_id: str
    tenant: str = Field(description="the district's tenant")
    by: str
    at: str
    full: bool = Field(description="every record read (else those modified since the watermark)")
    read: int
    new: int
    changed: int
    removed: int
    unchanged: int
    since: str | None
    watermark: str | None
    seconds: float

    @classmethod
    def of(cls, r: ReturnRun) -> ReturnRunPublic:
        return cls(id=r.id, grant_id=r.grant_id, tenant=r.district_tenant, by=r.by, at=r.at, full=r.full,
                   read=r.read, new=r.new, changed=r.changed, removed=r.removed, unchanged=r.unchanged,
                   since=r.since, watermark=r.watermark, seconds=r.seconds)  # fmt: skip
