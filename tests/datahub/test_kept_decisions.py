"""Access decisions and open objections kept per runtime (issue 17, the masking-overhead target): a governed read
does not look the entry, the grants and the objections up each time, yet a change made anywhere (another process:
here another runtime on the same database, with memory of its own) counts at the next read, and a grant still
expires exactly."""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime, timedelta

import pytest
from conftest import Api
from samples import person_entry

from cityos.datahub import (
    Backing,
    NoGrant,
    Reader,
    chain_length,
    change_entry,
    move_grant,
    move_objection,
    read_records,
    register_entry,
    request_grant,
    submit_objection,
    verify,
)
from cityos.datahub.objection_clock import Calendars, install_working_days
from cityos.runtime import Runtime

SCENARIO = "低保资格核验"
READER = Reader("clerk", "civil-affairs", False, SCENARIO, "核对低保申请人户籍")
ENTRY = dataclasses.replace(person_entry(), backing=Backing(entity_types=("Person",)))


@pytest.fixture
def person(api: Api, rt: Runtime) -> None:
    register_entry(rt, "default", ENTRY, by="data-officer")
    body = {"id": "urn:ngsi-ld:Person:1", "type": "Person",
            "idCard": {"type": "Property", "value": "310101199001011234"},
            "name": {"type": "Property", "value": "张伟"},
            "registeredAddress": {"type": "Property", "value": "上海市黄浦区南京东路123弄4号501室"}}  # fmt: skip
    assert api.post("/ngsi-ld/v1/entities", json=body).status_code == 201


def _grant(rt: Runtime, ends_at: datetime) -> str:
    asked = request_grant(rt, "default", ENTRY, "civil-affairs", SCENARIO, "核对低保申请人户籍", "《社会救助暂行办法》",
                          None, None, ends_at, None, "civil-affairs-officer")  # fmt: skip
    move_grant(rt, "default", ENTRY, asked.grant.id, "approve", "ps-officer", "public-security")
    return asked.grant.id


def _elsewhere(rt: Runtime) -> Runtime:
    """Another process on the same database: the same store, its own kept decisions."""
    return Runtime(rt.settings, rt.db, rt.bus)


def test_a_grant_revoked_elsewhere_refuses_the_next_read_and_nothing_is_audited(rt: Runtime, person: None) -> None:
    gid = _grant(rt, datetime.now(UTC) + timedelta(days=30))
    first = read_records(rt, "default", ENTRY.code, READER)
    assert len(first.records) == 1 and first.access.grant == gid
    assert read_records(rt, "default", ENTRY.code, READER).records == first.records  # the kept decision
    audited = chain_length(rt)
    move_grant(_elsewhere(rt), "default", ENTRY, gid, "revoke", "ps-officer", "public-security", "申请人已核验")
    with pytest.raises(NoGrant) as refused:
        read_records(rt, "default", ENTRY.code, READER)
    assert ENTRY.code in str(refused.value)
    assert chain_length(rt) == audited  # the read refused at its audit append left nothing in the chain
    assert verify(rt).ok


def test_an_entry_changed_elsewhere_is_read_under_its_new_levels(rt: Runtime, person: None) -> None:
    _grant(rt, datetime.now(UTC) + timedelta(days=30))
    before = read_records(rt, "default", ENTRY.code, READER)
    assert before.records[0]["idCard"] == "310101********1234"
    lowered = tuple(dataclasses.replace(i, level="general-1") if i.name == "idCard" else i for i in ENTRY.items)
    change_entry(_elsewhere(rt), "default", dataclasses.replace(ENTRY, items=lowered), by="data-officer",
                 reason="身份证号降为一般数据")  # fmt: skip
    after = read_records(rt, "default", ENTRY.code, READER)
    assert after.records[0]["idCard"] == "310101199001011234" and "idCard" not in after.access.masked
    assert after.entry.version == before.entry.version + 1


def test_a_kept_decision_ends_when_the_grant_does(rt: Runtime, person: None) -> None:
    ends = datetime.now(UTC) + timedelta(seconds=2)
    _grant(rt, ends)
    assert len(read_records(rt, "default", ENTRY.code, READER).records) == 1
    time.sleep(max(0.0, (ends - datetime.now(UTC)).total_seconds()) + 0.05)
    with pytest.raises(NoGrant) as refused:
        read_records(rt, "default", ENTRY.code, READER)
    assert "expired" in str(refused.value)


def test_a_grant_approved_after_a_refusal_opens_the_next_read(rt: Runtime, person: None) -> None:
    with pytest.raises(NoGrant):
        read_records(rt, "default", ENTRY.code, READER)
    _grant(_elsewhere(rt), datetime.now(UTC) + timedelta(days=30))
    assert len(read_records(rt, "default", ENTRY.code, READER).records) == 1


def test_an_objection_filed_elsewhere_flags_the_next_read_and_its_withdrawal_clears_it(
    rt: Runtime, person: None
) -> None:
    _grant(rt, datetime.now(UTC) + timedelta(days=30))
    assert "disputed" not in read_records(rt, "default", ENTRY.code, READER).records[0]  # none kept: none open
    elsewhere = _elsewhere(rt)
    install_working_days(elsewhere, rt.parts.get(Calendars, Calendars).working_days)  # the cases component's
    filed = submit_objection(elsewhere, "default", ENTRY.code, "urn:ngsi-ld:Person:1", "registeredAddress",
                             "户籍地址已迁出", "civil-affairs", "clerk")  # fmt: skip
    flagged = read_records(rt, "default", ENTRY.code, READER).records[0]
    assert flagged["disputed"] == ["registeredAddress"]
    assert read_records(rt, "default", ENTRY.code, READER).records[0]["disputed"] == ["registeredAddress"]  # kept
    move_objection(elsewhere, "default", filed.id, "withdraw", "clerk", "civil-affairs")
    assert "disputed" not in read_records(rt, "default", ENTRY.code, READER).records[0]
    assert verify(rt).ok
