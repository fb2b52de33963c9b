"""API shapes of the service items, bundles and merged forms: camelCase on the wire."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from cityos.onestop.catalogue import Question, QuestionType, parse_item, shipped
from cityos.onestop.forms import Checked, Form
from cityos.onestop.items import ItemVersion
from cityos.onestop.models import ApplicantKind, Bundle, EvidenceSource, HandlingMode, Material, ServiceItem

SHORT, LONG = 256, 2000


class Shape(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class ServiceMaterial(Shape):
    """A material (申请材料) and where it can come from instead of the applicant (两个免于提交)."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(..., min_length=1, max_length=64)
    name: str = Field(..., min_length=1, max_length=SHORT)
    source: EvidenceSource = Field(..., description="registry (a base registry holds it) | certificate | upload")
    required: bool = True
    registry: str | None = Field(None, max_length=32, description="registry: person | organization | building")
    entry: str | None = Field(None, max_length=64, description="registry: the data resource catalogue entry")
    items: list[str] = Field(default_factory=list, max_length=50, description="registry: the entry's data items")
    certificate_type: str | None = Field(None, max_length=64, description="certificate: the e-certificate type")

    @classmethod
    def of(cls, m: Material) -> ServiceMaterial:
        return cls(code=m.code, name=m.name, source=m.source, required=m.required, registry=m.registry,
                   entry=m.entry, items=list(m.items), certificate_type=m.certificate_type)  # fmt: skip


