"""A citizen or an enterprise on the one-stop portal (一网通办): logging in through the demo identity provider,
and its own data: who used it (数据使用记录, Estonia's Data Tracker), its base registry record, and the
objections it files on values of that record (数据异议, issue 18 item 4: "the person or enterprise it
concerns"). Plain functions over the runtime; the data hub is reached through its face only.

**The demo identity provider** stands in for the city's unified identity authentication (统一身份认证, an
OpenID Connect provider in production): it vouches for anyone who names a person's ID number or an
enterprise's credit code held in the data hub's base registries and gives the fixed :data:`DEMO_CODE`. It is
on in demo mode, or with CITYOS_ONESTOP_DEMO_LOGIN. A real provider plugs in as one more function that turns
its verified claims (the ID number, the credit code) into a :class:`~cityos.auth.Subject` through
:func:`find_subject` and calls :func:`~cityos.auth.sign_in_subject`, exactly as :func:`demo_login` does after
its own check.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cityos import context as hub
from cityos import datahub
from cityos.auth import Principal, Subject, sign_in_subject
from cityos.core.identifiers import credit_code_problem, id_card_problem
from cityos.onestop.citizen_errors import DemoLoginOff, InvalidSubjectKey, NotASubject, UnknownSubject, WrongDemoCode
from cityos.runtime import Runtime

DEMO_CODE = "123456"  # the demo identity provider's one verification code (a real one sends an SMS, say)
REGISTRY_OF = {"person": "persons", "enterprise": "legal-entities"}  # subject kind -> base registry (datahub)
ROLE_OF = {"person": "citizen", "enterprise": "enterprise"}


@dataclass(frozen=True)
class Found:
    """A person or an enterprise as the base registries hold it: the subject and the name to show."""

    subject: Subject
    name: str


@dataclass(frozen=True)
class Use:
    """One read of the subject's records by a department (or the city), with what it read."""

    seq: int
    at: datetime
    department: str | None
    principal: str
    code: str  # the catalogue entry read
    entry: str  # its name, e.g. 户籍人口基本信息
    items: tuple[str, ...] | None  # the items the grant shows (None: every item of the entry, or no grant)
    grant: str | None
    scenario: str | None
    purpose: str | None
    route: str


@dataclass(frozen=True)
class UsePage:
    reads: list[Use]
    next_before: int | None  # pass as ``before`` for the next (older) page; None: this is the last


@dataclass(frozen=True)
class OwnValue:
    """A value of the subject's own registry record, with the catalogue entry and item it is read under."""

    code: str
    entry: str
    item: str
    label: str  # the item's Chinese name
    value: Any


# --- who is who ---------------------------------------------------------------------------------------------


def subject_kind(key: str) -> str:
    """``person`` for a valid ID number, ``enterprise`` for a valid credit code; InvalidSubjectKey otherwise."""
    id_problem = id_card_problem(key)
    if id_problem is None:
        return "person"
    if credit_code_problem(key) is None:
        return "enterprise"
    raise InvalidSubjectKey(f"{key[:24]!r} is neither a citizen ID number ({id_problem}) nor a unified social credit "
                            f"code ({credit_code_problem(key)}): check the characters and the last one")  # fmt: skip


def find_subject(rt: Runtime, tenant: str, key: str) -> Found:
    """The person (ID number) or enterprise (credit code) ``key`` names, as the data hub's base registries hold
    it: its registry entity (by the registry's id of the key, else the entity of the registry's type whose
    key attribute holds it). InvalidSubjectKey (400), UnknownSubject (404)."""
    key = key.strip().upper()
    kind = subject_kind(key)
    registry = next(r for r in datahub.REGISTRIES if r.name == REGISTRY_OF[kind])
    row = hub.find_entity(rt, tenant, datahub.registry_entity_id(rt, registry, key))
    if row is None:
        query = hub.EntityQuery(type=registry.entity_type, q=f'{registry.key_attribute}=="{key}"', limit=1)
        try:
            rows = hub.query_entities(rt, tenant, query, hub.core_term_map()).rows
        except hub.NonexistentTenant:
            rows = []
        row = rows[0] if rows else None
    if row is None:
        what = "person with this ID number" if kind == "person" else "enterprise with this credit code"
        raise UnknownSubject(f"the base registries hold no {what}: check it, or pick a demo {kind} on /onestop/login")
    values = hub.key_values(row.id, row.types, row.attrs, hub.core_term_map())
    return Found(Subject(kind, key, row.id), str(values.get("name") or ""))


def principal_name(rt: Runtime, subject: Subject) -> str:
    """The principal's name for a subject: its role and the registry's id of its key (a keyed hash for a person,
    never the ID number itself; the credit code, public, for an enterprise)."""
    registry = next(r for r in datahub.REGISTRIES if r.name == REGISTRY_OF[subject.kind])
    entity_id = datahub.registry_entity_id(rt, registry, subject.key)
    return f"{ROLE_OF[subject.kind]}:{entity_id.removeprefix(registry.id_prefix)}"


def demo_login_on(rt: Runtime) -> bool:
    return rt.settings.demo_mode or rt.settings.onestop_demo_login


def demo_login(rt: Runtime, tenant: str, key: str, code: str) -> tuple[str, str, Principal]:
    """The demo identity provider: log in as the person or enterprise ``key`` names with the demo code.
    (token, expiry, principal). DemoLoginOff (404) outside demo mode unless CITYOS_ONESTOP_DEMO_LOGIN;
    WrongDemoCode (401); InvalidSubjectKey (400); UnknownSubject (404)."""
    if not demo_login_on(rt):
        raise DemoLoginOff("the demo identity provider is off (it is a stand-in for the city's identity provider): "
                           "run 'cityos demo', or set CITYOS_ONESTOP_DEMO_LOGIN=true on a test system")  # fmt: skip
    if not secrets.compare_digest(code.strip().encode(), DEMO_CODE.encode()):
        raise WrongDemoCode(f"the demo code is wrong: the demo identity provider takes {DEMO_CODE}")
    found = find_subject(rt, tenant, key)
    return sign_in_subject(rt.db, principal_name(rt, found.subject), found.subject, tenant=tenant,
                           display_name=found.name or None, minutes=rt.settings.onestop_login_minutes)  # fmt: skip


