"""API shapes of once-only evidence (两个免于提交): camelCase on the wire, times in ms since the epoch (as the
audit chain keeps them)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from cityos.onestop.evidence import (
    EvidencePreview,
    EvidenceSummary,
    EvidenceTotals,
    MaterialEvidence,
)
from cityos.onestop.evidence_workflow import STATE_LABELS, EvidenceState, allowed


class Shape(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class PreviewIn(Shape):
    """The applicant's explicit request to fetch a material (nothing is fetched before it)."""

    model_config = ConfigDict(extra="forbid")

    key: str | None = Field(None, max_length=64, description="the record's key when it is not the applicant's own "
                                                              "(a building's code)")  # fmt: skip


class DecideIn(Shape):
    """The applicant's consent to the previewed evidence (confirm), or their refusal (decline)."""

    model_config = ConfigDict(extra="forbid")

    content_hash: str | None = Field(
        None, min_length=64, max_length=64, description="confirm: the preview's hash (refused if the evidence changed)"
    )
    reason: str | None = Field(None, max_length=1000, description="decline: why, if the applicant says")


class PreviewPublic(Shape):
    application_id: str
    material_code: str
    material_name: str
    source: str
    department: str
    values: dict[str, Any]
    labels: dict[str, str]
    masked: list[str]
    content_hash: str
    code: str | None
    entry_name: str | None
    grant: str | None
    audit_seq: int | None
    fetched_at_ms: int
    actions: list[str] = Field(description="what the applicant may do next: confirm, decline, upload")

    @classmethod
    def of(cls, p: EvidencePreview) -> PreviewPublic:
        return cls(application_id=p.application_id, material_code=p.material_code, material_name=p.material_name,
                   source=p.source, department=p.department, values=p.values, labels=p.labels, masked=list(p.masked),
                   content_hash=p.content_hash, code=p.code, entry_name=p.entry_name, grant=p.grant,
                   audit_seq=p.audit_seq, fetched_at_ms=p.fetched_at_ms,
                   actions=[a.value for a in allowed(EvidenceState.PREVIEWED) if a.value != "preview"])  # fmt: skip


class UploadPublic(Shape):
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at_ms: int


class StepPublic(Shape):
    at_ms: int
    action: str
    by: str
    from_state: str | None
    to_state: str
    audit_seq: int | None
    reason: str | None


class MaterialEvidencePublic(Shape):
    application_id: str
    material_code: str
    material_name: str
    source: str
    state: EvidenceState
    state_label: str = Field(description="zh-CN")
    state_label_en: str
    department: str | None
    code: str | None
    grant: str | None
    audit_seq: int | None
    values: dict[str, Any] | None
    content_hash: str | None
    fetched_at_ms: int | None
    declined_at_ms: int | None
    upload: UploadPublic | None
    history: list[StepPublic]

    @classmethod
    def of(cls, m: MaterialEvidence) -> MaterialEvidencePublic:
        zh, en = STATE_LABELS[m.state]
        up = UploadPublic.model_validate(m.upload, from_attributes=True) if m.upload is not None else None
        return cls(application_id=m.application_id, material_code=m.material_code, material_name=m.material_name,
                   source=m.source, state=m.state, state_label=zh, state_label_en=en, department=m.department,
                   code=m.code, grant=m.grant, audit_seq=m.audit_seq, values=m.values, content_hash=m.content_hash,
                   fetched_at_ms=m.fetched_at_ms, declined_at_ms=m.declined_at_ms, upload=up,
                   history=[StepPublic.model_validate(h, from_attributes=True) for h in m.history])  # fmt: skip


class EvidenceSummaryPublic(Shape):
    application_id: str
    fetched: int = Field(description="materials fetched with the applicant's consent (免于提交)")
    uploaded: int
    declined: int = Field(description="materials whose fetch the applicant declined (uploaded since or not)")
    previewed: int = Field(description="fetched and shown, not decided yet")
    materials: list[MaterialEvidencePublic]

    @classmethod
    def of(cls, s: EvidenceSummary) -> EvidenceSummaryPublic:
        return cls(application_id=s.application_id, fetched=s.fetched, uploaded=s.uploaded, declined=s.declined,
                   previewed=s.previewed, materials=[MaterialEvidencePublic.of(m) for m in s.materials])  # fmt: skip


class EvidenceTotalsPublic(Shape):
    materials: int
    fetched: int
    uploaded: int
    declined: int
    awaiting_upload: int
    previewed: int
    once_only_rate: float | None = Field(description="两个免于提交: fetched / (fetched + uploaded + awaiting upload)")

    @classmethod
    def of(cls, t: EvidenceTotals) -> EvidenceTotalsPublic:
        return cls.model_validate(t, from_attributes=True)
