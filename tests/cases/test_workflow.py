"""Case workflow: the national process end to end, each guard, the table's shape, and random histories."""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta, timezone
from typing import Any

import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityos.cases.errors import TransitionRefused
from cityos.cases.workflow import (
    ACTION_LABELS,
    FINAL,
    OPEN,
    ROLE_LABELS,
    RULES,
    STATE_LABELS,
    TERMINAL,
    TRANSITIONS,
    VERIFIERS,
    Action,
    CaseSnapshot,
    Event,
    Role,
    State,
    Verification,
    allowed_actions,
    apply,
    new_case,
    replay,
)

CST = timezone(timedelta(hours=8))
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=CST)


def ev(action: str, role: str, at: datetime = T0, reason: str | None = None, **data: Any) -> Event:
    return Event(action=action, actor=f"{role}-1", role=role, at=at, reason=reason, data=data)


class Case:
    """A case and its history, as the service layer keeps them: apply, then append."""

    def __init__(self, reporter: str = "reporter") -> None:
        self.history = [ev("report", reporter)]
        self.now = new_case(self.history[0])

    def do(self, action: str, role: str, **kw: Any) -> CaseSnapshot:
        event = ev(action, role, **kw)
        self.now = apply(self.now, event)
        self.history.append(event)
        return self.now


ROAD = [  # the ordinary road, one step per state
    ("register", "operator", {}),
    ("dispatch", "dispatcher", {"department": "城管"}),
    ("accept", "handler", {}),
    ("start", "handler", {}),
    ("handle", "handler", {"result": "已清理"}),
    ("verify_ok", "inspector", {"verifier": "inspector"}),
    ("close", "dispatcher", {}),
]
DETOURS: dict[State, tuple[State, list[tuple[str, str, dict[str, Any]]]]] = {  # leave the road at a state
    State.RETURNED: (State.DISPATCHED, [("return", "handler", {"reason": "不属本部门职责"})]),
    State.SUSPENDED: (
        State.IN_PROGRESS,
        [("request_suspend", "handler", {"reason": "等待管线迁改"}), ("approve_suspend", "supervisor", {})],
    ),
    State.CANCELLED: (State.REGISTERED, [("cancel", "operator", {"reason": "重复来电"})]),
    State.MERGED: (State.DISPATCHED, [("merge", "operator", {"into": "C-1"})]),
    State.SPLIT: (State.REGISTERED, [("split", "dispatcher", {"children": ["C-2", "C-3"]})]),
}


def at_state(state: State) -> Case:
    """A case brought to ``state`` along the ordinary road, with a detour at the end if it needs one."""
    leave_at, detour = DETOURS.get(state, (state, []))
    case = Case()
    for action, role, data in ROAD:
        if case.now.state == leave_at:
            break
        case.do(action, role, **data)
    for action, role, data in detour:
        case.do(action, role, **data)
    assert case.now.state == state
    return case


def refused(case: Case, action: str, role: str, **kw: Any) -> str:
    with pytest.raises(TransitionRefused) as info:
        case.do(action, role, **kw)
    return info.value.detail


# --- the national process ----------------------------------------------------------------------------------


def test_the_national_process_end_to_end_and_history_replays() -> None:
    case = Case()
    assert case.now.state == State.REPORTED and case.now.version == 1
    steps = [
        ("register", "operator", {}, State.REGISTERED),
        ("dispatch", "dispatcher", {"department": "城管", "due": T0 + timedelta(days=2)}, State.DISPATCHED),
        ("accept", "handler", {}, State.ACCEPTED),
        ("start", "handler", {}, State.IN_PROGRESS),
        ("handle", "handler", {"result": "占道堆物已清理"}, State.HANDLED),
        ("verify_ok", "inspector", {"verifier": "inspector"}, State.VERIFIED),
        ("close", "dispatcher", {}, State.CLOSED),
        ("rate", "reporter", {"rating": 5}, State.CLOSED),
    ]
    for n, (action, role, data, state) in enumerate(steps, start=1):
        at = T0 + timedelta(hours=n)
        assert case.do(action, role, at=at, **data).state == state
    now = case.now
    assert now.department == "城管" and now.due == T0 + timedelta(days=2)
    assert now.result == "占道堆物已清理" and now.verification and now.verification.kind == "inspector"
    assert now.closed_at == T0 + timedelta(hours=7) and now.rating == 5 and not now.reopen_requested
    assert now.version == len(case.history) == 9
    assert replay(case.history) == now
    # a history stored as JSON replays to the same case (due times come back as strings)
    stored = [Event.model_validate_json(e.model_dump_json()) for e in case.history]
    assert replay(stored) == now


