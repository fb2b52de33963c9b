"""Principals, roles and what each role may do. The permission table is data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KINDS = ("department", "staff", "device", "service", "citizen", "enterprise")
ROLES = ("admin", "operator", "department", "reader", "reporter", "citizen", "enterprise")
# the roles of a person (自然人) and an enterprise (法人) logged in to the one-stop portal (一网通办): each acts
# on its own data only (the subject its principal carries), never another's
SUBJECT_ROLES = {"citizen": "person", "enterprise": "enterprise"}  # role -> the kind of subject it carries
_OWN = frozenset(
    # apply for services; read its own applications and act on them as their applicant (补正, withdraw)
    {"services:apply", "services:act", "services:read-own"}
    | {"usage:read-own"}  # who used my data (数据使用记录): the reads of its own records
    | {"objections:submit-own", "objections:read-own"}  # objects to values of its own record; reads its own
    | {"records:read-own"}  # reads its own base registry record (to object to a value of it)
    | {"wallet:read-own"}  # its e-certificates (电子证照)
    | {"ratings:rate-own"}  # rates its own handled applications (好差评); accepts or disputes the answer to a 差评
    | {"notices:read-own", "notices:act-own"}  # its policy notices (政策推送); confirms or declines a benefit
)
LOGIN_HOURS = 12  # how long a login token lasts unless asked otherwise
MAX_LOGIN_HOURS = 24

# role -> actions it may perform. An action is "<resource>:<verb>".
# services:apply (submitting one-stop applications, 办件) is the citizen's and the enterprise's (for itself, the
# subject its login carries) and the operator's (a service counter, for an applicant it names); services:act is
# reading an application and acting on it: a clerk's actions need services:handle too, an applicant's
# services:apply
PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"*"}),
    "operator": frozenset(
        {"entities:read", "entities:write", "entities:delete", "contexts:read", "contexts:write", "tenants:create"}
        | {"devices:read", "devices:write", "deadletters:read", "deadletters:replay", "commands:send", "metrics:read"}
        | {"vitals:read", "vitals:write", "warnings:acknowledge"}
        | {"cases:read", "cases:report", "cases:act", "cases:dispatch", "cases:supervise"}
        | {"catalogue:read", "catalogue:write", "datasets:read", "datasets:read-all"}
        | {"grants:read", "grants:decide", "usage:read"}  # usage: who used a citizen's data, at a service counter
        | {"audit:read", "audit:read-all"}  # the audit view (审计查看): every record of the tenant
        | {"objections:read", "objections:decide"}  # the city may verify, correct or reject in a source's stead
        | {"feeds:read"}  # every department's feed runs, their conflicts and rejections
        | {"returns:read"}  # the district return's grants and runs (数据属地返还)
        | {"resolutions:read", "resolutions:settle"}  # entity resolution decisions; settles review ones
        | {"quality:read", "quality:run"}  # every department's quality rules, runs, failures and scores
        | {"applications:read", "applications:decide", "releases:check"}  # open data: applications, release checks
        # one-stop services: every department's queue of applications (办件); submits at the service hall's
        # counter (综合窗口) for an applicant who names themself
        | {"services:handle", "services:act", "services:apply"}
        | {"services:write"}  # one-stop services: publishes new versions of service items (事项)
        | {"credentials:read", "credentials:issue", "credentials:status"}  # e-certificates (电子证照), any office's
        # 好差评: every department's figures; as the 12345 centre, answers escalated 差评 and calls raters back
        | {"ratings:read", "ratings:follow-up"}
        | {"policies:read", "policies:run"}  # policy matching (政策找人): every department's policies
    ),
    # a department writes and deletes only the entities it owns (cityos.context.Writer)
    "department": frozenset(
        {"entities:read", "entities:write", "entities:delete", "contexts:read", "contexts:write", "tenants:create"}
        | {"devices:read", "devices:write", "deadletters:read", "deadletters:replay", "commands:send"}
        | {"vitals:read", "warnings:acknowledge"}
        | {"cases:read", "cases:report", "cases:act"}
        | {"catalogue:read", "catalogue:write"}  # writes only the entries its own department provides
        | {"datasets:read"}  # reads records as its grants and the entries' sharing types allow
        # requests grants for itself; reads those it asked for and those on its entries; decides only those on
        # its entries (the workflow table names the provider, never the requester)
        | {"grants:read", "grants:request", "grants:decide"}
        | {"audit:read"}  # the audit view: its own reads and the reads of the entries it provides
        # objects to values it read (数据异议); verifies, corrects or rejects those on the items it is the source
        # of (the workflow table names the source, never the objector); reads the notices of corrections
        | {"objections:read", "objections:submit", "objections:decide"}
        # feeds its records into the base registries (the items it is the source of are applied, others'
        # disagreeing values recorded as conflicts); reads its own feed runs
        | {"feeds:push", "feeds:read"}
        # reads the return grants of its tenant; the big-data centre (CITYOS_RETURN_DEPARTMENT) makes and runs them
        | {"returns:read", "returns:write"}
        # reads the entity resolution decisions on its records and its entries' records; settles the review
        # decisions on the records of the entries it provides
        | {"resolutions:read", "resolutions:settle"}
        # the quality of the datasets it provides (the big-data centre: every department's)
        | {"quality:read", "quality:run"}
        # reviews the applications for its conditional open datasets (the big-data centre: every one)
        | {"applications:read", "applications:decide"}
        # one-stop services: the queue of the applications (办件) routed to it, and the clerk's actions on them
        | {"services:handle", "services:act"}
        # issues e-certificates under its own seal; reads and revokes, suspends, reinstates only those it issued
        | {"credentials:read", "credentials:issue", "credentials:status"}
        # 好差评: the figures, and the follow-ups (差评整改) of the ratings of its services, which it answers
        | {"ratings:read", "ratings:follow-up"}
        # policy matching (政策找人 · 免申即享): runs its own policies and sees who matched
        | {"policies:read", "policies:run"}
    ),
    "reader": frozenset(
        {"entities:read", "contexts:read", "devices:read", "vitals:read", "cases:read", "catalogue:read"}
        | {"ratings:read"}
    ),
    # an app that files citizens' reports (an Open311 api_key): nothing else
    "reporter": frozenset({"cases:report"}),
    "citizen": _OWN,
    "enterprise": _OWN,
}


def allows(role: str, action: str) -> bool:
    granted = PERMISSIONS.get(role, frozenset())
    return "*" in granted or action in granted


@dataclass(frozen=True)
class Scope:
    """What a caller is limited to: one tenant and/or one department; None means no limit.

    Operators and admins see every department, and every tenant unless their token is limited to one.
    """

    tenant: str | None = None
    department: str | None = None

    @property
    def unlimited(self) -> bool:
        return self.tenant is None and self.department is None

    def sees_tenant(self, tenant: str) -> bool:
        return self.tenant is None or self.tenant == tenant

    def sees_department(self, department: str | None) -> bool:
        return self.department is None or self.department == department


EVERYTHING = Scope()


@dataclass(frozen=True)
class Subject:
    """Whom a citizen's or an enterprise's principal is: the kind (``person`` or ``enterprise``), the base
    registry's record key (the ID number, 公民身份号码; the unified social credit code, 统一社会信用代码) and the
    NGSI-LD id of its registry entity in the data hub."""

    kind: str
    key: str
    entity_id: str

    def attributes(self) -> dict[str, str]:
        """The form a principal's attributes keep it in."""
        return {"kind": self.kind, "key": self.key, "entityId": self.entity_id}


@dataclass(frozen=True)
class Principal:
    """Who is calling: a department, a staff member, a device, a service, a citizen or an enterprise, with one
    role."""

    pk: int
    name: str
    kind: str
    role: str
    tenant: str | None  # None: every tenant
    attributes: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def department(self) -> str | None:
        """The department a principal with the department role acts for: its ``department`` attribute,
        else its name; None for other roles."""
        if self.role != "department":
            return None
        return str(self.attributes.get("department") or self.name)

    @property
    def scope(self) -> Scope:
        """The tenant and department this principal is limited to."""
        return Scope(tenant=self.tenant, department=self.department)

    @property
    def subject(self) -> Subject | None:
        """The person or enterprise a citizen's or an enterprise's principal is (its ``subject`` attribute);
        None for every other principal."""
        found = self.attributes.get("subject")
        if self.role not in SUBJECT_ROLES or not isinstance(found, dict):
            return None
        return Subject(str(found["kind"]), str(found["key"]), str(found["entityId"]))

    def can(self, action: str) -> bool:
        return allows(self.role, action)

    def may_use_tenant(self, tenant: str) -> bool:
        return self.tenant is None or self.tenant == tenant
