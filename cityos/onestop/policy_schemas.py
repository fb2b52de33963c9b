"""API shapes of policy matching (政策找人 · 免申即享): policies, runs, notices (the portal inbox) and grants."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cityos.onestop.policies import Policy
from cityos.onestop.policy_matching import Granted, Notice, PolicyCounts, Run


class Shape(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CountsPublic(Shape):
    notified: int = Field(description="notices written (每人每个政策版本一条)")
    pending: int = Field(description="grant mode: awaiting the person's confirmation (待确认)")
    granted: int
    declined: int

    @classmethod
    def of(cls, c: PolicyCounts | None) -> CountsPublic:
        c = c or PolicyCounts(0, 0, 0, 0)
        return cls(notified=c.notified, pending=c.pending, granted=c.granted, declined=c.declined)


class PolicyPublic(Shape):
    code: str
    version: int
    nameZh: str
    nameEn: str
    department: str
    target: str = Field(description="person (自然人) or enterprise (法人)")
    condition: str = Field(description="the rule over the registry's columns (cityos.onestop.policy_rules)")
    columns: list[str]
    entries: list[str] = Field(description="the catalogue entries a run reads as the department")
    mode: str = Field(description="notify (政策找人: tell them) or grant (免申即享: grant after they confirm)")
    benefit: str
    legalBasis: str
    counts: CountsPublic

    @classmethod
    def of(cls, p: Policy, entries: list[str], counts: PolicyCounts | None) -> PolicyPublic:
        return cls(code=p.code, version=p.version, nameZh=p.name_zh, nameEn=p.name_en, department=p.department,
                   target=p.target, condition=p.condition, columns=list(p.columns), entries=entries, mode=p.mode,
                   benefit=p.benefit, legalBasis=p.legal_basis, counts=CountsPublic.of(counts))  # fmt: skip


class PoliciesPublic(Shape):
    policies: list[PolicyPublic]


class RunPublic(Shape):
    id: str
    policyCode: str
    policyVersion: int
    department: str
    by: str
    state: str = Field(description="running (done in the background by the onestop role) | done | failed")
    subjects: int = Field(description="the registry's subjects evaluated (0 while it reads)")
    read: int = Field(description="records read so far, every entry's (the progress of a running run)")
    matched: int
    notified: int = Field(description="notices this run wrote (those matched before were not notified again)")
    attempts: int = Field(description="times a process took it: more than one when one stopped while it ran")
    auditSeqs: list[int] = Field(description="the audit records of the registry reads")
    error: str | None
    startedAtMs: int
    finishedAtMs: int | None

    @classmethod
    def of(cls, r: Run) -> RunPublic:
        return cls(id=r.id, policyCode=r.policy_code, policyVersion=r.policy_version, department=r.department,
                   by=r.by, state=r.state, subjects=r.subjects, read=r.read, matched=r.matched,
                   notified=r.notified, attempts=r.attempts, auditSeqs=r.audit_seqs, error=r.error,
                   startedAtMs=r.started_at_ms, finishedAtMs=r.finished_at_ms)  # fmt: skip


class MatchPublic(Shape):
    """One subject a policy matched, and why: the values that made its condition true (masked)."""

    noticeId: str
    subjectKind: str
    subjectId: str
    state: str
    inputs: dict[str, Any]
    runId: str
    createdAtMs: int
    decidedAtMs: int | None


class PolicyDetailPublic(Shape):
    policy: PolicyPublic
    runs: list[RunPublic]
    matches: list[MatchPublic]


class PolicyNoticePublic(Shape):
    """A notice in the portal inbox (我的消息 · 政策推送)."""

    id: str
    policyCode: str
    policyVersion: int
    nameZh: str
    nameEn: str
    department: str
    mode: str = Field(description="notify: read and apply as guided; grant: confirm (意愿确认) or decline")
    benefit: str
    legalBasis: str
    state: str = Field(description="notified | granted | declined")
    inputs: dict[str, Any] = Field(description="why you were found: the values the policy's condition read")
    createdAtMs: int
    decidedAtMs: int | None

    @classmethod
    def of(cls, n: Notice, inputs: dict[str, Any]) -> PolicyNoticePublic:
        p = n.policy
        return cls(id=n.id, policyCode=p.code, policyVersion=p.version, nameZh=p.name_zh, nameEn=p.name_en,
                   department=p.department, mode=p.mode, benefit=p.benefit, legalBasis=p.legal_basis, state=n.state,
                   inputs=inputs, createdAtMs=n.created_at_ms, decidedAtMs=n.decided_at_ms)  # fmt: skip


class NoticesPublic(Shape):
    notices: list[PolicyNoticePublic]


class GrantedPublic(Shape):
    """The benefit granted on a confirmed notice (免申即享), with what it was granted on."""

    noticeId: str
    policyCode: str
    policyVersion: int
    department: str
    benefit: str
    inputs: dict[str, Any]
    runId: str
    confirmedBy: str
    grantedAtMs: int

    @classmethod
    def of(cls, g: Granted, inputs: dict[str, Any]) -> GrantedPublic:
        return cls(noticeId=g.notice_id, policyCode=g.policy_code, policyVersion=g.policy_version,
                   department=g.department, benefit=g.benefit, inputs=inputs, runId=g.run_id,
                   confirmedBy=g.confirmed_by, grantedAtMs=g.granted_at_ms)  # fmt: skip