def test_a_long_life_return_suspend_extend_fail_rate_badly_reopen() -> None:
    case = Case(reporter="system")  # an auto case from a vitals warning
    case.do("register", "system")
    case.do("dispatch", "system", department="水务", due=T0 + timedelta(days=1))
    case.do("return", "handler", reason="属绿化部门")
    assert case.now.state == State.RETURNED and case.now.returned_count == 1
    case.do("reassign", "dispatcher", department="绿化")
    case.do("assign_cooperating", "dispatcher", departments=["水务", "城管"])
    case.do("accept", "handler")
    case.do("start", "handler")
    case.do("request_extension", "handler", reason="需要采购配件", due=T0 + timedelta(days=5))
    assert case.now.due == T0 + timedelta(days=1)  # not until a supervisor approves
    case.do("approve_extension", "supervisor")
    assert case.now.due == T0 + timedelta(days=5) and case.now.pending_request is None
    case.do("request_suspend", "handler", reason="等待汛期结束")
    case.do("approve_suspend", "supervisor")
    case.do("escalate", "system", reason="overdue")
    case.do("remind", "system")
    case.do("resume", "system")
    case.do("handle", "handler", result="已修复")
    case.do("verify_fail", "inspector", reason="现场仍有积水")
    assert case.now.state == State.IN_PROGRESS and case.now.result is None
    case.do("handle", "handler", result="已疏通并复查")
    case.do("verify_ok", "operator", verifier="reporter")  # the reporter confirmed on a 12345 call-back
    case.do("close", "system", at=T0 + timedelta(days=3))
    case.do("rate", "operator", rating=2)
    assert case.now.reopen_requested
    case.do("reopen", "operator", reason="市民不满意", at=T0 + timedelta(days=4))
    now = case.now
    assert now.state == State.REGISTERED and now.reopened_count == 1
    assert (now.result, now.verification, now.rating, now.closed_at, now.reopen_requested) == (None,) * 4 + (False,)
    assert now.department == "绿化" and now.cooperating == ("水务", "城管") and now.escalation_level == "street"
    assert replay(case.history) == now and now.version == len(case.history)


# --- each guard --------------------------------------------------------------------------------------------


def test_close_needs_a_recorded_result_and_a_passed_verification() -> None:
    for state in (State.DISPATCHED, State.IN_PROGRESS, State.HANDLED):
        detail = refused(at_state(state), "close", "dispatcher")
        assert f"Case is '{state}'; 'close' needs a recorded result and a passed verification." in detail
    detail = refused(at_state(State.DISPATCHED), "close", "dispatcher")
    assert detail.endswith("Allowed now for dispatcher: reassign, merge, cancel, comment, assign_cooperating")
    # a verified snapshot that lacks either (a damaged projection) still does not close
    bare = CaseSnapshot(state=State.VERIFIED, version=7)
    with pytest.raises(TransitionRefused, match="needs a recorded result and a passed verification"):
        apply(bare, ev("close", "system"))
    with pytest.raises(TransitionRefused, match="needs a passed verification"):
        apply(CaseSnapshot(state=State.VERIFIED, result="ok"), ev("close", "system"))


def test_return_needs_a_reason() -> None:
    case = at_state(State.DISPATCHED)
    for reason in (None, "", "   "):
        assert "'return' needs a reason" in refused(case, "return", "handler", reason=reason)
    assert case.do("return", "handler", reason="地址不在辖区").state == State.RETURNED


def test_reassign_needs_another_department_except_after_a_return() -> None:
    case = at_state(State.DISPATCHED)
    assert "other than '城管'" in refused(case, "reassign", "dispatcher", department="城管")
    assert "a department" in refused(case, "reassign", "dispatcher")
    case.do("return", "handler", reason="不属本部门")
    assert case.do("reassign", "dispatcher", department="城管").state == State.DISPATCHED  # return overruled


def test_rating_is_1_to_5_once_per_closing_and_low_ratings_ask_to_reopen() -> None:
    case = at_state(State.CLOSED)
    for bad in (0, 6, -1, "5", 4.5, True, None):
        assert "a rating (data.rating) from 1" in refused(case, "rate", "reporter", rating=bad)
    assert case.do("rate", "reporter", rating=3).reopen_requested is False
    assert "not yet rated" in refused(case, "rate", "reporter", rating=4)
    assert at_state(State.CLOSED).do("rate", "reporter", rating=1).reopen_requested is True


