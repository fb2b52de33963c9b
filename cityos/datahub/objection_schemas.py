"""API shapes of objections (数据异议纠错): what the /datahub/objections routes take and answer (camelCase on
the wire, ISO 8601 instants)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field

from cityos.datahub.objection_workflow import (
    STATE_LABELS,
    ObjectionAction,
    ObjectionEvent,
    ObjectionState,
    allowed_moves,
)
from cityos.datahub.objections import Notice, ObjectionRecord
from cityos.datahub.schemas import Shape


class ObjectionCreate(Shape):
    """A department objects to one item's value of one record it read (the department is the token's)."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(..., min_length=1, max_length=64, description="the catalogue entry the record was read from")
    record_id: str = Field(..., min_length=1, max_length=256, description="the record's id (an NGSI-LD entity id)")
    item: str = Field(..., min_length=1, max_length=128, description="the data item whose value is wrong")
    evidence: str = Field(..., min_length=1, max_length=4000, description="what is wrong, and how you know")
    proposed_value: Any = Field(None, description="the value you believe right (optional)")


class ObjectionMove(Shape):
    """A move of the objection workflow; the path names the action. ``reject`` needs a reason; ``correct``
    takes the corrected ``value`` (default: the value the objector proposed)."""

    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(None, max_length=2000)
    value: Any = Field(None, description="correct: the value the record takes")


class ObjectionEventPublic(Shape):
    action: ObjectionAction
    by: str
    by_department: str | None
    at: datetime
    from_state: ObjectionState | None
    to_state: ObjectionState
    reason: str | None
    changes: dict[str, Any] = Field(description="submit: the value objected to and the one proposed; correct: "
                                                "the value written")  # fmt: skip

    @classmethod
    def of(cls, ev: ObjectionEvent) -> ObjectionEventPublic:
        return cls(action=ev.action, by=ev.by, by_department=ev.by_department, at=ev.at, from_state=ev.from_state,
                   to_state=ev.to_state, reason=ev.reason, changes=ev.changes)  # fmt: skip


class ObjectionPublic(Shape):
    """An objection as it is now, with its whole history."""

    id: str
    code: str
    record_id: str
    item: str
    source: str = Field(description="the item's one source department (一数一源): who verifies and corrects")
    objector: str = Field(description="the department that objects")
    objector_principal: str
    read_seq: int = Field(description="the audit chain's record of the objector's read of the record")
    evidence: str
    value: Any = Field(description="the value objected to, as the record held it")
    proposed_value: Any
    corrected_value: Any
    state: ObjectionState
    state_zh: str
    reason: str | None
    created_at: datetime
    due_at: datetime = Field(description="the source's time limit, counted on the working-day calendar")
    closed_at: datetime | None
    updated_at: datetime
    overdue: bool = Field(description="open past its time limit")
    allowed_moves: list[str]
    notified: list[str] = Field(description="the departments told of the correction")
    history: list[ObjectionEventPublic]

    @classmethod
    def of(cls, r: ObjectionRecord) -> ObjectionPublic:
        return cls(
            id=r.id, code=r.code, record_id=r.record_id, item=r.item, source=r.source, objector=r.objector,
            objector_principal=r.objector_principal, read_seq=r.read_seq, evidence=r.evidence, value=r.value,
            proposed_value=r.proposed, corrected_value=r.corrected, state=r.state, state_zh=STATE_LABELS[r.state][0],
            reason=r.reason, created_at=r.created_at, due_at=r.due_at, closed_at=r.closed_at,
            updated_at=r.updated_at, overdue=r.overdue, allowed_moves=allowed_moves(r.state),
            notified=list(r.notified), history=[ObjectionEventPublic.of(ev) for ev in r.history],
        )  # fmt: skip


class NoticePublic(Shape):
    """A value a department read was corrected at its source: what it was, what it is, which objection."""

    department: str
    objection_id: str
    code: str
    record_id: str
    item: str
    before: Any
    after: Any
    last_read_seq: int = Field(description="the department's newest read of the record before the correction")
    at: datetime

    @classmethod
    def of(cls, n: Notice) -> NoticePublic:
        return cls(department=n.department, objection_id=n.objection_id, code=n.code, record_id=n.record_id,
                   item=n.item, before=n.before, after=n.after, last_read_seq=n.last_read_seq, at=n.at)  # fmt: skip
