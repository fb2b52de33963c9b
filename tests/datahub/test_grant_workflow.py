"""The grant workflow: the whole transition table, exact expiry, narrowing, revocation, who may move."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from datahub_samples import MS, NOW, OTHER, PROVIDER, READER, SCALE, entry, grant

from cityos.datahub import MOVES, TRANSITIONS, GrantAction, GrantState, Narrowing, SharingType, in_force, state_at
from cityos.datahub.errors import GrantMoveForbidden, GrantMoveRefused, InvalidGrant
from cityos.datahub.workflow import MAX_PERIOD, Actor, allowed_moves, requested, transition

# The table, written out here on its own: every move a grant can make, and nothing else.
EXPECTED = {
    (GrantState.REQUESTED, GrantAction.APPROVE): GrantState.APPROVED,
    (GrantState.REQUESTED, GrantAction.NARROW): GrantState.APPROVED,
    (GrantState.REQUESTED, GrantAction.REFUSE): GrantState.REFUSED,
    (GrantState.APPROVED, GrantAction.REVOKE): GrantState.REVOKED,
}
ALLOWED = {
    GrantState.REQUESTED: ["approve", "narrow", "refuse"],
    GrantState.APPROVED: ["revoke"],
    GrantState.REFUSED: [],
    GrantState.REVOKED: [],
    GrantState.EXPIRED: [],
}
BY_PROVIDER = Actor("王科长", PROVIDER)
BY_CITY = Actor("operator-1", None, city=True)
NARROWER = Narrowing(items=("district", "name"))


def _stored(state: GrantState):  # type: ignore[no-untyped-def]
    """A grant that is in ``state`` at NOW (an expired one is an approved one whose end has come)."""
    if state == GrantState.EXPIRED:
        return grant(GrantState.APPROVED, ends=NOW)
    return grant(state)


def _try(state: GrantState, action: GrantAction):  # type: ignore[no-untyped-def]
    narrowing = NARROWER if action == GrantAction.NARROW else None
    return transition(_stored(state), entry(), action, BY_PROVIDER, NOW, SCALE, reason="理由", narrowing=narrowing)


def test_the_table_is_the_expected_one() -> None:
    assert {k: v for k, v in TRANSITIONS.items()} == EXPECTED
    assert MOVES[GrantAction.REQUEST].froms == ()
    assert {s: allowed_moves(s) for s in GrantState} == ALLOWED


@pytest.mark.parametrize("action", list(GrantAction), ids=str)
@pytest.mark.parametrize("state", list(GrantState), ids=str)
def test_every_move_from_every_state(state: GrantState, action: GrantAction) -> None:
    if (state, action) in EXPECTED:
        after, ev = _try(state, action)
        assert after.state == EXPECTED[state, action]
        assert (ev.action, ev.from_state, ev.to_state, ev.by) == (action, state, after.state, "王科长")
        return
    with pytest.raises(GrantMoveRefused) as caught:
        _try(state, action)
    err = caught.value
    assert err.status == 409
    assert f"is '{state}'" in err.detail and f"'{action}'" in err.detail
    assert err.extra["allowed"] == ALLOWED[state]
    assert "Allowed now: " + (", ".join(f"'{a}'" for a in ALLOWED[state]) or "none") in err.detail


def test_a_grant_expires_exactly_at_its_end() -> None:
    g = grant(GrantState.APPROVED, ends=NOW)
    assert state_at(g, NOW - MS) == GrantState.APPROVED and in_force(g, NOW - MS)
    assert state_at(g, NOW) == GrantState.EXPIRED and not in_force(g, NOW)
    assert state_at(g, NOW + timedelta(days=400)) == GrantState.EXPIRED
    transition(g, entry(), "revoke", BY_PROVIDER, NOW - MS, SCALE, reason="不再需要")  # still revocable
    with pytest.raises(GrantMoveRefused, match=r"is 'expired'.*it is final"):
        transition(g, entry(), "revoke", BY_PROVIDER, NOW, SCALE, reason="不再需要")


def test_only_an_approved_grant_expires() -> None:
    for state in (GrantState.REQUESTED, GrantState.REFUSED, GrantState.REVOKED):
        assert state_at(grant(state, ends=NOW), NOW + MS) == state


def test_a_grant_is_in_force_from_its_start() -> None:
    g = grant(starts=NOW)
    assert not in_force(g, NOW - MS) and in_force(g, NOW)


def test_narrowing_records_what_was_narrowed() -> None:
    asked = grant(GrantState.REQUESTED, items=("district", "name", "mobile"), lifts="important")
    n = Narrowing(items=("name", "district"), ends_at=NOW + timedelta(days=90), lifts="general-3")
    after, ev = transition(asked, entry(), "narrow", BY_PROVIDER, NOW, SCALE, reason="最小必要", narrowing=n)
    assert after.state == GrantState.APPROVED
    assert after.items == ("district", "name")  # in the entry's order
    assert after.lifts == "general-3" and after.ends_at == (NOW + timedelta(days=90)).isoformat(timespec="milliseconds")
    assert ev.changes == {
        "items": {"from": ["district", "name", "mobile"], "to": ["district", "name"]},
        "ends_at": {"from": asked.ends_at, "to": after.ends_at},
        "lifts": {"from": "important", "to": "general-3"},
    }
    assert ev.reason == "最小必要"


def test_narrowing_a_whole_entry_request_to_some_items() -> None:
    after, ev = transition(grant(GrantState.REQUESTED), entry(), "narrow", BY_CITY, NOW, SCALE, narrowing=NARROWER)
    assert after.items == ("district", "name")
    assert ev.changes["items"]["from"] is None  # the whole entry was asked for
    assert ev.changes["items"]["to"] == ["district", "name"]


def test_narrowing_the_default_lift_lower() -> None:
    after, ev = transition(
        grant(GrantState.REQUESTED), entry(), "narrow", BY_PROVIDER, NOW, SCALE, narrowing=Narrowing(lifts="general-1")
    )
    assert after.lifts == "general-1" and ev.changes == {"lifts": {"from": None, "to": "general-1"}}


@pytest.mark.parametrize(
    ("narrowing", "message"),
    [
        (Narrowing(items=("district", "guardCode")), "were not requested"),
        (Narrowing(items=("nowhere",)), "has no data item 'nowhere'"),
        (Narrowing(ends_at=NOW + timedelta(days=400)), "not widen it"),
        (Narrowing(starts_at=NOW - timedelta(days=60)), "not widen it"),
        (Narrowing(lifts="core"), "not raise it"),
        (Narrowing(lifts="general-9"), "not on the classification scale"),
        (Narrowing(items=("district", "name", "mobile")), "nothing was narrowed"),
        (Narrowing(), "nothing was narrowed"),
        (Narrowing(ends_at=NOW - timedelta(days=1)), "has passed"),
    ],
)
def test_a_narrowing_never_widens(narrowing: Narrowing, message: str) -> None:
    asked = grant(GrantState.REQUESTED, items=("district", "name", "mobile"), lifts="important")
    with pytest.raises(InvalidGrant, match=message) as caught:
        transition(asked, entry(), "narrow", BY_PROVIDER, NOW, SCALE, narrowing=narrowing)
    assert caught.value.status == 400


def test_approve_takes_no_narrowing() -> None:
    with pytest.raises(InvalidGrant, match="use 'narrow'"):
        transition(grant(GrantState.REQUESTED), entry(), "approve", BY_PROVIDER, NOW, SCALE, narrowing=NARROWER)


def test_approving_a_request_whose_period_has_passed_is_refused() -> None:
    with pytest.raises(InvalidGrant, match="has passed"):
        transition(grant(GrantState.REQUESTED, ends=NOW), entry(), "approve", BY_PROVIDER, NOW, SCALE)


@pytest.mark.parametrize("action", ["refuse", "revoke"])
@pytest.mark.parametrize("reason", [None, "", "   "])
def test_refusing_and_revoking_need_a_reason(action: str, reason: str | None) -> None:
    state = GrantState.REQUESTED if action == "refuse" else GrantState.APPROVED
    with pytest.raises(InvalidGrant, match="needs a reason"):
        transition(grant(state), entry(), action, BY_PROVIDER, NOW, SCALE, reason=reason)


def test_revocation() -> None:
    after, ev = transition(grant(), entry(), "revoke", BY_CITY, NOW, SCALE, reason=" 场景已结束 ")
    assert after.state == GrantState.REVOKED and not in_force(after, NOW)
    assert ev.reason == "场景已结束" and ev.by_department is None


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [
        (BY_PROVIDER, True),
        (BY_CITY, True),
        (Actor("张三", READER), False),  # the requester never decides its own request
        (Actor("张三", READER, city=True), False),  # not even when it also acts for the city
        (Actor("李四", OTHER), False),  # a third department
        (Actor("无名", None), False),
    ],
    ids=["provider", "city", "requester", "requester-as-city", "other", "nobody"],
)
@pytest.mark.parametrize("action", ["approve", "narrow", "refuse", "revoke"])
def test_who_may_decide(actor: Actor, allowed: bool, action: str) -> None:
    state = GrantState.APPROVED if action == "revoke" else GrantState.REQUESTED
    narrowing = NARROWER if action == "narrow" else None
    args = (grant(state), entry(), action, actor, NOW, SCALE)
    if allowed:
        assert transition(*args, reason="理由", narrowing=narrowing)[0].state != state
        return
    with pytest.raises(GrantMoveForbidden) as caught:
        transition(*args, reason="理由", narrowing=narrowing)
    assert caught.value.status == 403 and PROVIDER in caught.value.detail


def _ask(**changes):  # type: ignore[no-untyped-def]
    g = replace(grant(GrantState.REQUESTED, items=("name", "mobile")), **changes)
    return requested(g, entry(), Actor("张三", g.department), NOW, SCALE)


def test_a_request_records_what_was_asked() -> None:
    g, ev = _ask(items=("mobile", "name"))
    assert g.state == GrantState.REQUESTED and g.items == ("name", "mobile")
    assert ev.action == GrantAction.REQUEST and ev.from_state is None and ev.to_state == GrantState.REQUESTED
    assert ev.changes == {"items": ["name", "mobile"], "starts_at": g.starts_at, "ends_at": g.ends_at, "lifts": None}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"items": ("name", "salary", "car")}, "has no data item 'salary', 'car'"),
        ({"items": ()}, "items is empty"),
        ({"ends_at": (NOW - timedelta(days=40)).isoformat()}, "must be after startsAt"),
        ({"ends_at": NOW.isoformat()}, "has passed"),
        ({"ends_at": (NOW - timedelta(days=30) + MAX_PERIOD + MS).isoformat()}, "at most 1096 days"),
        ({"ends_at": "2027-01-01T00:00:00"}, "no time zone"),
        ({"lifts": "secret"}, "not on the classification scale"),
        ({"scenario": " "}, "names its scenario"),
        ({"department": PROVIDER}, "reads it without a grant"),
    ],
)
def test_a_bad_request_is_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidGrant, match=message) as caught:
        _ask(**changes)
    assert caught.value.status == 400


def test_an_unknown_item_is_named() -> None:
    with pytest.raises(InvalidGrant) as caught:
        _ask(items=("name", "salary"))
    assert caught.value.extra["unknown"] == ["salary"] and "HP-03-01-02-0001" in caught.value.detail


def test_a_period_of_exactly_the_maximum_is_taken() -> None:
    _ask(starts_at=NOW.isoformat(), ends_at=(NOW + MAX_PERIOD).isoformat())


def test_an_entry_that_is_not_shared_takes_no_request() -> None:
    g = grant(GrantState.REQUESTED)
    with pytest.raises(InvalidGrant, match="不予共享"):
        requested(g, entry(SharingType.NONE), Actor("张三", READER), NOW, SCALE)


def test_a_department_requests_only_for_itself() -> None:
    with pytest.raises(GrantMoveForbidden, match="requests grants for itself"):
        requested(grant(GrantState.REQUESTED), entry(), Actor("李四", OTHER), NOW, SCALE)
