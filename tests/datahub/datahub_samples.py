"""Catalogue entries and grants for the grants and access tests, built directly (no catalogue needed)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from cityos.datahub import CatalogueEntry, DataItem, Grant, GrantState, OpeningType, SharingType, load_scale

SCALE = load_scale()
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
MS = timedelta(milliseconds=1)
PROVIDER = "civil-affairs"  # 民政局
SOURCE = "public-security"  # 公安分局: the one source of the ID number (一数一源)
READER = "health"  # 卫健委: asks for the data
OTHER = "housing"  # 房管局: another department, with no grant
SCENARIO = "低保资格核验"
OTHER_SCENARIO = "疫苗接种提醒"

ITEMS = (
    DataItem("district", "所在街道", "text", "general-1"),
    DataItem("householdSize", "家庭人口数", "number", "general-2"),
    DataItem("name", "姓名", "name", "general-3"),
    DataItem("mobile", "手机号码", "mobile", "general-4"),
    DataItem("idNumber", "公民身份号码", "id-card", "important", source=SOURCE),
    DataItem("guardCode", "核心编码", "code", "core"),
)
ALL = tuple(i.name for i in ITEMS)


def entry(sharing: SharingType = SharingType.CONDITIONAL, code: str = "HP-03-01-02-0001") -> CatalogueEntry:
    return CatalogueEntry(
        code=code,
        name="低保家庭成员信息",
        abstract="最低生活保障家庭成员的基本信息",
        provider=PROVIDER,
        classification=("社会保障", "社会救助", "最低生活保障"),
        format="database",
        items=ITEMS,
        sharing=sharing,
        opening=OpeningType.NONE,
        update_cycle="monthly",
        published="2026-01-15",
    )


def grant(
    state: GrantState = GrantState.APPROVED,
    *,
    id: str = "g1",
    department: str = READER,
    scenario: str = SCENARIO,
    items: tuple[str, ...] | None = None,
    starts: datetime = NOW - timedelta(days=30),
    ends: datetime = NOW + timedelta(days=335),
    lifts: str | None = None,
    code: str = "HP-03-01-02-0001",
) -> Grant:
    return Grant(
        id=id,
        code=code,
        department=department,
        scenario=scenario,
        purpose="核验申请人家庭成员",
        legal_basis="《社会救助暂行办法》第十一条",
        items=items,
        starts_at=starts.isoformat(timespec="milliseconds"),
        ends_at=ends.isoformat(timespec="milliseconds"),
        state=state,
        lifts=lifts,
    )


def expired(g: Grant) -> Grant:
    """The grant approved, its end just come."""
    return replace(g, state=GrantState.APPROVED, ends_at=NOW.isoformat(timespec="milliseconds"))