def test_reopen_within_the_period_and_not_after() -> None:
    case = at_state(State.CLOSED)
    closed = case.now
    late = ev("reopen", "operator", at=T0 + timedelta(days=7, seconds=1), reason="仍未解决")
    with pytest.raises(TransitionRefused, match="within 7 days"):
        apply(closed, late)
    assert apply(closed, late, reopen_period=timedelta(days=30)).state == State.REGISTERED
    on_time = ev("reopen", "operator", at=T0 + timedelta(days=7), reason="仍未解决")
    assert apply(closed, on_time).state == State.REGISTERED
    with pytest.raises(TransitionRefused, match="needs a reason"):
        apply(closed, ev("reopen", "operator", at=T0))


def test_suspension_changes_the_state_only_when_approved() -> None:
    case = at_state(State.IN_PROGRESS)
    assert "needs a pending suspend request" in refused(case, "approve_suspend", "supervisor")
    assert "needs a reason" in refused(case, "request_suspend", "handler")
    case.do("request_suspend", "handler", reason="等待审批")
    assert case.now.state == State.IN_PROGRESS and case.now.pending_request
    assert "approve_suspend" in allowed_actions(case.now, "supervisor")
    assert "is for supervisor, not handler" in refused(case, "approve_suspend", "handler")
    assert "decided first" in refused(case, "request_extension", "handler", reason="x", due=T0 + timedelta(days=3))
    assert "needs a reason" in refused(case, "reject_suspend", "supervisor")
    case.do("reject_suspend", "supervisor", reason="不符合挂起条件")
    assert case.now.state == State.IN_PROGRESS and case.now.pending_request is None
    case.do("request_suspend", "handler", reason="等待审批")
    assert case.do("approve_suspend", "supervisor").state == State.SUSPENDED
    assert case.now.pending_request is None
    assert case.do("resume", "handler").state == State.IN_PROGRESS


def test_an_extension_needs_a_later_due_time_and_approval() -> None:
    case = at_state(State.IN_PROGRESS)
    assert "a new due time" in refused(case, "request_extension", "handler", reason="x")
    assert "a new due time" in refused(case, "request_extension", "handler", reason="x", due="tomorrow")
    naive = datetime(2025, 3, 9, 9, 0)
    assert "a new due time" in refused(case, "request_extension", "handler", reason="x", due=naive)
    assert "later than now" in refused(case, "request_extension", "handler", reason="x", due=T0 - timedelta(days=1))
    case.do("request_extension", "handler", reason="x", due=(T0 + timedelta(days=3)).isoformat())
    case.do("reject_extension", "supervisor", reason="时限内可完成")
    assert case.now.due is None and case.now.pending_request is None
    # a pending request is about in_progress: handling the case drops it
    case.do("request_extension", "handler", reason="x", due=T0 + timedelta(days=3))
    case.do("handle", "handler", result="已完成")
    assert case.now.pending_request is None


def test_verification_is_by_an_inspector_or_the_reporter_never_the_handler() -> None:
    case = at_state(State.HANDLED)
    assert "is for reporter, operator or inspector, not handler" in refused(
        case, "verify_ok", "handler", verifier="inspector"
    )
    assert "'reporter'" in refused(case, "verify_ok", "operator", verifier="inspector")
    assert "'inspector'" in refused(case, "verify_ok", "inspector")
    verification = case.do("verify_ok", "reporter", verifier="reporter", at=T0 + timedelta(hours=1)).verification
    assert verification == Verification(kind="reporter", actor="reporter-1", at=T0 + timedelta(hours=1))


def test_wrong_role_is_refused_with_what_that_role_may_do() -> None:
    case = at_state(State.DISPATCHED)
    detail = refused(case, "accept", "reporter")
    assert detail == "Case is 'dispatched'; 'accept' is for handler, not reporter. Allowed now for reporter: comment"
    assert "is for operator, dispatcher or system, not handler" in refused(at_state(State.VERIFIED), "close", "handler")
    assert "is for handler" in refused(at_state(State.IN_PROGRESS), "handle", "inspector", result="done")


def test_cancel_merge_split_need_their_input_and_cancel_is_not_after_closing() -> None:
    assert "needs a reason" in refused(at_state(State.REGISTERED), "cancel", "operator")
    assert "data.into" in refused(at_state(State.REGISTERED), "merge", "operator", into=" ")
    for kids in (["C-2"], ["C-2", "C-2"], ["C-2", ""], "C-2,C-3", None):
        assert "two or more distinct" in refused(at_state(State.REGISTERED), "split", "dispatcher", children=kids)
    assert "split" not in allowed_actions(at_state(State.ACCEPTED).now, "dispatcher")  # a department holds it
    assert "'cancel' needs a case that is 'reported'" in refused(at_state(State.CLOSED), "cancel", "supervisor")


