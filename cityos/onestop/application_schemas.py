"""API shapes of submissions and applications (办件): camelCase on the wire, ISO 8601 times in Shanghai."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from cityos.cases import ClockState
from cityos.onestop.applications import Entry, ItemApplication, Overall, Page, Submission
from cityos.onestop.deciding import Recorded
from cityos.onestop.decision_schemas import DecisionPublic
from cityos.onestop.models import ApplicantKind, ApplicationState
from cityos.onestop.workflow import STATE_LABELS, allowed


class Shape(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class SubmissionCreate(Shape):
    """A bundle (一件事) or a single item submitted with the merged form's answers. ``applicant`` and
    ``applicantKind`` name whom a counter or an administrator submits for; a citizen's or an enterprise's own
    login supplies them and may not name another."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)

    bundle: str | None = Field(None, min_length=1, max_length=64, description="the bundle's code, e.g. newborn")
    item: str | None = Field(None, min_length=1, max_length=64, description="a single item's code")
    answers: dict[str, Any] = Field(default_factory=dict, description="the merged form's answers by question code")
    applicant: str | None = Field(None, min_length=1, max_length=64,
                                  description="a person's registry key or an enterprise's credit code")  # fmt: skip
    applicant_kind: ApplicantKind | None = None

    @model_validator(mode="after")
    def _one_target(self) -> SubmissionCreate:
        if (self.bundle is None) == (self.item is None):
            raise ValueError("name either a bundle or an item")
        return self


class ServiceActionIn(Shape):
    """The reason of an action: required for refuse, request-supplement, suspend and reject (the applicant
    reads it)."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)

    reason: str | None = Field(None, max_length=2000)
    claims: dict[str, Any] | None = Field(
        None, description="issue-certificate: the certificate's claims (GET /onestop/schemas/{type}.json names them)"
    )


class ServiceEntryPublic(Shape):
    seq: int
    at: datetime
    action: str
    actor: str
    actor_department: str | None
    from_state: ApplicationState | None
    to_state: ApplicationState
    reason: str | None

    @classmethod
    def of(cls, e: Entry) -> ServiceEntryPublic:
        return cls(seq=e.seq, at=e.at, action=e.action, actor=e.actor, actor_department=e.actor_department,
                   from_state=e.from_state, to_state=e.to_state, reason=e.reason)  # fmt: skip


class ServiceClockPublic(Shape):
    """The legal clock: started on receipt (受理), standing still while paused (补正, 中止), stopped at the
    decision; due dates in working days of the Chinese calendar."""

    promised_days: int = Field(description="承诺办结时限, working days")
    legal_days: int = Field(description="法定办结时限, working days")
    received_at: datetime | None
    promised_due: datetime | None
    legal_due: datetime | None
    paused_since: datetime | None
    paused_hours: float = Field(description="working time the clock stood still, in hours")
    decided_at: datetime | None
    used_hours: float = Field(description="working time the clock has run, in hours")
    state: ClockState | None = Field(description="against the promised limit: on-time, reminded (80 %) or overdue")


class ServiceApplicationPublic(Shape):
    """An item's application as it is now, with its clock, the actions allowed and its history."""

    id: str
    submission_id: str
    item: str
    item_version: int
    item_name: str
    department: str
    applicant_kind: ApplicantKind
    applicant: str
    state: ApplicationState
    state_zh: str
    reasons: str | None
    clock: ServiceClockPublic
    allowed_actions: list[str]
    created_at: datetime
    updated_at: datetime
    history: list[ServiceEntryPublic]
    decision: DecisionPublic | None = Field(None, description="the item's rules' latest decision and trace")

    @classmethod
    def of(cls, a: ItemApplication, now: datetime, decision: Recorded | None = None) -> ServiceApplicationPublic:
        c = a.clock
        clock = ServiceClockPublic(promised_days=c.promised_days, legal_days=c.legal_days, received_at=c.received_at,
                            promised_due=c.promised_due, legal_due=c.legal_due, paused_since=c.paused_since,
                            paused_hours=round(c.paused.total_seconds() / 3600, 3), decided_at=c.decided_at,
                            used_hours=round(c.used(now).total_seconds() / 3600, 3), state=c.state(now))  # fmt: skip
        return cls(id=a.id, submission_id=a.submission_id, item=a.item_code, item_version=a.item_version,
                   item_name=a.item_name, department=a.department, applicant_kind=a.applicant.kind,
                   applicant=a.applicant.key, state=a.state, state_zh=STATE_LABELS[a.state][0], reasons=a.reasons,
                   clock=clock, allowed_actions=allowed(a.state), created_at=a.created_at, updated_at=a.updated_at,
                   history=[ServiceEntryPublic.of(e) for e in a.history],
                   decision=DecisionPublic.of(decision) if decision else None)  # fmt: skip


class SubmissionPublic(Shape):
    """A submission and the combined status of its applications."""

    id: str
    bundle: str | None
    item: str | None
    applicant_kind: ApplicantKind
    applicant: str
    answers: dict[str, Any]
    created_at: datetime
    overall: Overall = Field(description="submitted, in-progress, supplement-requested (the applicant's turn), "
                                         "completed (all approved) or closed")  # fmt: skip
    due: datetime | None = Field(description="the latest promised due date of the applications still open")
    applications: list[ServiceApplicationPublic]

    @classmethod
    def of(cls, s: Submission, now: datetime, decisions: dict[str, Recorded] | None = None) -> SubmissionPublic:
        return cls(id=s.id, bundle=s.bundle, item=s.item, applicant_kind=s.applicant.kind, applicant=s.applicant.key,
                   answers=s.answers, created_at=s.created_at, overall=s.overall, due=s.due,
                   applications=[ServiceApplicationPublic.of(a, now, (decisions or {}).get(a.id))
                                 for a in s.applications])  # fmt: skip


class ServiceQueuePublic(Shape):
    """One page of a department's queue, oldest first."""

    total: int
    page: int
    per_page: int
    applications: list[ServiceApplicationPublic]

    @classmethod
    def of(cls, p: Page, page: int, per_page: int, now: datetime,
           decisions: dict[str, Recorded] | None = None) -> ServiceQueuePublic:  # fmt: skip
        return cls(total=p.total, page=page, per_page=per_page,
                   applications=[ServiceApplicationPublic.of(a, now, (decisions or {}).get(a.id))
                                 for a in p.applications])  # fmt: skip