class ServiceItemBody(Shape):
    """A service item as published: what a new version states in full."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(..., min_length=1, max_length=32, description="stable over versions, e.g. HP-SJ-0002")
    name: str = Field(..., min_length=1, max_length=SHORT)
    name_en: str = Field(..., min_length=1, max_length=SHORT)
    department: str = Field(..., min_length=1, max_length=64, description="the implementing department (实施主体)")
    applicant_kinds: list[ApplicantKind] = Field(..., min_length=1, max_length=2)
    legal_basis: list[str] = Field(..., min_length=1, max_length=20, description="设定依据, article by article")
    conditions: list[str] = Field(..., min_length=1, max_length=30, description="受理条件")
    materials: list[ServiceMaterial] = Field(..., max_length=50)
    legal_limit_days: int = Field(..., ge=1, le=3650, description="法定办结时限, working days")
    promised_limit_days: int = Field(..., ge=1, le=3650, description="承诺办结时限, working days (≤ legal)")
    fee: str = Field(..., min_length=1, max_length=LONG, description="收费标准 (不收费 when free)")
    handling: HandlingMode = Field(..., description="online | on-site | both")
    certificate_type: str | None = Field(None, max_length=64, description="the e-certificate type it issues")
    questions: list[str] = Field(default_factory=list, max_length=100, description="the form questions it needs")
    decision: dict[str, Any] | None = Field(None, description="automatic decision rules (rules, claims, tests)")

    def item(self) -> ServiceItem:
        """The body as a service item (version 1 until published), checked in shape."""
        return parse_item(self.model_dump(by_alias=False), "body.item")


class ServiceItemPublic(ServiceItemBody):
    """A service item in one version, with who published that version, when and why."""

    model_config = ConfigDict(extra="ignore")

    version: int
    department_name: str = Field(..., description="the department's Chinese name")
    certificate_name: str | None = Field(None, description="the certificate type's Chinese name")
    published_by: str
    published_at: datetime
    reason: str
    guide: str = Field(..., description="the service guide page (办事指南)")

    @classmethod
    def of(cls, v: ItemVersion) -> ServiceItemPublic:
        it, names = v.item, shipped()
        cert = names.certificates.get(it.certificate_type or "")
        return cls(code=it.code, version=it.version, name=it.name, name_en=it.name_en, department=it.department,
                   department_name=names.departments.get(it.department, it.department),
                   applicant_kinds=list(it.applicant_kinds), legal_basis=list(it.legal_basis),
                   conditions=list(it.conditions), materials=[ServiceMaterial.of(m) for m in it.materials],
                   legal_limit_days=it.legal_limit_days, promised_limit_days=it.promised_limit_days, fee=it.fee,
                   handling=it.handling, certificate_type=it.certificate_type,
                   certificate_name=cert[0] if cert else None, questions=list(it.questions), decision=it.decision,
                   published_by=v.by,
                   published_at=v.at, reason=v.reason, guide=f"/onestop/guide/{it.code}")  # fmt: skip


class ServiceItemSummary(Shape):
    code: str
    version: int
    name: str
    name_en: str
    department: str
    department_name: str
    handling: HandlingMode
    legal_limit_days: int
    promised_limit_days: int
    certificate_type: str | None
    guide: str

    @classmethod
    def of(cls, it: ServiceItem) -> ServiceItemSummary:
        return cls(code=it.code, version=it.version, name=it.name, name_en=it.name_en, department=it.department,
                   department_name=shipped().departments.get(it.department, it.department), handling=it.handling,
                   legal_limit_days=it.legal_limit_days, promised_limit_days=it.promised_limit_days,
                   certificate_type=it.certificate_type, guide=f"/onestop/guide/{it.code}")  # fmt: skip


class ServiceItemPublish(Shape):
    """A new version of an item: the item in full and why it changes."""

    model_config = ConfigDict(extra="forbid")

    item: ServiceItemBody
    reason: str = Field(..., min_length=1, max_length=LONG, description="why (kept with the version)")
    expected_version: int | None = Field(None, ge=0, description="the version read: another in force is a 409")
    tests: list[dict[str, Any]] | None = Field(
        None,
        max_length=200,
        description="the decision rules' test cases to keep with the version (absent: the item's own)",
    )


class ServiceItemVersionPublic(Shape):
    version: int
    published_by: str
    published_at: datetime
    reason: str

    @classmethod
    def of(cls, v: ItemVersion) -> ServiceItemVersionPublic:
        return cls(version=v.item.version, published_by=v.by, published_at=v.at, reason=v.reason)


class BundleItemPublic(Shape):
    item: str
    name: str
    department: str
    department_name: str
    applies_when: dict[str, Any] | None = Field(None, description="JsonLogic over the answers; null: always")


class BundlePublic(Shape):
    code: str
    name: str
    name_en: str
    applicant_kind: ApplicantKind
    lead_department: str
    lead_department_name: str
    description: str
    tags: list[str]
    questions: list[str] = Field(..., description="the bundle's own questions: they decide which items apply")
    items: list[BundleItemPublic]
    form: str = Field(..., description="the merged form")
    guide: str = Field(..., description="the bundle's service guide page")

    @classmethod
    def of(cls, b: Bundle, items: dict[str, ServiceItem]) -> BundlePublic:
        names = shipped().departments
        parts = [BundleItemPublic(item=p.item, name=items[p.item].name, department=items[p.item].department,
                                  department_name=names.get(items[p.item].department, items[p.item].department),
                                  applies_when=p.applies_when) for p in b.items]  # fmt: skip
        return cls(code=b.code, name=b.name, name_en=b.name_en, applicant_kind=b.applicant_kind,
                   lead_department=b.lead_department,
                   lead_department_name=names.get(b.lead_department, b.lead_department), description=b.description,
                   tags=list(b.tags), questions=list(b.questions), items=parts, form=f"/onestop/bundles/{b.code}/form",
                   guide=f"/onestop/guide/bundles/{b.code}")  # fmt: skip


class FormOptionPublic(Shape):
    value: str
    label: str
    label_en: str


class FormQuestionPublic(Shape):
    code: str
    type: QuestionType
    label: str
    label_en: str
    required: bool = Field(..., description="while shown")
    options: list[FormOptionPublic]
    show_when: dict[str, Any] | None = Field(None, description="JsonLogic over the answers before it")
    min: float | None = None
    max: float | None = None
    max_length: int | None = None
    items: list[str] = Field(..., description="the items that need it; empty: the bundle's own question")

    @classmethod
    def of(cls, q: Question, owners: tuple[str, ...]) -> FormQuestionPublic:
        return cls(code=q.code, type=q.type, label=q.label, label_en=q.label_en, required=q.required,
                   options=[FormOptionPublic(value=v, label=zh, label_en=en) for v, zh, en in q.options],
                   show_when=q.show_when, min=q.min, max=q.max, max_length=q.max_length,
                   items=list(owners))  # fmt: skip


class FormPublic(Shape):
    """A bundle's merged form (一表申请): each question once, the bundle's own first."""

    bundle: str
    questions: list[FormQuestionPublic]

    @classmethod
    def of(cls, form: Form) -> FormPublic:
        return cls(bundle=form.bundle.code, questions=[FormQuestionPublic.of(q, form.owners[q.code])
                                                       for q in form.questions])  # fmt: skip


class FormCheckIn(Shape):
    model_config = ConfigDict(extra="forbid")

    answers: dict[str, Any] = Field(..., description="question code -> answer (JSON typed as the question says)")


class FormFieldError(Shape):
    field: str = Field(..., description="the question's code")
    message: str


class FormCheckPublic(Shape):
    """What the answers make of the form: the items that apply and those skipped, the questions shown, the
    answers cleaned (hidden questions' dropped) and the fields that are wrong; ``valid``: none is."""

    valid: bool
    items: list[str]
    skipped: list[str]
    questions: list[str]
    answers: dict[str, Any]
    errors: list[FormFieldError]

    @classmethod
    def of(cls, form: Form, checked: Checked) -> FormCheckPublic:
        applying = {p.item for p in checked.items}
        return cls(valid=not checked.errors, items=[p.item for p in checked.items],
                   skipped=[p.item for p in form.bundle.items if p.item not in applying],
                   questions=[q.code for q in checked.questions], answers=checked.answers,
                   errors=[FormFieldError(field=e.field, message=e.message) for e in checked.errors])  # fmt: skip