def demo_subjects(rt: Runtime, tenant: str, each: int = 4) -> list[Found]:
    """A few persons and enterprises of the registries to log in as (the first the data hub holds of each
    kind); none outside demo mode unless the demo login is on."""
    if not demo_login_on(rt):
        return []
    out = []
    tm = hub.core_term_map()
    for kind, registry_name in REGISTRY_OF.items():
        registry = next(r for r in datahub.REGISTRIES if r.name == registry_name)
        try:
            rows = hub.query_entities(rt, tenant, hub.EntityQuery(type=registry.entity_type, limit=each), tm).rows
        except hub.NonexistentTenant:
            return []
        for row in rows:
            values = hub.key_values(row.id, row.types, row.attrs, tm)
            key = values.get(registry.key_attribute)
            if isinstance(key, str):
                out.append(Found(Subject(kind, key, row.id), str(values.get("name") or "")))
    return out


def subject_of(principal: Principal) -> Subject:
    """The subject a citizen's or an enterprise's principal carries; NotASubject (400) for any other."""
    subject = principal.subject
    if subject is None:
        raise NotASubject(f"'{principal.name}' is not a person or an enterprise logged in on the one-stop portal: "
                          "these routes serve one's own data; log in at /onestop/login")  # fmt: skip
    return subject


# --- who used my data ---------------------------------------------------------------------------------------


def my_usage(rt: Runtime, tenant: str, principal: Principal, *, limit: int = 20, before: int | None = None) -> UsePage:
    """Who used my data: the audit chain's reads of the caller's own records (its subject's), newest first, a
    page of ``limit`` older than ``before``; the lookup itself is appended to the chain, by the caller."""
    subject = subject_of(principal)
    found = datahub.usage_lookup(rt, tenant, subject.key, principal.name, None, limit=limit + 1, before=before)
    page, more = found[:limit], len(found) > limit
    entries: dict[str, str] = {}
    grants: dict[str, datahub.Grant] = {}
    reads = []
    for r in page:
        if r.code and r.code not in entries:
            try:
                entries[r.code] = datahub.get_entry(rt, tenant, r.code).name
            except datahub.EntryNotFound:
                entries[r.code] = r.code
        if r.grant and r.grant not in grants:
            grants[r.grant] = datahub.get_grant(rt, tenant, r.grant).grant
        grant = grants.get(r.grant) if r.grant else None
        # the read's own purpose, else its grant's (a read need not restate it)
        purpose = r.purpose or (grant.purpose if grant is not None else None)
        reads.append(Use(r.seq, datetime.fromtimestamp(r.at_ms / 1000, UTC), r.department, r.principal, r.code,
                         entries.get(r.code, r.code), grant.items if grant is not None else None, r.grant,
                         r.scenario, purpose, r.route))  # fmt: skip
    return UsePage(reads, page[-1].seq if more and page else None)


# --- my record and my objections ----------------------------------------------------------------------------


def my_record(rt: Runtime, tenant: str, principal: Principal) -> list[OwnValue]:
    """The values of the caller's own registry record, each with the catalogue entry it is read under (the
    entries backed by its entity type; an attribute another entry is the one source of, under that entry)."""
    subject = subject_of(principal)
    row = hub.find_entity(rt, tenant, subject.entity_id)
    if row is None:
        return []
    tm = hub.core_term_map()
    values = hub.key_values(row.id, row.types, row.attrs, tm)
    backing = datahub.backing_index(rt, tenant)
    governed = datahub.attribute_governors(rt, tenant)
    out: list[OwnValue] = []
    seen: set[str] = set()
    for entity_type in (tm.compact(t) for t in row.types):
        for entry in backing.get(entity_type, ()):
            for item in entry.items:
                if item.name in values and item.name not in seen:
                    seen.add(item.name)
                    out.append(OwnValue(entry.code, entry.name, item.name, item.zh, values[item.name]))
            for attribute, (other, name) in governed.get(entry.code, {}).items():
                if attribute in values and attribute not in seen:
                    seen.add(attribute)
                    zh = next((i.zh for i in other.items if i.name == name), name)
                    out.append(OwnValue(other.code, other.name, attribute, zh, values[attribute]))
    return out


def object_to(
    rt: Runtime, tenant: str, principal: Principal, code: str, item: str, evidence: str, proposed: Any = None
) -> datahub.ObjectionRecord:
    """The caller objects to the value of ``item`` of its own record, under entry ``code``: filed by the data
    hub's objection function with the caller as the objector, routed to the item's one source."""
    subject = subject_of(principal)
    return datahub.submit_subject_objection(rt, tenant, code, subject.entity_id, item, evidence, subject=subject.key,
                                            objector=principal.name, proposed=proposed)  # fmt: skip


def my_objections(
    rt: Runtime, tenant: str, principal: Principal, *, limit: int = 20, offset: int = 0
) -> tuple[list[datahub.ObjectionRecord], int]:
    """The caller's own objections (open ones first, by due time; then the closed, newest first) and their
    total."""
    subject_of(principal)
    found = datahub.list_objections(rt, tenant, objector=principal.name, limit=limit, offset=offset)
    return found, datahub.count_objections(rt, tenant, objector=principal.name)
