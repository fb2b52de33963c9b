"""The domain types of one-stop services that every part of the package shares: a service item (事项) and
its materials, a bundle (一件事) of items, and the states of an application. Pure data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

# where a material comes from (两个免于提交): a base registry holds it, an e-certificate in the applicant's
# wallet is it, or the applicant uploads it
EvidenceSource = Literal["registry", "certificate", "upload"]
HandlingMode = Literal["online", "on-site", "both"]
ApplicantKind = Literal["person", "enterprise"]


@dataclass(frozen=True)
class Applicant:
    """Who applies: a person (the registry's record key, the ID number 公民身份号码) or an enterprise (its
    unified social credit code, 统一社会信用代码): the key a citizen's or enterprise's login carries."""

    kind: ApplicantKind
    key: str


@dataclass(frozen=True)
class Material:
    """One material (申请材料) an item asks for, and how the government can supply it instead."""

    code: str  # stable within the item, e.g. "birth-medical-certificate"
    name: str  # zh-CN, e.g. 出生医学证明
    source: EvidenceSource
    required: bool = True
    # source "registry": the registry (``person`` / ``organization`` / ``building``) and the catalogue
    # entry code whose items supply it, e.g. ("person", "HP-01-01-0001")
    registry: str | None = None
    entry: str | None = None
    items: tuple[str, ...] = ()  # the entry's data items the material is made of
    # source "certificate": the certificate type it is (see ``certificate_type`` of the issuing item)
    certificate_type: str | None = None


@dataclass(frozen=True)
class ServiceItem:
    """A service item (政务服务事项) in one version: who handles it, on what legal basis, what it asks for
    and how long it may take (法定 and 承诺 time limits, in working days)."""

    code: str  # the item's code, e.g. "HP-XK-0012" (stable over versions)
    version: int
    name: str  # zh-CN
    name_en: str
    department: str  # the implementing department (实施主体), a department principal's name
    applicant_kinds: tuple[ApplicantKind, ...]
    legal_basis: tuple[str, ...]  # 设定依据: laws and regulations, article by article
    conditions: tuple[str, ...]  # 受理条件, as a person reads them
    materials: tuple[Material, ...]
    legal_limit_days: int  # 法定办结时限, working days
    promised_limit_days: int  # 承诺办结时限, working days (≤ the legal limit)
    fee: str  # 收费标准, "不收费" when free
    handling: HandlingMode
    # the certificate the item issues when approved (电子证照 type code), None when it issues none
    certificate_type: str | None = None
    questions: tuple[str, ...] = ()  # the merged form's question codes this item needs
    # automatic decision rules with their tests (see ``decisions.py``), None: a clerk decides every application
    decision: dict[str, Any] | None = None


@dataclass(frozen=True)
class BundleItem:
    """An item inside a bundle, with the condition (JsonLogic over the form's answers) under which it
    applies; None: always."""

    item: str  # a service item's code
    applies_when: dict[str, object] | None = None


@dataclass(frozen=True)
class Bundle:
    """A 一件事 bundle: a life or business event combining items under one merged form."""

    code: str  # e.g. "newborn"
    name: str  # zh-CN, e.g. 新生儿出生一件事
    name_en: str
    applicant_kind: ApplicantKind
    items: tuple[BundleItem, ...]
    lead_department: str  # the department that receives the bundle (一口受理)
    description: str = ""
    tags: tuple[str, ...] = field(default=())
    # the bundle's own questions (form question codes), asked first: those its items' ``applies_when`` read
    questions: tuple[str, ...] = ()


# the states of an item's application; the transition table lives in ``workflow.py``
ApplicationState = Literal[
    "submitted",  # 已提交: waiting for intake
    "received",  # 已受理: the legal clock runs
    "refused-at-intake",  # 不予受理, with reasons
    "supplement-requested",  # 补正: the clock stands still until the applicant supplies
    "suspended",  # 中止 (e.g. an expert review, a site inspection): the clock stands still
    "approved",  # 准予许可 / 办结
    "rejected",  # 不予许可, with reasons
    "certificate-issued",  # 已发证
    "withdrawn",  # 申请人撤回
]