@pytest.mark.parametrize("state", sorted(FINAL))
def test_final_states_refuse_everything_but_a_comment(state: State) -> None:
    case = at_state(state)
    for role in Role:
        assert allowed_actions(case.now, role) == ["comment"]
        for action in set(Action) - {Action.COMMENT}:
            with pytest.raises(TransitionRefused):
                apply(case.now, ev(action, role, reason="r", department="x", into="C-9", text="t", rating=5))
    assert case.do("comment", "reporter", text="谢谢").state == state
    assert "'comment' needs a text" in refused(case, "comment", "reporter")


def test_split_and_merge_record_where_the_case_went() -> None:
    assert at_state(State.SPLIT).now.children == ("C-2", "C-3")
    assert at_state(State.MERGED).now.merged_into == "C-1"


def test_escalation_rises_grid_street_district_city_and_stops() -> None:
    case = at_state(State.IN_PROGRESS)
    levels = [case.do("escalate", "system").escalation_level for _ in range(3)]
    assert levels == ["street", "district", "city"] and case.now.state == State.IN_PROGRESS
    assert "a level below 'city'" in refused(case, "escalate", "supervisor")
    assert "escalate" not in allowed_actions(case.now, "supervisor")


def test_cooperating_departments_are_added_not_repeated() -> None:
    case = at_state(State.ACCEPTED)
    case.do("assign_cooperating", "dispatcher", departments=["水务"])
    assert "not already on the case" in refused(case, "assign_cooperating", "dispatcher", departments=["水务"])
    assert "not already on the case" in refused(case, "assign_cooperating", "dispatcher", departments=["城管"])
    case.do("return", "handler", reason="应由水务牵头")
    assert case.do("reassign", "dispatcher", department="水务").cooperating == ()  # the lead is not also cooperating


def test_a_history_starts_with_a_report_and_a_report_starts_only_a_history() -> None:
    with pytest.raises(TransitionRefused, match="history is empty"):
        replay([])
    with pytest.raises(TransitionRefused, match="starts with a 'report' event"):
        replay([ev("register", "operator")])
    with pytest.raises(TransitionRefused, match="got 'report' by handler"):
        new_case(ev("report", "handler"))
    assert "a report starts one" in refused(Case(), "report", "reporter")


def test_the_refusal_is_a_409_problem_that_names_state_action_and_choices() -> None:
    with pytest.raises(TransitionRefused) as info:
        apply(at_state(State.REGISTERED).now, ev("accept", "handler"))
    body = info.value.problem()
    assert body["status"] == 409 and body["type"].endswith("/transition-refused")
    assert body["state"] == "registered" and body["action"] == "accept" and body["allowed"] == ["comment"]
    assert body["detail"].startswith("Case is 'registered'; 'accept' needs a case that is 'dispatched'.")


def test_events_are_checked_on_the_way_in() -> None:
    with pytest.raises(pydantic.ValidationError):
        Event(action="register", actor="op-1", role="operator", at=datetime(2025, 3, 3, 9, 0))  # naive time
    with pytest.raises(pydantic.ValidationError):
        Event(action="approve", actor="op-1", role="operator", at=T0)
    with pytest.raises(pydantic.ValidationError):
        Event(action="register", actor="op-1", role="mayor", at=T0)
    with pytest.raises(pydantic.ValidationError):
        Event(action="register", actor="", role="operator", at=T0)  # who did it is not optional


# --- the table ---------------------------------------------------------------------------------------------


def _reachable(start: State) -> set[State]:
    seen, todo = {start}, deque([start])
    while todo:
        state = todo.popleft()
        for (frm, _), to in TRANSITIONS.items():
            if frm == state and to not in seen:
                seen.add(to)
                todo.append(to)
    return seen


def test_the_table_every_state_is_reachable_and_every_open_state_can_end() -> None:
    assert _reachable(State.REPORTED) == set(State)
    for state in OPEN:
        assert _reachable(state) & TERMINAL, state
    for state in FINAL:  # nothing leaves a final state
        assert _reachable(state) == {state}
    leaving_closed = {action for (frm, action), to in TRANSITIONS.items() if frm == State.CLOSED and to != frm}
    assert leaving_closed == {Action.REOPEN}
    assert {action for _, action in TRANSITIONS} == set(Action) - {Action.REPORT}
    assert set(STATE_LABELS) == set(State) and set(ACTION_LABELS) == set(Action) and set(ROLE_LABELS) == set(Role)
    assert 10 <= len(State) <= 16
    for action, rule in RULES.items():
        assert rule.roles, action


