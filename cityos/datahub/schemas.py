"""API shapes of the grants (授权共享): what the /datahub grant routes take and answer.

Field names are camelCase on the wire (``legalBasis``, ``endsAt``) and snake_case in Python; times are ISO
8601 instants with a time zone, kept to the millisecond. A field that may be empty is present as null.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from cityos.datahub.audit import SubjectRead
from cityos.datahub.grants import GrantRecord
from cityos.datahub.models import GrantState
from cityos.datahub.workflow import STATE_LABELS, GrantAction, GrantEvent, Narrowing, allowed_moves

ItemName = str
MAX_ITEMS = 500


class Shape(BaseModel):
    """camelCase on the wire, snake_case in Python; requests refuse fields they do not know."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class GrantRequest(Shape):
    """A department asks for a catalogue entry for one application scenario (the department is the token's)."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(..., min_length=1, max_length=64, description="the catalogue entry's resource code")
    scenario: str = Field(..., min_length=1, max_length=256, description="the application scenario (应用场景)")
    purpose: str = Field(..., min_length=1, max_length=2000)
    legal_basis: str = Field(..., min_length=1, max_length=2000, description="the law or rule that allows the use")
    items: list[ItemName] | None = Field(
        None, min_length=1, max_length=MAX_ITEMS, description="the data items needed; leave it out for all of them"
    )
    starts_at: AwareDatetime | None = Field(None, description="when the grant begins; default: now")
    ends_at: AwareDatetime = Field(..., description="when the grant ends, exactly; at most three years on")
    lifts: str | None = Field(
        None, max_length=32, description="the highest level shown unmasked (a level name); default: general-2"
    )


class GrantMove(Shape):
    """A move of the grant workflow. ``narrow`` approves less than was asked: give the items kept, a shorter
    period and/or a lower ``lifts``. ``refuse`` and ``revoke`` need a reason. The route's path names the
    action (``POST /datahub/grants/{id}/{action}``); ``action`` in the body may repeat it, never differ."""

    model_config = ConfigDict(extra="forbid")

    action: GrantAction | None = Field(None, description="approve | narrow | refuse | revoke; default: the path's")
    reason: str | None = Field(None, max_length=2000)
    items: list[ItemName] | None = Field(None, min_length=1, max_length=MAX_ITEMS)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    lifts: str | None = Field(None, max_length=32)

    def narrowing(self) -> Narrowing | None:
        """What a narrow keeps; None when the move narrows nothing."""
        if self.items is None and self.starts_at is None and self.ends_at is None and self.lifts is None:
            return None
        items = tuple(self.items) if self.items is not None else None
        return Narrowing(items=items, starts_at=self.starts_at, ends_at=self.ends_at, lifts=self.lifts)


class GrantEventPublic(Shape):
    action: GrantAction
    by: str
    by_department: str | None
    at: datetime
    from_state: GrantState | None
    to_state: GrantState
    reason: str | None
    changes: dict[str, Any] = Field(
        description="a request: what was asked; a narrow: each narrowed field with its from and to"
    )

    @classmethod
    def of(cls, ev: GrantEvent) -> GrantEventPublic:
        return cls(action=ev.action, by=ev.by, by_department=ev.by_department, at=ev.at, from_state=ev.from_state,
                   to_state=ev.to_state, reason=ev.reason, changes=ev.changes)  # fmt: skip


class GrantPublic(Shape):
    """A grant as it is now (an approved grant past its end is expired) with its whole history."""

    id: str
    code: str
    provider: str
    department: str = Field(description="the department that reads through it")
    scenario: str
    purpose: str
    legal_basis: str
    items: list[ItemName] | None = Field(description="the items granted; null: the whole entry")
    starts_at: datetime
    ends_at: datetime
    lifts: str | None = Field(description="the highest level shown unmasked; null: general-2")
    state: GrantState
    state_zh: str
    requested_by: str
    created_at: datetime
    updated_at: datetime
    allowed_moves: list[str] = Field(description="the moves the workflow table allows from this state")
    history: list[GrantEventPublic]

    @classmethod
    def of(cls, record: GrantRecord) -> GrantPublic:
        g = record.grant
        return cls(
            id=g.id,
            code=g.code,
            provider=record.provider,
            department=g.department,
            scenario=g.scenario,
            purpose=g.purpose,
            legal_basis=g.legal_basis,
            items=list(g.items) if g.items is not None else None,
            starts_at=datetime.fromisoformat(g.starts_at),
            ends_at=datetime.fromisoformat(g.ends_at),
            lifts=g.lifts,
            state=g.state,
            state_zh=STATE_LABELS[g.state][0],
            requested_by=record.requested_by,
            created_at=record.created_at,
            updated_at=record.updated_at,
            allowed_moves=allowed_moves(g.state),
            history=[GrantEventPublic.of(ev) for ev in record.history],
        )


class DataUsePublic(Shape):
    """One read that touched a person's or an enterprise's records (数据使用记录): who read, for what, when,
    through which API. The subject itself is never in it."""

    seq: int = Field(description="the read's record in the audit chain")
    at: datetime
    department: str | None = Field(description="the department that read; null: the city (an operator)")
    scenario: str | None = Field(description="the application scenario (应用场景) it read for")
    purpose: str | None
    grant: str | None = Field(description="the grant it read through; null: none was needed")
    code: str = Field(description="the catalogue entry read")
    route: str = Field(description="the API it read through, e.g. GET /datahub/datasets/{code}/records")

    @classmethod
    def of(cls, read: SubjectRead) -> DataUsePublic:
        return cls(seq=read.seq, at=datetime.fromtimestamp(read.at_ms / 1000, UTC), department=read.department,
                   scenario=read.scenario, purpose=read.purpose, grant=read.grant, code=read.code,
                   route=read.route)  # fmt: skip
