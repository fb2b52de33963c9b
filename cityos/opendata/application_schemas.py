"""API shapes of the applications for conditional data (开放申请) and of the release checks: camelCase on the
wire, ISO 8601 instants with a time zone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from cityos.opendata.application_workflow import STATE_LABELS, AppAction, AppEvent, AppState, allowed
from cityos.opendata.applications import ApplicantKind, Application
from cityos.opendata.mapping import stable_id
from cityos.opendata.releases import Release


class Shape(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class ApplicationCreate(Shape):
    """An application for one conditional (有条件开放) dataset: who applies, for what purpose and scenario."""

    model_config = ConfigDict(extra="forbid")

    dataset: str = Field(..., min_length=1, max_length=64, description="the dataset's name (or id) on the portal")
    kind: ApplicantKind = Field(..., description="person (自然人) or enterprise (法人及其他组织)")
    name: str = Field(..., min_length=1, max_length=256, description="the applicant's name")
    contact: str = Field(..., min_length=1, max_length=256, description="how the reviewer reaches the applicant")
    organisation: str | None = Field(None, max_length=256, description="required of an enterprise")
    purpose: str = Field(..., min_length=1, max_length=4000)
    scenario: str = Field(..., min_length=1, max_length=512, description="the application scenario (应用场景)")


class DecisionIn(Shape):
    """A reviewer's decision: approve (terms, endsAt), refuse or revoke (reason)."""

    model_config = ConfigDict(extra="forbid")

    action: AppAction = Field(..., description="approve | refuse | revoke")
    terms: str | None = Field(None, max_length=8000, description="approve: the terms of use (使用条款)")
    ends_at: AwareDatetime | None = Field(None, description="approve: when the key stops opening the dataset")
    reason: str | None = Field(None, max_length=2000, description="refuse, revoke: why (the applicant reads it)")


class EventPublic(Shape):
    action: AppAction
    by: str
    by_department: str | None
    at: datetime
    from_state: AppState | None
    to_state: AppState
    reason: str | None
    changes: dict[str, Any]

    @classmethod
    def of(cls, ev: AppEvent) -> EventPublic:
        return cls(action=ev.action, by=ev.by, by_department=ev.by_department, at=ev.at, from_state=ev.from_state,
                   to_state=ev.to_state, reason=ev.reason, changes=ev.changes)  # fmt: skip


class ApplicationPublic(Shape):
    """An application as it is now (approved past its end: expired), with its history."""

    id: str
    dataset: str
    code: str
    provider: str
    kind: ApplicantKind
    name: str
    contact: str
    organisation: str | None
    purpose: str
    scenario: str
    state: AppState
    state_zh: str
    terms: str | None
    ends_at: datetime | None
    created_at: datetime
    updated_at: datetime
    allowed_moves: list[str]
    history: list[EventPublic]

    @classmethod
    def of(cls, a: Application) -> ApplicationPublic:
        p = a.applicant
        return cls(id=a.id, dataset=a.name, code=a.code, provider=a.provider, kind=p.kind, name=p.name,
                   contact=p.contact, organisation=p.organisation, purpose=p.purpose, scenario=p.scenario,
                   state=a.state, state_zh=STATE_LABELS[a.state][0], terms=a.terms, ends_at=a.ends_at,
                   created_at=a.created_at, updated_at=a.updated_at, allowed_moves=allowed(a.state),
                   history=[EventPublic.of(e) for e in a.history])  # fmt: skip


class DecisionSeen(Shape):
    """One step of an application as its applicant sees it: no reviewer's name, the deciding department."""

    action: AppAction
    at: datetime
    to_state: AppState
    by_department: str | None
    reason: str | None


class ApplicationStatus(Shape):
    """An application as its applicant reads it with the key: the state now, the decision's terms and period,
    or the reason of a refusal or revocation; and how the key is used once approved."""

    id: str
    dataset: str
    provider: str
    scenario: str
    state: AppState
    state_zh: str
    state_en: str
    terms: str | None
    ends_at: datetime | None
    created_at: datetime
    reason: str | None = Field(description="why it was refused or revoked (the last decision's reason)")
    opens: bool = Field(description="whether the key opens the dataset now")
    use: list[str] = Field(description="where the key opens the dataset, sent as 'Authorization: <key>'")
    steps: list[DecisionSeen]

    @classmethod
    def of(cls, a: Application) -> ApplicationStatus:
        last = a.history[-1] if a.history else None
        opens = a.state is AppState.APPROVED
        use = [f"/opendata/datasets/{a.name}/records.csv",
               f"/api/3/action/datastore_search?resource_id={stable_id(a.code, 'records')}"]  # fmt: skip
        return cls(id=a.id, dataset=a.name, provider=a.provider, scenario=a.applicant.scenario, state=a.state,
                   state_zh=STATE_LABELS[a.state][0], state_en=STATE_LABELS[a.state][1], terms=a.terms,
                   ends_at=a.ends_at, created_at=a.created_at,
                   reason=last.reason if last is not None and a.state in (AppState.REFUSED, AppState.REVOKED)
                   else None,
                   opens=opens, use=use if opens else [],
                   steps=[DecisionSeen(action=e.action, at=e.at, to_state=e.to_state, by_department=e.by_department,
                                       reason=e.reason) for e in a.history])  # fmt: skip


class Submitted(Shape):
    """A new application and its key, shown this once (only its hash is kept): it opens the dataset once the
    application is approved, sent as ``Authorization: <key>`` or ``X-CKAN-API-Key: <key>``."""

    application: ApplicationPublic
    key: str


class ReleasePublic(Shape):
    """A release check of a dataset's records through the de-identification gate."""

    dataset: str
    code: str
    version: int
    entry_version: int
    at: str
    by: str
    passed: bool
    records: int
    content_hash: str
    k: int
    quasi: list[str] | None
    offending: list[dict[str, Any]] = Field(description="the combinations shared by fewer than k records (≤ 1000)")
    offending_total: int
    small_cells: list[dict[str, Any]]
    small_cells_total: int
    suppressed: int
    removed: list[str]
    generalised: list[str]
    reasons: list[str]
    policy_source: str = Field(description="the policy file to fix when the check is blocked")

    @classmethod
    def of(cls, name: str, r: Release, source: str) -> ReleasePublic:
        return cls(dataset=name, code=r.code, version=r.version, entry_version=r.entry_version, at=r.at, by=r.by,
                   passed=r.passed, records=r.records, content_hash=r.content_hash, k=r.k,
                   quasi=None if r.quasi is None else list(r.quasi),
                   offending=[{"values": dict(g.values), "count": g.count} for g in r.offending],
                   offending_total=r.offending_total,
                   small_cells=[{"row": c.row, "item": c.item, "count": c.count, "cell": dict(c.cell)}
                                for c in r.small_cells],
                   small_cells_total=r.small_cells_total, suppressed=r.suppressed, removed=list(r.removed),
                   generalised=list(r.generalised), reasons=list(r.reasons), policy_source=source)  # fmt: skip
