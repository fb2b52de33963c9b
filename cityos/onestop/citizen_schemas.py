"""API shapes of the one-stop portal's login and of a citizen's or enterprise's own data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cityos.auth import ProfilePublic
from cityos.datahub import ObjectionRecord
from cityos.onestop.citizen_service import Found, OwnValue, Use, UsePage

KEY = r"^\s*[0-9A-Za-z]{18}\s*$"


class Shape(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DemoLoginCreate(Shape):
    """Who logs in through the demo identity provider: a person's ID number or an enterprise's credit code, and
    the demo code."""

    subject: str = Field(
        min_length=18, max_length=24, pattern=KEY,
        description="a demo person's ID number (公民身份号码) or an enterprise's unified social credit code",
    )  # fmt: skip
    code: str = Field(min_length=1, max_length=16, description="the demo identity provider's code: 123456")


class SubjectPublic(Shape):
    kind: str = Field(description="person (自然人) or enterprise (法人)")
    key: str = Field(description="the ID number or the unified social credit code")
    entityId: str = Field(description="the NGSI-LD id of its base registry entity in the data hub")
    name: str = ""

    @classmethod
    def of(cls, found: Found) -> SubjectPublic:
        s = found.subject
        return cls(kind=s.kind, key=s.key, entityId=s.entity_id, name=found.name)


class DemoLoginPublic(Shape):
    """A short-lived bearer token for the person or enterprise, and who it is."""

    token: str = Field(description="Send it as 'Authorization: Bearer <token>'.")
    expiresAt: str
    principal: ProfilePublic
    subject: SubjectPublic


class DemoSubjectsPublic(Shape):
    """The demo persons and enterprises one may log in as (empty when the demo login is off)."""

    enabled: bool
    subjects: list[SubjectPublic]


class UsePublic(Shape):
    """One read of the caller's records (数据使用记录): who, when, which items, under which grant and purpose."""

    seq: int = Field(description="the read's record in the audit chain")
    at: datetime
    department: str | None = Field(description="the department that read; null: the city (an operator)")
    code: str = Field(description="the catalogue entry read")
    entry: str = Field(description="its name")
    items: list[str] | None = Field(description="the items its grant shows; null: the whole entry")
    grant: str | None
    scenario: str | None = Field(description="the application scenario (应用场景) it read for")
    purpose: str | None
    route: str

    @classmethod
    def of(cls, u: Use) -> UsePublic:
        return cls(seq=u.seq, at=u.at, department=u.department, code=u.code, entry=u.entry,
                   items=list(u.items) if u.items is not None else None, grant=u.grant, scenario=u.scenario,
                   purpose=u.purpose, route=u.route)  # fmt: skip


class UsagePublic(Shape):
    reads: list[UsePublic]
    nextBefore: int | None = Field(description="pass as ?before= for the next (older) page; null: the last page")

    @classmethod
    def of(cls, page: UsePage) -> UsagePublic:
        return cls(reads=[UsePublic.of(u) for u in page.reads], nextBefore=page.next_before)


class OwnValuePublic(Shape):
    code: str
    entry: str
    item: str
    label: str
    value: Any

    @classmethod
    def of(cls, v: OwnValue) -> OwnValuePublic:
        return cls(code=v.code, entry=v.entry, item=v.item, label=v.label, value=v.value)


class MyRecordPublic(Shape):
    """The caller's own base registry record, value by value, each under the entry it is read under."""

    entityId: str
    values: list[OwnValuePublic]


class MyObjectionCreate(Shape):
    code: str = Field(min_length=1, max_length=64, description="the catalogue entry the value is read under")
    item: str = Field(min_length=1, max_length=128, description="the data item, e.g. registeredAddress")
    evidence: str = Field(min_length=1, max_length=2000, description="what is wrong and how you know")
    proposed: str | None = Field(None, max_length=2000, description="the value you believe right")


class MyObjectionEvent(Shape):
    action: str
    at: datetime
    byDepartment: str | None
    toState: str
    reason: str | None


class MyObjectionPublic(Shape):
    """One of the caller's objections, with its state and the source's answer."""

    id: str
    code: str
    item: str
    source: str = Field(description="the item's one source (一数一源), who verifies")
    evidence: str
    value: Any
    proposed: Any
    corrected: Any
    state: str
    reason: str | None = Field(description="the source's reason (a rejection's)")
    createdAt: datetime
    dueAt: datetime
    closedAt: datetime | None
    overdue: bool
    history: list[MyObjectionEvent]

    @classmethod
    def of(cls, r: ObjectionRecord) -> MyObjectionPublic:
        history = [MyObjectionEvent(action=str(e.action), at=e.at, byDepartment=e.by_department,
                                    toState=str(e.to_state), reason=e.reason) for e in r.history]  # fmt: skip
        return cls(id=r.id, code=r.code, item=r.item, source=r.source, evidence=r.evidence, value=r.value,
                   proposed=r.proposed, corrected=r.corrected, state=str(r.state), reason=r.reason,
                   createdAt=r.created_at, dueAt=r.due_at, closedAt=r.closed_at, overdue=r.overdue,
                   history=history)  # fmt: skip


class MyObjectionsPublic(Shape):
    objections: list[MyObjectionPublic]
    total: int