# --- random histories --------------------------------------------------------------------------------------

DEPARTMENTS = ["水务", "绿化", "城管"]
DATA = st.fixed_dictionaries(
    {},
    optional={
        "department": st.sampled_from([*DEPARTMENTS, ""]),
        "departments": st.lists(st.sampled_from(DEPARTMENTS), max_size=3),
        "due": st.one_of(
            st.integers(-2, 20).map(lambda d: T0 + timedelta(days=d)),
            st.integers(-2, 20).map(lambda d: (T0 + timedelta(days=d)).isoformat()),
            st.just("soon"),
        ),
        "result": st.sampled_from(["已处置", "", " "]),
        "verifier": st.sampled_from(["inspector", "reporter", "robot"]),
        "rating": st.sampled_from([0, 1, 2, 3, 4, 5, 6, "5", True]),
        "into": st.sampled_from(["C-2", ""]),
        "children": st.lists(st.sampled_from(["C-3", "C-4", "C-5", ""]), max_size=3),
        "text": st.sampled_from(["备注", ""]),
    },
)


ENDINGS = {Action.CANCEL, Action.MERGE, Action.SPLIT}  # offered in most states; taken rarely, so cases live long


def plausible(action: Action, role: Role, at: datetime, n: int) -> dict[str, Any]:
    """Input that the action's guards would take, varied by ``n``."""
    department = DEPARTMENTS[n % len(DEPARTMENTS)]
    return {
        Action.DISPATCH: {"department": department, "due": at + timedelta(days=2)},
        Action.REASSIGN: {"department": department},
        Action.REQUEST_EXTENSION: {"due": (at + timedelta(days=n + 1)).isoformat()},
        Action.HANDLE: {"result": "已处置"},
        Action.VERIFY_OK: {"verifier": min(VERIFIERS.get(role, {"reporter"}))},
        Action.RATE: {"rating": n % 5 + 1},
        Action.MERGE: {"into": "C-2"},
        Action.SPLIT: {"children": ["C-3", "C-4"]},
        Action.COMMENT: {"text": "备注"},
        Action.ASSIGN_COOPERATING: {"departments": [department]},
    }.get(action, {})


@st.composite
def attempt(draw: st.DrawFn, case: CaseSnapshot, at: datetime) -> Event:
    """Mostly an action the table lists now, by a role it allows, with input its guards take; now and then
    anything at all, or the listed action with random input."""
    kind = draw(st.integers(0, 9))
    if kind == 0:  # anything
        action, role = draw(st.sampled_from(list(Action))), draw(st.sampled_from(list(Role)))
    else:
        listed = sorted({Action(a) for r in Role for a in allowed_actions(case, r)})
        onward = [a for a in listed if a not in ENDINGS]
        action = draw(st.sampled_from(onward if onward and kind > 1 else listed))
        role = draw(st.sampled_from(sorted(RULES[action].roles)))
    if kind <= 2:  # random input
        reason, data = draw(st.sampled_from([None, "", " ", "原因"])), draw(DATA)
    else:
        reason, data = "原因", plausible(action, role, at, draw(st.integers(0, 9)))
    return Event(action=action, actor=f"{role}-1", role=role, at=at, reason=reason, data=data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_histories_keep_to_the_table_and_replay(data: st.DataObject) -> None:
    first = Event(action="report", actor="r-1", role=data.draw(st.sampled_from(["reporter", "system"])), at=T0)
    case, accepted, at = new_case(first), [first], T0
    for _ in range(data.draw(st.integers(1, 60))):
        at += timedelta(hours=data.draw(st.integers(0, 72)))
        event = data.draw(attempt(case, at))
        listed = event.action in allowed_actions(case, event.role)
        try:
            after = apply(case, event)
        except TransitionRefused:
            continue
        assert listed  # whatever apply accepts, allowed_actions offered
        # (1) every move is a row of the table
        assert TRANSITIONS[(case.state, event.action)] == after.state
        # (3) a closed case has a result and a verification
        if after.state == State.CLOSED:
            assert after.result and after.verification
        # (4) terminal states stay terminal, except reopening a closed case
        if case.state in TERMINAL and after.state != case.state:
            assert case.state == State.CLOSED and event.action == Action.REOPEN
        # (5) each accepted event counts once
        assert after.version == case.version + 1
        case = after
        accepted.append(event)
    # (2) the history replays to the case, also from its stored (JSON) form
    assert replay(accepted) == case
    assert replay([Event.model_validate_json(e.model_dump_json()) for e in accepted]) == case
    assert case.version == len(accepted)
