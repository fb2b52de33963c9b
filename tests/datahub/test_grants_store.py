"""Grants stored and moved on SQLite and PostgreSQL: requests, moves with their history, reads as at a time,
lists as requester and as provider, what decide() is given, the bus told after each commit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from datahub_samples import MS, NOW, OTHER, PROVIDER, READER, SCENARIO, entry

from cityos.bus import Event as BusEvent
from cityos.datahub import (
    GrantAction,
    GrantPublic,
    GrantRecord,
    GrantState,
    Narrowing,
    decide,
    get_grant,
    grants_for,
    list_grants,
    load_scale,
    move_grant,
    request_grant,
)
from cityos.datahub.errors import GrantMoveForbidden, GrantMoveRefused, GrantNotFound, InvalidGrant
from cityos.runtime import Runtime

T = "default"
END = NOW + timedelta(days=180)


def _ask(rt: Runtime, department: str = READER, code: str = "HP-03-01-02-0001", **kw: object) -> GrantRecord:
    args: dict[str, object] = {
        "scenario": SCENARIO,
        "purpose": "核验申请人家庭成员",
        "legal_basis": "《社会救助暂行办法》",
        "items": ["name", "mobile", "district"],
        "starts_at": None,
        "ends_at": END,
        "lifts": "general-4",
        "by": "张三",
        "now": NOW,
        **kw,
    }
    return request_grant(rt, T, entry(code=code), department, **args)  # type: ignore[arg-type]


def _move(rt: Runtime, grant_id: str, action: str, at: object = NOW, **kw: object) -> GrantRecord:
    args: dict[str, object] = {"by": "王科长", "by_department": PROVIDER, "reason": None, "now": at, **kw}
    return move_grant(rt, T, entry(), grant_id, action, **args)  # type: ignore[arg-type]


def test_a_request_is_stored_with_what_was_asked(rt: Runtime) -> None:
    seen: list[BusEvent] = []
    rt.bus.subscribe("datahub.grant.>", seen.append)
    made = _ask(rt)
    g = made.grant
    assert (g.state, g.items, g.lifts, g.department, g.code) == (
        GrantState.REQUESTED, ("district", "name", "mobile"), "general-4", READER, "HP-03-01-02-0001",
    )  # fmt: skip
    assert g.starts_at == "2026-12-06T12:00:00.000+00:00" and g.ends_at == "2027-06-04T12:00:00.000+00:00"
    assert made.provider == PROVIDER and made.requested_by == "张三"
    assert get_grant(rt, T, g.id, now=NOW) == made
    [ev] = made.history
    assert (ev.action, ev.from_state, ev.to_state, ev.by, ev.by_department) == (
        GrantAction.REQUEST, None, GrantState.REQUESTED, "张三", READER,
    )  # fmt: skip
    assert ev.changes["items"] == ["district", "name", "mobile"]
    assert [(e.subject, e.data["grantId"], e.data["state"]) for e in seen] == [
        ("datahub.grant.request", g.id, "requested")
    ]


def test_a_bad_request_stores_nothing(rt: Runtime) -> None:
    with pytest.raises(InvalidGrant, match="'salary'"):
        _ask(rt, items=["name", "salary"])
    with pytest.raises(InvalidGrant, match="must be after startsAt"):
        _ask(rt, starts_at=END, ends_at=END)
    assert list_grants(rt, T, now=NOW) == []


def test_the_life_of_a_grant(rt: Runtime) -> None:
    g = _ask(rt).grant
    narrowed = _move(rt, g.id, "narrow", narrowed=Narrowing(items=("district", "name")), reason="最小必要")
    assert narrowed.grant.state == GrantState.APPROVED and narrowed.grant.items == ("district", "name")
    assert [e.action for e in narrowed.history] == [GrantAction.REQUEST, GrantAction.NARROW]
    assert narrowed.history[1].changes == {
        "items": {"from": ["district", "name", "mobile"], "to": ["district", "name"]}
    }
    assert narrowed.history[1].reason == "最小必要"
    assert get_grant(rt, T, g.id, now=NOW) == narrowed

    with pytest.raises(GrantMoveRefused) as caught:
        _move(rt, g.id, "approve")
    assert caught.value.status == 409 and caught.value.extra["allowed"] == ["revoke"]

    revoked = _move(rt, g.id, "revoke", NOW + timedelta(days=1), reason="场景已结束")
    assert revoked.grant.state == GrantState.REVOKED
    assert [(e.from_state, e.to_state) for e in revoked.history] == [
        (None, GrantState.REQUESTED), (GrantState.REQUESTED, GrantState.APPROVED),
        (GrantState.APPROVED, GrantState.REVOKED),
    ]  # fmt: skip
    assert revoked.history[2].at == NOW + timedelta(days=1)


def test_a_refusal_needs_a_reason_and_is_final(rt: Runtime) -> None:
    g = _ask(rt).grant
    with pytest.raises(InvalidGrant, match="needs a reason"):
        _move(rt, g.id, "refuse")
    assert get_grant(rt, T, g.id, now=NOW).grant.state == GrantState.REQUESTED  # nothing stored
    refused = _move(rt, g.id, "refuse", reason="无法律依据")
    assert refused.grant.state == GrantState.REFUSED and refused.history[-1].reason == "无法律依据"
    with pytest.raises(GrantMoveRefused, match="Allowed now: none"):
        _move(rt, g.id, "approve")


def test_only_the_provider_or_the_city_decides(rt: Runtime) -> None:
    g = _ask(rt).grant
    with pytest.raises(GrantMoveForbidden):
        _move(rt, g.id, "approve", by="张三", by_department=READER)
    with pytest.raises(GrantMoveForbidden):
        _move(rt, g.id, "approve", by="李四", by_department=OTHER)
    assert _move(rt, g.id, "approve", by="operator-1", by_department=None, city=True).grant.state == "approved"


def test_a_stored_grant_expires_exactly_at_its_end(rt: Runtime) -> None:
    g = _move(rt, _ask(rt).grant.id, "approve").grant
    assert get_grant(rt, T, g.id, now=END - MS).grant.state == GrantState.APPROVED
    assert get_grant(rt, T, g.id, now=END).grant.state == GrantState.EXPIRED
    assert [x.grant.id for x in list_grants(rt, T, state="approved", now=END - MS)] == [g.id]
    assert list_grants(rt, T, state="approved", now=END) == []
    assert [x.grant.id for x in list_grants(rt, T, state="expired", now=END)] == [g.id]
    with pytest.raises(GrantMoveRefused, match="'expired'"):
        _move(rt, g.id, "revoke", END, reason="迟了")


def test_lists_as_requester_as_provider_and_by_entry(rt: Runtime) -> None:
    mine = _ask(rt).grant
    other = _ask(rt, department=OTHER, code="HP-03-01-02-0002").grant
    assert {x.grant.id for x in list_grants(rt, T, now=NOW)} == {mine.id, other.id}
    assert [x.grant.id for x in list_grants(rt, T, department=READER, now=NOW)] == [mine.id]
    assert {x.grant.id for x in list_grants(rt, T, provider=PROVIDER, now=NOW)} == {mine.id, other.id}
    assert list_grants(rt, T, provider=READER, now=NOW) == []
    assert [x.grant.id for x in list_grants(rt, T, code="HP-03-01-02-0002", now=NOW)] == [other.id]
    assert [x.grant.id for x in list_grants(rt, T, state="requested", now=NOW)] != []
    assert list_grants(rt, T, state="revoked", now=NOW) == []
    assert len(list_grants(rt, T, now=NOW, limit=1)) == 1
    assert all(len(x.history) == 1 for x in list_grants(rt, T, now=NOW))
    assert list_grants(rt, "another-tenant", now=NOW) == []


def test_the_grants_decide_is_given(rt: Runtime) -> None:
    g = _ask(rt).grant
    e = entry()
    scale = load_scale()
    assert not decide(READER, e, grants_for(rt, T, READER, e.code, NOW), SCENARIO, NOW, scale).allowed
    _move(rt, g.id, "approve")
    access = decide(READER, e, grants_for(rt, T, READER, e.code, NOW), SCENARIO, NOW, scale)
    assert access.allowed and access.grant == g.id and access.shown == ("district", "name", "mobile")
    assert access.masked == {}  # lifts general-4
    at_end = grants_for(rt, T, READER, e.code, END)
    assert [x.state for x in at_end] == [GrantState.EXPIRED]
    assert not decide(READER, e, at_end, SCENARIO, END, scale).allowed
    assert grants_for(rt, T, OTHER, e.code, NOW) == []


def test_an_unknown_grant(rt: Runtime) -> None:
    with pytest.raises(GrantNotFound):
        get_grant(rt, T, "nope")
    with pytest.raises(GrantNotFound):
        _move(rt, "nope", "approve")


def test_a_move_names_its_entry(rt: Runtime) -> None:
    g = _ask(rt).grant
    with pytest.raises(InvalidGrant, match="is for entry HP-03-01-02-0001"):
        move_grant(rt, T, entry(code="HP-00"), g.id, "approve", "王科长", PROVIDER, now=NOW)


def test_the_answer_shape(rt: Runtime) -> None:
    record = _move(rt, _ask(rt).grant.id, "narrow", narrowed=Narrowing(lifts="general-3"))
    body = GrantPublic.of(record).model_dump(mode="json", by_alias=True)
    assert body["state"] == "approved" and body["stateZh"] == "已授权" and body["allowedMoves"] == ["revoke"]
    assert body["legalBasis"] == "《社会救助暂行办法》" and body["lifts"] == "general-3"
    assert body["endsAt"] == "2027-06-04T12:00:00Z"
    assert [h["action"] for h in body["history"]] == ["request", "narrow"]
    assert body["history"][1]["changes"] == {"lifts": {"from": "general-4", "to": "general-3"}}
    assert body["history"][1]["byDepartment"] == PROVIDER and body["history"][1]["fromState"] == "requested"


def test_unknown_names_are_400s(rt: Runtime) -> None:
    with pytest.raises(InvalidGrant, match="no grant state 'pending'"):
        list_grants(rt, T, state="pending")
    g = _ask(rt).grant
    with pytest.raises(InvalidGrant, match="no grant action 'expire'"):
        _move(rt, g.id, "expire")
    with pytest.raises(InvalidGrant, match="requested once"):
        _move(rt, g.id, "request")
